using System.Text.Json.Serialization;

namespace CalWebhookFunctions.Operations;

/// <summary>One item of <c>GET /api/deliveries</c>. Times are UTC (<c>…Z</c>).</summary>
public record DeliveryItem(
    [property: JsonPropertyName("eventId")] string EventId,
    [property: JsonPropertyName("receivedAt")] DateTime ReceivedAt,
    [property: JsonPropertyName("connectionId")] string? ConnectionId,
    [property: JsonPropertyName("matched")] bool Matched,
    [property: JsonPropertyName("trigger")] string? Trigger,
    [property: JsonPropertyName("bookingUid")] string? BookingUid,
    [property: JsonPropertyName("webhookId")] string? WebhookId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("attempts")] int Attempts,
    [property: JsonPropertyName("lastStatus")] int? LastStatus,
    [property: JsonPropertyName("lastError")] string? LastError,
    [property: JsonPropertyName("nextAttemptAt")] DateTime? NextAttemptAt,
    [property: JsonPropertyName("deliveredAt")] DateTime? DeliveredAt,
    [property: JsonPropertyName("deadLetterReason")] string? DeadLetterReason,
    [property: JsonPropertyName("target")] string? Target)
{
    public static DeliveryItem From(DeliveryLogEntry e) => new(e.EventId, e.ReceivedAt.UtcDateTime, e.ConnectionId, e.Matched, e.Trigger,
        e.BookingUid, string.IsNullOrEmpty(e.WebhookId) ? null : e.WebhookId, e.Status, e.Attempts, e.LastStatus, e.LastError,
        e.NextAttemptAt?.UtcDateTime, e.DeliveredAt?.UtcDateTime, e.DeadLetterReason, e.Target);
}

/// <summary>One attempt of <c>GET /api/deliveries/{eventId}</c>'s <c>attemptLog</c>.</summary>
public sealed record DeliveryAttempt(
    [property: JsonPropertyName("attempt")] int Attempt,
    [property: JsonPropertyName("at")] DateTime At,
    [property: JsonPropertyName("status")] int? Status,
    [property: JsonPropertyName("durationMs")] long DurationMs,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("response")] string? Response)
{
    public static DeliveryAttempt From(DeliveryAttemptRow a) => new(a.Attempt, a.At.UtcDateTime, a.Status, a.DurationMs, a.Error, a.Response);
}

/// <summary><c>GET /api/deliveries/{eventId}</c>: the item's fields and its attempts, oldest first.</summary>
public sealed record DeliveryDetail : DeliveryItem
{
    public DeliveryDetail(DeliveryItem item, IReadOnlyList<DeliveryAttempt> attemptLog)
        : base(item) => AttemptLog = attemptLog;

    [JsonPropertyName("attemptLog")]
    public IReadOnlyList<DeliveryAttempt> AttemptLog { get; init; }
}

/// <summary><c>POST /api/deliveries/{eventId}/redeliver</c>'s 202.</summary>
public sealed record RedeliverAccepted(
    [property: JsonPropertyName("eventId")] string EventId,
    [property: JsonPropertyName("status")] string Status);
