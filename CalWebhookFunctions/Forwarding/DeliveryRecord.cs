using System.Runtime.Serialization;
using Azure;
using Azure.Data.Tables;
using CalWebhookFunctions.Storage;

namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// One row of <c>CalDeliveries</c>. Partition key = the <c>webhook-id</c> (<c>msg_</c> + hex, safe in a key), row key
/// <see cref="RowKeyValue"/>: state <c>sending</c> while an attempt holds the claim until <see cref="LeaseUntil"/>,
/// <c>delivered</c> once the app answered 2xx. Events whose body lives in a blob also get a row keyed
/// <c>event_</c> + event id, so a redelivered message whose blob was already removed is recognised as delivered.
/// No bodies, secrets or URLs.
/// </summary>
public sealed class DeliveryRecord : ILeasedRow
{
    public const string RowKeyValue = "delivery";
    public const string Sending = "sending";
    public const string Delivered = "delivered";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = RowKeyValue;
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
public sealed record DeliveryClaim(ClaimStatus Status, string WebhookId, ETag ETag = default, DateTimeOffset? LeaseUntil = null);
