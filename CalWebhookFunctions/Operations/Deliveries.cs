using System.Net.Http.Headers;
using Azure;
using CalWebhookFunctions.Configuration;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Http;
using CalWebhookFunctions.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;

namespace CalWebhookFunctions.Operations;

/// <summary>
/// The delivery log routes (function key): <c>GET /api/deliveries</c> (newest first, filtered, paged),
/// <c>GET /api/deliveries/{eventId}</c> (with the attempt log), <c>GET /api/deliveries/{eventId}/payload</c> (the exact bytes
/// Cal.com sent) and <c>POST /api/deliveries/{eventId}/redeliver</c> (a deliberate re-send past dedup). The log starts at an
/// event's first attempt outcome: an event still waiting for its first pick-up is not in it yet.
/// </summary>
public sealed class Deliveries(DeliveryLogReader reader, DeliveryLog log, PendingWebhooks pending, TimeProvider time)
{
    private static readonly string[] ListParameters = ["connectionId", "status", "trigger", "since", "until", "limit", "continuation"];

    [Function("ListDeliveries")]
    public async Task<Results<Ok<ListPage<DeliveryItem>>, BadRequest<ErrorBody>, JsonHttpResult<ErrorBody>>> List(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "deliveries")] HttpRequest request, CancellationToken cancellationToken)
    {
        var query = ListQuery.Read(request, ListParameters);
        var connectionId = query.Text("connectionId");
        if (connectionId is not null && !ConnectionId.IsValid(connectionId, out var problem))
        {
            return ApiResults.BadRequest("invalid_query", $"'connectionId': {problem}.");
        }
        var trigger = query.Text("trigger");
        if (trigger is not null && !SettingChecks.IsTriggerName(trigger))
        {
            return ApiResults.BadRequest("invalid_query", "'trigger' must be a Cal.com trigger such as BOOKING_CREATED.");
        }
        var filter = new DeliveryFilter(connectionId, query.OneOf("status", [.. DeliveryStatus.All]), trigger, query.Time("since"), query.Time("until"));
        var limit = query.Limit();
        var from = query.Continuation(filter.Scope);
        if (query.Error() is { } error)
        {
            return error;
        }
        if (filter.Since >= filter.Until)
        {
            return ApiResults.BadRequest("invalid_query", "'since' must be before 'until'.");
        }
        try
        {
            var page = await reader.ListAsync(filter, from, limit, cancellationToken);
            return TypedResults.Ok(new ListPage<DeliveryItem>([.. page.Items.Select(DeliveryItem.From)], ContinuationToken.Issue(filter.Scope, page.Next)));
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            return StorageUnavailable();
        }
    }

    [Function("GetDelivery")]
    public Task<Results<Ok<DeliveryDetail>, BadRequest<ErrorBody>, NotFound<ErrorBody>, JsonHttpResult<ErrorBody>>> Get(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "deliveries/{eventId}")] HttpRequest request, string eventId,
        CancellationToken cancellationToken) =>
        WithEntryAsync<Ok<DeliveryDetail>>(eventId, withBody: false, async entry =>
        {
            var attempts = await reader.AttemptsAsync(entry, cancellationToken);
            return TypedResults.Ok(new DeliveryDetail(DeliveryItem.From(entry), [.. attempts.Select(DeliveryAttempt.From)]));
        }, cancellationToken);

    /// <summary>The bytes as a download; 410 once they are no longer retained.</summary>
    [Function("GetDeliveryPayload")]
    public Task<Results<FileContentHttpResult, BadRequest<ErrorBody>, NotFound<ErrorBody>, JsonHttpResult<ErrorBody>>> Payload(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "deliveries/{eventId}/payload")] HttpRequest request, string eventId,
        CancellationToken cancellationToken) =>
        WithEntryAsync<FileContentHttpResult>(eventId, withBody: true, async entry =>
        {
            if ((entry.Body ?? await ReadBlobAsync(entry, cancellationToken)) is not { } body)
            {
                return PayloadGone(eventId);
            }
            // Attendee data: never rendered by a browser as a page, always saved as a file.
            request.HttpContext.Response.Headers["X-Content-Type-Options"] = "nosniff";
            request.HttpContext.Response.Headers.CacheControl = "no-store";
            return TypedResults.File(body, ContentTypeOf(entry), fileDownloadName: eventId + ".payload");
        }, cancellationToken);

    /// <summary>
    /// Enqueues the event once more (fresh schedule, same webhook-id, past the delivered mark; a live claim still stops a
    /// concurrent send), then marks its log entry pending. A failure after the enqueue leaves the event queued: nothing is
    /// lost. 410 once the payload is no longer retained.
    /// </summary>
    [Function("RedeliverDelivery")]
    public Task<Results<Accepted<RedeliverAccepted>, BadRequest<ErrorBody>, NotFound<ErrorBody>, JsonHttpResult<ErrorBody>>> Redeliver(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "deliveries/{eventId}/redeliver")] HttpRequest request, string eventId,
        CancellationToken cancellationToken) =>
        WithEntryAsync<Accepted<RedeliverAccepted>>(eventId, withBody: true, async entry =>
        {
            if (entry.Body is null && (entry.BodyBlob is null || !(await pending.Payloads.GetBlobClient(entry.BodyBlob).ExistsAsync(cancellationToken)).Value))
            {
                return PayloadGone(eventId);
            }
            await pending.EnqueueAsync(Resend(entry), cancellationToken: CancellationToken.None);
            await log.TryMarkPendingAsync(entry);
            return TypedResults.Accepted((string?)null, new RedeliverAccepted(eventId, DeliveryStatus.Pending));
        }, cancellationToken);

    /// <summary>
    /// The answer for one event id: 400 when malformed, 404 when the log has no such event, 503 when storage fails, else
    /// what <paramref name="found"/> makes of its entry (its answer, or 410 when the payload is gone).
    /// </summary>
    private async Task<Results<TFound, BadRequest<ErrorBody>, NotFound<ErrorBody>, JsonHttpResult<ErrorBody>>> WithEntryAsync<TFound>(
        string eventId, bool withBody, Func<DeliveryLogEntry, Task<Results<TFound, JsonHttpResult<ErrorBody>>>> found,
        CancellationToken cancellationToken)
        where TFound : IResult
    {
        if (InvalidEventId(eventId) is { } invalid)
        {
            return invalid;
        }
        try
        {
            if (await reader.FindAsync(eventId, withBody, cancellationToken) is not { } entry)
            {
                return NotFound(eventId);
            }
            return (await found(entry)).Result switch
            {
                TFound answer => answer,
                var gone => (JsonHttpResult<ErrorBody>)gone,
            };
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            return StorageUnavailable();
        }
    }

    /// <summary>The queue message that sends a logged event again, as ingest stored it, with a fresh schedule.</summary>
    private QueuedWebhook Resend(DeliveryLogEntry entry) => new()
    {
        EventId = entry.EventId,
        ReceivedAt = entry.ReceivedAt,
        ConnectionId = entry.ConnectionId,
        Headers = new (string Name, string? Value)[]
            {
                (KeptHeaders.ContentType, entry.ContentType), (KeptHeaders.CalSignature, entry.CalSignature),
                (KeptHeaders.CalWebhookVersion, entry.CalWebhookVersion),
            }
            .Where(header => !string.IsNullOrEmpty(header.Value)).ToDictionary(header => header.Name, header => header.Value!, StringComparer.OrdinalIgnoreCase),
        BodyLength = entry.BodyLength,
        Body = entry.Body,
        BodyBlob = entry.Body is null ? entry.BodyBlob : null,
        PriorAttempts = entry.Attempts,
        RedeliverAfter = time.GetUtcNow(),
    };

    private async Task<byte[]?> ReadBlobAsync(DeliveryLogEntry entry, CancellationToken cancellationToken)
    {
        if (entry.BodyBlob is null)
        {
            return null;
        }
        try
        {
            var content = await pending.Payloads.GetBlobClient(entry.BodyBlob).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return content.Value.Content.ToArray();
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    private static string ContentTypeOf(DeliveryLogEntry entry) =>
        entry.ContentType is { } value && MediaTypeHeaderValue.TryParse(value, out var parsed) ? parsed.ToString() : "application/octet-stream";

    private static BadRequest<ErrorBody>? InvalidEventId(string eventId) => DeliveryLogKeys.IsEventId(eventId)
        ? null
        : ApiResults.BadRequest("invalid_event_id",
            "The event id must be 32 hexadecimal digits, as ReceiveCalWebhook answered it ({\"status\":\"accepted\",\"id\":\"…\"}).");

    private static NotFound<ErrorBody> NotFound(string eventId) => ApiResults.NotFound("delivery_not_found",
        $"The delivery log has no event {eventId}. The log starts at an event's first delivery attempt: an event still waiting in "
        + "the queue for its first pick-up is not in it yet (GET /api/stats shows the queue depth and the oldest pending age), and "
        + "entries older than Deliveries__RetentionDays are removed.");

    private static JsonHttpResult<ErrorBody> PayloadGone(string eventId) => ApiResults.Error(StatusCodes.Status410Gone, "payload_expired",
        $"The payload of event {eventId} is no longer retained.");

    private static bool IsStorageFailure(Exception ex) =>
        ex is RequestFailedException or Azure.Data.Tables.TableTransactionFailedException || StorageAccount.IsUnavailable(ex);

    private static JsonHttpResult<ErrorBody> StorageUnavailable() =>
        ApiResults.StorageUnavailable("Storage did not answer; nothing was changed that was not completed. Try again shortly.");
}
