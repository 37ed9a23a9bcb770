using System.Security.Cryptography;
using System.Text;
using Azure.Storage.Queues;
using BenchmarkDotNet.Attributes;
using CalWebhookFunctions.Benchmarks.Payloads;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Ingest;
using CalWebhookFunctions.Messages;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Benchmarks.Ingest;

/// <summary>
/// The receive path in process — read the body, verify, resolve the connection, enqueue to Azurite — against
/// its floor: a bare <c>QueueClient.SendMessageAsync</c> of the same message bytes, at the same concurrency.
/// Goal: throughput at least 0.85× the floor. One invocation is <see cref="Operations"/> deliveries of a realistic
/// 2 KiB Cal.com body, shared among <see cref="Concurrency"/> workers that each do their share in a row; times are
/// per delivery, so throughput ratio = 1 / time ratio (the "Throughput vs floor" column).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class ReceivePathBenchmarks
{
    public const int Operations = 128;
    private const string Secret = "benchmark-integration-secret";

    private Azurite? _azurite;
    private Azurite? _fallbackAzurite;
    private ServiceProvider? _services;
    private ServiceProvider? _servicesWithFallback;
    private WebhookIngestor? _ingestor;
    private WebhookIngestor? _ingestorWithFallback;
    private QueueClient? _floorQueue;
    private QueueClient? _appQueue;
    private byte[] _body = [];
    private string _signature = "";
    private BinaryData _floorMessage = BinaryData.Empty;

    [Params(1, 16)]
    public int Concurrency { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _azurite = Azurite.StartAsync().GetAwaiter().GetResult();
        _fallbackAzurite = Azurite.StartAsync().GetAwaiter().GetResult();
        var settings = new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = _azurite.ConnectionString,
            ["CalCom:WebhookSecret"] = Secret,
            ["Webhook:PublicUrl"] = "https://relay.example.test/api/webhooks/cal",
            ["Forwarding:Url"] = "http://127.0.0.1:9/",
            ["Forwarding:SigningSecret"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        _services = new ServiceCollection().AddLogging().AddCalWebhookFunctions(configuration).BuildServiceProvider();
        _ingestor = _services.GetRequiredService<WebhookIngestor>();
        // The same app with Ingest__FallbackStorage set (to a second, healthy-but-unused account): the primary still takes
        // every event, so this measures what the fallback costs while it is not needed.
        settings["Ingest:FallbackStorage"] = _fallbackAzurite.ConnectionString;
        var withFallback = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        _servicesWithFallback = new ServiceCollection().AddLogging().AddCalWebhookFunctions(withFallback).BuildServiceProvider();
        _ingestorWithFallback = _servicesWithFallback.GetRequiredService<WebhookIngestor>();

        _body = CalPayloads.BookingCreated(2 * 1024);
        // Signed as Cal.com signs for conn-1 under the default connection-bound secrets: with its derived secret.
        _signature = Convert.ToHexStringLower(HMACSHA256.HashData(
            Encoding.UTF8.GetBytes(_services.GetRequiredService<WebhookSecrets>().SubscriptionSecretFor("conn-1")), _body));

        // The floor sends exactly what the receive path sends: the serialized queue message.
        _floorMessage = new BinaryData(PendingWebhooks.Serialize(new QueuedWebhook
        {
            EventId = Guid.CreateVersion7().ToString("N"),
            ReceivedAt = DateTimeOffset.UtcNow,
            ConnectionId = "conn-1",
            Headers = new Dictionary<string, string>
            {
                ["Content-Type"] = "application/json",
                ["X-Cal-Signature-256"] = _signature,
                ["X-Cal-Webhook-Version"] = "2021-10-20",
            },
            BodyLength = _body.Length,
            Body = _body,
        }));
        _floorQueue = new QueueClient(_azurite.ConnectionString, "floor-" + StorageNames.WebhookQueue,
            new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        _floorQueue.CreateIfNotExists();
        _appQueue = _services.GetRequiredService<StorageAccount>().Queue(StorageNames.WebhookQueue);
        // Warm the app's queue (created on first use).
        Receive(_ingestor).GetAwaiter().GetResult();
        Receive(_ingestorWithFallback).GetAwaiter().GetResult();
    }

    /// <summary>Keeps Azurite in a steady state: neither queue grows from one iteration to the next.</summary>
    [IterationCleanup]
    public void EmptyQueues()
    {
        _floorQueue!.ClearMessages();
        _appQueue!.ClearMessages();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _services?.Dispose();
        _servicesWithFallback?.Dispose();
        _azurite?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _fallbackAzurite?.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations, Description = "floor: QueueClient.SendMessageAsync")]
    public Task Floor() => RunConcurrently(() => _floorQueue!.SendMessageAsync(_floorMessage));

    [Benchmark(OperationsPerInvoke = Operations, Description = "receive path (read, verify, resolve, enqueue)")]
    public Task ReceivePath() => RunConcurrently(() => Receive(_ingestor!));

    [Benchmark(OperationsPerInvoke = Operations, Description = "receive path, Ingest__FallbackStorage set but unused")]
    public Task ReceivePathWithFallback() => RunConcurrently(() => Receive(_ingestorWithFallback!));

    private async Task Receive(WebhookIngestor ingestor)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.QueryString = new QueryString("?nangoConnectionId=conn-1");
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = _body.Length;
        context.Request.Headers["X-Cal-Signature-256"] = _signature;
        context.Request.Headers["X-Cal-Webhook-Version"] = "2021-10-20";
        context.Request.Body = new MemoryStream(_body, writable: false);
        var outcome = await ingestor.IngestAsync(context.Request, CancellationToken.None);
        if (outcome.Status != IngestStatus.Accepted)
        {
            throw new InvalidOperationException($"Benchmark delivery was not accepted: {outcome.Status}");
        }
    }

    /// <summary>Concurrency workers, each doing its share of the operations one after another.</summary>
    private Task RunConcurrently(Func<Task> operation) =>
        Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
        {
            for (var i = 0; i < Operations / Concurrency; i++)
            {
                await operation();
            }
        }));
}
