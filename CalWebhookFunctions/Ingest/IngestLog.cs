using Microsoft.Extensions.Logging;
using CalWebhookFunctions.Connections;

namespace CalWebhookFunctions.Ingest;

/// <summary>Ingest log lines: ids, trigger, sizes and outcomes — never bodies, secrets or attendee data.</summary>
internal static partial class IngestLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information,
        Message = "Accepted Cal.com event {EventId}: trigger {Trigger}, connection {ConnectionId} (from {ConnectionIdSource}), {BodyBytes} bytes, stored {Storage}")]
    public static partial void Accepted(ILogger logger, string eventId, string trigger, string? connectionId,
        ConnectionIdSource connectionIdSource, int bodyBytes, string storage);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning,
        Message = "Rejected Cal.com delivery: {Outcome}, {BodyBytes} bytes (what it claims about itself is not logged before it verifies)")]
    public static partial void Rejected(ILogger logger, IngestStatus outcome, long bodyBytes);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Error,
        Message = "Could not store Cal.com delivery ({BodyBytes} bytes, trigger {Trigger}); answered 503 so the sender may retry")]
    public static partial void StorageFailed(ILogger logger, Exception exception, int bodyBytes, string trigger);
}
