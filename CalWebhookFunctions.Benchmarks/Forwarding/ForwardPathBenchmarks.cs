using System.Net.Http.Headers;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using BenchmarkDotNet.Attributes;
using CalWebhookFunctions.Benchmarks.Infrastructure;
using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Storage;

namespace CalWebhookFunctions.Benchmarks.Forwarding;

/// <summary>
/// The forward path in process — dequeue, match the connection in CalConnections, write the envelope, sign, POST to a
/// Kestrel receiver on 127.0.0.1, record the delivery in CalDeliveries, delete — by invoking <see cref="ForwardCalWebhook"/>
/// from a loop that reads Azurite as the Functions host does (<see cref="QueueTriggerLoop"/>). Its floor runs the same
/// loop over the same messages doing only a bare POST of the same envelope bytes to the same receiver (plus the loop's
/// dequeue/delete). Goal: throughput at least 0.8× the floor.
/// A third case, "floor + 3 table calls", adds to the floor exactly the storage round trips the forward path is designed
/// to make (claim the webhook-id, read the connection, mark delivered) with bare TableClient calls: the difference
/// between it and the forward path is the app's own overhead.
/// Each invocation handles <see cref="Events"/> events of 2 KiB; times are per event.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
[InvocationCount(1)]
public class ForwardPathBenchmarks
{
    public const int Events = 64;
    private const int BodyBytes = 2 * 1024;

    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private RelayUnderTest? _relay;
    private QueueClient? _appQueue;
    private QueueClient? _floorQueue;
    private TableClient? _ledgerFloor;
    private TableClient? _connections;
    private ForwardCalWebhook? _function;
    private HttpClient? _http;
    private byte[] _template = [];
    private byte[] _envelope = [];
    private int _expectedReceived;

    [Params(1, 16)]
    public int Concurrency { get; set; }

    /// <summary>
    /// <c>loopback</c>: Azurite and the receiver as fast as loopback allows. <c>realistic</c>: every storage request
    /// (the app's and the queue loop's) delayed by <see cref="RealisticStorageDelay"/> and the app answering each
    /// forward after <see cref="RealisticAppDelay"/>, as on Azure with an app that does some work per event.
    /// </summary>
    [Params("loopback", "realistic")]
    public string Latency { get; set; } = "loopback";

    public static readonly TimeSpan RealisticStorageDelay = TimeSpan.FromMilliseconds(4);
    public static readonly TimeSpan RealisticAppDelay = TimeSpan.FromMilliseconds(50);

    private long _requestsBefore;
    private long _requests;
    private long _events;

    /// <summary>Storage requests sent so far by the app and the loop (for <see cref="ForwardCpu"/>).</summary>
    internal long RequestsSoFar => _relay!.Meter.Requests;

    /// <summary>Writes the delivered marks and log entries still riding, so that an invocation pays for its own.</summary>
    internal Task FlushMarksAsync() => _relay!.Get<DeliveryMarks>().FlushAsync();

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    /// <summary>
    /// The per-target cap (<c>Forwarding__MaxConcurrentPerTarget</c>, 8 by default) raised to this benchmark's highest
    /// concurrency: every event goes to one receiver, and the floor POSTs 16 at once, so with the default the path would
    /// be measured at half the floor's concurrency (a policy the operator sets, not a cost of the path).
    /// </summary>
    private static readonly KeyValuePair<string, string?>[] Settings = [new("Forwarding:MaxConcurrentPerTarget", "16")];

