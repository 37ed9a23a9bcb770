using System.Collections.Concurrent;
using Azure;
using Azure.Data.Tables;
using CalWebhookFunctions.Configuration;
using CalWebhookFunctions.Storage;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// The per-target breaker of "Failing endpoints" (issue 14), shared across instances in <c>CalDeliveries</c> (partition
/// <c>breaker</c>, one row per target). Closed → Open after <c>Forwarding__BreakerFailures</c> consecutive retryable
/// failures; while open, events are held (<see cref="HeldEvents"/>) and one probe goes every
/// <c>Forwarding__BreakerProbeSeconds</c>, taken by moving <see cref="BreakerRow.NextProbeAt"/> on under the row's ETag
/// (one instance wins each probe); the first success closes it. Each transition is one conditional write, so exactly one
/// writer raises <c>endpoint.failing</c> / <c>endpoint.recovered</c>.
/// Cheap on the hot path: each instance reads a target's row at most once per <see cref="RefreshInterval"/>, and a
/// success against a closed, clean row writes nothing. Wrong only in the safe direction: when the row cannot be read or
/// written the event goes on (an extra attempt or probe, never a lost or held-for-ever event), and a stale view holds an
/// event at most until its next look.
/// </summary>
public sealed class TargetBreaker(StorageAccount storage, BreakerAlerts alerts, IOptions<ForwardingOptions> options, TimeProvider time)
{
    /// <summary>How long an instance trusts its view of a target's row before reading it again.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);

    private readonly TableClient _table = storage.Table(StorageNames.DeliveriesTable);
    private readonly int _threshold = options.Value.BreakerFailures;
    private readonly TimeSpan _probeEvery = TimeSpan.FromSeconds(options.Value.BreakerProbeSeconds);
    private readonly ConcurrentDictionary<string, View> _views = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<BreakerRow?>>> _reads = new(StringComparer.Ordinal);

    /// <summary>The longest a held event waits before it looks again (the probe interval).</summary>
    public TimeSpan ProbeInterval => _probeEvery;

    /// <summary>What the event for <paramref name="target"/> may do now.</summary>
    public async ValueTask<Admission> AdmitAsync(Uri target)
    {
        var key = BreakerRow.KeyFor(target);
        var row = await ReadAsync(key).ConfigureAwait(false);
        if (row is not { IsOpen: true })
        {
            return Admission.Go;
        }
        var now = time.GetUtcNow();
        if (row.NextProbeAt is { } next && now < next)
        {
            return Admission.Hold;
        }
        var taken = row.Copy();
        taken.NextProbeAt = now + _probeEvery;
        try
        {
            var answer = await _table.UpdateEntityAsync(taken, row.ETag, TableUpdateMode.Replace).ConfigureAwait(false);
            taken.ETag = answer.Headers.ETag ?? default;
            Remember(key, taken);
            return Admission.Probe;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            Forget(key); // another instance took this probe, or the row moved on: look again next time
            return Admission.Hold;
        }
        catch (Exception ex) when (StorageRetryPolicy.IsStorageFailure(ex, CancellationToken.None))
        {
            return Admission.Probe; // cannot coordinate: an extra probe is the safe mistake
        }
    }

