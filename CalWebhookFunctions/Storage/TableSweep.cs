using Azure;
using Azure.Data.Tables;

namespace CalWebhookFunctions.Storage;

/// <summary>Deletes the rows a filter selects, at most a bounded number per call.</summary>
public static class TableSweep
{
    public static async Task<int> DeleteAsync(TableClient table, string filter, int max, CancellationToken cancellationToken)
    {
        var deleted = 0;
        try
        {
            await foreach (var row in table.QueryAsync<TableEntity>(filter, maxPerPage: 100, select: ["PartitionKey", "RowKey"],
                               cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken).ConfigureAwait(false);
                }
                catch (RequestFailedException ex) when (ex.Status == 404)
                {
                    // Another instance swept it first.
                }
                if (++deleted >= max)
                {
                    break;
                }
            }
        }
        catch (RequestFailedException ex) when (StorageAccount.IsMissingResource(ex))
        {
            // Nothing stored yet.
        }
        return deleted;
    }
}
