using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Operations;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Tests.Functional.Forwarding;

/// <summary>
/// The delivered mark is off the critical path: the forward returns (and the host may delete the message) while the mark
/// is still being written, and the dedup promise holds meanwhile: the claim is still live. The interleaving is forced by holding the mark's request in the storage
/// pipeline.
/// </summary>
public class DeliveredMarkTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    private async Task<(ForwardingHarness Harness, StorageGate Gate, byte[] Message)> StartAsync()
    {
        // The mark: the ledger's transaction that writes the row delivered.
        var gate = new StorageGate(hold: m => StorageFaults.IsWriteWith(m, "\"State\":\"delivered\""));
        var harness = await ForwardingHarness.StartAsync(azurite, configureServices: services =>
            services.AddSingleton(StorageFaults.Account(azurite.ConnectionString, tables: gate)));
        var message = PendingWebhooks.Serialize(ForwardingHarness.NewEvent(CalDeliveries.BookingCreated(), null));
        return (harness, gate, message);
    }

    [Fact]
    public async Task A_forward_returns_before_its_mark_is_written_and_a_copy_meanwhile_is_deferred_not_sent_again()
    {
        var (harness, gate, message) = await StartAsync();
        await using var _ = harness;
        var forwarder = harness.App.Get<WebhookForwarder>();

        // Old code waits for the held mark here (the guard only turns that hang into a failure).
        Assert.Equal(ForwardOutcome.Delivered, await forwarder.ProcessAsync(message, default).WaitAsync(HangGuard));
        await gate.Held;
        Assert.Equal(ForwardOutcome.Deferred, await forwarder.ProcessAsync(message, default)); // the claim is still live
        Assert.Single(harness.Receiver.Requests);

        gate.Release();
        Assert.Equal(DeliveryRecord.Delivered, Assert.Single(await harness.DeliveryRecordsAsync()).State);
        Assert.Equal(ForwardOutcome.AlreadyDelivered, await forwarder.ProcessAsync(message, default));
        Assert.Single(harness.Receiver.Requests);
    }

    [Fact]
    public async Task Stopping_the_worker_waits_for_the_marks_still_being_written()
    {
        var (harness, gate, message) = await StartAsync();
        await using var _ = harness;
        Assert.Equal(ForwardOutcome.Delivered, await harness.App.Get<WebhookForwarder>().ProcessAsync(message, default).WaitAsync(HangGuard));
        await gate.Held;

        var stopping = harness.App.Get<DeliveryMarks>().StopAsync(default);
        Assert.False(stopping.IsCompleted);
        gate.Release();
        await stopping;

        var row = Assert.Single(await harness.DeliveryRecordsAsync());
        Assert.Equal(DeliveryLogKeys.Ledger(OutboundSigner.WebhookId(null, CalDeliveries.BookingCreated())), row.RowKey);
        Assert.Equal(DeliveryRecord.Delivered, row.State);
    }
}
