using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Subscriptions;

/// <summary>
/// Lifecycle log lines: connection ids, Cal.com webhook ids, scopes and outcomes — never a credential or secret. Every
/// URL and every free-text error passes through <see cref="Http.LoggedUrl"/> first (callers do it; tests check).
/// </summary>
internal static partial class SubscriptionsLog
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Information,
        Message = "Connection {ConnectionId}: Cal.com subscription {CalWebhookId} in scope {Scope} {Status}")]
    public static partial void Registered(ILogger logger, string connectionId, string? calWebhookId, SubscriptionScope scope, RegistrationStatus status);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information,
        Message = "Connection {ConnectionId}: identical registration, subscription {CalWebhookId} unchanged; Cal.com not called")]
    public static partial void Unchanged(ILogger logger, string connectionId, string? calWebhookId);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information,
        Message = "Connection {ConnectionId}: adopted existing Cal.com subscription {CalWebhookId} found by its subscriber URL")]
    public static partial void Adopted(ILogger logger, string connectionId, string calWebhookId);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning,
        Message = "Connection {ConnectionId}: deleted duplicate Cal.com subscription {CalWebhookId} with the same subscriber URL")]
    public static partial void DuplicateDeleted(ILogger logger, string connectionId, string calWebhookId);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning,
        Message = "Connection {ConnectionId}: stored Cal.com subscription {CalWebhookId} no longer exists at Cal.com; registering anew")]
    public static partial void StoredWebhookGone(ILogger logger, string connectionId, string calWebhookId);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Warning,
        Message = "Connection {ConnectionId}: registration in scope {Scope} failed: Cal.com status {CalStatus} {CalErrorCode}: {CalMessage} (request id {CalRequestId}); the row stays pending and a retry resumes")]
    public static partial void RegistrationFailed(ILogger logger, string connectionId, SubscriptionScope scope, int? calStatus, string? calErrorCode,
        string calMessage, string? calRequestId);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Warning,
        Message = "Connection {ConnectionId}: could not release its claim after a failure; it lapses by itself")]
    public static partial void ReleaseFailed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Information,
        Message = "Connection {ConnectionId} removed with its Cal.com subscription {CalWebhookId} in scope {Scope}")]
    public static partial void Removed(ILogger logger, string connectionId, string? calWebhookId, SubscriptionScope scope);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Warning,
        Message = "Connection {ConnectionId} removed; its Cal.com subscription {CalWebhookId} in scope {Scope} is queued for cleanup: {Error}")]
    public static partial void RemovedCleanupPending(ILogger logger, string connectionId, string? calWebhookId, SubscriptionScope scope, string error);

    [LoggerMessage(EventId = 4020, Level = LogLevel.Information,
        Message = "Cleanup of connection {ConnectionId}: Cal.com subscription {CalWebhookId} in scope {Scope} deleted (attempt {Attempt})")]
    public static partial void CleanupDone(ILogger logger, string connectionId, string? calWebhookId, SubscriptionScope scope, int attempt);

    [LoggerMessage(EventId = 4021, Level = LogLevel.Information,
        Message = "Cleanup of connection {ConnectionId}: subscription {CalWebhookId} belongs to the connection registered again; left in place")]
    public static partial void CleanupSkipped(ILogger logger, string connectionId, string? calWebhookId);

    [LoggerMessage(EventId = 4022, Level = LogLevel.Warning,
        Message = "Cleanup of connection {ConnectionId}: subscription {CalWebhookId} not deleted yet (attempt {Attempt} in {Delay}): {Error}")]
    public static partial void CleanupRetrying(ILogger logger, string connectionId, string? calWebhookId, int attempt, TimeSpan delay, string error);

    [LoggerMessage(EventId = 4023, Level = LogLevel.Error,
        Message = "ACTION REQUIRED: the Cal.com subscription of removed connection {ConnectionId} could not be deleted and must be deleted by hand: scope {Scope}, webhook id {CalWebhookId}, subscriber URL {SubscriberUrl}. With a credential of the owner: {Action}. Reason: {Error}. The message is in cal-subscription-cleanup-poison")]
    public static partial void CleanupNeedsPerson(ILogger logger, string connectionId, SubscriptionScope scope, string calWebhookId, string subscriberUrl,
        string action, string error);

    [LoggerMessage(EventId = 4024, Level = LogLevel.Error,
        Message = "A cal-subscription-cleanup message ({Bytes} bytes) is not readable; moved to cal-subscription-cleanup-poison")]
    public static partial void CleanupUnreadable(ILogger logger, int bytes);

    [LoggerMessage(EventId = 4025, Level = LogLevel.Warning,
        Message = "Connection {ConnectionId} was registered again while its old subscription {WebhookId} was being cleaned up; registered it anew as {NewWebhookId}")]
    public static partial void CleanupReRegistered(ILogger logger, string connectionId, string? webhookId, string? newWebhookId);

    [LoggerMessage(EventId = 4008, Level = LogLevel.Warning,
        Message = "Connection {ConnectionId}: could not renew its lease; it lapses unless a later renewal succeeds")]
    public static partial void RenewalFailed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(EventId = 4009, Level = LogLevel.Warning,
        Message = "Connection {ConnectionId}: Cal.com subscription {CalWebhookId} in scope {Scope} must not stay ({Reason}); queued on cal-subscription-cleanup")]
    public static partial void CompensationQueued(ILogger logger, string connectionId, string? calWebhookId, SubscriptionScope scope, string reason);

    [LoggerMessage(EventId = 4012, Level = LogLevel.Warning,
        Message = "Connection {ConnectionId}: subscription {CalWebhookId} could not be deleted at once ({Error}); CleanUpSubscription finishes it")]
    public static partial void CompensationDeferred(ILogger logger, string connectionId, string? calWebhookId, string error);

    [LoggerMessage(EventId = 4013, Level = LogLevel.Warning, Message = "Sweeping expired connection tombstones failed; the next DELETE tries again")]
    public static partial void SweepFailed(ILogger logger, Exception exception);
}
