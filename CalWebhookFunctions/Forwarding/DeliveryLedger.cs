using Azure;
using Azure.Data.Tables;
using CalWebhookFunctions.Configuration;
using CalWebhookFunctions.Operations;
using CalWebhookFunctions.Storage;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// The delivery ledger in <c>CalDeliveries</c>: at most one forward per <c>webhook-id</c> at a time, and none after a success.
/// Before sending, an attempt claims the id (insert, or take over an expired claim with the row's ETag); after a 2xx
/// it marks the id delivered; after a failure it releases the claim. Its rows live in the delivery log's day partitions
/// (<see cref="LedgerKey"/>), so every write goes through a group commit per partition (<see cref="PartitionBatches"/>:
/// the claims, releases and blob events' marks of the forwards in flight share entity-group transactions; inline events'
/// marks ride with their log entries in a lane of their own, and the log's other outcomes have theirs, so a claim never
/// waits behind the log's larger rows; and none waits longer than <see cref="BatchWait"/> behind a transaction in flight,
/// so a hung request delays only its own writes), and they go when their day partition is dropped after
/// <c>Deliveries__RetentionDays</c>.
/// </summary>
public sealed class DeliveryLedger(StorageAccount storage, TimeProvider time, IOptions<DeliveriesOptions> options)
{
    /// <summary>
    /// The longest a ledger write waits behind a transaction of its partition in flight before it goes alone: far above a
    /// transaction's answer time (milliseconds on Azure, tens under load on Azurite), far below a claim's lease.
    /// </summary>
    public static readonly TimeSpan BatchWait = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The longest a delivered mark and its log entry wait for the others of their day partition before they go: a fraction
    /// of a second on the operator's view, far inside the claim's <c>RecordAllowance</c>.
    /// </summary>
    public static readonly TimeSpan MarkRide = TimeSpan.FromMilliseconds(250);

    private readonly PartitionBatches _batches = new(storage.Table(StorageNames.DeliveriesTable), time, BatchWait);

    /// <summary>
    /// The delivered marks of inline events with their log entries: a lane of their own, so a claim never waits behind
    /// their rows (a transaction's time grows with its rows: about 0.3 ms a row on Azurite).
    /// </summary>
    private readonly PartitionBatches _riders = new(storage.Table(StorageNames.DeliveriesTable), time, BatchWait);

    /// <summary>The marks and log entries waiting to go (for tests).</summary>
    internal PartitionBatches Riders => _riders;

    /// <summary>The default of how long a delivered webhook-id is remembered (<c>Deliveries__RetentionDays</c>).</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(DeliveriesOptions.DefaultRetentionDays);

    /// <summary>How long a delivered webhook-id is remembered: far longer than any retry schedule or Cal.com retry.</summary>
    private readonly TimeSpan _retention = options.Value.Retention;

    /// <summary>The partition key prefix of an event's delivered row before the day partitions (swept by <see cref="SweepExpiredAsync"/>).</summary>
    public const string LegacyEventKeyPrefix = "event_";

    private const int MaxClaimRounds = 8;

    private readonly TableClient _table = storage.Table(StorageNames.DeliveriesTable);

    /// <summary>The claims: a lease on the webhook-id's row while it is <c>sending</c>; released by deleting the row.</summary>
    private TableLease<DeliveryRecord> Claims => field ??= new(new ConditionalTable(_batches), time, releaseDeletesRow: true);

    public TableClient Table => _table;

