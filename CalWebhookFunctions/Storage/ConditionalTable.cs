using Azure;
using Azure.Data.Tables;

namespace CalWebhookFunctions.Storage;

/// <summary>
/// Optimistic writes to one table: each is conditional (an insert on there being no row, a replace or a delete on the
/// row's <see cref="ITableEntity.ETag"/>) and answers false when another writer got there first, so the caller reads
/// again and decides instead of overwriting. A write that happened leaves the new ETag on the row and then runs
/// <paramref name="written"/> (a table whose readers watch a change marker bumps it there). With
/// <paramref name="batches"/>, each write goes out through that group commit, with the writes of its partition in
/// flight, and gets the same answers.
/// </summary>
public sealed class ConditionalTable(TableClient table, Func<Task>? written = null, PartitionBatches? batches = null)
{
    public ConditionalTable(PartitionBatches batches) : this(batches.Table, batches: batches)
    {
    }

    /// <summary>Inserts the row, creating the table on first use; false when a row with its keys exists.</summary>
    public Task<bool> TryInsertAsync<TRow>(TRow row, CancellationToken cancellationToken) where TRow : class, ITableEntity =>
        WriteAsync(row, new(TableTransactionActionType.Add, row), cancellationToken, 409);

    /// <summary>Replaces the row if it still has the row's ETag; false when it changed or is gone.</summary>
    public Task<bool> TryReplaceAsync<TRow>(TRow row, CancellationToken cancellationToken) where TRow : class, ITableEntity =>
        WriteAsync(row, new(TableTransactionActionType.UpdateReplace, row, row.ETag), cancellationToken, 404, 412);

    /// <summary>Deletes the row if it still has the row's ETag; false when it changed. A row already gone counts as deleted.</summary>
    public async Task<bool> TryDeleteAsync(ITableEntity row, CancellationToken cancellationToken)
    {
        try
        {
            return await WriteAsync(row, new(TableTransactionActionType.Delete, row, row.ETag), cancellationToken, 412).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return true;
        }
    }

    /// <summary>
    /// One write: through the group commit (cancelling stops the wait, not the write), or on its own as the plain request
    /// (an insert creates the table when it is missing).
    /// </summary>
    private async Task<Response> SendAsync(TableTransactionAction action, CancellationToken cancellationToken)
    {
        if (batches is not null)
        {
            return (await batches.WriteAsync([action]).WaitAsync(cancellationToken).ConfigureAwait(false))[0];
        }
        return action.ActionType == TableTransactionActionType.Add
            ? await MissingResource.CreateAndRetryAsync(() => table.SendAsync(action, cancellationToken),
                () => table.CreateIfNotExistsAsync(cancellationToken)).ConfigureAwait(false)
            : await table.SendAsync(action, cancellationToken).ConfigureAwait(false);
    }

    /// <param name="lost">The answers that mean another writer got there first.</param>
    private async Task<bool> WriteAsync(ITableEntity row, TableTransactionAction action, CancellationToken cancellationToken, params int[] lost)
    {
        try
        {
            if ((await SendAsync(action, cancellationToken).ConfigureAwait(false)).Headers.ETag is { } etag)
            {
                row.ETag = etag; // a delete's answer has none
            }
            if (written is not null)
            {
                await written().ConfigureAwait(false);
            }
            return true;
        }
        catch (RequestFailedException ex) when (lost.Contains(ex.Status))
        {
            return false;
        }
    }
}
