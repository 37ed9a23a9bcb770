using Azure;
using Azure.Data.Tables;

namespace CalWebhookFunctions.Storage;

/// <summary>
/// Optimistic writes to one table: each is conditional (an insert on there being no row, a replace or a delete on the
/// row's <see cref="ITableEntity.ETag"/>) and answers false when another writer got there first, so the caller reads
/// again and decides instead of overwriting. A write that happened leaves the new ETag on the row and then runs
/// <paramref name="written"/> (a table whose readers watch a change marker bumps it there).
/// </summary>
public sealed class ConditionalTable(TableClient table, Func<Task>? written = null)
{
    /// <summary>Inserts the row, creating the table on first use; false when a row with its keys exists.</summary>
    public async Task<bool> TryInsertAsync<TRow>(TRow row, CancellationToken cancellationToken) where TRow : class, ITableEntity
    {
        try
        {
            var response = await MissingResource.CreateAndRetryAsync(
                () => table.AddEntityAsync(row, cancellationToken),
                () => table.CreateIfNotExistsAsync(cancellationToken)).ConfigureAwait(false);
            return await WrittenAsync(row, response).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    /// <summary>Replaces the row if it still has the row's ETag; false when it changed or is gone.</summary>
    public async Task<bool> TryReplaceAsync<TRow>(TRow row, CancellationToken cancellationToken) where TRow : class, ITableEntity
    {
        try
        {
            var response = await table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            return await WrittenAsync(row, response).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            return false;
        }
    }

    /// <summary>Deletes the row if it still has the row's ETag; false when it changed. A row already gone counts as deleted.</summary>
    public async Task<bool> TryDeleteAsync(ITableEntity row, CancellationToken cancellationToken)
    {
        try
        {
            await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, row.ETag, cancellationToken).ConfigureAwait(false);
            return await WrittenAsync(row, response: null).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            return false;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return true;
        }
    }

    private async Task<bool> WrittenAsync(ITableEntity row, Response? response)
    {
        if (response is not null)
        {
            row.ETag = response.Headers.ETag ?? default;
        }
        if (written is not null)
        {
            await written().ConfigureAwait(false);
        }
        return true;
    }
}
