using Azure.Data.Tables;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Functional.Operations;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace CalWebhookFunctions.Tests.Functional.Storage;

/// <summary>
/// Riding writes (<see cref="PartitionBatches"/>, <c>rideWithin</c>: the delivered mark and its log entry): they start no
/// transaction of their own, join the next one of their partition, and go alone only when their time is up. On real
/// Azurite, counting the writes (each transaction is one request); a fake clock moves the time.
/// </summary>
public class PartitionBatchRideTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Ride = TimeSpan.FromMilliseconds(250);

    private sealed record Setup(PartitionBatches Batches, FakeTimeProvider Clock, StorageCalls Transactions, TableClient Table);

    private async Task<Setup> StartAsync()
    {
        var transactions = new StorageCalls(StorageFaults.IsTableWrite);
        var table = StorageFaults.Account(azurite.ConnectionString, tables: transactions).Table("Ride" + Guid.NewGuid().ToString("N")[..12]);
        await table.CreateAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        return new Setup(new PartitionBatches(table, clock, TimeSpan.FromSeconds(1)), clock, transactions, table);
    }

    private static TableTransactionAction Upsert(string partition, string row) =>
        new(TableTransactionActionType.UpsertReplace, new TableEntity(partition, row));

    private static async Task<bool> StoredAsync(TableClient table, string partition, string row) =>
        (await table.GetEntityIfExistsAsync<TableEntity>(partition, row)).HasValue;

    [Fact]
    public async Task A_riding_write_sends_nothing_until_the_next_write_of_its_partition_and_then_goes_in_the_same_transaction()
    {
        var setup = await StartAsync();
        var riders = new[] { setup.Batches.WriteAsync([Upsert("p", "mark"), Upsert("p", "log")], Ride), setup.Batches.WriteAsync([Upsert("p", "mark-2")], Ride) };
        var elsewhere = setup.Batches.WriteAsync([Upsert("q", "claim-q")]); // another partition does not take them
        await elsewhere.WaitAsync(Bound);
        Assert.Equal(1, setup.Transactions.Count);
        Assert.Equal(2, setup.Batches.Waiting);
        Assert.All(riders, rider => Assert.False(rider.IsCompleted));

        await setup.Batches.WriteAsync([Upsert("p", "claim")]).WaitAsync(Bound);

        await Task.WhenAll(riders).WaitAsync(Bound);
        Assert.Equal(2, setup.Transactions.Count); // claim-q, then the claim with both riders
        Assert.Equal(0, setup.Batches.Waiting);
        foreach (var row in new[] { "mark", "log", "mark-2", "claim" })
        {
            Assert.True(await StoredAsync(setup.Table, "p", row));
        }
    }

    [Fact]
    public async Task A_riding_write_goes_alone_when_its_time_is_up_and_only_once()
    {
        var setup = await StartAsync();
        var rider = setup.Batches.WriteAsync([Upsert("p", "mark")], Ride);
        setup.Clock.Advance(Ride - TimeSpan.FromMilliseconds(1));
        Assert.False(rider.IsCompleted);
        Assert.Equal(0, setup.Transactions.Count);

        setup.Clock.Advance(TimeSpan.FromMilliseconds(1));
        await rider.WaitAsync(Bound);

        Assert.Equal(1, setup.Transactions.Count);
        setup.Clock.Advance(Ride * 4);
        await setup.Batches.WriteAsync([Upsert("p", "claim")]).WaitAsync(Bound);
        Assert.Equal(2, setup.Transactions.Count); // the claim alone: the rider was not sent again
        Assert.True(await StoredAsync(setup.Table, "p", "mark"));
    }

    [Fact]
    public async Task Sending_the_riders_sends_them_at_once_one_transaction_per_partition()
    {
        var setup = await StartAsync();
        var riders = new[]
        {
            setup.Batches.WriteAsync([Upsert("p", "a")], Ride), setup.Batches.WriteAsync([Upsert("p", "b")], Ride),
            setup.Batches.WriteAsync([Upsert("q", "c")], Ride),
        };

        setup.Batches.SendRiders();

        await Task.WhenAll(riders).WaitAsync(Bound);
        Assert.Equal(0, setup.Batches.Waiting);
        Assert.Equal(2, setup.Transactions.Count); // p's two together (the first one sent takes the other along), and q's
        Assert.True(await StoredAsync(setup.Table, "q", "c"));
    }

    [Fact]
    public async Task A_rider_and_a_later_write_of_the_same_row_go_in_order_in_separate_transactions()
    {
        var setup = await StartAsync();
        var rider = setup.Batches.WriteAsync([new(TableTransactionActionType.UpsertReplace, new TableEntity("p", "row") { ["Value"] = "first" })], Ride);

        await setup.Batches.WriteAsync([new(TableTransactionActionType.UpsertReplace, new TableEntity("p", "row") { ["Value"] = "second" })])
            .WaitAsync(Bound);

        Assert.True(rider.IsCompleted);
        Assert.Equal(2, setup.Transactions.Count);
        Assert.Equal("second", (await setup.Table.GetEntityAsync<TableEntity>("p", "row")).Value.GetString("Value"));
    }
}
