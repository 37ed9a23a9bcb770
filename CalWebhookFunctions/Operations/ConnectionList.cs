using Azure.Data.Tables;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Http;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Subscriptions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CalWebhookFunctions.Operations;

/// <summary>
/// <c>GET /api/connections?limit=&amp;continuation=</c> (the query form without <c>id</c>): the connections, each as
/// <c>GET /api/connections/{id}</c> answers it, in table-key order (stable while paging: a connection added meanwhile
/// never shifts a page). Only connection rows (row key <c>connection</c>, so never the <c>~changes</c> marker) that are
/// not tombstones (GET {id} answers 404 for those) — both filtered by the table service, one query per page.
/// </summary>
public sealed class ConnectionList(ConnectionStore store)
{
    private const string Scope = "connections";

    /// <summary>Whether a <c>GET /api/connections</c> asks for the list: it names no <c>id</c>.</summary>
    public static bool IsListRequest(HttpRequest request) => ConnectionRoute.QueryValues(request.QueryString.Value, "id").Count == 0;

    public async Task<Results<Ok<ListPage<ConnectionBody>>, BadRequest<ErrorBody>, JsonHttpResult<ErrorBody>>> ListAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var query = ListQuery.Read(request, "limit", "continuation");
        var limit = query.Limit();
        var after = query.Continuation(Scope);
        if (query.Error() is { } error)
        {
            return error;
        }
        var filter = TableClient.CreateQueryFilter($"RowKey eq {ConnectionRecord.RowKeyValue} and State ne {ConnectionRecord.States.Removed}");
        if (after?.PartitionKey is { } last)
        {
            filter += " and " + TableClient.CreateQueryFilter($"PartitionKey gt {last}");
        }
        try
        {
            var (rows, next) = await TablePage.ReadAsync(store.Table.QueryAsync<ConnectionRecord>(filter, maxPerPage: limit + 1, cancellationToken: cancellationToken),
                limit, last => new ListPosition(last.PartitionKey, null));
            return TypedResults.Ok(new ListPage<ConnectionBody>([.. rows.Select(ConnectionResults.BodyOf)], ContinuationToken.Issue(Scope, next)));
        }
        catch (Exception ex) when (StorageAccount.IsUnavailable(ex))
        {
            return ConnectionResults.StorageUnavailable();
        }
    }
}
