using System.Text.Json.Serialization;
using Azure.Data.Tables;
using CalWebhookFunctions.Http;
using CalWebhookFunctions.Operations.Rejections;
using CalWebhookFunctions.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;

namespace CalWebhookFunctions.Operations;

/// <summary>
/// <c>GET /api/rejections?since=&amp;limit=&amp;continuation=</c>: refused ingest requests, newest first. An item is a
/// <c>sample</c> (one request: <c>count</c> 1) or a <c>summary</c> (how many more of that reason, that minute, on one
/// instance, were refused but not sampled; its <c>at</c> is the minute's start). The counts of all items add up to every
/// refusal. Items are written in the background, so the newest seconds may not show yet.
/// </summary>
public sealed class GetRejections(RejectionStore store)
{
    [Function(nameof(GetRejections))]
    public async Task<Results<Ok<ListPage<RejectionItem>>, BadRequest<ErrorBody>, JsonHttpResult<ErrorBody>>> Run(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "rejections")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var query = ListQuery.Read(request, "since", "limit", "continuation");
        var since = query.Time("since");
        var limit = query.Limit();
        var scope = $"rejections|since={since:O}";
        var after = query.Continuation(scope);
        if (query.Error() is { } error)
        {
            return error;
        }
        try
        {
            var (rows, next) = await store.ListAsync(since, after, limit, cancellationToken);
            return TypedResults.Ok(new ListPage<RejectionItem>([.. rows.Select(ItemOf)], ContinuationToken.Issue(scope, next)));
        }
        catch (Exception ex) when (StorageAccount.IsUnavailable(ex))
        {
            return ApiResults.StorageUnavailable("Table storage did not answer; retry later.");
        }
    }

    private static RejectionItem ItemOf(TableEntity row) => new(
        row.GetDateTimeOffset("At") ?? default,
        row.GetString("Reason") ?? "",
        row.GetString("Kind") ?? "sample",
        row.GetInt64("Count") ?? 1,
        row.GetString("ConnectionId"),
        row.GetInt64("BodyBytes"),
        row.GetString("ContentType"));
}

/// <summary>One item of <c>GET /api/rejections</c>.</summary>
public sealed record RejectionItem(
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("connectionId")] string? ConnectionId,
    [property: JsonPropertyName("bodyBytes")] long? BodyBytes,
    [property: JsonPropertyName("contentType")] string? ContentType);
