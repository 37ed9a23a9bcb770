using CalWebhookFunctions.Connections;

namespace CalWebhookFunctions.Subscriptions;

public enum RegistrationStatus
{
    /// <summary>The connection had no confirmed subscription before; now it has one (201).</summary>
    Created,
    /// <summary>The connection's subscription or forward URL changed (200).</summary>
    Updated,
    /// <summary>An identical repeat: nothing changed and Cal.com was not called (200).</summary>
    Unchanged,
    /// <summary>Another request holds the connection and did not finish in time (409 with Retry-After).</summary>
    Busy,
    /// <summary>A DELETE removed the connection while this request registered it; what it made is queued for cleanup (409).</summary>
    RemovedMeanwhile,
    /// <summary>Cal.com refused or failed; nothing the forwarder uses changed and the request stays stored as pending.</summary>
    CalComFailed,
}

public sealed record RegistrationOutcome(RegistrationStatus Status, ConnectionRecord? Record = null,
    CalComApiException? CalComError = null, DateTimeOffset? BusyUntil = null);

public enum RemovalStatus
{
    /// <summary>No connection by that id (never registered, or already removed).</summary>
    NotFound,
    /// <summary>The Cal.com subscription is gone (or never existed) and the row is a tombstone (204).</summary>
    Removed,
    /// <summary>The row is a tombstone; Cal.com did not confirm the deletion and a cleanup message is queued (202).</summary>
    CleanupPending,
    /// <summary>Another request holds the connection and did not finish in time (409 with Retry-After).</summary>
    Busy,
}

public sealed record RemovalOutcome(RemovalStatus Status, string? CalWebhookId = null, string? Reason = null, DateTimeOffset? BusyUntil = null);
