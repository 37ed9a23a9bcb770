using Azure;

namespace CalWebhookFunctions.Connections;

/// <summary>
/// The whole <c>CalConnections</c> table (tombstones included) held in memory per instance, so the forward path reads no
/// connection row per event. Freshness bound: a write made through this instance's <see cref="ConnectionStore"/> is seen
/// by its next lookup; a lookup that starts more than <see cref="CheckInterval"/> after a write on another instance
/// completed sees that write — a removed connection stops matching within
/// <see cref="CheckInterval"/>. The check is one point read of the change marker (<see cref="ConnectionChanges"/>); only
/// when it moved is the table read again. A change whose marker bump failed is seen after at most <see cref="MaxAge"/>
/// (+ <see cref="CheckInterval"/>), when the table is read in full regardless.
/// </summary>
public sealed class ConnectionSnapshot(ConnectionStore store, TimeProvider time)
{
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(1);

    /// <param name="CheckedAt">When the check that produced this view started: it reflects every write completed before.</param>
    /// <param name="Local">This instance's write count (<see cref="ConnectionChanges.Local"/>) when that check started.</param>
    private sealed record View(Dictionary<string, ConnectionRecord> Rows, ETag Version, DateTimeOffset CheckedAt, DateTimeOffset LoadedAt, long Local);

    private sealed record Refresh(Task<View> Task, DateTimeOffset StartedAt, long Local);

    private readonly Lock _gate = new();
    private View? _view;
    private Refresh? _refresh;

    /// <summary>
    /// The connection's row (a tombstone is a row), or null when the table holds none by that id. A tombstone found in
    /// the snapshot is confirmed with a point read of the row (events of removed connections are rare, and a connection
    /// registered again must not have its replayed events dead-lettered once more); a live row or no row is answered
    /// from the snapshot.
    /// </summary>
    public ValueTask<ConnectionRecord?> FindAsync(string connectionId, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var view = Volatile.Read(ref _view);
        if (IsFresh(view, now))
        {
            var found = Lookup(view, connectionId);
            if (found is not { IsRemoved: true })
            {
                return ValueTask.FromResult(found);
            }
        }
        return SlowFindAsync(connectionId, view, now, cancellationToken);
    }

    private async ValueTask<ConnectionRecord?> SlowFindAsync(string connectionId, View? view, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!IsFresh(view, now))
        {
            view = await RefreshAsync(now).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        var found = Lookup(view, connectionId);
        return found is { IsRemoved: true }
            ? await store.FindAsync(connectionId, cancellationToken).ConfigureAwait(false)
            : found;
    }

    private bool IsFresh([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] View? view, DateTimeOffset now) =>
        view is not null && now - view.CheckedAt <= CheckInterval && view.Local == store.Changes.Local;

    private static ConnectionRecord? Lookup(View view, string connectionId) =>
        view.Rows.GetValueOrDefault(ConnectionRecord.PartitionKeyFor(connectionId));

    /// <summary>
    /// One check shared by every lookup that needs it — as long as it started within <see cref="CheckInterval"/> of the
    /// lookup (a check hanging for longer cannot honour the bound, so a later lookup starts its own).
    /// </summary>
    private Task<View> RefreshAsync(DateTimeOffset now)
    {
        lock (_gate)
        {
            var local = store.Changes.Local;
            if (_refresh is { } running && running.StartedAt <= now && now - running.StartedAt <= CheckInterval && running.Local == local
                && !running.Task.IsFaulted && !running.Task.IsCanceled)
            {
                return running.Task;
            }
            var refresh = new Refresh(CheckAsync(now, _view, local), now, local);
            _refresh = refresh;
            return refresh.Task;
        }
    }

    private async Task<View> CheckAsync(DateTimeOffset startedAt, View? previous, long local)
    {
        await Task.Yield(); // never run storage calls under the lock
        // The marker first, then the table: a write whose bump this read missed is found by the next check.
        var version = await store.Changes.ReadAsync(CancellationToken.None).ConfigureAwait(false);
        View next;
        if (previous is not null && previous.Version == version && previous.Local == local && startedAt - previous.LoadedAt < MaxAge)
        {
            next = previous with { CheckedAt = startedAt };
        }
        else
        {
            var rows = await store.ReadAllAsync(CancellationToken.None).ConfigureAwait(false);
            next = new View(rows.ToDictionary(r => r.PartitionKey, StringComparer.Ordinal), version, startedAt, startedAt, local);
        }
        lock (_gate)
        {
            if (_view is null || (next.CheckedAt >= _view.CheckedAt && next.Local >= _view.Local))
            {
                Volatile.Write(ref _view, next);
            }
        }
        return next;
    }
}
