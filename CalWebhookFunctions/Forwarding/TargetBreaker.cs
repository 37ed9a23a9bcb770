using System.Collections.Concurrent;
using Azure.Data.Tables;
using CalWebhookFunctions.Configuration;
using CalWebhookFunctions.Storage;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// The per-target breaker of "Failing endpoints" (issue 14), shared across instances in <c>CalDeliveries</c> (partition
/// <c>breaker</c>, one row per target). Each instance counts a target's consecutive retryable failures in memory (any
/// other answer ends the run); when its run reaches <c>Forwarding__BreakerFailures</c> it opens the shared row. While
/// open, events are held (<see cref="HeldEvents"/>) and one probe goes per <c>Forwarding__BreakerProbeSeconds</c>, the
/// first right away (a run of failures by chance, on a target that mostly answers, costs one attempt, not a probe
/// interval of held events), taken by moving <see cref="BreakerRow.NextProbeAt"/> on under the row's ETag (one instance
/// wins each probe); the first success closes it. Each transition is one conditional write, so exactly one writer raises
/// <c>endpoint.failing</c> / <c>endpoint.recovered</c>.
/// Cheap on the hot path: each instance reads a target's row at most once per <see cref="RefreshInterval"/>, and the row
/// is written only at a transition and per probe — never per failure or success. Wrong only in the safe direction: when
/// the row cannot be read or written the event goes on (an extra attempt or probe, never a lost or held-for-ever
/// event), and a stale view holds an event at most until its next look.
/// </summary>
public sealed class TargetBreaker(StorageAccount storage, BreakerAlerts alerts, IOptions<ForwardingOptions> options, TimeProvider time)
{
    /// <summary>How long an instance trusts its view of a target's row before reading it again.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);

    private readonly TableClient _table = storage.Table(StorageNames.DeliveriesTable); // read here, written through _rows
    private readonly ConditionalTable _rows = new(storage.Table(StorageNames.DeliveriesTable));
    private readonly int _threshold = options.Value.BreakerFailures;
    private readonly ConcurrentDictionary<string, View> _views = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<BreakerRow?>>> _reads = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FailureRun> _runs = new(StringComparer.Ordinal); // no entry: no run

    /// <summary>The longest a held event waits before it looks again (the probe interval).</summary>
    public TimeSpan ProbeInterval { get; } = TimeSpan.FromSeconds(options.Value.BreakerProbeSeconds);

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
        taken.NextProbeAt = now + ProbeInterval;
        try
        {
            if (await _rows.TryReplaceAsync(taken, CancellationToken.None).ConfigureAwait(false))
            {
                Remember(key, taken);
                return Admission.Probe;
            }
            Forget(key); // another instance took this probe, or the row moved on: look again next time
            return Admission.Hold;
        }
        catch (Exception ex) when (StorageRetryPolicy.IsStorageFailure(ex, CancellationToken.None))
        {
            return Admission.Probe; // cannot coordinate: an extra probe is the safe mistake
        }
    }

    /// <summary>
    /// Counts an attempt's outcome: a retryable failure (no answer, 408, 429, 5xx) lengthens this instance's run of failures
    /// and may open the breaker; any answer that is not one (2xx, or a 4xx the app chose) ends the run and closes an open
    /// breaker. Never throws.
    /// </summary>
    public async Task RecordAsync(Uri target, AttemptResult result)
    {
        var key = BreakerRow.KeyFor(target);
        try
        {
            if (DeliveryPolicy.IsRetryable(result))
            {
                var run = _runs.AddOrUpdate(key, new FailureRun(1, time.GetUtcNow()), (_, before) => before with { Failures = before.Failures + 1 });
                if (run.Failures >= _threshold)
                {
                    await OpenAsync(target, key, run).ConfigureAwait(false);
                }
            }
            else
            {
                _runs.TryRemove(key, out _);
                // Open as this instance last saw it, or not known (its view was dropped after a lost race, as when another
                // event on this instance lost the probe this one took): close it, so a probe's success is never lost.
                if (!_views.TryGetValue(key, out var view) || view.Row is { IsOpen: true })
                {
                    await CloseAsync(key).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex)
        {
            // The attempt's outcome is already settled: nothing here may fail the invocation. A transition not written is
            // written by the next outcome that calls for it.
            Forget(key);
            alerts.NotRecorded(TargetSlots.Key(target), ex);
        }
    }

    /// <summary>
    /// Opens the row for a run of <see cref="FailureRun.Failures"/> failures on this instance — unless it is open already,
    /// or it was closed (by a success on another instance) after the run began: then the run starts again from this failure.
    /// </summary>
    private async Task OpenAsync(Uri target, string key, FailureRun run)
    {
        if (await ReadAsync(key).ConfigureAwait(false) is { IsOpen: true })
        {
            return;
        }
        var written = await ChangeAsync(key, row =>
        {
            if (row is { IsOpen: true })
            {
                return null;
            }
            if (row?.ClosedAt >= run.Since)
            {
                _runs[key] = new FailureRun(1, time.GetUtcNow()); // the run was broken: it counts again from this failure
                return null;
            }
            var opened = row?.Copy() ?? new BreakerRow { RowKey = key, Target = TargetSlots.Key(target) };
            opened.State = BreakerRow.Open;
            opened.Failures = run.Failures;
            opened.OpenedAt = time.GetUtcNow();
            opened.NextProbeAt = opened.OpenedAt; // the first probe right away
            return opened;
        }).ConfigureAwait(false);
        if (written is { Before: not { IsOpen: true }, After: { IsOpen: true } now })
        {
            alerts.Failing(now.Target, now.Failures);
        }
    }

    private async Task CloseAsync(string key)
    {
        var written = await ChangeAsync(key, row =>
        {
            if (row is not { IsOpen: true })
            {
                return null;
            }
            var closed = row.Copy();
            closed.State = BreakerRow.Closed;
            closed.Failures = 0;
            closed.OpenedAt = null;
            closed.NextProbeAt = null;
            closed.ClosedAt = time.GetUtcNow();
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
            // The view is used only when it holds a row: "no row" may also be a read that failed and was answered as none.
            var row = tries == 0 && _views.TryGetValue(key, out var view) && view.Row is not null
                ? view.Row
                : await FetchAsync(key, keepFailures: false).ConfigureAwait(false);
            if (change(row) is not { } next)
            {
                return null;
            }
            var written = row is null
                ? await _rows.TryInsertAsync(next, CancellationToken.None).ConfigureAwait(false)
                : await _rows.TryReplaceAsync(next, CancellationToken.None).ConfigureAwait(false);
            if (written)
            {
                Remember(key, next);
                return (row, next);
            }
            Forget(key); // another instance wrote in between: change the row as it is now
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

    /// <summary>This instance's run of consecutive retryable failures of one target, and when it began.</summary>
    private readonly record struct FailureRun(int Failures, DateTimeOffset Since);
}
