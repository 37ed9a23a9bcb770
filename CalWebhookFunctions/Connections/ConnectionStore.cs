using Azure.Data.Tables;
using CalWebhookFunctions.Storage;

namespace CalWebhookFunctions.Connections;

/// <summary>The <c>CalConnections</c> table.</summary>
public sealed class ConnectionStore(StorageAccount storage)
{
    private readonly TableClient _table = storage.Table(StorageNames.ConnectionsTable);

    public TableClient Table => _table;

    /// <summary>The stored connection, or null when the table holds none by that id (or has not been created yet).</summary>
    public async Task<ConnectionRecord?> FindAsync(string connectionId, CancellationToken cancellationToken = default)
    {
        try
        {
            var response = await _table.GetEntityIfExistsAsync<ConnectionRecord>(
                ConnectionRecord.PartitionKeyFor(connectionId), ConnectionRecord.RowKeyValue, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            return response.HasValue ? response.Value : null;
        }
        catch (Azure.RequestFailedException ex) when (StorageAccount.IsMissingResource(ex))
        {
            return null;
        }
    }
}
