using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Tests.Functional.Forwarding;

/// <summary>
/// Storage trouble (the tables unreachable) for longer than the host's maxDequeueCount is retried on a schedule of its
/// own, like an app failure: the event is delivered once storage is back, never parked in the poison queue.
/// </summary>
public class StorageTroubleTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Tables_unreachable_for_more_than_max_dequeue_count_invocations_delay_the_event_but_never_park_it()
    {
        var outage = new Outage();
        await using var harness = await ForwardingHarness.StartAsync(azurite, configureServices: services =>
        {
            services.AddSingleton(StorageFaults.Account(azurite.ConnectionString, tables: outage));
            services.AddSingleton(new StorageRetryPolicy([TimeSpan.Zero], maxRetries: 100)); // the schedule, shortened
        });
        await harness.AddConnectionAsync("conn-1");
        await harness.EnqueueAsync(CalDeliveries.BookingCreated(), "conn-1");
        // The host as configured, with host.json's one-minute visibility timeout shortened so that thrown invocations
        // would reach maxDequeueCount within the run.
        var host = new QueueHost(harness.App.Services, azurite.ConnectionString,
            QueueSettings.FromHostJson() with { VisibilityTimeout = TimeSpan.Zero });
        var maxDequeueCount = host.Settings.MaxDequeueCount;

        // Every table call fails (a closed port) until well past maxDequeueCount invocations (at most 3 calls each).
        outage.FailNext(3 * (maxDequeueCount + 3));
        var run = await host.RunUntilDrainedAsync(StorageNames.WebhookQueue, TimeSpan.FromSeconds(60));

        Assert.True(run.Drained);
        Assert.True(run.Invocations > maxDequeueCount + 1, $"only {run.Invocations} invocations");
        Assert.Equal(0, run.Failures); // storage trouble is not a failed invocation: no dequeue count is spent
        Assert.Equal(0, run.Poisoned);
        Assert.Empty(await harness.DeadLetterTextsAsync());
        Assert.Single(harness.Receiver.Deliveries);
        var logs = harness.App.Logs.AllText;
        Assert.Contains("Storage failed while forwarding event", logs, StringComparison.Ordinal);
        // Storage retries do not spend the app's retry schedule: the one POST is the first attempt.
        Assert.Contains("on attempt 1 ", harness.App.Logs.Lines.Single(l => l.Contains("Forwarded event", StringComparison.Ordinal)),
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_even_the_retry_copy_cannot_be_stored_the_invocation_fails_so_the_host_retries_the_message()
    {
        var outage = new Outage();
        var queueOutage = new Outage();
        await using var harness = await ForwardingHarness.StartAsync(azurite, configureServices: services =>
        {
            services.AddSingleton(StorageFaults.Account(azurite.ConnectionString, tables: outage, queues: queueOutage));
            services.AddSingleton(new StorageRetryPolicy([TimeSpan.Zero], maxRetries: 100));
        });
        var message = ForwardingHarness.NewEvent(CalDeliveries.BookingCreated(), null);
        var forwarder = harness.App.Get<WebhookForwarder>();

        outage.FailNext(int.MaxValue);
        queueOutage.FailNext(int.MaxValue);
        var failure = await Record.ExceptionAsync(() => forwarder.ProcessAsync(PendingWebhooks.Serialize(message), default));

        Assert.True(StorageAccount.IsUnavailable(failure!), failure?.ToString());
        Assert.Empty(harness.Receiver.Requests);
    }
}