    /// <param name="redeliverAfter">
    /// A deliberate redelivery's request time: a delivery recorded before it does not stop this attempt (it takes the row
    /// over like an expired one); a live claim still does, and so does a delivery recorded after it.
    /// </param>
    public async Task<DeliveryClaim> TryClaimAsync(LedgerKey key, string eventId, string? connectionId, int attempt, TimeSpan lease,
        CancellationToken cancellationToken, DateTimeOffset? redeliverAfter = null)
    {
        for (var round = 0; round < MaxClaimRounds; round++)
        {
            var record = SendingRecord(key, eventId, connectionId, attempt);
            if (await Claims.TryTakeAsync(record, lease, cancellationToken).ConfigureAwait(false))
            {
                return Claimed(key, record);
            }
            // A row exists: delivered, held by a live attempt, or stale.
            var existing = await _table.GetEntityIfExistsAsync<DeliveryRecord>(key.PartitionKey, key.RowKey,
                cancellationToken: cancellationToken).ConfigureAwait(false);
            if (!existing.HasValue || existing.Value is null)
            {
                continue; // Released in between: try to insert again.
            }
            var row = existing.Value;
            if (row.ExpiresAt > time.GetUtcNow())
            {
                if (row.State == DeliveryRecord.Delivered && !(row.DeliveredAt < redeliverAfter))
                {
                    return new DeliveryClaim(ClaimStatus.AlreadyDelivered, key);
                }
                if (Claims.IsLive(row))
                {
                    return new DeliveryClaim(ClaimStatus.InFlight, key, LeaseUntil: row.LeaseUntil);
                }
            }
            // Expired record or abandoned claim (its attempt crashed): take it over, unless someone else just did.
            record.ETag = row.ETag;
            if (await Claims.TryTakeAsync(record, lease, cancellationToken).ConfigureAwait(false))
            {
                return Claimed(key, record);
            }
            // Lost the race: look again.
        }
        // Only under pathological contention; throwing lets the host hand the message over again later.
        throw new InvalidOperationException($"Could not claim {key.WebhookId} after {MaxClaimRounds} rounds of contention.");
    }

    /// <summary>
    /// Extends a claim this attempt still holds to <paramref name="lease"/> from now; null when it was taken over or
    /// released in between (the row no longer has the claim's ETag), and then this attempt must not send.
    /// </summary>
    public async Task<DeliveryClaim?> RenewAsync(DeliveryClaim claim, string eventId, string? connectionId, int attempt, TimeSpan lease,
        CancellationToken cancellationToken)
    {
        var record = SendingRecord(claim.Key, eventId, connectionId, attempt);
        record.ETag = claim.ETag;
        return await Claims.TryRenewAsync(record, lease, cancellationToken).ConfigureAwait(false) ? Claimed(claim.Key, record) : null;
    }

    /// <summary>The row of a claim (its lease is set when taken or renewed).</summary>
    private DeliveryRecord SendingRecord(LedgerKey key, string eventId, string? connectionId, int attempt) => new()
    {
        PartitionKey = key.PartitionKey,
        RowKey = key.RowKey,
        State = DeliveryRecord.Sending,
        EventId = eventId,
        ConnectionId = connectionId,
        Attempts = attempt,
        ExpiresAt = time.GetUtcNow() + _retention,
    };

    private static DeliveryClaim Claimed(LedgerKey key, DeliveryRecord written) => new(ClaimStatus.Claimed, key, written.ETag, written.LeaseUntil);

