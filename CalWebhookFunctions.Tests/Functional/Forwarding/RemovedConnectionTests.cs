using System.Text.Json;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Forwarding;

/// <summary>
/// An event naming a removed connection (a tombstone in CalConnections, as DELETE leaves it) is never forwarded, to
/// the shared endpoint or anywhere else: it is dead-lettered as <c>connection_removed</c>, and replayable once the
/// connection is registered again.
/// </summary>
public class RemovedConnectionTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task An_event_for_a_removed_connection_is_dead_lettered_as_connection_removed_and_sent_nowhere()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        await harness.AddConnectionAsync("gone-tenant", harness.Receiver.UrlFor("tenant/gone").ToString(), ConnectionRecord.States.Removed);
        await harness.AddConnectionAsync("gone-default", state: ConnectionRecord.States.Removed);

        var withOverride = await harness.EnqueueAsync(CalDeliveries.BookingCreated(bodyConnectionId: "gone-tenant"), "gone-tenant");
        var toDefault = await harness.EnqueueAsync(CalDeliveries.BookingCreated(bodyConnectionId: "gone-default"), "gone-default");
        var run = await harness.DrainAsync();

        Assert.Empty(harness.Receiver.Requests); // neither its own URL nor Forwarding__Url
        Assert.Equal(0, run.Failures);
        var deadLetters = await harness.DeadLettersAsync();
        Assert.Equal(2, deadLetters.Count);
        Assert.All(deadLetters, d => Assert.Equal(ForwardRoute.ConnectionRemoved, d.DeadLetter!.Reason));
        Assert.Equal(new HashSet<string> { toDefault.EventId, withOverride.EventId }, deadLetters.Select(d => d.EventId).ToHashSet());
        Assert.All(deadLetters, d => Assert.Equal(0, d.Attempts));
        Assert.Empty(await harness.DeliveryRecordsAsync()); // the claim was given up: a later registration can deliver it
    }

    [Fact]
    public async Task A_connection_removed_dead_letter_is_delivered_matched_after_the_connection_is_registered_again_and_replayed()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        await harness.AddConnectionAsync("comes-back", state: ConnectionRecord.States.Removed);
        var body = CalDeliveries.BookingCreated(bodyConnectionId: "comes-back");
        await harness.EnqueueAsync(body, "comes-back");
        await harness.DrainAsync();
        Assert.Equal(ForwardRoute.ConnectionRemoved, Assert.Single(await harness.DeadLettersAsync()).DeadLetter!.Reason);

        await harness.AddConnectionAsync("comes-back"); // registered again: the tombstone becomes an active row
        var replay = await harness.App.Get<DeadLetterReplayer>().ReplayAsync(ReplayFilter.All, dryRun: false, default);
        await harness.DrainAsync();

        Assert.Equal(1, replay.Moved);
        var delivery = Assert.Single(harness.Receiver.Deliveries);
        Assert.Equal("comes-back", JsonDocument.Parse(delivery.Body).RootElement.GetProperty("connectionId").GetString());
        Assert.Empty(await harness.DeadLetterTextsAsync());
        Assert.Equal(0, await harness.QueueLengthAsync(StorageNames.WebhookQueue));
    }
}
