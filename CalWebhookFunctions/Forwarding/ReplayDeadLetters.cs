using System.Text.Json;
using System.Text.Json.Serialization;
using CalWebhookFunctions.Http;
using CalWebhookFunctions.Ingest;
using CalWebhookFunctions.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// <c>POST /api/deliveries/replay</c> (function key): moves dead letters back to <c>cal-webhooks</c> with a fresh
/// retry schedule — all of them, or one event's with <c>?eventId=…</c> (or a JSON body <c>{"eventId":"…"}</c>).
/// Answers <c>{"moved":n,"unreadable":n,"more":bool}</c>; <c>more</c> means call again. 404 when the one event asked for
/// has no dead letter; 503 when storage fails midway (every dead letter is then either moved or still in place).
/// </summary>
public sealed class ReplayDeadLetters(DeadLetterReplayer replayer)
{
    [Function(nameof(ReplayDeadLetters))]
    public async Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "deliveries/replay")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var (eventId, problem) = await ReadEventIdAsync(request, cancellationToken);
        if (problem is not null)
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, "invalid_request", problem);
        }
        var result = await replayer.ReplayAsync(eventId, cancellationToken);
        if (result.Failed)
        {
            return ApiResults.Error(StatusCodes.Status503ServiceUnavailable, "storage_unavailable",
                $"Storage failed after {result.Moved} dead letter(s) were moved; nothing was lost. Call again later.");
        }
        if (eventId is not null && result.Moved == 0 && !result.More)
        {
            return ApiResults.Error(StatusCodes.Status404NotFound, "dead_letter_not_found",
                $"No readable dead letter has event id {eventId}.");
        }
        return TypedResults.Json(new ReplayBody(result.Moved, result.Unreadable, result.More), ReplayJsonContext.Default.ReplayBody);
    }

    private static async Task<(string? EventId, string? Problem)> ReadEventIdAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var query = request.Query["eventId"];
        string? eventId = query.Count > 0 ? query[0] : null;
        if (query.Count > 1)
        {
            return (null, "eventId is given more than once.");
        }
        if (eventId is null)
        {
            var body = await BodyReader.ReadAsync(request, 4096, cancellationToken);
            if (body is null)
            {
                return (null, "The body must be empty or {\"eventId\":\"…\"}.");
            }
            if (body.Length > 0)
            {
                try
                {
                    eventId = JsonSerializer.Deserialize(body, ReplayJsonContext.Default.ReplayRequest)?.EventId;
                }
                catch (JsonException)
                {
                    return (null, "The body must be empty or {\"eventId\":\"…\"}.");
                }
            }
        }
        if (eventId is not null && !QueuedWebhook.IsEventId(eventId))
        {
            return (null, "eventId must be an event id as ReceiveCalWebhook answered it.");
        }
        return (eventId, null);
    }
}

public sealed record ReplayBody(
    [property: JsonPropertyName("moved")] int Moved,
    [property: JsonPropertyName("unreadable")] int Unreadable,
    [property: JsonPropertyName("more")] bool More);

public sealed record ReplayRequest([property: JsonPropertyName("eventId")] string? EventId);

[JsonSerializable(typeof(ReplayBody))]
[JsonSerializable(typeof(ReplayRequest))]
internal sealed partial class ReplayJsonContext : JsonSerializerContext;
