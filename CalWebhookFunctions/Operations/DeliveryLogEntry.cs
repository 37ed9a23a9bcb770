using Azure;
using Azure.Data.Tables;

namespace CalWebhookFunctions.Operations;

/// <summary>The statuses an event has in the delivery log (DESIGN.md "Operations API").</summary>
public static class DeliveryStatus
{
    public const string Pending = "pending";
    public const string Retrying = "retrying";
    public const string Held = "held";
    public const string Delivered = "delivered";
    public const string DeadLettered = "dead_lettered";

    public static readonly IReadOnlyList<string> All = [Pending, Retrying, Held, Delivered, DeadLettered];
}

/// <summary>
/// A summary row (<c>e_…</c>) or a connection index row (<c>c_…</c>) of the delivery log: the event's state after its latest
/// outcome, and what it was received with. Only the summary row carries the body (inline bodies; a blob-backed body is named
/// by <see cref="BodyBlob"/>). Every write replaces the whole row, so a field an outcome clears is cleared.
/// </summary>
public sealed class DeliveryLogEntry : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string EventId { get; set; } = "";
    public DateTimeOffset ReceivedAt { get; set; }
    public string? ConnectionId { get; set; }
    public bool Matched { get; set; }
    public string? Trigger { get; set; }
    public string? BookingUid { get; set; }
    public string WebhookId { get; set; } = "";
    public string Status { get; set; } = DeliveryStatus.Pending;
    public int Attempts { get; set; }
    public int? LastStatus { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset? NextAttemptAt { get; set; }
    public DateTimeOffset? DeliveredAt { get; set; }
    public string? DeadLetterReason { get; set; }
    /// <summary>Scheme, host, port and path of the target; never its query or user info.</summary>
    public string? Target { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    // What the event was received with, to serve its payload and to send it again.
    public string? ContentType { get; set; }
    public string? CalSignature { get; set; }
    public string? CalWebhookVersion { get; set; }
    public int BodyLength { get; set; }
    public byte[]? Body { get; set; }
    public string? BodyBlob { get; set; }

    /// <summary>Every column but the body: what lists and details read.</summary>
    public static readonly IReadOnlyList<string> ColumnsWithoutBody =
    [
        nameof(PartitionKey), nameof(RowKey), nameof(EventId), nameof(ReceivedAt), nameof(ConnectionId), nameof(Matched),
        nameof(Trigger), nameof(BookingUid), nameof(WebhookId), nameof(Status), nameof(Attempts), nameof(LastStatus),
        nameof(LastError), nameof(NextAttemptAt), nameof(DeliveredAt), nameof(DeadLetterReason), nameof(Target),
        nameof(UpdatedAt), nameof(ContentType), nameof(BodyLength), nameof(BodyBlob),
    ];

    public DeliveryLogEntry CopyAs(string rowKey, bool withBody) => new()
    {
        PartitionKey = PartitionKey, RowKey = rowKey, EventId = EventId, ReceivedAt = ReceivedAt, ConnectionId = ConnectionId,
        Matched = Matched, Trigger = Trigger, BookingUid = BookingUid, WebhookId = WebhookId, Status = Status, Attempts = Attempts,
        LastStatus = LastStatus, LastError = LastError, NextAttemptAt = NextAttemptAt, DeliveredAt = DeliveredAt,
        DeadLetterReason = DeadLetterReason, Target = Target, UpdatedAt = UpdatedAt, ContentType = ContentType,
        CalSignature = CalSignature, CalWebhookVersion = CalWebhookVersion, BodyLength = BodyLength,
        Body = withBody ? Body : null, BodyBlob = BodyBlob,
    };
}

/// <summary>One attempt row (<c>a_…</c>): when, how it went, and the start of the app's answer.</summary>
public sealed class DeliveryAttemptRow : ITableEntity
{
    /// <summary>How much of the app's answer is kept, in bytes (as text).</summary>
    public const int MaxResponseBytes = 1024;

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string EventId { get; set; } = "";
    public int Attempt { get; set; }
    public DateTimeOffset At { get; set; }
    public int? Status { get; set; }
    public long DurationMs { get; set; }
    public string? Error { get; set; }
    public string? Response { get; set; }
}
