using System.Net.Http.Headers;
using Azure;
using CalWebhookFunctions.Configuration;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Http;
using CalWebhookFunctions.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace CalWebhookFunctions.Operations;

/// <summary>
/// The delivery log routes (function key): <c>GET /api/deliveries</c> (newest first, filtered, paged),
/// <c>GET /api/deliveries/{eventId}</c> (with the attempt log), <c>GET /api/deliveries/{eventId}/payload</c> (the exact bytes
/// Cal.com sent) and <c>POST /api/deliveries/{eventId}/redeliver</c> (a deliberate re-send past dedup). The log starts at an
/// event's first attempt outcome: an event still waiting for its first pick-up is not in it yet.
/// </summary>
public sealed class Deliveries(DeliveryLogReader reader, DeliveryLog log, PendingWebhooks pending, StorageAccount storage, TimeProvider time)
{
    private static readonly string[] ListParameters = ["connectionId", "status", "trigger", "since", "until", "limit", "continuation"];

    [Function("ListDeliveries")]
    public async Task<IResult> List(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "deliveries")] HttpRequest request, CancellationToken cancellationToken)
    {
        var query = ListQuery.Read(request, ListParameters);
        var connectionId = query.Text("connectionId");
        if (connectionId is not null && !ConnectionId.IsValid(connectionId, out var problem))
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, "invalid_query", $"'connectionId': {problem}.");
        }
        var trigger = query.Text("trigger");
        if (trigger is not null && (trigger.Length > 64 || !SettingChecks.TriggerName().IsMatch(trigger)))
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, "invalid_query", "'trigger' must be a Cal.com trigger such as BOOKING_CREATED.");
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
            return ApiResults.Error(StatusCodes.Status400BadRequest, "invalid_query", "'since' must be before 'until'.");
        }
        return await StorageAsync(async () =>
        {
            var page = await reader.ListAsync(filter, from, limit, cancellationToken);
            return TypedResults.Json(new ListPage<DeliveryItem>([.. page.Items.Select(DeliveryItem.From)], ContinuationToken.Issue(filter.Scope, page.Next)),
                OperationsJson.Default.ListPageDeliveryItem);
        });
    }

    [Function("GetDelivery")]
    public async Task<IResult> Get(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "deliveries/{eventId}")] HttpRequest request, string eventId,
        CancellationToken cancellationToken)
    {
        return await WithEntryAsync(eventId, withBody: false, async entry =>
        {
            var attempts = await reader.AttemptsAsync(entry, cancellationToken);
            return TypedResults.Json(new DeliveryDetail(DeliveryItem.From(entry), [.. attempts.Select(DeliveryAttempt.From)]),
                OperationsJson.Default.DeliveryDetail);
        }, cancellationToken);
    }

    [Function("GetDeliveryPayload")]
    public async Task<IResult> Payload(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "deliveries/{eventId}/payload")] HttpRequest request, string eventId,
        CancellationToken cancellationToken)
    {
        return await WithEntryAsync(eventId, withBody: true, async entry =>
        {
            var body = entry.Body ?? await ReadBlobAsync(entry, cancellationToken);
            if (body is null)
            {
                return PayloadGone(eventId);
            }
            // Attendee data: never rendered by a browser as a page, always saved as a file.
            request.HttpContext.Response.Headers["X-Content-Type-Options"] = "nosniff";
            request.HttpContext.Response.Headers.CacheControl = "no-store";
            return TypedResults.File(body, ContentTypeOf(entry), fileDownloadName: eventId + ".payload");
        }, cancellationToken);
    }

    /// <summary>
    /// Enqueues the event once more (fresh schedule, same webhook-id, past the delivered mark; a live claim still stops a
    /// concurrent send), then marks its log entry pending. A failure after the enqueue leaves the event queued: nothing is lost.
    /// </summary>
    [Function("RedeliverDelivery")]
    public async Task<IResult> Redeliver(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "deliveries/{eventId}/redeliver")] HttpRequest request, string eventId,
        CancellationToken cancellationToken)
    {
        return await WithEntryAsync(eventId, withBody: true, async entry =>
        {
            if (entry.Body is null && (entry.BodyBlob is null
                || !(await storage.Container(StorageNames.PayloadContainer).GetBlobClient(entry.BodyBlob).ExistsAsync(cancellationToken)).Value))
            {
                return PayloadGone(eventId);
            }
            await pending.EnqueueAsync(Resend(entry), cancellationToken: CancellationToken.None);
            try
            {
                await log.MarkPendingAsync(entry, CancellationToken.None);
            }
            catch (Exception ex) when (ex is RequestFailedException || StorageAccount.IsUnavailable(ex))
            {
                // The event is queued; its next outcome brings the log up to date.
            }
            return TypedResults.Json(new RedeliverAccepted(eventId, DeliveryStatus.Pending), OperationsJson.Default.RedeliverAccepted,
                statusCode: StatusCodes.Status202Accepted);
        }, cancellationToken);
    }

    /// <summary>
    /// The answer for one event id: 400 when malformed, 404 when the log has no such event, 503 when storage fails, else
    /// what <paramref name="found"/> makes of its entry.
    /// </summary>
    private async Task<IResult> WithEntryAsync(string eventId, bool withBody, Func<DeliveryLogEntry, Task<IResult>> found,
        CancellationToken cancellationToken)
    {
        if (InvalidEventId(eventId) is { } invalid)
        {
            return invalid;
        }
        return await StorageAsync(async () => await reader.FindAsync(eventId, withBody, cancellationToken) is { } entry
            ? await found(entry)
            : NotFound(eventId));
    }

    /// <summary>The queue message that sends a logged event again, as ingest stored it, with a fresh schedule.</summary>
    private QueuedWebhook Resend(DeliveryLogEntry entry)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in (ReadOnlySpan<(string, string?)>)[(KeptHeaders.ContentType, entry.ContentType),
                     (KeptHeaders.CalSignature, entry.CalSignature), (KeptHeaders.CalWebhookVersion, entry.CalWebhookVersion)])
        {
            if (!string.IsNullOrEmpty(value))
            {
                headers[name] = value;
            }
        }
        return new QueuedWebhook
        {
            EventId = entry.EventId,
            ReceivedAt = entry.ReceivedAt,
            ConnectionId = entry.ConnectionId,
            Headers = headers,
            BodyLength = entry.BodyLength,
            Body = entry.Body,
            BodyBlob = entry.Body is null ? entry.BodyBlob : null,
            PriorAttempts = entry.Attempts,
            RedeliverAfter = time.GetUtcNow(),
        };
    }

    private async Task<byte[]?> ReadBlobAsync(DeliveryLogEntry entry, CancellationToken cancellationToken)
    {
        if (entry.BodyBlob is null)
        {
            return null;
        }
        try
        {
            var content = await storage.Container(StorageNames.PayloadContainer).GetBlobClient(entry.BodyBlob)
                .DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return content.Value.Content.ToArray();
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    private static string ContentTypeOf(DeliveryLogEntry entry) =>
        entry.ContentType is { } value && MediaTypeHeaderValue.TryParse(value, out var parsed) ? parsed.ToString() : "application/octet-stream";

    private static IResult? InvalidEventId(string eventId) => DeliveryLogKeys.IsEventId(eventId)
        ? null
        : ApiResults.Error(StatusCodes.Status400BadRequest, "invalid_event_id",
            "The event id must be 32 hexadecimal digits, as ReceiveCalWebhook answered it ({\"status\":\"accepted\",\"id\":\"…\"}).");

    private static IResult NotFound(string eventId) => ApiResults.Error(StatusCodes.Status404NotFound, "delivery_not_found",
        $"The delivery log has no event {eventId}. The log starts at an event's first delivery attempt: an event still waiting in "
        + "the queue for its first pick-up is not in it yet (GET /api/stats shows the queue depth and the oldest pending age), and "
        + "entries older than Deliveries__RetentionDays are removed.");

    private static IResult PayloadGone(string eventId) => ApiResults.Error(StatusCodes.Status410Gone, "payload_expired",
        $"The payload of event {eventId} is no longer retained.");

    private static async Task<IResult> StorageAsync(Func<Task<IResult>> read)
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RequestFailedException or Azure.Data.Tables.TableTransactionFailedException || StorageAccount.IsUnavailable(ex))
        {
            return ApiResults.Error(StatusCodes.Status503ServiceUnavailable, "storage_unavailable",
                "Storage did not answer; nothing was changed that was not completed. Try again shortly.");
        }
    }
}
