using Azure.Storage.Queues;
using BenchmarkDotNet.Attributes;
using CalWebhookFunctions.Benchmarks.Infrastructure;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Messages;
using CalWebhookFunctions.Storage;

namespace CalWebhookFunctions.Benchmarks.Forwarding;

/// <summary>
/// Issue 14: a healthy target's delivery rate beside a failing one. Both share the instance's queue and its 16 slots,
/// with realistic latency (each storage request +4 ms, both apps answering after 50 ms; the failing one answers 503).
/// <list type="bullet">
/// <item>Floor — the healthy target alone: <see cref="Events"/> of its events through the forward path.</item>
/// <item>Beside a failing target — the same events interleaved with as many for a target that answers 503; the
/// iteration ends when every one of the 2 × <see cref="Events"/> messages has been handled. Time is still per
/// <em>healthy</em> event: the ratio is the healthy target's rate with the neighbour over its rate alone.</item>
/// </list>
/// <c>Forwarding__MaxConcurrentPerTarget</c> is 16, the loop's concurrency, so the cap never bounces a healthy event
/// (with the default 8, half of each 16-message batch to one target would wait 2 s in both cases alike).
/// <see cref="Breaker"/> <c>on</c> is the app's default (the failing target's breaker opened during setup, so its events
/// are held at once); <c>off</c> sets <c>Forwarding__BreakerFailures</c> out of reach, so each of its events spends an
/// attempt (claim, a 50 ms POST that fails, the retry copy) — what the breaker saves.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
[InvocationCount(1)]
public class FailingNeighbourBenchmarks
{
    public const int Events = 64;
    private const string FailingConnection = "tenant-down/prod";

    private RelayUnderTest? _relay;
    private QueueClient? _queue;
    private ForwardCalWebhook? _function;
    private byte[] _template = [];
    private int _expectedReceived;

    [Params("on", "off")]
    public string Breaker { get; set; } = "on";

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    private async Task SetupAsync()
    {
        _relay = await RelayUnderTest.StartAsync(ForwardPathBenchmarks.RealisticStorageDelay, ForwardPathBenchmarks.RealisticAppDelay,
        [
            new("Forwarding:BreakerFailures", Breaker == "on" ? "5" : "1000"),
            new("Forwarding:RetrySchedule", "1m"), // retry copies stay out of the measured iteration
            // As many per target as the loop runs at once: no healthy event is bounced, so only the neighbour differs.
            new("Forwarding:MaxConcurrentPerTarget", "16"),
        ]);
        await RelayUnderTest.RegisterConnectionAsync(_relay.Get<ConnectionStore>(), FailingConnection, _relay.FailingUrl);
        _template = RelayUnderTest.Template(2 * 1024);
        _queue = _relay.Queues.GetQueueClient(StorageNames.WebhookQueue);
        await _queue.CreateIfNotExistsAsync();
        _function = new ForwardCalWebhook(_relay.Get<WebhookForwarder>());

        // Warm up, and let the failing target fail enough times to open its breaker (when on).
        await FillAsync(healthy: 2, failing: 8);
        await QueueTriggerLoop.RunAsync(_queue, 10, 1, text => _function.Run(text, CancellationToken.None));
        await _queue.ClearMessagesAsync();
        _expectedReceived = _relay.Received;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Console.WriteLine($"// breaker {Breaker}: the failing target was sent {_relay?.Refused} forwards in all");
        _relay?.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [IterationSetup(Target = nameof(HealthyAlone))]
    public void FillHealthy() => FillAsync(Events, 0).GetAwaiter().GetResult();

    [IterationSetup(Target = nameof(BesideAFailingTarget))]
    public void FillBoth() => FillAsync(Events, Events).GetAwaiter().GetResult();

    [IterationCleanup]
    public void CheckAndClear()
    {
        _expectedReceived += Events;
        if (_relay!.Received != _expectedReceived)
        {
            throw new InvalidOperationException($"The healthy app got {_relay.Received} forwards, expected {_expectedReceived}.");
        }
        _queue!.ClearMessagesAsync().GetAwaiter().GetResult(); // the failing target's retry copies and held events
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Events, Description = "healthy target alone")]
    public Task HealthyAlone() => QueueTriggerLoop.RunAsync(_queue!, Events, 16, text => _function!.Run(text, CancellationToken.None));

    [Benchmark(OperationsPerInvoke = Events, Description = "healthy target beside a failing one")]
    public Task BesideAFailingTarget() => QueueTriggerLoop.RunAsync(_queue!, 2 * Events, 16, text => _function!.Run(text, CancellationToken.None));

    /// <summary>Healthy and failing events interleaved, as one queue receives them.</summary>
    private Task FillAsync(int healthy, int failing) =>
        QueueTriggerLoop.FillAsync(_queue!, [.. Enumerable.Range(0, Math.Max(healthy, failing)).SelectMany(i => new[]
            {
                i < healthy ? RelayUnderTest.Event(_relay!.UniqueBody(_template)) : null,
                i < failing ? RelayUnderTest.Event(_relay!.UniqueBody(_template), FailingConnection) : null,
            })
            .OfType<QueuedWebhook>()
            .Select(PendingWebhooks.Serialize)]);
}
