using System.Text.Json;
using System.Text.Json.Serialization;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Http;
using CalWebhookFunctions.Operations;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;

namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// <c>POST /api/deliveries/replay</c> (function key): moves the dead letters a filter matches back to <c>cal-webhooks</c>
/// with a fresh retry schedule. Body (all optional; empty = every dead letter)
/// <c>{"eventId","connectionId","since","until","reason","dryRun"}</c> — <c>since</c>/<c>until</c> bound the event's
/// <c>receivedAt</c> (ISO 8601, inclusive), <c>reason</c> is a dead-letter reason or <c>host_poison</c>; or the older
/// query form <c>?eventId=…</c> with no body. Answers <c>{"moved":n,"unreadable":n,"more":bool}</c> (<c>more</c>: call
/// again), or with <c>dryRun:true</c> <c>{"matched":n,"more":bool}</c> and moves nothing. 400 for unknown fields,
/// malformed values or an unknown reason; 404 when the one event asked for has no dead letter; 503 when storage fails
/// midway (every dead letter is then either moved or still in place).
/// </summary>
public sealed class ReplayDeadLetters(DeadLetterReplayer replayer)
{
    private const int MaxBodyBytes = 4096;

    [Function(nameof(ReplayDeadLetters))]
    public async Task<Results<Ok<ReplayBody>, Ok<DryRunBody>, BadRequest<ErrorBody>, NotFound<ErrorBody>, JsonHttpResult<ErrorBody>>> Run(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "deliveries/replay")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var (replay, problem) = await ReadAsync(request, cancellationToken);
        if (problem is not null)
        {
            return ApiResults.BadRequest("invalid_request", problem);
        }
        var (filter, dryRun) = replay!.Value;
        var result = await replayer.ReplayAsync(filter, dryRun, cancellationToken);
        if (result.Failed)
        {
            return ApiResults.StorageUnavailable(
                $"Storage failed after {result.Moved} dead letter(s) were {(dryRun ? "counted" : "moved")}; nothing was lost. Call again later.");
        }
        if (dryRun)
        {
            return TypedResults.Ok(new DryRunBody(result.Moved, result.More));
        }
        if (filter.EventId is { } eventId && result.Moved == 0 && !result.More)
        {
            return ApiResults.NotFound("dead_letter_not_found", $"No readable dead letter has event id {eventId}.");
        }
        return TypedResults.Ok(new ReplayBody(result.Moved, result.Unreadable, result.More));
    }

    private static async Task<((ReplayFilter Filter, bool DryRun)? Replay, string? Problem)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        foreach (var (name, _) in request.Query)
        {
            if (name is not ("eventId" or "code"))
            {
                return (null, $"Unknown query parameter '{name}': filters go in the JSON body.");
            }
        }
        var query = request.Query["eventId"];
        if (query.Count > 1)
        {
            return (null, "eventId is given more than once.");
        }
        var body = await BodyReader.ReadAsync(request, MaxBodyBytes, cancellationToken);
        if (body is null)
        {
            return (null, $"The body is larger than {MaxBodyBytes} bytes.");
        }
        if (query.Count == 1)
        {
            return body.Length > 0
                ? (null, "Give the filters either as ?eventId=… or in the JSON body, not both.")
                : Validate(new ReplayRequest { EventId = query[0] });
        }
        if (body.Length == 0)
        {
            return ((ReplayFilter.All, false), null);
        }
        ReplayRequest? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize(body, ReplayJsonContext.Default.ReplayRequest);
        }
        catch (JsonException ex)
        {
            return (null, $"The body must be a JSON object with only eventId, connectionId, since, until, reason and dryRun: {ex.Message}");
        }
        return parsed is null ? (null, "The body must be a JSON object, not null.") : Validate(parsed);
    }

    private static ((ReplayFilter Filter, bool DryRun)? Replay, string? Problem) Validate(ReplayRequest request)
    {
        if (request.EventId is not null && !QueuedWebhook.IsEventId(request.EventId))
        {
            return (null, "eventId must be an event id as ReceiveCalWebhook answered it.");
        }
        if (request.ConnectionId is not null && !ConnectionId.IsValid(request.ConnectionId, out var problem))
        {
            return (null, $"connectionId is not acceptable: {problem}.");
        }
        // Unbounded ends stand for "not given" until the filter is made.
        DateTimeOffset since = DateTimeOffset.MinValue, until = DateTimeOffset.MaxValue;
        if (request.Since is not null && !ListQuery.TryParseTime(request.Since, out since))
        {
            return (null, "since must be an ISO 8601 time such as 2026-12-01T10:00:00Z.");
        }
        if (request.Until is not null && !ListQuery.TryParseTime(request.Until, out until))
        {
            return (null, "until must be an ISO 8601 time such as 2026-12-01T10:00:00Z.");
        }
        if (since > until)
        {
            return (null, "since is after until.");
        }
        if (request.Reason is not null && !ReplayFilter.Reasons.Contains(request.Reason))
        {
            return (null, $"reason must be one of {string.Join(", ", ReplayFilter.Reasons)}.");
        }
        var filter = new ReplayFilter(request.EventId, request.ConnectionId, request.Since is null ? null : since, request.Until is null ? null : until, request.Reason);
        return ((filter, request.DryRun ?? false), null);
    }
}

public sealed record ReplayBody(
    [property: JsonPropertyName("moved")] int Moved,
    [property: JsonPropertyName("unreadable")] int Unreadable,
    [property: JsonPropertyName("more")] bool More);

public sealed record DryRunBody(
    [property: JsonPropertyName("matched")] int Matched,
    [property: JsonPropertyName("more")] bool More);

/// <summary>The replay body; any other field is refused (a misspelt filter must not widen a replay to everything).</summary>
public sealed record ReplayRequest
{
    [JsonPropertyName("eventId")] public string? EventId { get; init; }
    [JsonPropertyName("connectionId")] public string? ConnectionId { get; init; }
    [JsonPropertyName("since")] public string? Since { get; init; }
    [JsonPropertyName("until")] public string? Until { get; init; }
    [JsonPropertyName("reason")] public string? Reason { get; init; }
    [JsonPropertyName("dryRun")] public bool? DryRun { get; init; }
}

[JsonSourceGenerationOptions(UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(ReplayBody))]
[JsonSerializable(typeof(DryRunBody))]
[JsonSerializable(typeof(ReplayRequest))]
internal sealed partial class ReplayJsonContext : JsonSerializerContext;
