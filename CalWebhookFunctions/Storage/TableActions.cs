using Azure;
using Azure.Data.Tables;

namespace CalWebhookFunctions.Storage;

/// <summary>A single <see cref="TableTransactionAction"/> sent as the plain request it amounts to, with the same conditions.</summary>
public static class TableActions
{
    public static Task<Response> SendAsync(this TableClient table, TableTransactionAction action, CancellationToken cancellationToken = default) =>
        action.ActionType switch
        {
            TableTransactionActionType.Add => table.AddEntityAsync(action.Entity, cancellationToken),
            TableTransactionActionType.UpsertReplace => table.UpsertEntityAsync(action.Entity, TableUpdateMode.Replace, cancellationToken),
            TableTransactionActionType.UpsertMerge => table.UpsertEntityAsync(action.Entity, TableUpdateMode.Merge, cancellationToken),
            TableTransactionActionType.UpdateReplace => table.UpdateEntityAsync(action.Entity, action.ETag, TableUpdateMode.Replace, cancellationToken),
            TableTransactionActionType.UpdateMerge => table.UpdateEntityAsync(action.Entity, action.ETag, TableUpdateMode.Merge, cancellationToken),
            _ => table.DeleteEntityAsync(action.Entity.PartitionKey, action.Entity.RowKey, action.ETag, cancellationToken),
        };
}
