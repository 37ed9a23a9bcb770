using Azure;
using System.Runtime.Serialization;
using Azure.Data.Tables;
using CalWebhookFunctions.Storage;

namespace CalWebhookFunctions.Connections;

/// <summary>
/// One connection in <c>CalConnections</c>: partition key = <see cref="ConnectionId.ToTableKey"/> of the id,
/// row key <see cref="RowKeyValue"/>. Holds what is needed to forward its events and to manage its Cal.com
/// subscription — never credentials or secrets.
/// </summary>
public sealed class ConnectionRecord : ILeasedRow
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

    /// <summary>The claim as a lease: held by <see cref="ClaimId"/> until <see cref="ClaimedUntil"/>.</summary>
    [IgnoreDataMember]
    Lease? ILeasedRow.Lease
    {
        get => ClaimId is { } holder && ClaimedUntil is { } until ? new Lease(holder, until) : null;
        set => (ClaimId, ClaimedUntil) = (value?.Holder, value?.Until);
    }

    /// <summary>When DELETE removed the connection (the row is then a tombstone, <see cref="States.Removed"/>).</summary>
    public DateTimeOffset? RemovedAt { get; set; }

    /// <summary>When a tombstone may be deleted (<see cref="RemovedAt"/> + <c>Deliveries__RetentionDays</c>).</summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>
    /// When Cal.com first confirmed a registration of this connection. The fields above (scope, subscriber URL,
    /// triggers, <see cref="ForwardUrl"/>) are the <em>applied</em> settings: written only once Cal.com confirmed them.
    /// </summary>
    public DateTimeOffset? AppliedAt { get; set; }

    /// <summary>The settings a PUT asked for and Cal.com has not confirmed yet (null when none is outstanding).</summary>
    public string? RequestedScope { get; set; }
    public long? RequestedOrgId { get; set; }
    public long? RequestedTeamId { get; set; }
    public long? RequestedEventTypeId { get; set; }
    public string? RequestedTriggers { get; set; }
    public string? RequestedForwardUrl { get; set; }
    public string? RequestedSubscriberUrl { get; set; }

    /// <summary>
    /// Subscriber URLs a registration used that no successful sync has replaced yet (newline-separated): a
    /// subscription created under one of them may exist at Cal.com, so each is searched until a sync succeeds.
    /// </summary>
    public string? PreviousSubscriberUrls { get; set; }

    /// <summary>
    /// Set by <c>POST /api/connections/{id}/pause</c>, cleared by <c>/resume</c> (issue 14): while set, the connection's
    /// events are accepted and held, not attempted.
    /// </summary>
    public bool Paused { get; set; }

    /// <summary>A tombstone left by DELETE: its events are dead-lettered as <c>connection_removed</c>, never forwarded.</summary>
    [IgnoreDataMember]
    public bool IsRemoved => State == States.Removed;

    /// <summary>
    /// Whether the forwarder treats events naming this connection as matched (envelope with <c>connectionId</c>):
    /// once Cal.com confirmed a registration, and until DELETE. A row whose first registration never succeeded is not
    /// matched: a failed PUT changes nothing the forwarder uses.
    /// </summary>
    [IgnoreDataMember]
    public bool IsMatched => !IsRemoved && (AppliedAt is not null || State == States.Active);

    public static class States
    {
        public const string Pending = "pending";
        public const string Active = "active";
        public const string Removed = "removed";
    }

    /// <summary>A copy to change without touching this one (a write that may fail).</summary>
    public ConnectionRecord Copy() => (ConnectionRecord)MemberwiseClone();

    public static string PartitionKeyFor(string connectionId) => Connections.ConnectionId.ToTableKey(connectionId);
}
