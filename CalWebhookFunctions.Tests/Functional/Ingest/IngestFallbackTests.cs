using System.Net;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Ingest;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Tests.Functional.Ingest;

/// <summary>
/// Ingest with <c>Ingest__FallbackStorage</c>: two real Azurite accounts, really stopped and started again, real HTTP in
/// front (FunctionsHost) and behind (the receiving app), and the queue triggers run the way the host runs them.
/// </summary>
public class IngestFallbackTests(TwoAccountsFixture accounts) : IClassFixture<TwoAccountsFixture>
{
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(90);

    private sealed record Environment(TestApp App, FunctionsHost Host, HttpClient Client, ReceivingApp Receiver) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await Host.DisposeAsync();
            await App.DisposeAsync();
            await Receiver.DisposeAsync();
        }
    }

    private async Task<Environment> StartAsync(Action<IServiceCollection>? configureServices = null)
    {
        await accounts.ResetAsync();
        var receiver = await ReceivingApp.StartAsync();
        var app = await TestApp.StartAsync(accounts.Primary.ConnectionString, new Dictionary<string, string?>
        {
            [IngestFallback.Connection] = accounts.Fallback.ConnectionString,
            ["Forwarding:Url"] = receiver.Url.ToString(),
        }, configureServices);
        var host = await FunctionsHost.StartAsync(app.Services);
        return new Environment(app, host, host.CreateClient(), receiver);
    }

    /// <summary>Distinct events: small ones inline, every third one over the 64 KiB queue limit (its body in a blob).</summary>
    private static byte[] Body(int i) => CalDeliveries.BookingCreated(padTo: (i % 3 == 2 ? 70_000 : 1_000) + i);

    private static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpClient client, byte[] body)
    {
        using var response = await client.SendAsync(CalDeliveries.Post(body, TestApp.WebhookSecret));
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static async Task<int> CountAsync(string connectionString, string queueName)
    {
        var queue = new QueueClient(connectionString, queueName);
        return (await queue.ExistsAsync()).Value ? (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount : 0;
    }

    private static async Task<int> BlobCountAsync(string connectionString)
    {
        var container = new BlobContainerClient(connectionString, StorageNames.PayloadContainer);
        var count = 0;
        if ((await container.ExistsAsync()).Value)
        {
            await foreach (var _ in container.GetBlobsAsync())
            {
                count++;
            }
        }
        return count;
    }

    [Fact]
    public async Task Primary_stopped_mid_stream_every_delivery_is_answered_200_and_once_it_is_back_every_event_is_delivered_once()
    {
        // Waiting events in the fallback look again after 1 s (instead of 10 s), so the drain below needs no long wait.
        await using var env = await StartAsync(s => s.AddSingleton(new StorageRetryPolicy([TimeSpan.FromSeconds(1)], 300)));
        var bodies = Enumerable.Range(0, 12).Select(Body).ToList();
        var answers = new List<(HttpStatusCode Status, JsonElement Body)>();

        foreach (var body in bodies[..6])
        {
            answers.Add(await SendAsync(env.Client, body));
        }
        await accounts.Primary.StopAsync();
        try
        {
            foreach (var body in bodies[6..])
            {
                answers.Add(await SendAsync(env.Client, body));
            }

            // While the primary is down, the fallback's trigger runs (as the host would: receive, invoke, delete on success)
            // and must neither throw — every throw spends a dequeue toward the 7-day poison queue — nor lose anything.
            var mover = env.App.Get<FallbackMover>();
            var fallbackQueue = new QueueClient(accounts.Fallback.ConnectionString, StorageNames.WebhookQueue);
            foreach (var message in (await fallbackQueue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(10))).Value)
            {
                Assert.Equal(FallbackMove.RetryLater, await mover.MoveAsync(Convert.FromBase64String(message.MessageText), CancellationToken.None));
                await fallbackQueue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
        }
        finally
        {
            await accounts.Primary.RestartAsync();
        }

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.All(answers, a => Assert.Equal("accepted", a.Body.GetProperty("status").GetString()));
        Assert.Equal(6, await CountAsync(accounts.Fallback.ConnectionString, StorageNames.WebhookQueue));

        var drained = await new QueueHost(env.App.Services, accounts.Fallback.ConnectionString) { FunctionName = nameof(DrainIngestFallback) }
            .RunUntilDrainedAsync(StorageNames.WebhookQueue, Drain);
        var forwarded = await new QueueHost(env.App.Services, accounts.Primary.ConnectionString).RunUntilDrainedAsync(StorageNames.WebhookQueue, Drain);

        Assert.True(drained.Drained && forwarded.Drained);
        Assert.Equal((0, 0), (drained.Failures, drained.Poisoned));
        Assert.Equal((0, 0), (forwarded.Failures, forwarded.Poisoned));
        var expected = bodies.Select(b => OutboundSigner.WebhookId(null, b)).Order().ToList();
        Assert.Equal(expected, env.Receiver.Deliveries.Select(d => d.Header("webhook-id")).Order().ToList());
        Assert.Equal(0, await CountAsync(accounts.Fallback.ConnectionString, StorageNames.WebhookPoisonQueue));
        Assert.Equal(0, await CountAsync(accounts.Primary.ConnectionString, StorageNames.WebhookPoisonQueue));
        Assert.Equal(0, await BlobCountAsync(accounts.Fallback.ConnectionString));
    }

    [Fact]
    public async Task Both_accounts_stopped_is_503_and_nothing_is_acknowledged_or_stored()
    {
        await using var env = await StartAsync();
        await Task.WhenAll(accounts.Primary.StopAsync(), accounts.Fallback.StopAsync());
        var answers = new List<(HttpStatusCode Status, JsonElement Body)>();
        try
        {
            foreach (var body in Enumerable.Range(0, 3).Select(Body))
            {
                answers.Add(await SendAsync(env.Client, body));
            }
        }
        finally
        {
            await Task.WhenAll(accounts.Primary.RestartAsync(), accounts.Fallback.RestartAsync());
        }

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.ServiceUnavailable, a.Status));
        Assert.All(answers, a => Assert.Equal("storage_unavailable", a.Body.GetProperty("error").GetString()));
        Assert.Equal(0, await CountAsync(accounts.Primary.ConnectionString, StorageNames.WebhookQueue));
        Assert.Equal(0, await CountAsync(accounts.Fallback.ConnectionString, StorageNames.WebhookQueue));
    }

    [Fact]
    public async Task A_primary_that_hangs_is_given_up_after_its_budget_and_the_event_is_stored_in_the_fallback()
    {
        var time = new ManualTime();
        var hang = new HangingRequests(m => StorageFaults.Is(m, "POST", "/" + StorageNames.WebhookQueue + "/messages"));
        await using var env = await StartAsync(s =>
        {
            s.AddSingleton<TimeProvider>(time);
            s.AddSingleton(StorageFaults.Account(accounts.Primary.ConnectionString, queues: hang));
        });

        var sending = SendAsync(env.Client, Body(0));
        await hang.Held;
        Assert.False(sending.IsCompleted);
        time.Advance(IngestStore.PrimaryBudget);
        var (status, body) = await sending;

        Assert.Equal(HttpStatusCode.OK, status);
        var stored = Assert.Single(await HostQueueMessages.PeekDecodedAsync(accounts.Fallback.ConnectionString, StorageNames.WebhookQueue));
        Assert.Equal(body.GetProperty("id").GetString(), PendingWebhooks.Deserialize(stored).EventId);
        Assert.Equal(0, await CountAsync(accounts.Primary.ConnectionString, StorageNames.WebhookQueue));
    }

    [Fact]
    public async Task With_the_primary_up_the_fallback_is_not_touched()
    {
        await using var env = await StartAsync();

        var (status, _) = await SendAsync(env.Client, Body(2));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, await CountAsync(accounts.Primary.ConnectionString, StorageNames.WebhookQueue));
        Assert.Equal(0, await CountAsync(accounts.Fallback.ConnectionString, StorageNames.WebhookQueue));
        Assert.Equal(0, await BlobCountAsync(accounts.Fallback.ConnectionString));
    }

    [Theory]
    [InlineData("this is not a connection string", null, "Ingest__FallbackStorage")]
    [InlineData(null, "credential", "Ingest__FallbackStorage__accountName")]
    [InlineData(null, "accountName", "Ingest__FallbackStorage__accountName")]
    public async Task A_fallback_setting_that_does_not_parse_stops_the_app_naming_it(string? value, string? child, string named)
    {
        await accounts.ResetAsync();
        var settings = new Dictionary<string, string?> { [IngestFallback.Connection] = value };
        if (child is not null)
        {
            // "credential" alone names no account; "accountName" with a value no storage account can have.
            settings[IngestFallback.Connection + ":" + child] = child == "credential" ? "managedidentity" : "Not_An-Account!";
        }
        var failure = await Record.ExceptionAsync(async () =>
        {
            await using var app = await TestApp.StartAsync(accounts.Primary.ConnectionString, settings);
        });

        Assert.NotNull(failure);
        Assert.Contains(named, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_identity_based_fallback_setting_is_read_like_AzureWebJobsStorage()
    {
        await accounts.ResetAsync();
        await using var app = await TestApp.StartAsync(accounts.Primary.ConnectionString, new Dictionary<string, string?>
        {
            [IngestFallback.Connection + ":accountName"] = "calwebhooksfallback",
            [IngestFallback.Connection + ":credential"] = "managedidentity",
        });

        var fallback = app.Get<IngestFallback>().Account;
        Assert.NotNull(fallback);
        Assert.Equal(new Uri("https://calwebhooksfallback.queue.core.windows.net"), fallback.Endpoints.Queue);
    }

    /// <summary>Requests that <c>hang</c> matches never get an answer: they wait until the caller cancels them.</summary>
    private sealed class HangingRequests(Func<Azure.Core.HttpMessage, bool> hang) : Azure.Core.Pipeline.HttpPipelinePolicy
    {
        private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Held => _held.Task;

        public override void Process(Azure.Core.HttpMessage message, ReadOnlyMemory<Azure.Core.Pipeline.HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The app's storage calls are asynchronous.");

        public override async ValueTask ProcessAsync(Azure.Core.HttpMessage message, ReadOnlyMemory<Azure.Core.Pipeline.HttpPipelinePolicy> pipeline)
        {
            if (hang(message))
            {
                _held.TrySetResult();
                await Task.Delay(Timeout.InfiniteTimeSpan, message.CancellationToken);
            }
            await ProcessNextAsync(message, pipeline);
        }
    }
}
