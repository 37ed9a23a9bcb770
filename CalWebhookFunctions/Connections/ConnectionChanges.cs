using Azure;
using Azure.Data.Tables;
using CalWebhookFunctions.Storage;

namespace CalWebhookFunctions.Connections;

/// <summary>
/// The change marker of <c>CalConnections</c>: one row of that table (partition <see cref="PartitionKey"/>, which no
/// connection id maps to: <see cref="ConnectionId.ToTableKey"/> escapes <c>~</c> and its hashed form is <c>~</c> + 64 hex
/// digits; row key <see cref="RowKey"/>, never a connection's) overwritten after every write to a connection row, so its
/// ETag changes whenever the table did. Connection reads never see it: they read row key <c>connection</c> only. A <see cref="ConnectionSnapshot"/> checks it with one point
/// read instead of re-reading the table (a cheap check on Azure Storage too: no query, no scan).
/// Order matters: the writer writes the row, then bumps; the reader reads the marker, then the table.
/// </summary>
public sealed class ConnectionChanges(StorageAccount storage)
{
    public const string PartitionKey = "~changes";
    public const string RowKey = "marker";

    private readonly TableClient _table = storage.Table(StorageNames.ConnectionsTable);

    private long _local;

    /// <summary>How many writes this instance has made (counted before their marker bump): its own snapshot sees them at once.</summary>
    public long Local => Interlocked.Read(ref _local);

    /// <summary>Marks the table changed, here at once and for every instance with one unconditional write, no read.</summary>
    public async Task BumpAsync(CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _local);
        var row = new TableEntity(PartitionKey, RowKey) { ["Changed"] = Guid.NewGuid().ToString("N") };
        await MissingResource.CreateAndRetryAsync(
            () => _table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken),
            () => _table.CreateIfNotExistsAsync(cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>The marker's current ETag; default when nothing was ever bumped (or the table does not exist yet).</summary>
    public async Task<ETag> ReadAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var row = await _table.GetEntityIfExistsAsync<TableEntity>(PartitionKey, RowKey, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            return row.HasValue && row.Value is not null ? row.Value.ETag : default;
        }
        catch (RequestFailedException ex) when (StorageAccount.IsMissingResource(ex))
        {
            return default;
        }
    }
}
