using System.Text.Json.Serialization;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Http;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Subscriptions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Operations;

using PauseAnswer = Results<Ok<PauseBody>, NotFound<ErrorBody>, BadRequest<ErrorBody>, ConnectionBusy, JsonHttpResult<ErrorBody>>;

/// <summary>
/// <c>POST /api/connections/{id}/pause</c> and <c>/resume</c> (and the query forms <c>/api/connections/pause?id=…</c>,
/// <c>/resume?id=…</c>): sets or clears the stored <see cref="ConnectionRecord.Paused"/> flag through
/// <see cref="ConnectionStore"/> (an ETag-conditional write that bumps the snapshot's change marker, so this instance's
/// forwarder sees it at once and every other instance within 5 s). While paused, the connection's events are accepted
/// and held without an attempt; after resume they are delivered (see <c>DeliveryGate</c>). Idempotent: pausing a paused
/// connection answers the same.
/// </summary>
public sealed partial class ConnectionPause(ConnectionStore store, ConnectionLeases leases, TimeProvider time, ILogger<ConnectionPause> logger)
{
    private const int WriteTries = 5;

    [Function("PauseConnection")]
    public Task<PauseAnswer> Pause(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "connections/{connectionId}/pause")] HttpRequest request,
        string connectionId, CancellationToken cancellationToken) =>
        SetAsync(ConnectionRoute.FromPath(request, connectionId, "pause"), paused: true, cancellationToken);

    [Function("PauseConnectionByQuery")]
    public Task<PauseAnswer> PauseByQuery(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "connections/pause")] HttpRequest request,
        CancellationToken cancellationToken) =>
        SetAsync(ConnectionRoute.FromQuery(request), paused: true, cancellationToken);

    [Function("ResumeConnection")]
    public Task<PauseAnswer> Resume(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "connections/{connectionId}/resume")] HttpRequest request,
        string connectionId, CancellationToken cancellationToken) =>
        SetAsync(ConnectionRoute.FromPath(request, connectionId, "resume"), paused: false, cancellationToken);

    [Function("ResumeConnectionByQuery")]
    public Task<PauseAnswer> ResumeByQuery(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "connections/resume")] HttpRequest request,
        CancellationToken cancellationToken) =>
        SetAsync(ConnectionRoute.FromQuery(request), paused: false, cancellationToken);

    private async Task<PauseAnswer> SetAsync(ConnectionIdResult named, bool paused, CancellationToken cancellationToken)
    {
        if (named.Id is not { } id)
        {
            return named.Error!;
        }
        try
        {
            for (var attempt = 0; attempt < WriteTries; attempt++)
            {
                var record = await store.FindAsync(id, cancellationToken);
                if (record is null || record.IsRemoved)
                {
                    return ConnectionResults.NotFound();
                }
                if (record.Paused == paused)
                {
                    return Answer(record);
                }
                if (leases.HeldByOther(record))
                {
                    // A PUT or DELETE holds the connection; writing under it would make it lose its lease.
                    return ConnectionResults.Busy(record.ClaimedUntil, time.GetUtcNow());
                }
                var changed = record.Copy();
                changed.Paused = paused;
                changed.UpdatedAt = time.GetUtcNow();
                if (await store.TryReplaceAsync(changed, cancellationToken))
                {
                    Changed(logger, id, paused);
                    return Answer(changed);
                }
            }
            var retryAt = time.GetUtcNow();
            return ConnectionResults.Busy(retryAt.AddSeconds(1), retryAt);
        }
        catch (Exception ex) when (StorageAccount.IsUnavailable(ex))
        {
            return ConnectionResults.StorageUnavailable();
        }
    }

    private static Ok<PauseBody> Answer(ConnectionRecord record) => TypedResults.Ok(new PauseBody(record.ConnectionId, record.Paused, record.UpdatedAt));

    [LoggerMessage(EventId = 5100, Level = LogLevel.Information, Message = "Connection {ConnectionId} paused: {Paused}")]
    private static partial void Changed(ILogger logger, string connectionId, bool paused);
}

/// <summary>The answer of pause and resume: the connection and whether its events are now held.</summary>
public sealed record PauseBody(
    [property: JsonPropertyName("connectionId")] string ConnectionId,
    [property: JsonPropertyName("paused")] bool Paused,
    [property: JsonPropertyName("updatedAt")] DateTimeOffset UpdatedAt);
