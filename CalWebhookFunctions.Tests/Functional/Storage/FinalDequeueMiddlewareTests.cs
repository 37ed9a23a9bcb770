using System.Text;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Functional.Ingest;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace CalWebhookFunctions.Tests.Functional.Storage;

/// <summary>
/// The host parks a message after maxDequeueCount failures with a 7-day time-to-live; the middleware parks it first,
/// never expiring, on that last try — against real Azurite, for the real queue-triggered functions. (The worker's own
/// pipeline, its UseWhen and QueueMessage binding included, runs it in <see cref="Hosting.QueueHostTests"/> and the
/// replay tests.)
/// </summary>
public class FinalDequeueMiddlewareTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private const string Forward = "ForwardCalWebhook";
    private const string Cleanup = "CleanUpSubscription";
    private const string Message = """{"v":1,"eventId":"0197abc","note":"Café"}""";

    /// <summary>The message as the worker's converter binds it: the decoded text as its body, and the host's dequeue count.</summary>
    private static QueueMessage Delivery(int dequeueCount) =>
        QueuesModelFactory.QueueMessage("message-1", "receipt-1", BinaryData.FromString(Message), dequeueCount);

    private FinalDequeueMiddleware Middleware(string? connectionString = null) =>
        new(StorageAccount.FromConnectionString(connectionString ?? storage.ConnectionString), NullLogger<FinalDequeueMiddleware>.Instance);

    private static Func<Task> Failing => () => throw new InvalidOperationException("table storage is down");

    private async Task<IReadOnlyList<(string Text, DateTimeOffset? ExpiresOn)>> PoisonAsync(string queue)
    {
        var client = new QueueClient(storage.ConnectionString, queue + "-poison");
        if (!await client.ExistsAsync())
        {
            return [];
        }
        var received = (await client.ReceiveMessagesAsync(32)).Value;
        return [.. received.Select(m => (Encoding.UTF8.GetString(HostQueueMessages.Decode(m.Body.ToString())), m.ExpiresOn))];
    }

    [Fact]
    public void The_middleware_and_host_json_agree_on_the_last_try()
    {
        Assert.Equal(FinalDequeueMiddleware.HostMaxDequeueCount, QueueSettings.FromHostJson().MaxDequeueCount);
    }

    [Theory]
    [InlineData(Forward, StorageNames.WebhookQueue)]
    [InlineData(Cleanup, StorageNames.CleanupQueue)]
    public void Queue_names_come_from_the_functions_trigger_attributes(string function, string queue)
    {
        Assert.Equal(queue, FinalDequeueMiddleware.QueueNameOf(function));
    }

    [Fact]
    public void Every_queue_triggered_function_has_its_trigger_queue()
    {
        var queueTriggered = FunctionsMetadata.Load().Where(f => f.TriggerType == "queueTrigger").ToList();
        Assert.NotEmpty(queueTriggered);
        Assert.All(queueTriggered, f => Assert.Equal(f.QueueName, FinalDequeueMiddleware.QueueNameOf(f.Name)));
    }

    [Fact]
    public void Http_functions_have_no_queue()
    {
        Assert.Null(FinalDequeueMiddleware.QueueNameOf("ReceiveCalWebhook"));
    }

    [Theory]
    [InlineData(Forward, StorageNames.WebhookQueue)]
    [InlineData(Cleanup, StorageNames.CleanupQueue)]
    public async Task Failure_on_the_last_try_parks_the_message_never_expiring_and_ends_normally(string function, string queue)
    {
        await storage.ResetAsync();

        await Middleware().RunAsync(function, Delivery(FinalDequeueMiddleware.HostMaxDequeueCount), Failing);

        var parked = Assert.Single(await PoisonAsync(queue));
        Assert.Equal(Message, parked.Text);
        Assert.True(parked.ExpiresOn > DateTimeOffset.UtcNow.AddYears(100), $"expires {parked.ExpiresOn}");
    }

    [Fact]
    public async Task Failure_before_the_last_try_goes_to_the_host_and_parks_nothing()
    {
        await storage.ResetAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            Middleware().RunAsync(Forward, Delivery(FinalDequeueMiddleware.HostMaxDequeueCount - 1), Failing));

        Assert.Empty(await PoisonAsync(StorageNames.WebhookQueue));
    }

    [Fact]
    public async Task Success_on_the_last_try_parks_nothing()
    {
        await storage.ResetAsync();
        var ran = false;

        await Middleware().RunAsync(Forward, Delivery(FinalDequeueMiddleware.HostMaxDequeueCount), () =>
        {
            ran = true;
            return Task.CompletedTask;
        });

        Assert.True(ran);
        Assert.Empty(await PoisonAsync(StorageNames.WebhookQueue));
    }

    [Fact]
    public async Task Http_invocations_pass_through_untouched()
    {
        await storage.ResetAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            Middleware().RunAsync("ReceiveCalWebhook", null, Failing));
        Assert.Empty(await PoisonAsync(StorageNames.WebhookQueue));
    }

    [Fact]
    public async Task When_parking_fails_too_the_failure_goes_to_the_host()
    {
        var dead = Middleware(ReceiveCalWebhookTests.DeadPort(storage.ConnectionString));
        await Assert.ThrowsAnyAsync<Exception>(() => dead.RunAsync(Forward, Delivery(FinalDequeueMiddleware.HostMaxDequeueCount), Failing));
    }
}
