using Azure.Data.Tables;

namespace CalWebhookFunctions.Storage;

/// <summary>
/// A lease on a table row: who took it (where the row records a holder) and until when. Live while
/// <see cref="Until"/> is ahead of now; past it, the lease has lapsed (its holder crashed or stalled) and may be taken.
/// </summary>
public readonly record struct Lease(string? Holder, DateTimeOffset Until);

/// <summary>A table row that carries a <see cref="Storage.Lease"/> in its own properties (each row keeps its own shape).</summary>
public interface ILeasedRow : ITableEntity
{
    /// <summary>The row's lease; null when nobody holds it. Not a stored property: it maps onto the row's own.</summary>
    Lease? Lease { get; set; }
}

/// <summary>
/// Leases on the rows of one table, through <see cref="ConditionalTable"/>: taking one is a conditional insert (no row
/// yet) or a conditional replace of the row as read (its lease lapsed or was released); renewing and releasing are
/// conditional on the ETag the holder last wrote, so a holder whose lease was taken over finds out at its next write
/// instead of overwriting. Every clock read goes through <paramref name="time"/>.
/// </summary>
/// <param name="releaseDeletesRow">
/// Whether releasing deletes the row (a row that means nothing without its lease, like the delivery claim's) instead of
/// writing it without the lease.
/// </param>
public sealed class TableLease<TRow>(ConditionalTable rows, TimeProvider time, bool releaseDeletesRow = false)
    where TRow : class, ILeasedRow
{
    public TimeProvider Time => time;

    /// <summary>Whether someone holds a lease on the row that has not lapsed (the one definition of lapse: live strictly before its end).</summary>
    public bool IsLive(TRow row) => row.Lease?.Until > time.GetUtcNow();

    /// <summary>
    /// Takes the lease for a new holder for <paramref name="duration"/>: inserts the row when it has no ETag, else
    /// replaces the row read with that ETag. False when another writer got there first; read again and decide.
    /// </summary>
    public Task<bool> TryTakeAsync(TRow row, TimeSpan duration, CancellationToken cancellationToken)
    {
        row.Lease = new Lease(Guid.NewGuid().ToString("N"), time.GetUtcNow() + duration);
        return row.ETag == default ? rows.TryInsertAsync(row, cancellationToken) : rows.TryReplaceAsync(row, cancellationToken);
    }

    /// <summary>
    /// Extends the lease to <paramref name="duration"/> from now, writing the row as it is (with whatever else the holder
    /// changed on it). False when it was taken over or released in between: the caller no longer holds it.
    /// </summary>
    public Task<bool> TryRenewAsync(TRow row, TimeSpan duration, CancellationToken cancellationToken)
    {
        row.Lease = new Lease(row.Lease?.Holder, time.GetUtcNow() + duration);
        return rows.TryReplaceAsync(row, cancellationToken);
    }

    /// <summary>
    /// Gives the lease up, so the next taker need not wait for it to lapse: writes the row without it (with whatever else
    /// the holder changed on it), or deletes the row. False when it was taken over in between.
    /// </summary>
    public Task<bool> TryReleaseAsync(TRow row, CancellationToken cancellationToken)
    {
        if (releaseDeletesRow)
        {
            return rows.TryDeleteAsync(row, cancellationToken);
        }
        row.Lease = null;
        return rows.TryReplaceAsync(row, cancellationToken);
    }
}
