using System.Text;
using Azure.Storage.Queues;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Functional.Ingest;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Logging.Abstractions;

namespace CalWebhookFunctions.Tests.Functional.Storage;

/// <summary>
/// The host parks a message after maxDequeueCount failures with a 7-day time-to-live; the middleware parks it first,
/// never expiring, on that last try — against real Azurite, with the real functions' trigger attributes.
/// </summary>
public class FinalDequeueMiddlewareTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private const string ForwardEntryPoint = "CalWebhookFunctions.Forwarding.ForwardCalWebhook.Run";
    private const string CleanupEntryPoint = "CalWebhookFunctions.Subscriptions.CleanUpSubscription.Run";
    private const string Message = """{"v":1,"eventId":"0197abc","note":"Café"}""";

    private static FakeFunctionContext Invocation(string entryPoint, int dequeueCount, string trigger = "queueTrigger") =>
        new(trigger, new Dictionary<string, object?> { ["QueueTrigger"] = Message, ["DequeueCount"] = $"{dequeueCount}" }, entryPoint);

    private FinalDequeueMiddleware Middleware(string? connectionString = null) =>
        new(StorageAccount.FromConnectionString(connectionString ?? storage.ConnectionString), NullLogger<FinalDequeueMiddleware>.Instance);

    private static FunctionExecutionDelegate Failing => _ => throw new InvalidOperationException("table storage is down");

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
    [InlineData(ForwardEntryPoint, StorageNames.WebhookQueue)]
    [InlineData(CleanupEntryPoint, StorageNames.CleanupQueue)]
    public void Queue_names_come_from_the_functions_trigger_attributes(string entryPoint, string queue)
    {
        Assert.Equal(queue, FinalDequeueMiddleware.QueueNameOf(entryPoint));
    }

    [Fact]
    public void Http_functions_have_no_queue()
    {
        Assert.Null(FinalDequeueMiddleware.QueueNameOf("CalWebhookFunctions.Ingest.ReceiveCalWebhook.Run"));
    }

    [Theory]
    [InlineData(ForwardEntryPoint, StorageNames.WebhookQueue)]
    [InlineData(CleanupEntryPoint, StorageNames.CleanupQueue)]
    public async Task Failure_on_the_last_try_parks_the_message_never_expiring_and_ends_normally(string entryPoint, string queue)
    {
        await storage.ResetAsync();

        await Middleware().Invoke(Invocation(entryPoint, FinalDequeueMiddleware.HostMaxDequeueCount), Failing);

        var parked = Assert.Single(await PoisonAsync(queue));
        Assert.Equal(Message, parked.Text);
        Assert.True(parked.ExpiresOn > DateTimeOffset.UtcNow.AddYears(100), $"expires {parked.ExpiresOn}");
    }

    [Fact]
    public async Task Failure_before_the_last_try_goes_to_the_host_and_parks_nothing()
    {
        await storage.ResetAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            Middleware().Invoke(Invocation(ForwardEntryPoint, FinalDequeueMiddleware.HostMaxDequeueCount - 1), Failing));

        Assert.Empty(await PoisonAsync(StorageNames.WebhookQueue));
    }

    [Fact]
    public async Task Success_on_the_last_try_parks_nothing()
    {
        await storage.ResetAsync();
        var ran = false;

        await Middleware().Invoke(Invocation(ForwardEntryPoint, FinalDequeueMiddleware.HostMaxDequeueCount), _ =>
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
            Middleware().Invoke(Invocation("CalWebhookFunctions.Ingest.ReceiveCalWebhook.Run", 9, "httpTrigger"), Failing));
        Assert.Empty(await PoisonAsync(StorageNames.WebhookQueue));
    }

    [Fact]
    public async Task When_parking_fails_too_the_failure_goes_to_the_host()
    {
        var dead = Middleware(ReceiveCalWebhookTests.DeadPort(storage.ConnectionString));
        await Assert.ThrowsAnyAsync<Exception>(() => dead.Invoke(Invocation(ForwardEntryPoint, FinalDequeueMiddleware.HostMaxDequeueCount), Failing));
    }
}
