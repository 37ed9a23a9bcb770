using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Forwarding;

/// <summary>Forwarding log lines: event ids, webhook-ids, connection ids, statuses, attempts — never bodies, URLs or secrets.</summary>
internal static partial class ForwardingLog
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information,
        Message = "Forwarded event {EventId} as {WebhookId} (connection {ConnectionId}, matched {Matched}): status {StatusCode} on attempt {Attempt} after {ElapsedMs} ms")]
    public static partial void Delivered(ILogger logger, string eventId, string webhookId, string? connectionId, bool matched,
        int statusCode, int attempt, long elapsedMs);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning,
        Message = "Attempt {Attempt} for event {EventId} ({WebhookId}, connection {ConnectionId}) failed: status {StatusCode}, error {Error}; retrying in {RetryDelay}")]
    public static partial void RetryScheduled(ILogger logger, int attempt, string eventId, string webhookId, string? connectionId,
        int? statusCode, string? error, TimeSpan retryDelay);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Error,
        Message = "Dead-lettered event {EventId} ({WebhookId}, connection {ConnectionId}) after {Attempts} attempt(s): {Reason}, status {StatusCode}, error {Error}")]
    public static partial void DeadLettered(ILogger logger, string eventId, string webhookId, string? connectionId, int attempts,
        string reason, int? statusCode, string? error);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Information,
        Message = "Event {EventId} ({WebhookId}, connection {ConnectionId}) was delivered before under the same webhook-id; not sent again")]
    public static partial void AlreadyDelivered(ILogger logger, string eventId, string webhookId, string? connectionId);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information,
        Message = "Event {EventId} ({WebhookId}) is being sent by another attempt until {LeaseUntil}; checking again in {Delay}")]
    public static partial void Deferred(ILogger logger, string eventId, string webhookId, DateTimeOffset? leaseUntil, TimeSpan delay);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Error,
        Message = "A cal-webhooks message of {MessageBytes} bytes is not a readable event ({Problem}); moved to cal-webhooks-poison as it was")]
    public static partial void Unreadable(ILogger logger, int messageBytes, string problem);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Error,
        Message = "The body blob of event {EventId} is gone and the event was never recorded as delivered; dead-lettered")]
    public static partial void BodyMissing(ILogger logger, string eventId);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Warning,
        Message = "Could not remove the body blob of delivered event {EventId}; it is only storage now")]
    public static partial void BlobNotRemoved(ILogger logger, Exception exception, string eventId);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Information,
        Message = "Event {EventId} was delivered before (its body blob is already removed); not sent again")]
    public static partial void EventAlreadyDelivered(ILogger logger, string eventId);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Information, Message = "Removed {Count} expired CalDeliveries rows")]
    public static partial void Swept(ILogger logger, int count);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Warning, Message = "Sweeping expired CalDeliveries rows failed; will try again later")]
    public static partial void SweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Warning,
        Message = "Event {EventId} ({WebhookId}) was not sent: its claim was only good for a send until {SendBy} and could not be renewed; a copy checks again")]
    public static partial void ClaimLapsed(ILogger logger, string eventId, string webhookId, DateTimeOffset sendBy);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Warning,
        Message = "Storage failed while forwarding event {EventId} (connection {ConnectionId}); storage retry {StorageRetry} in {RetryDelay}")]
    public static partial void StorageRetryScheduled(ILogger logger, Exception exception, string eventId, string? connectionId, int storageRetry,
        TimeSpan retryDelay);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Error,
        Message = "Storage failed while forwarding event {EventId} after {StorageRetries} storage retries; the host retries it and then parks it")]
    public static partial void StorageRetriesSpent(ILogger logger, Exception exception, string eventId, int storageRetries);

    [LoggerMessage(EventId = 3014, Level = LogLevel.Error,
        Message = "Event {EventId} ({WebhookId}) was delivered but its delivered mark could not be written; its claim lapses at {LeaseUntil}, after which an identical redelivery would be sent again")]
    public static partial void MarkNotWritten(ILogger logger, Exception exception, string eventId, string webhookId, DateTimeOffset? leaseUntil);

    [LoggerMessage(EventId = 3015, Level = LogLevel.Information,
        Message = "Delivery log retention removed {Rows} row(s) and {Blobs} payload blob(s) in {Calls} storage call(s); more left: {More}")]
    public static partial void LogSwept(ILogger logger, int rows, int blobs, int calls, bool more);
}
