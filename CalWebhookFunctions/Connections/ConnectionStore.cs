using Azure;
using Azure.Data.Tables;
using CalWebhookFunctions.Storage;

namespace CalWebhookFunctions.Connections;

/// <summary>
/// The <c>CalConnections</c> table. Writes are optimistic: each takes the <see cref="ConnectionRecord.ETag"/> the
/// caller read and answers false when someone else wrote the row in between (or it is gone), so the caller
/// re-reads and decides again instead of overwriting.
/// </summary>
public sealed class ConnectionStore(StorageAccount storage)
{
    public TableClient Table { get; } = storage.Table(StorageNames.ConnectionsTable);

    /// <summary>The change marker: every successful write below bumps it, so <see cref="ConnectionSnapshot"/> sees the change.</summary>
    public ConnectionChanges Changes { get; } = new(storage);

    /// <summary>
    /// Bumps the change marker after a write that happened. A failed bump is not the write's failure: snapshots also
    /// reload in full every <see cref="ConnectionSnapshot.MaxAge"/>, which bounds how long such a change goes unseen.
    /// </summary>
    private async Task ChangedAsync()
    {
        try
        {
            await Changes.BumpAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (RequestFailedException)
        {
            // Bounded by ConnectionSnapshot.MaxAge.
        }
    }

    /// <summary>Every row of the table (it is small: one per connection, tombstones included).</summary>
    public async Task<IReadOnlyList<ConnectionRecord>> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await Table.QueryAsync<ConnectionRecord>(r => r.RowKey == ConnectionRecord.RowKeyValue, maxPerPage: 1000,
                cancellationToken: cancellationToken).ToListAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (StorageAccount.IsMissingResource(ex))
        {
            return []; // No connection yet.
        }
    }

    /// <summary>The stored connection, or null when the table holds none by that id (or has not been created yet).</summary>
    public async Task<ConnectionRecord?> FindAsync(string connectionId, CancellationToken cancellationToken = default)
    {
        try
        {
            var response = await Table.GetEntityIfExistsAsync<ConnectionRecord>(
                ConnectionRecord.PartitionKeyFor(connectionId), ConnectionRecord.RowKeyValue, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            return response.HasValue ? response.Value : null;
        }
        catch (RequestFailedException ex) when (StorageAccount.IsMissingResource(ex))
        {
            return null;
        }
    }

    /// <summary>
    /// The table's conditional writes (<see cref="ConditionalTable"/>), each followed by a bump of the change marker:
    /// every write to a connection row goes through them, the lease's (<c>ConnectionLeases</c>) too.
    /// </summary>
    public ConditionalTable Rows => field ??= new ConditionalTable(Table, ChangedAsync);

    /// <summary>
    /// Inserts a new row (keys set from <see cref="ConnectionRecord.ConnectionId"/>); false when a row for the
    /// connection already exists. On success the record carries its new ETag.
    /// </summary>
    public Task<bool> TryInsertAsync(ConnectionRecord record, CancellationToken cancellationToken = default)
    {
        record.PartitionKey = ConnectionRecord.PartitionKeyFor(record.ConnectionId);
        record.RowKey = ConnectionRecord.RowKeyValue;
        return Rows.TryInsertAsync(record, cancellationToken);
    }

    /// <summary>
    /// Replaces the row if it still has the record's ETag; false when it changed or is gone. On success the
    /// record carries its new ETag.
    /// </summary>
    public Task<bool> TryReplaceAsync(ConnectionRecord record, CancellationToken cancellationToken = default) =>
        Rows.TryReplaceAsync(record, cancellationToken);

    /// <summary>Deletes the row if it still has the record's ETag; false when it changed. A row already gone counts as deleted.</summary>
    public Task<bool> TryDeleteAsync(ConnectionRecord record, CancellationToken cancellationToken = default) =>
        Rows.TryDeleteAsync(record, cancellationToken);

    /// <summary>
    /// Deletes up to <paramref name="max"/> tombstones whose retention ended before <paramref name="now"/> (each with
    /// its ETag, so a connection registered again in between stays). Returns how many went.
    /// </summary>
    public async Task<int> SweepExpiredTombstonesAsync(DateTimeOffset now, int max, CancellationToken cancellationToken = default)
    {
        var filter = TableClient.CreateQueryFilter($"State eq {ConnectionRecord.States.Removed} and ExpiresAt lt {now}");
        var swept = 0;
        try
        {
            await foreach (var row in Table.QueryAsync<ConnectionRecord>(filter, maxPerPage: max, cancellationToken: cancellationToken)
                               .ConfigureAwait(false))
            {
                if (swept >= max)
                {
                    break;
                }
                if (await TryDeleteAsync(row, cancellationToken).ConfigureAwait(false))
                {
                    swept++;
                }
            }
        }
        catch (RequestFailedException ex) when (StorageAccount.IsMissingResource(ex))
        {
            return 0;
        }
        return swept;
    }
}
