using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CalWebhookFunctions.Tests.Functional.Forwarding;

/// <summary>
/// Nothing is sent on a claim that could have lapsed. The interleaving is forced: the answer to the first copy's claim
/// (stored in Azurite) is held in the storage pipeline while a fake clock runs past the claim's lease, and a second copy
/// of the same webhook-id goes through in between.
/// </summary>
public class ClaimLeaseTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private sealed record Setup(ForwardingHarness Harness, FakeTimeProvider Clock, StorageGate Gate, byte[] Message) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Harness.DisposeAsync();
    }

    /// <summary>
    /// A first copy of an event for a known connection, started and stopped after its claim is stored, before the app
    /// has the answer (a storage call can hang for ~40 s of SDK retries); then the clock jumps a minute.
    /// </summary>
    private async Task<(Setup Setup, Task<ForwardOutcome> First)> FirstCopyHeldPastItsLeaseAsync()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        // The claim: the ledger's transaction that writes the row sending.
        var gate = new StorageGate(holdAnswer: m => StorageFaults.IsWriteWith(m, "\"State\":\"sending\""));
        var harness = await ForwardingHarness.StartAsync(azurite, configureServices: services =>
        {
            services.AddSingleton<TimeProvider>(clock);
            services.AddSingleton(StorageFaults.Account(azurite.ConnectionString, tables: gate));
        });
        await harness.AddConnectionAsync("conn-1");
        await harness.App.Get<DeliveryLedger>().Table.CreateIfNotExistsAsync();
        var message = PendingWebhooks.Serialize(ForwardingHarness.NewEvent(CalDeliveries.BookingCreated(), "conn-1"));
        var forwarder = harness.App.Get<WebhookForwarder>();

        var first = Task.Run(() => forwarder.ProcessAsync(message, default));
        await gate.Held; // its claim is stored, and the answer hangs
        clock.Advance(TimeSpan.FromMinutes(1)); // far past the claim's lease (Forwarding__TimeoutSeconds 5 + 30 s)
        return (new Setup(harness, clock, gate, message), first);
    }

    [Fact]
    public async Task A_copy_whose_claim_lapsed_while_storage_hung_does_not_post_after_another_copy_delivered()
    {
        var (setup, first) = await FirstCopyHeldPastItsLeaseAsync();
        await using var _ = setup;
        var forwarder = setup.Harness.App.Get<WebhookForwarder>();

        // A second copy of the same webhook-id takes the lapsed claim over, delivers and records.
        Assert.Equal(ForwardOutcome.Delivered, await forwarder.ProcessAsync(setup.Message, default));
        await setup.Harness.App.Get<DeliveryMarks>().FlushAsync(); // its mark lands (on this clock, only when flushed)
        setup.Gate.Release();
        var firstOutcome = await first;
        await setup.Harness.DrainAsync(); // the copy the first one left behind finds the event delivered

        Assert.Equal(ForwardOutcome.Deferred, firstOutcome);
        Assert.Single(setup.Harness.Receiver.Requests);
        Assert.Contains("was not sent: its claim", setup.Harness.App.Logs.AllText, StringComparison.Ordinal);
        Assert.Contains("was delivered before under the same webhook-id", setup.Harness.App.Logs.AllText, StringComparison.Ordinal);
        Assert.Equal(DeliveryRecord.Delivered, Assert.Single(await setup.Harness.DeliveryRecordsAsync()).State);
        Assert.Equal(0, await setup.Harness.QueueLengthAsync(StorageNames.WebhookQueue));
    }

    [Fact]
    public async Task A_copy_held_past_its_lease_that_nobody_took_over_renews_its_claim_and_delivers_once()
    {
        var (setup, first) = await FirstCopyHeldPastItsLeaseAsync();
        await using var _ = setup;

        setup.Gate.Release();

        Assert.Equal(ForwardOutcome.Delivered, await first);
        Assert.Single(setup.Harness.Receiver.Deliveries);
        Assert.DoesNotContain("was not sent: its claim", setup.Harness.App.Logs.AllText, StringComparison.Ordinal);
        Assert.Equal(DeliveryRecord.Delivered, Assert.Single(await setup.Harness.DeliveryRecordsAsync()).State);
    }
}