    /// <summary>
    /// Records the success. Unconditional: the app has the event, whoever holds the row now. An event whose body is in a blob
    /// (<paramref name="blobEvent"/>) also gets its delivered row under its event id.
    /// </summary>
    public async Task MarkDeliveredAsync(DeliveryClaim claim, string eventId, string? connectionId, int status, int attempts,
        QueuedWebhook? blobEvent, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var writes = new List<Task> { _batches.WriteAsync([Delivered(claim.Key.PartitionKey, claim.Key.RowKey, eventId, connectionId, status, attempts, now)]) };
        if (blobEvent is not null)
        {
            writes.Add(_batches.WriteAsync([Delivered(DeliveryLogKeys.Partition(DeliveryLog.KeyTime(blobEvent)), DeliveryLogKeys.DeliveredEvent(eventId),
                eventId, connectionId, status, attempts, now)]));
        }
        await Task.WhenAll(writes).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Records the success of an inline event as a rider (<see cref="MarkRide"/>): it gathers with the other delivered
    /// outcomes of its day partition (and their log rows, <see cref="RideAsync"/>) and goes with them as one transaction, at
    /// most <see cref="MarkRide"/> later. Nobody waits for it: the claim stays live until it lands (<see cref="DeliveryMarks"/>).
    /// </summary>
    public Task MarkDeliveredRidingAsync(DeliveryClaim claim, string eventId, string? connectionId, int status, int attempts) =>
        _riders.WriteAsync([Delivered(claim.Key.PartitionKey, claim.Key.RowKey, eventId, connectionId, status, attempts, time.GetUtcNow())], MarkRide);

    /// <summary>
    /// Writes rows of one partition (a delivered outcome's log entry) with the riding marks. A write of their own: when the
    /// service refuses a row, the marks they travelled with are sent again without it.
    /// </summary>
    public Task RideAsync(IReadOnlyList<TableTransactionAction> rows) => _riders.WriteAsync(rows, MarkRide);

    /// <summary>Sends the riding marks now (<see cref="DeliveryMarks.FlushAsync"/>).</summary>
    public void SendRiders() => _riders.SendRiders();

    private TableTransactionAction Delivered(string partitionKey, string rowKey, string eventId, string? connectionId, int status, int attempts,
        DateTimeOffset now) => new(TableTransactionActionType.UpsertReplace, new DeliveryRecord
        {
            PartitionKey = partitionKey,
            RowKey = rowKey,
            State = DeliveryRecord.Delivered,
            EventId = eventId,
            ConnectionId = connectionId,
            DeliveredAt = now,
            StatusCode = status,
            Attempts = attempts,
            ExpiresAt = now + _retention,
        });

    /// <summary>Gives the claim up after a failed attempt so the retry can take it. Best effort: a claim left behind expires.</summary>
    public async Task ReleaseAsync(DeliveryClaim claim)
    {
        try
        {
            await Claims.TryReleaseAsync(new DeliveryRecord { PartitionKey = claim.Key.PartitionKey, RowKey = claim.Key.RowKey, ETag = claim.ETag },
                CancellationToken.None).ConfigureAwait(false);
        }
        catch (RequestFailedException)
        {
            // Taken over or gone; the lease bounds how long it could hold up a retry.
        }
    }

    /// <summary>Whether the event was delivered (recorded only for events whose body is in a blob).</summary>
    public async Task<bool> IsEventDeliveredAsync(QueuedWebhook message, CancellationToken cancellationToken)
    {
        try
        {
            var row = await _table.GetEntityIfExistsAsync<DeliveryRecord>(DeliveryLogKeys.Partition(DeliveryLog.KeyTime(message)),
                DeliveryLogKeys.DeliveredEvent(message.EventId), cancellationToken: cancellationToken).ConfigureAwait(false);
            return row.HasValue && row.Value is { State: DeliveryRecord.Delivered } record && record.ExpiresAt > time.GetUtcNow();
        }
        catch (RequestFailedException ex) when (StorageAccount.IsMissingResource(ex))
        {
            return false;
        }
    }

    /// <summary>
    /// Deletes up to <paramref name="max"/> expired rows written by versions before the day partitions (partition key = the
    /// webhook-id, or <see cref="LegacyEventKeyPrefix"/> + event id); returns how many went. Today's rows go with their day
    /// partition (<see cref="DeliveryLogRetention"/>), so this meets only those older rows, and finds none once they are gone.
    /// </summary>
    public Task<int> SweepExpiredAsync(int max, CancellationToken cancellationToken) =>
        // The delivery log's day partitions (log_…) are left to DeliveryLogRetention, which drops them whole.
        TableSweep.DeleteAsync(_table, TableClient.CreateQueryFilter(
            $"(PartitionKey lt {DeliveryLogKeys.PartitionPrefix} or PartitionKey gt {DeliveryLogKeys.After(DeliveryLogKeys.PartitionPrefix)}) and ExpiresAt lt {time.GetUtcNow()}"),
            max, cancellationToken);
}
