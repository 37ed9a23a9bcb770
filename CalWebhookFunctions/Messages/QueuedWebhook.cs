using System.Text.Json.Serialization;

namespace CalWebhookFunctions.Messages;

/// <summary>
/// One accepted Cal.com delivery as it waits in <c>cal-webhooks</c>: the raw body (base64 in JSON) or, when the
/// message would pass the queue's 64 KiB limit, the name of the blob in <c>cal-webhook-payloads</c> holding it.
/// </summary>
public sealed record QueuedWebhook
{
    public const int CurrentVersion = 1;

    /// <summary>Whether a string has the shape of an event id (ASCII letters, digits, '-' and '_'; at most 128): safe in table keys.</summary>
    public static bool IsEventId(string? value) =>
        value is { Length: > 0 and <= 128 } && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    /// <summary>
    /// A message the forwarder can act on: a supported version, an event id that is safe as a table key, and exactly
    /// one of an inline body and a body blob.
    /// </summary>
    public static bool IsWellFormed(QueuedWebhook message) =>
        message.Version == QueuedWebhook.CurrentVersion
        && QueuedWebhook.IsEventId(message.EventId)
        && (message.Body is null) != (message.BodyBlob is null)
        && message.Headers is not null
        && message.Attempts >= 0
        && message.StorageRetries >= 0
        && (message.ConnectionId is null || Connections.ConnectionId.IsValid(message.ConnectionId, out _));

    [JsonPropertyName("v")]
    public int Version { get; init; } = CurrentVersion;

    [JsonPropertyName("eventId")]
    public required string EventId { get; init; }

    [JsonPropertyName("receivedAt")]
    public required DateTimeOffset ReceivedAt { get; init; }

    /// <summary>The <c>nangoConnectionId</c> the delivery named, if any (not yet matched against CalConnections).</summary>
    [JsonPropertyName("connectionId")]
    public string? ConnectionId { get; init; }

    /// <summary>The received headers worth keeping, by their canonical names (see <see cref="KeptHeaders"/>).</summary>
    [JsonPropertyName("headers")]
    public required IReadOnlyDictionary<string, string> Headers { get; init; }

    /// <summary>Length of the raw body in bytes.</summary>
    [JsonPropertyName("bodyLength")]
    public required int BodyLength { get; init; }

    /// <summary>The raw body, exactly as received; null when it lives in <see cref="BodyBlob"/>.</summary>
    [JsonPropertyName("body")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public byte[]? Body { get; init; }

    /// <summary>Name of the blob in <c>cal-webhook-payloads</c> holding the raw body, when it was too large to inline.</summary>
    [JsonPropertyName("bodyBlob")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? BodyBlob { get; init; }

    /// <summary>
    /// Delivery attempts already made (0 for an event fresh from ingest). The forwarder sets it on the copy it
    /// re-enqueues for a retry; replay resets it to 0 for a fresh schedule.
    /// </summary>
    [JsonPropertyName("attempts")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int Attempts { get; init; }

    /// <summary>
    /// Attempts that storage trouble (tables, blobs) cut short before anything was sent, each re-enqueued with a delay
    /// of the storage retry schedule. Kept apart from <see cref="Attempts"/>: they do not spend the app's schedule.
    /// </summary>
    [JsonPropertyName("storageRetries")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int StorageRetries { get; init; }

    /// <summary>
    /// Attempts the event had before this message's schedule started (a redelivery or replay starts a fresh schedule):
    /// the delivery log numbers attempts from here, so its history runs on.
    /// </summary>
    [JsonPropertyName("priorAttempts")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int PriorAttempts { get; init; }

    /// <summary>
    /// Set by <c>POST /api/deliveries/{eventId}/redeliver</c>: send once more even though the webhook-id was delivered before
    /// this time (a deliberate re-send past dedup). A delivery marked after it still stops a second copy.
    /// </summary>
    [JsonPropertyName("redeliverAfter")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? RedeliverAfter { get; init; }

    /// <summary>
    /// Times the event was held back without an attempt (its connection paused, its target failing; issue 14) since
    /// <see cref="HeldSince"/>: the next hold waits longer (see <c>HeldEvents</c>). Reset once it is attempted.
    /// </summary>
    [JsonPropertyName("holds")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int Holds { get; init; }

    /// <summary>When the current run of holds began; an event held past <c>Forwarding__MaxHoldHours</c> is dead-lettered.</summary>
    [JsonPropertyName("heldSince")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? HeldSince { get; init; }

    /// <summary>Why the forwarder gave up on the event; set only on messages in <c>cal-webhooks-poison</c>.</summary>
    [JsonPropertyName("deadLetter")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DeadLetterInfo? DeadLetter { get; init; }
}

/// <summary>The last outcome of an event the forwarder moved to <c>cal-webhooks-poison</c>.</summary>
public sealed record DeadLetterInfo
{
    /// <summary>
    /// A stable code: <c>rejected</c>, <c>retries_exhausted</c>, <c>body_missing</c>, <c>invalid_forward_url</c>,
    /// <c>connection_removed</c>.
    /// </summary>
    [JsonPropertyName("reason")]
    public required string Reason { get; init; }

    /// <summary>The app's last HTTP status, when it answered at all.</summary>
    [JsonPropertyName("lastStatus")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? LastStatus { get; init; }

    /// <summary>The last network error or timeout, when there was no answer (never a URL, body or secret).</summary>
    [JsonPropertyName("lastError")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? LastError { get; init; }

    [JsonPropertyName("deadLetteredAt")]
    public required DateTimeOffset DeadLetteredAt { get; init; }
}

/// <summary>The request headers carried with an accepted event, by canonical name.</summary>
public static class KeptHeaders
{
    public const string ContentType = "Content-Type";
    public const string CalSignature = "X-Cal-Signature-256";
    public const string CalWebhookVersion = "X-Cal-Webhook-Version";

    public static readonly IReadOnlyList<string> All = [ContentType, CalSignature, CalWebhookVersion];
}