    private async Task SetupAsync()
    {
        _relay = Latency == "realistic"
            ? await RelayUnderTest.StartAsync(RealisticStorageDelay, RealisticAppDelay, Settings)
            : await RelayUnderTest.StartAsync(settings: Settings);
        _template = RelayUnderTest.Template(BodyBytes);
        _appQueue = _relay.Queues.GetQueueClient(StorageNames.WebhookQueue);
        _floorQueue = _relay.Queues.GetQueueClient("floor-forward");
        await _appQueue.CreateIfNotExistsAsync();
        await _floorQueue.CreateIfNotExistsAsync();
        var storage = _relay.Get<StorageAccount>();
        _ledgerFloor = storage.Table("FloorLedger");
        await _ledgerFloor.CreateIfNotExistsAsync();
        _connections = storage.Table(StorageNames.ConnectionsTable);
        _function = new ForwardCalWebhook(_relay.Get<WebhookForwarder>());
        _http = _relay.Get<IHttpClientFactory>().CreateClient(WebhookForwarder.HttpClientName);
        _envelope = _relay.Get<ForwardEnvelope>().Write(RelayUnderTest.ConnectionId, _template, payloadIsJson: true);

        // Warm both paths once (creates CalDeliveries, opens connections, JITs).
        await FillAsync(_appQueue, 1);
        await QueueTriggerLoop.RunAsync(_appQueue, 1, 1, text => _function.Run(text, CancellationToken.None));
        await FillAsync(_floorQueue, 1);
        await QueueTriggerLoop.RunAsync(_floorQueue, 1, 1, _ => PostAsync());
        _expectedReceived = _relay.Received;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        // Storage requests per event of the measured invocations (the queue loop's receive and delete included).
        Console.WriteLine(FormattableString.Invariant(
            $"// storage requests per event: {(_events == 0 ? 0 : (double)_requests / _events):F2} ({_requests} / {_events}; concurrency {Concurrency}, {Latency})"));
        _relay?.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [IterationSetup(Targets = [nameof(Floor), nameof(FloorPlusTableCalls)])]
    public void FillFloorQueue() => FillAsync(_floorQueue!, Events).GetAwaiter().GetResult();

    [IterationSetup(Target = nameof(ForwardPath))]
    public void FillAppQueue() => FillAsync(_appQueue!, Events).GetAwaiter().GetResult();

    [IterationCleanup]
    public void CheckEveryEventWasPosted()
    {
        _requests += _relay!.Meter.Requests - _requestsBefore;
        _events += Events;
        _expectedReceived += Events;
        if (_relay!.Received != _expectedReceived)
        {
            throw new InvalidOperationException($"The receiver got {_relay.Received} requests, expected {_expectedReceived}.");
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Events, Description = "floor: dequeue/delete + bare POST")]
    public Task Floor() => QueueTriggerLoop.RunAsync(_floorQueue!, Events, Concurrency, _ => PostAsync());

    [Benchmark(OperationsPerInvoke = Events, Description = "floor + 3 table calls (claim, match, mark)")]
    public Task FloorPlusTableCalls() => QueueTriggerLoop.RunAsync(_floorQueue!, Events, Concurrency, async _ =>
    {
        var key = Guid.NewGuid().ToString("N");
        await _ledgerFloor!.AddEntityAsync(new TableEntity(key, "delivery") { ["State"] = "sending" });
        await _connections!.GetEntityIfExistsAsync<TableEntity>(
            Connections.ConnectionRecord.PartitionKeyFor(RelayUnderTest.ConnectionId), Connections.ConnectionRecord.RowKeyValue);
        await PostAsync();
        await _ledgerFloor.UpsertEntityAsync(new TableEntity(key, "delivery") { ["State"] = "delivered" }, TableUpdateMode.Replace);
    });

    /// <summary>
    /// The path, and then the delivered marks and log entries its events left riding (<c>DeliveryLedger.MarkRide</c>): an
    /// invocation pays for its own. Without the flush they would go some 250 ms after the first event, between
    /// iterations or in the next one, and part of their storage cost would fall outside any measured time.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Events, Description = "forward path (ForwardCalWebhook)")]
    public async Task ForwardPath()
    {
        await QueueTriggerLoop.RunAsync(_appQueue!, Events, Concurrency, text => _function!.Run(text, CancellationToken.None));
        await FlushMarksAsync();
    }

    private async Task PostAsync()
    {
        using var content = new ByteArrayContent(_envelope);
        content.Headers.ContentType = Json;
        using var response = await _http!.PostAsync(_relay!.ReceiverUrl, content);
        response.EnsureSuccessStatusCode();
    }

    private async Task FillAsync(QueueClient queue, int count)
    {
        await QueueTriggerLoop.FillAsync(queue, [.. Enumerable.Range(0, count)
            .Select(_ => PendingWebhooks.Serialize(RelayUnderTest.Event(_relay!.UniqueBody(_template))))]);
        _requestsBefore = _relay!.Meter.Requests;
    }
}
