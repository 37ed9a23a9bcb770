using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Storage;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Subscriptions;

/// <summary>How a write under a lease ended.</summary>
public enum LeaseWrite
{
    /// <summary>The row now holds what was written.</summary>
    Written,
    /// <summary>The row vanished or became a tombstone while the lease was held: the connection was removed.</summary>
    Removed,
    /// <summary>Another request wrote the row (the lease had lapsed); decide again from what it wrote.</summary>
    Changed,
}

/// <summary>
/// Takes leases on connection rows: a <see cref="TableLease{TRow}"/> on the row's <see cref="ConnectionRecord.ClaimId"/>
/// and <see cref="ConnectionRecord.ClaimedUntil"/>, so at most one request at a time changes a connection's Cal.com
/// subscription; a crashed holder's lease lapses after <see cref="Duration"/>.
/// </summary>
public sealed class ConnectionLeases(ConnectionStore store, TimeProvider time, ILogger<ConnectionLeases> logger)
{
    /// <summary>How long a lease holds without renewal; a held lease is renewed every third of it.</summary>
    public static readonly TimeSpan Duration = TimeSpan.FromMinutes(2);

    /// <summary>How long a request waits for another one's lease before answering 409.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(150);

    private readonly TableLease<ConnectionRecord> _lease = new(store.Rows, time);

    public TimeProvider Time => time;

    /// <summary>Whether a request other than the caller holds a live lease on the row.</summary>
    public bool HeldByOther(ConnectionRecord row) => _lease.IsLive(row);

    /// <summary>
    /// Reads the row, polling while another request holds its lease: the row (null when there is none, maybe a
    /// tombstone) once nobody else holds it, or with <c>Busy</c> set when it is still held at <paramref name="waitUntil"/>.
    /// </summary>
    public async Task<(ConnectionRecord? Row, bool Busy)> ReadWhenFreeAsync(string connectionId, DateTimeOffset waitUntil,
        CancellationToken cancellationToken)
    {
        while (true)
        {
            var row = await store.FindAsync(connectionId, cancellationToken).ConfigureAwait(false);
            var held = row is not null && !row.IsRemoved && HeldByOther(row);
            if (!held || time.GetUtcNow() >= waitUntil)
            {
                return (row, held);
            }
            await Task.Delay(Poll, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Takes the lease on <paramref name="read"/> (the row as just read; null or a tombstone: a fresh pending row is
    /// written in its place), after <paramref name="prepare"/> changed it. Null when another request wrote first.
    /// </summary>
    public async Task<ConnectionLease?> TryTakeAsync(string connectionId, ConnectionRecord? read, Action<ConnectionRecord> prepare,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var row = read is null || read.IsRemoved
            ? new ConnectionRecord
            {
                ConnectionId = connectionId,
                PartitionKey = ConnectionRecord.PartitionKeyFor(connectionId),
                CreatedAt = now,
                ETag = read?.ETag ?? default, // none: inserted; a tombstone's: replaced
            }
            : read;
        if (row.State == ConnectionRecord.States.Active)
        {
            row.AppliedAt ??= row.UpdatedAt; // a row written before AppliedAt existed
        }
        prepare(row);
        row.State = ConnectionRecord.States.Pending;
        row.UpdatedAt = now;
        return await _lease.TryTakeAsync(row, Duration, cancellationToken).ConfigureAwait(false)
            ? new ConnectionLease(_lease, store, logger, row)
            : null;
    }
}

/// <summary>
/// A held lease on one connection row: renewed in the background while held, released when disposed. Every write
/// under it is ETag-conditional; a write that finds the row gone or tombstoned reports <see cref="LeaseWrite.Removed"/>.
/// </summary>
public sealed class ConnectionLease : IAsyncDisposable
{
    private readonly TableLease<ConnectionRecord> _lease;
    private readonly ConnectionStore _store;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writes = new(1, 1);
    private readonly ITimer _renewal;
    private bool _ended;

    internal ConnectionLease(TableLease<ConnectionRecord> lease, ConnectionStore store, ILogger logger, ConnectionRecord row)
    {
        _lease = lease;
        _store = store;
        _logger = logger;
        Row = row;
        var every = ConnectionLeases.Duration / 3;
        _renewal = lease.Time.CreateTimer(_ => _ = RenewAsync(), null, every, every);
    }

    /// <summary>The row as last written under the lease.</summary>
    public ConnectionRecord Row { get; private set; }

    /// <summary>True once a write (or a renewal) found that another request or a DELETE changed the row.</summary>
    public bool IsLost { get; private set; }

    /// <summary>Writes <paramref name="change"/> and keeps holding the lease.</summary>
    public Task<LeaseWrite> SaveAsync(Action<ConnectionRecord> change, CancellationToken cancellationToken) =>
        WriteAsync(change, release: false, cancellationToken);

    /// <summary>Writes <paramref name="change"/> and gives the lease up in the same write.</summary>
    public Task<LeaseWrite> CompleteAsync(Action<ConnectionRecord> change, CancellationToken cancellationToken) =>
        WriteAsync(change, release: true, cancellationToken);

    private async Task<LeaseWrite> WriteAsync(Action<ConnectionRecord> change, bool release, CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (_ended)
            {
                throw new InvalidOperationException("The lease was already given up.");
            }
            if (!IsLost)
            {
                // Changed on a copy: when the write fails, the row held (and released) stays what storage has.
                var next = Row.Copy();
                change(next);
                next.UpdatedAt = _lease.Time.GetUtcNow();
                var written = release
                    ? await _lease.TryReleaseAsync(next, cancellationToken).ConfigureAwait(false)
                    : await _lease.TryRenewAsync(next, ConnectionLeases.Duration, cancellationToken).ConfigureAwait(false);
                if (written)
                {
                    Row = next;
                    _ended = release;
                    return LeaseWrite.Written;
                }
                IsLost = true;
            }
            var current = await _store.FindAsync(Row.ConnectionId, CancellationToken.None).ConfigureAwait(false);
            return current is null || current.IsRemoved ? LeaseWrite.Removed : LeaseWrite.Changed;
        }
        finally
        {
            _writes.Release();
        }
    }

    private async Task RenewAsync()
    {
        if (!await _writes.WaitAsync(0).ConfigureAwait(false))
        {
            return; // a write is under way and extends the lease itself
        }
        try
        {
            if (_ended || IsLost)
            {
                return;
            }
            IsLost = !await _lease.TryRenewAsync(Row, ConnectionLeases.Duration, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (StorageAccount.IsUnavailable(ex))
        {
            SubscriptionsLog.RenewalFailed(_logger, ex, Row.ConnectionId);
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>
    /// Stops renewing and, unless a completing write already gave it up, releases the lease so a retry need not wait
    /// for it to lapse. The row keeps what was written under the lease. Best effort: if storage fails, it lapses.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await _renewal.DisposeAsync().ConfigureAwait(false);
        await _writes.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (!_ended && !IsLost)
            {
                await _lease.TryReleaseAsync(Row, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (StorageAccount.IsUnavailable(ex) || ex is InvalidOperationException)
        {
            SubscriptionsLog.ReleaseFailed(_logger, ex, Row.ConnectionId);
        }
        finally
        {
            _ended = true;
            _writes.Release();
            _writes.Dispose();
        }
    }
}
