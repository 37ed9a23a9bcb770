using CalWebhookFunctions.Configuration;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Http;
using CalWebhookFunctions.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Ingest;

/// <summary>
/// Receives one Cal.com delivery: reads the raw body within the size limit, works out which connection it
/// names, verifies its signature with the secrets that connection allows, and stores it durably in the
/// webhook queue. Nothing is stored unless the signature verifies, and nothing is acknowledged unless it
/// was stored.
/// </summary>
public sealed partial class WebhookIngestor(WebhookSecrets secrets, IngestStore store, IOptions<IngestOptions> options, TimeProvider time,
    WebhookMetrics metrics, ILogger<WebhookIngestor> logger)
{
    private readonly long _maxBodyBytes = options.Value.MaxBodyBytes;

    public async Task<IngestOutcome> IngestAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var body = await BodyReader.ReadAsync(request, _maxBodyBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return Reject(IngestStatus.TooLarge, request.ContentLength ?? _maxBodyBytes + 1);
        }
        if (body.Length == 0)
        {
            return Reject(IngestStatus.EmptyBody, 0);
        }

        var query = request.Query[ConnectionIdResolver.ParameterName];
        var delivery = ConnectionIdResolver.Resolve(query.Count > 0 ? query[0] : null, body);
        var connectionId = delivery.ConnectionId;

        // Verify before judging anything the sender chose, so an unsigned caller learns nothing but 401.
        var signature = request.Headers[CalSignature.HeaderName];
        var check = signature.Count > 1
            ? SignatureCheck.Malformed
            : CalSignature.Verify(body, signature.Count == 1 ? signature[0] : null, secrets.KeysFor(connectionId));
        if (check != SignatureCheck.Valid)
        {
            return Reject(check switch
            {
                SignatureCheck.Missing => IngestStatus.SignatureMissing,
                SignatureCheck.NoSecretProvided => IngestStatus.NoSecretProvided,
                SignatureCheck.Malformed => IngestStatus.SignatureMalformed,
                _ => IngestStatus.SignatureMismatch,
            }, body.Length, claimedConnectionId: connectionId);
        }
        if (query.Count > 1)
        {
            return Reject(IngestStatus.InvalidConnectionId, body.Length, $"{ConnectionIdResolver.ParameterName} is given more than once", connectionId);
        }
        if (connectionId is not null && !ConnectionId.IsValid(connectionId, out var problem))
        {
            return Reject(IngestStatus.InvalidConnectionId, body.Length, problem);
        }

        var receivedAt = time.GetUtcNow();
        var message = new QueuedWebhook
        {
            EventId = Guid.CreateVersion7(receivedAt).ToString("N"),
            ReceivedAt = receivedAt,
            ConnectionId = connectionId,
            Headers = KeptHeadersOf(request),
            BodyLength = body.Length,
            Body = body,
        };
        var trigger = LoggableTrigger(delivery.TriggerEvent);
        // From here on every log line of this event carries its id (in Application Insights: CalEventId).
        using var eventScope = logger.BeginEventScope(message.EventId);
        StoredEvent stored;
        try
        {
            // Not the request's token: once verified, the event is stored even if Cal.com hangs up.
            stored = await store.StoreAsync(message).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            StorageFailed(logger, ex, body.Length, trigger);
            metrics.Rejected("storage_unavailable");
            return new IngestOutcome(IngestStatus.StorageUnavailable, BodyBytes: body.Length, ClaimedConnectionId: connectionId);
        }

        Accepted(logger, message.EventId, trigger, connectionId, delivery.Source, body.Length,
            (stored.Message.BodyBlob is null ? "inline" : "in blob") + (stored.InFallback ? " in the fallback account" : ""));
        metrics.Accepted(trigger);
        return new IngestOutcome(IngestStatus.Accepted, message.EventId);
    }

    private IngestOutcome Reject(IngestStatus status, long bodyBytes, string? detail = null, string? claimedConnectionId = null)
    {
        Rejected(logger, status, bodyBytes);
        metrics.Rejected(status.ToString());
        var claimed = claimedConnectionId is not null && ConnectionId.IsValid(claimedConnectionId, out _) ? claimedConnectionId : null;
        return new IngestOutcome(status, Detail: detail, BodyBytes: bodyBytes, ClaimedConnectionId: claimed);
    }

    private static Dictionary<string, string> KeptHeadersOf(HttpRequest request)
    {
        var kept = new Dictionary<string, string>(KeptHeaders.All.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var name in KeptHeaders.All)
        {
            var value = request.Headers[name];
            if (value.Count > 0 && !string.IsNullOrEmpty(value[0]))
            {
                kept[name] = value.ToString();
            }
        }
        return kept;
    }

    /// <summary>Trigger names are logged only when they look like one; anything else the sender wrote is not.</summary>
    private static string LoggableTrigger(string? trigger) =>
        SettingChecks.IsTriggerName(trigger) ? trigger : "(none)";

    // Log lines: ids, trigger, sizes and outcomes — never bodies, secrets or attendee data.

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information,
        Message = "Accepted Cal.com event {EventId}: trigger {Trigger}, connection {ConnectionId} (from {ConnectionIdSource}), {BodyBytes} bytes, stored {Storage}")]
    private static partial void Accepted(ILogger logger, string eventId, string trigger, string? connectionId,
        ConnectionIdSource connectionIdSource, int bodyBytes, string storage);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning,
        Message = "Rejected Cal.com delivery: {Outcome}, {BodyBytes} bytes (what it claims about itself is not logged before it verifies)")]
    private static partial void Rejected(ILogger logger, IngestStatus outcome, long bodyBytes);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Error,
        Message = "Could not store Cal.com delivery ({BodyBytes} bytes, trigger {Trigger}); answered 503 so the sender may retry")]
    private static partial void StorageFailed(ILogger logger, Exception exception, int bodyBytes, string trigger);
}
