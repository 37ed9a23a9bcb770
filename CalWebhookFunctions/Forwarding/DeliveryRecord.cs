using System.Runtime.Serialization;
using Azure;
using Azure.Data.Tables;
using CalWebhookFunctions.Storage;

namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// One row of the delivery ledger in <c>CalDeliveries</c>: row key <c>d_</c> + the <c>webhook-id</c> (<c>msg_</c> + hex, safe in
/// a key) in the day partition of <see cref="Operations.DeliveryLogKeys.LedgerTime"/>; state <c>sending</c> while an attempt
/// holds the claim until <see cref="LeaseUntil"/>, <c>delivered</c> once the app answered 2xx. Events whose body lives in a
/// blob also get a row <c>v_</c> + event id in their own day partition, so a redelivered message whose blob was already
/// removed is recognised as delivered. No bodies, secrets or URLs. (Versions before the day partitions keyed the row by
/// partition key = webhook-id or <c>event_</c> + event id, row key <see cref="LegacyRowKey"/>.)
/// </summary>
public sealed class DeliveryRecord : ILeasedRow
{
    public const string LegacyRowKey = "delivery";
    public const string Sending = "sending";
    public const string Delivered = "delivered";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string State { get; set; } = Sending;
    public string? EventId { get; set; }
    public string? ConnectionId { get; set; }
    public DateTimeOffset? LeaseUntil { get; set; }
    public DateTimeOffset? DeliveredAt { get; set; }
    public int? StatusCode { get; set; }
    public int Attempts { get; set; }

    /// <summary>After this the row means nothing (it is ignored, overwritten, and removed by the sweep).</summary>
    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>The claim as a lease until <see cref="LeaseUntil"/>. The row records no holder: the claim's ETag names it.</summary>
    [IgnoreDataMember]
    Lease? ILeasedRow.Lease
    {
        get => LeaseUntil is { } until ? new Lease(null, until) : null;
        set => LeaseUntil = value?.Until;
    }
}

public enum ClaimStatus
{
    /// <summary>This attempt may send; it must mark the delivery or release the claim.</summary>
    Claimed,
    /// <summary>Delivered before under the same webhook-id: do not send again.</summary>
    AlreadyDelivered,
    /// <summary>Another attempt holds a live claim until <see cref="DeliveryClaim.LeaseUntil"/>.</summary>
    InFlight,
}

/// <summary>
/// The ledger's answer to a claim. When <see cref="ClaimStatus.Claimed"/>, no other attempt can take the webhook-id over
/// before <see cref="LeaseUntil"/> (every takeover is conditional on the row's <see cref="ETag"/>).
/// </summary>
public sealed record DeliveryClaim(ClaimStatus Status, LedgerKey Key, ETag ETag = default, DateTimeOffset? LeaseUntil = null)
{
    public string WebhookId => Key.WebhookId;
}

/// <summary>Where a webhook-id's ledger row is: its day partition and <c>d_</c> + the webhook-id.</summary>
public readonly record struct LedgerKey(string PartitionKey, string WebhookId)
{
    public string RowKey => Operations.DeliveryLogKeys.Ledger(WebhookId);

    /// <summary>The key of the webhook-id of <paramref name="message"/>, whose body is <paramref name="body"/>.</summary>
    public static LedgerKey Of(QueuedWebhook message, string webhookId, ReadOnlySpan<byte> body) =>
        new(Operations.DeliveryLogKeys.Partition(Operations.DeliveryLogKeys.LedgerTime(
            Operations.DeliveryLog.KeyTime(message), Operations.CalBody.Read(body).CreatedAt)), webhookId);
}
