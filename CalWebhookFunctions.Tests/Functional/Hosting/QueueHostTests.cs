using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Telemetry;
using CalWebhookFunctions.Tests.Functional.Forwarding;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Hosting;

/// <summary>
/// The queue stand-in does what functions-host.md records of the real host, with the app's real worker behind it:
/// the worker's middleware runs, messages are held 10 minutes and renewed while they run, maxDequeueCount is checked
/// before invoking, and the function's token is the invocation's, cancelled when the host stops.
/// </summary>
public class QueueHostTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly TimeSpan Safety = TimeSpan.FromMinutes(1); // only ever reached when the test fails

    private QueueClient RawQueue() => new(azurite.ConnectionString, StorageNames.WebhookQueue);

    [Fact]
    public async Task Queue_invocations_run_the_apps_middleware_so_function_logs_carry_the_event_scope()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        var queued = await harness.EnqueueAsync(CalDeliveries.BookingCreated(), null);

        var run = await harness.DrainAsync();

        Assert.Equal(1, run.Invocations);
        var forwarded = harness.App.Logs.Entries.Single(e => e.Category == "CalWebhookFunctions.Forwarding.WebhookForwarder"
            && e.Message.Contains("Forwarded event", StringComparison.Ordinal));
        Assert.Equal(queued.EventId, forwarded.Scope(EventLogScope.EventIdProperty)); // set only by EventScopeMiddleware
        Assert.Equal(1, forwarded.Scope("DequeueCount"));
    }

    [Fact]
    public async Task The_worker_binds_the_QueueMessage_from_the_hosts_binding_data_with_its_dequeue_count_typed()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        var queued = await harness.EnqueueAsync(CalDeliveries.BookingCreated(), null);
        for (var i = 0; i < 2; i++)
        {
            var handedOver = Assert.Single((await RawQueue().ReceiveMessagesAsync(1)).Value); // handed over, not finished
            await RawQueue().UpdateMessageAsync(handedOver.MessageId, handedOver.PopReceipt, visibilityTimeout: TimeSpan.Zero);
        }

        var run = await harness.DrainAsync();

        Assert.Equal(1, run.Invocations);
        Assert.True(run.Drained);
        var forwarded = harness.App.Logs.Entries.Single(e => e.Category == "CalWebhookFunctions.Forwarding.WebhookForwarder"
            && e.Message.Contains("Forwarded event", StringComparison.Ordinal));
        Assert.Equal(queued.EventId, forwarded.Scope(EventLogScope.EventIdProperty)); // read from the bound message's Body
        Assert.Equal(3, forwarded.Scope("DequeueCount")); // QueueMessage.DequeueCount, as the worker's converter made it
        Assert.Single(harness.Receiver.Requests);
    }

    [Fact]
    public async Task A_running_invocation_holds_its_message_ten_minutes_renewed_every_five_and_finishes_with_the_new_receipt()
    {
        var requested = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        await using var harness = await ForwardingHarness.StartAsync(azurite, respond: async (_, _, _) =>
        {
            requested.TrySetResult();
            await release.Task;
            return 200;
        });
        await harness.EnqueueAsync(CalDeliveries.BookingCreated(), null);
        var time = new ManualTime();
        var renewed = new TaskCompletionSource<UpdateReceipt>();
        var host = new QueueHost(harness.App.Services, azurite.ConnectionString)
        {
            Time = time,
            Renewed = (_, receipt) => renewed.TrySetResult(receipt),
        };

        var running = host.RunUntilDrainedAsync(StorageNames.WebhookQueue, Safety);
        await requested.Task.WaitAsync(Safety);
        Assert.Empty((await RawQueue().ReceiveMessagesAsync(32)).Value); // held: not handed to anyone else
        time.Advance(TimeSpan.FromMinutes(4));
        Assert.False(renewed.Task.IsCompleted);
        time.Advance(TimeSpan.FromMinutes(1));
        var receipt = await renewed.Task.WaitAsync(Safety);
        release.SetResult();
        var run = await running;

        Assert.Equal(TimeSpan.FromMinutes(10), QueueHost.Lease);
        Assert.InRange(receipt.NextVisibleOn - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
        Assert.Equal(1, run.Renewals);
        Assert.True(run.Drained); // deleted with the renewed pop receipt
        Assert.Single(harness.Receiver.Requests);
    }

    [Fact]
    public async Task A_message_already_past_maxDequeueCount_is_poisoned_for_seven_days_without_running_the_function()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        var queued = await harness.EnqueueAsync(CalDeliveries.BookingCreated(), null);
        var settings = QueueSettings.FromHostJson();
        for (var i = 0; i < settings.MaxDequeueCount; i++)
        {
            var handedOver = Assert.Single((await RawQueue().ReceiveMessagesAsync(1)).Value); // handed over, not finished:
            await RawQueue().UpdateMessageAsync(handedOver.MessageId, handedOver.PopReceipt, visibilityTimeout: TimeSpan.Zero);
        }

        var run = await harness.DrainAsync();

        Assert.Equal(0, run.Invocations);
        Assert.Equal(1, run.Poisoned);
        Assert.Empty(harness.Receiver.Requests);
        var poison = new QueueClient(azurite.ConnectionString, StorageNames.WebhookPoisonQueue);
        var parked = Assert.Single((await poison.PeekMessagesAsync(32)).Value);
        Assert.Equal(queued.EventId, PendingWebhooks.Deserialize(HostQueueMessages.Decode(parked.MessageText)).EventId);
        Assert.Equal(TimeSpan.FromDays(7), parked.ExpiresOn - parked.InsertedOn);
    }

    [Fact]
    public async Task Stopping_the_host_cancels_the_token_of_the_running_invocation()
    {
        var requested = new TaskCompletionSource();
        var aborted = new TaskCompletionSource();
        await using var harness = await ForwardingHarness.StartAsync(azurite, respond: async (context, _, _) =>
        {
            context.RequestAborted.Register(() => aborted.TrySetResult());
            requested.TrySetResult();
            await Task.Delay(Timeout.InfiniteTimeSpan, context.RequestAborted);
            return 200;
        }, settings: new Dictionary<string, string?> { ["Forwarding:TimeoutSeconds"] = "600" });
        await harness.EnqueueAsync(CalDeliveries.BookingCreated(), null);
        using var stopping = new CancellationTokenSource();

        var running = harness.Host.RunAsync(StorageNames.WebhookQueue, Safety, stopping.Token);
        await requested.Task.WaitAsync(Safety);
        Assert.False(aborted.Task.IsCompleted);
        await stopping.CancelAsync();
        await aborted.Task.WaitAsync(Safety); // the forwarder's POST was cancelled through the invocation's token
        var run = await running;

        Assert.Equal(1, run.Invocations);
    }
}