    /// <summary>
    /// Counts an attempt's outcome: a retryable failure (no answer, 408, 429, 5xx) adds one and may open the breaker; any
    /// answer that is not one (2xx, or a 4xx the app chose) clears the count and closes it. Never throws.
    /// </summary>
    public async Task RecordAsync(Uri target, AttemptResult result)
    {
        var key = BreakerRow.KeyFor(target);
        try
        {
            if (DeliveryPolicy.IsRetryable(result))
            {
                await CountFailureAsync(target, key).ConfigureAwait(false);
            }
            else if (_views.TryGetValue(key, out var view) && view.Row is { } known && (known.IsOpen || known.Failures > 0))
            {
                await CloseAsync(key).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // The count is best effort (a lost failure only delays opening), and the attempt's outcome is already settled:
            // nothing here may fail the invocation.
            Forget(key);
            alerts.NotRecorded(TargetSlots.Key(target), ex);
        }
    }

    private async Task CountFailureAsync(Uri target, string key)
    {
        var written = await ChangeAsync(key, row =>
        {
            var next = row?.Copy() ?? new BreakerRow { RowKey = key, Target = TargetSlots.Key(target) };
            next.Failures++;
            if (!next.IsOpen && next.Failures >= _threshold)
            {
                next.State = BreakerRow.Open;
                next.OpenedAt = time.GetUtcNow();
                next.NextProbeAt = next.OpenedAt + _probeEvery;
            }
            return next;
        }).ConfigureAwait(false);
        if (written is { Before: not { IsOpen: true }, After: { IsOpen: true } opened })
        {
            alerts.Failing(opened.Target, opened.Failures);
        }
    }

    private async Task CloseAsync(string key)
    {
        var written = await ChangeAsync(key, row =>
        {
            if (row is null || (!row.IsOpen && row.Failures == 0))
            {
                return null;
            }
            var closed = row.Copy();
            closed.State = BreakerRow.Closed;
            closed.Failures = 0;
            closed.OpenedAt = null;
            closed.NextProbeAt = null;
            return closed;
        }).ConfigureAwait(false);
        if (written is { Before: { IsOpen: true } was })
        {
            alerts.Recovered(was.Target, was.Failures, was.OpenedAt);
        }
    }

    /// <summary>
    /// One change of a target's row, written conditionally: <paramref name="change"/> maps the row as this instance last
    /// saw it (a stale view costs a retry, not a wrong count) to the row to store, or to null for no write; after a
    /// conflict with another instance it is applied again to the row as it is now (up to three tries). Returns the row
    /// before and after the write that landed, or null when nothing was written.
    /// </summary>
    private async Task<(BreakerRow? Before, BreakerRow After)?> ChangeAsync(string key, Func<BreakerRow?, BreakerRow?> change)
    {
        for (var tries = 0; tries < 3; tries++)
        {
            var row = tries == 0 && _views.TryGetValue(key, out var view) ? view.Row : await FetchAsync(key, keepFailures: false).ConfigureAwait(false);
            if (change(row) is not { } next)
            {
                return null;
            }
            try
            {
                var answer = row is null
                    ? await _table.AddEntityAsync(next).ConfigureAwait(false)
                    : await _table.UpdateEntityAsync(next, row.ETag, TableUpdateMode.Replace).ConfigureAwait(false);
                next.ETag = answer.Headers.ETag ?? default;
                Remember(key, next);
                return (row, next);
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 or 404)
            {
                Forget(key); // another instance wrote in between: change the row as it is now
            }
        }
        return null;
    }

    /// <summary>
    /// The row as this instance last saw it, read again when older than <see cref="RefreshInterval"/> (one read at a time
    /// per target, however many forwards ask).
    /// </summary>
    private async ValueTask<BreakerRow?> ReadAsync(string key)
    {
        if (_views.TryGetValue(key, out var view) && time.GetUtcNow() - view.ReadAt < RefreshInterval)
        {
            return view.Row;
        }
        var read = _reads.GetOrAdd(key, k => new Lazy<Task<BreakerRow?>>(() => FetchAsync(k, keepFailures: true)));
        try
        {
            return await read.Value.ConfigureAwait(false);
        }
        finally
        {
            _reads.TryRemove(new KeyValuePair<string, Lazy<Task<BreakerRow?>>>(key, read));
        }
    }

    /// <param name="keepFailures">
    /// Answer an unreadable row as none (closed: an extra attempt is the safe mistake) and try again after the interval,
    /// rather than throwing.
    /// </param>
    private async Task<BreakerRow?> FetchAsync(string key, bool keepFailures)
    {
        var now = time.GetUtcNow();
        try
        {
            var answer = await _table.GetEntityIfExistsAsync<BreakerRow>(BreakerRow.Partition, key).ConfigureAwait(false);
            var row = answer.HasValue ? answer.Value : null;
            _views[key] = new View(row, now);
            return row;
        }
        catch (Exception ex) when (keepFailures && StorageRetryPolicy.IsStorageFailure(ex, CancellationToken.None))
        {
            _views[key] = new View(null, now);
            return null;
        }
    }

    private void Remember(string key, BreakerRow row) => _views[key] = new View(row, time.GetUtcNow());

    private void Forget(string key) => _views.TryRemove(key, out _);

    private sealed record View(BreakerRow? Row, DateTimeOffset ReadAt);
}
