using Azure.Data.Tables;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Functional.Operations;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace CalWebhookFunctions.Tests.Functional.Storage;

/// <summary>
/// A group commit with a bypass bound (the delivery ledger's, <see cref="PartitionBatches"/>): no write waits longer than
/// the bound behind a transaction in flight. On real Azurite; the first transaction's answer is held in the storage
/// pipeline (a hung request) and a fake clock moves the time.
/// </summary>
public class PartitionBatchBypassTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(1);

    private sealed record Held(PartitionBatches Batches, FakeTimeProvider Clock, StorageGate Gate, StorageCalls Transactions,
        TableClient Table, Task First);

    /// <summary>A first write whose transaction is stored and whose answer hangs.</summary>
    private async Task<Held> HoldFirstAsync()
    {
        var gate = new StorageGate(holdAnswer: StorageFaults.IsTableWrite);
        var transactions = new StorageCalls(StorageFaults.IsTableWrite);
        var table = StorageFaults.Account(azurite.ConnectionString, tables: gate, moreTables: [transactions])
            .Table("Bypass" + Guid.NewGuid().ToString("N")[..12]);
        await table.CreateAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var batches = new PartitionBatches(table, clock, Wait);
        var first = batches.WriteAsync([Add("first")]);
        await gate.Held.WaitAsync(Bound);
        return new Held(batches, clock, gate, transactions, table, first);
    }

    private static TableTransactionAction Add(string row) => new(TableTransactionActionType.Add, new TableEntity("p", row));

    private static async Task<bool> StoredAsync(TableClient table, string row) =>
        (await table.GetEntityIfExistsAsync<TableEntity>("p", row)).HasValue;

    [Fact]
    public async Task A_write_that_finds_the_transaction_in_flight_longer_than_the_bound_goes_alone_at_once()
    {
        var held = await HoldFirstAsync();
        held.Clock.Advance(Wait);

        await held.Batches.WriteAsync([Add("second")]).WaitAsync(Bound); // not behind the hung one

        Assert.False(held.First.IsCompleted);
        Assert.Equal(2, held.Transactions.Count);
        Assert.Equal(0, held.Batches.Waiting);
        held.Gate.Release();
        await held.First.WaitAsync(Bound);
        Assert.True(await StoredAsync(held.Table, "first"));
        Assert.True(await StoredAsync(held.Table, "second"));
    }

    [Fact]
    public async Task A_write_still_waiting_behind_a_transaction_in_flight_when_the_bound_is_up_goes_alone_and_only_once()
    {
        var held = await HoldFirstAsync();
        held.Clock.Advance(Wait - TimeSpan.FromMilliseconds(1));
        var second = held.Batches.WriteAsync([Add("second")]);
        Assert.Equal(1, held.Batches.Waiting); // within the bound it waits to share the next transaction

        held.Clock.Advance(Wait);
        await second.WaitAsync(Bound);

        Assert.Equal(0, held.Batches.Waiting);
        Assert.Equal(2, held.Transactions.Count);
        held.Gate.Release();
        await held.First.WaitAsync(Bound);
        Assert.Equal(2, held.Transactions.Count); // the writer found nothing left to send
        Assert.True(await StoredAsync(held.Table, "second"));
    }

    [Fact]
    public async Task Writes_that_come_within_the_bound_share_the_next_transaction_and_are_not_sent_again_when_their_time_is_up()
    {
        var held = await HoldFirstAsync();
        var more = Enumerable.Range(1, 5).Select(i => held.Batches.WriteAsync([Add($"more-{i}")])).ToList();
        Assert.Equal(5, held.Batches.Waiting);

        held.Gate.Release();
        await Task.WhenAll(more.Append(held.First)).WaitAsync(Bound);
        Assert.Equal(2, held.Transactions.Count); // the held one, then the five together
        held.Clock.Advance(Wait * 2); // their timers were stopped when they were taken

        Assert.Equal(2, held.Transactions.Count);
        foreach (var i in Enumerable.Range(1, 5))
        {
            Assert.True(await StoredAsync(held.Table, $"more-{i}"));
        }
    }
}
