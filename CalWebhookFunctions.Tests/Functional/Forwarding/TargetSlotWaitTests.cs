using System.Runtime.CompilerServices;
using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Messages;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CalWebhookFunctions.Tests.Functional.Forwarding;

/// <summary>
/// <c>Forwarding__MaxConcurrentPerTarget</c> caps the requests in flight to one target; an event over the cap waits for a
/// slot in memory for at most <see cref="TargetSlots.Wait"/> (on the app's clock, a fake one here) before it goes back
/// to the queue. The app's first answer is held by the test, so the second event is over the cap for as long as the test
/// decides.
/// </summary>
public class TargetSlotWaitTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private sealed class Setup(ForwardingHarness harness, FakeTimeProvider clock, TaskCompletionSource release, StrongBox<int> arrived)
        : IAsyncDisposable
    {
        public ForwardingHarness Harness => harness;
        public FakeTimeProvider Clock => clock;
        public TaskCompletionSource Release => release;

        /// <summary>Requests that reached the app, answered or not (the receiver records a request once it is answered).</summary>
        public int Requests => Volatile.Read(ref arrived.Value);
        public ValueTask DisposeAsync() => harness.DisposeAsync();
    }

    private async Task<Setup> StartAsync()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = new StrongBox<int>();
        var harness = await ForwardingHarness.StartAsync(azurite, async (_, _, _) =>
            {
                if (Interlocked.Increment(ref arrived.Value) == 1)
                {
                    await release.Task; // the first request holds the target's one slot until the test lets it go
                }
                return 200;
            },
            new Dictionary<string, string?>
            {
                ["Forwarding:MaxConcurrentPerTarget"] = "1",
                ["Forwarding:TimeoutSeconds"] = "300",
            },
            configureServices: services => services.AddSingleton<TimeProvider>(clock));
        return new Setup(harness, clock, release, arrived);
    }

    private static Task<ForwardOutcome> Forward(Setup setup, int pad) =>
        setup.Harness.App.Get<WebhookForwarder>().ProcessAsync(
            PendingWebhooks.Serialize(ForwardingHarness.NewEvent(CalDeliveries.BookingCreated(padTo: pad), null)), default);

    private static async Task<QueuedWebhook> ReceiveCopyAsync(Setup setup)
    {
        var queue = setup.Harness.App.Get<StorageAccount>().Queue(StorageNames.WebhookQueue);
        for (var i = 0; i < 100; i++)
        {
            var received = (await queue.ReceiveMessagesAsync(1)).Value;
            if (received.Length == 1)
            {
                return PendingWebhooks.Deserialize(received[0].Body.ToArray());
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("the bounced copy never became visible");
    }

    [Fact]
    public async Task An_event_over_the_cap_waits_for_the_slot_and_is_sent_when_it_frees_without_a_trip_through_the_queue()
    {
        await using var setup = await StartAsync();
        var holding = Forward(setup, 1_000);
        Assert.True(await Eventually.HoldsAsync(() => setup.Requests == 1, TimeSpan.FromSeconds(30)), "the first request was not sent");

        var waiting = Forward(setup, 2_000);
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted); // over the cap, waiting in memory
        Assert.Equal(1, setup.Requests);
        setup.Release.SetResult();

        Assert.Equal((ForwardOutcome.Delivered, ForwardOutcome.Delivered), (await holding, await waiting));
        Assert.Equal(2, setup.Harness.Receiver.Deliveries.Count);
        Assert.Equal(0, await setup.Harness.QueueLengthAsync(StorageNames.WebhookQueue)); // no copy went back to the queue
    }

    [Fact]
    public async Task An_event_that_finds_no_slot_within_the_wait_goes_back_to_the_queue_unsent_unspent_and_with_its_claim_released()
    {
        await using var setup = await StartAsync();
        var holding = Forward(setup, 1_000);
        Assert.True(await Eventually.HoldsAsync(() => setup.Requests == 1, TimeSpan.FromSeconds(30)), "the first request was not sent");

        var message = ForwardingHarness.NewEvent(CalDeliveries.BookingCreated(padTo: 2_000), null);
        var waiting = setup.Harness.App.Get<WebhookForwarder>().ProcessAsync(PendingWebhooks.Serialize(message), default);
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted);
        setup.Clock.Advance(TargetSlots.Wait - TimeSpan.FromMilliseconds(1));
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted); // not yet: the wait is on the app's clock
        setup.Clock.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(ForwardOutcome.Deferred, await waiting);
        Assert.Equal(1, setup.Requests); // it was not sent
        Assert.Equal(1, await setup.Harness.QueueLengthAsync(StorageNames.WebhookQueue));
        var copy = await ReceiveCopyAsync(setup); // visible after HeldEvents.BounceDelay
        Assert.Equal((message.EventId, message.Attempts), (copy.EventId, copy.Attempts)); // the same event, no attempt spent

        // Its claim was released: once the slot is free, the copy is delivered at once rather than deferred behind a lease.
        setup.Release.SetResult();
        Assert.Equal(ForwardOutcome.Delivered, await holding);
        Assert.Equal(ForwardOutcome.Delivered,
            await setup.Harness.App.Get<WebhookForwarder>().ProcessAsync(PendingWebhooks.Serialize(copy), default));
        Assert.Equal(2, setup.Harness.Receiver.Deliveries.Select(d => d.Header("webhook-id")).Distinct().Count());
    }
}
