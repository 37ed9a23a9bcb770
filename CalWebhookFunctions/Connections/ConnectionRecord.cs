using Azure;
using System.Runtime.Serialization;
using Azure.Data.Tables;

namespace CalWebhookFunctions.Connections;

/// <summary>
/// One connection in <c>CalConnections</c>: partition key = <see cref="ConnectionId.ToTableKey"/> of the id,
/// row key <see cref="RowKeyValue"/>. Holds what is needed to forward its events and to manage its Cal.com
/// subscription — never credentials or secrets.
/// </summary>
public sealed class ConnectionRecord : ITableEntity
{
    public const string RowKeyValue = "connection";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = RowKeyValue;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    /// <summary>The connection id as the caller gave it.</summary>
    public string ConnectionId { get; set; } = "";

    /// <summary>user, organization, eventType or teamEventType.</summary>
    public string Scope { get; set; } = "user";
    public long? OrgId { get; set; }
    public long? TeamId { get; set; }
    public long? EventTypeId { get; set; }

    /// <summary>Cal.com's id of the subscription (a UUID string), once known.</summary>
    public string? CalWebhookId { get; set; }

    /// <summary>The subscriber URL registered with Cal.com (unique per connection).</summary>
    public string SubscriberUrl { get; set; } = "";

    /// <summary>Comma-separated trigger names.</summary>
    public string Triggers { get; set; } = "";

    /// <summary>
    /// A short one-way fingerprint of the secret registered with Cal.com (not the secret), so a repeat PUT after a
    /// secret rotation or a switch of <c>CalCom__ConnectionBoundSecrets</c> knows the subscription needs the new one.
    /// </summary>
    public string? SecretFingerprint { get; set; }

    /// <summary>Where this connection's events go instead of <c>Forwarding__Url</c>, when set.</summary>
    public string? ForwardUrl { get; set; }

    /// <summary>
    /// <see cref="States.Pending"/> while the Cal.com subscription may not match the row (a registration or update
    /// under way, or one that failed part-way); <see cref="States.Active"/> once it does.
    /// </summary>
    public string State { get; set; } = "pending";

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>
    /// The request that holds the connection while it changes its Cal.com subscription (a random id), or null.
    /// Taken and released with ETag-conditional writes, so only one request at a time talks to Cal.com for a
    /// connection; a claim whose holder crashed lapses at <see cref="ClaimedUntil"/>.
    /// </summary>
    public string? ClaimId { get; set; }

    public DateTimeOffset? ClaimedUntil { get; set; }

    /// <summary>When DELETE removed the connection (the row is then a tombstone, <see cref="States.Removed"/>).</summary>
    public DateTimeOffset? RemovedAt { get; set; }

    /// <summary>A tombstone left by DELETE: its events are dead-lettered as <c>connection_removed</c>, never forwarded.</summary>
    [IgnoreDataMember]
    public bool IsRemoved => State == States.Removed;

    /// <summary>Whether the forwarder treats events naming this connection as matched (envelope with <c>connectionId</c>).</summary>
    [IgnoreDataMember]
    public bool IsMatched => !IsRemoved;

    public static class States
    {
        public const string Pending = "pending";
        public const string Active = "active";
        public const string Removed = "removed";
    }

    public static string PartitionKeyFor(string connectionId) => Connections.ConnectionId.ToTableKey(connectionId);
}
