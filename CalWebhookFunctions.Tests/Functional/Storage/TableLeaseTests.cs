using Azure.Data.Tables;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace CalWebhookFunctions.Tests.Functional.Storage;

/// <summary>The one lease (<see cref="TableLease{TRow}"/>) both claims use, against real Azurite and a fake clock.</summary>
public class TableLeaseTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);

    private TableClient Table(string name) => StorageAccount.FromConnectionString(storage.ConnectionString).Table(name);

    private static ConnectionRecord Row(string id) => new() { ConnectionId = id, PartitionKey = ConnectionRecord.PartitionKeyFor(id) };

    [Fact]
    public async Task A_lease_is_live_until_its_end_and_only_then_taken_over_and_the_old_holder_can_neither_renew_nor_release_it()
    {
        await storage.ResetAsync();
        var lease = new TableLease<ConnectionRecord>(new ConditionalTable(Table(StorageNames.ConnectionsTable)), _clock);
        var first = Row("leased");
        Assert.True(await lease.TryTakeAsync(first, TimeSpan.FromMinutes(2), default));
        Assert.False(await lease.TryTakeAsync(Row("leased"), TimeSpan.FromMinutes(2), default)); // the insert finds the row

        _clock.Advance(TimeSpan.FromMinutes(2) - TimeSpan.FromTicks(1));
        var read = (await Table(StorageNames.ConnectionsTable).GetEntityAsync<ConnectionRecord>(first.PartitionKey, first.RowKey)).Value;
        Assert.True(lease.IsLive(read));
        _clock.Advance(TimeSpan.FromTicks(1));
        Assert.False(lease.IsLive(read));

        Assert.True(await lease.TryTakeAsync(read, TimeSpan.FromMinutes(2), default));
        Assert.NotEqual(first.ClaimId, read.ClaimId);
        Assert.False(await lease.TryRenewAsync(first, TimeSpan.FromMinutes(2), default));
        Assert.False(await lease.TryReleaseAsync(first, default));
        var stored = (await Table(StorageNames.ConnectionsTable).GetEntityAsync<ConnectionRecord>(first.PartitionKey, first.RowKey)).Value;
        Assert.Equal((read.ClaimId, _clock.GetUtcNow() + TimeSpan.FromMinutes(2)), (stored.ClaimId, stored.ClaimedUntil));

        Assert.True(await lease.TryReleaseAsync(read, default));
        stored = (await Table(StorageNames.ConnectionsTable).GetEntityAsync<ConnectionRecord>(first.PartitionKey, first.RowKey)).Value;
        Assert.Equal((null, null), (stored.ClaimId, stored.ClaimedUntil));
        Assert.False(lease.IsLive(stored));
    }

    [Fact]
    public async Task A_lease_whose_row_means_nothing_without_it_is_released_by_deleting_the_row_only_with_the_holders_ETag()
    {
        await storage.ResetAsync();
        var lease = new TableLease<DeliveryRecord>(new ConditionalTable(Table(StorageNames.DeliveriesTable)), _clock, releaseDeletesRow: true);
        var held = new DeliveryRecord { PartitionKey = "log_lease", RowKey = "d_msg_lease" };
        Assert.True(await lease.TryTakeAsync(held, TimeSpan.FromSeconds(35), default));
        var heldETag = held.ETag;
        Assert.True(await lease.TryRenewAsync(held, TimeSpan.FromSeconds(35), default));

        Assert.False(await lease.TryReleaseAsync(new DeliveryRecord { PartitionKey = "log_lease", RowKey = "d_msg_lease", ETag = heldETag }, default));
        Assert.True(await lease.TryReleaseAsync(held, default));
        Assert.False((await Table(StorageNames.DeliveriesTable).GetEntityIfExistsAsync<DeliveryRecord>("log_lease", "d_msg_lease")).HasValue);
    }

    [Fact]
    public async Task Leased_rows_are_stored_with_their_own_properties_only()
    {
        await storage.ResetAsync();
        var connections = new TableLease<ConnectionRecord>(new ConditionalTable(Table(StorageNames.ConnectionsTable)), _clock);
        var deliveries = new TableLease<DeliveryRecord>(new ConditionalTable(Table(StorageNames.DeliveriesTable)), _clock, releaseDeletesRow: true);
        var connection = Row("stored");
        var delivery = new DeliveryRecord { PartitionKey = "log_stored", RowKey = "d_msg_stored" };
        Assert.True(await connections.TryTakeAsync(connection, TimeSpan.FromMinutes(2), default));
        Assert.True(await deliveries.TryTakeAsync(delivery, TimeSpan.FromSeconds(35), default));

        var connectionRow = (await Table(StorageNames.ConnectionsTable).GetEntityAsync<TableEntity>(connection.PartitionKey, connection.RowKey)).Value;
        var deliveryRow = (await Table(StorageNames.DeliveriesTable).GetEntityAsync<TableEntity>("log_stored", "d_msg_stored")).Value;
        Assert.DoesNotContain(connectionRow.Keys, k => k.Contains("Lease", StringComparison.Ordinal));
        Assert.Equal((connection.ClaimId, connection.ClaimedUntil), (connectionRow.GetString("ClaimId"), connectionRow.GetDateTimeOffset("ClaimedUntil")));
        Assert.DoesNotContain(deliveryRow.Keys, k => k == "Lease" || k.Contains("ILeasedRow", StringComparison.Ordinal));
        Assert.Equal(delivery.LeaseUntil, deliveryRow.GetDateTimeOffset("LeaseUntil"));
    }
}
