using System.Diagnostics;
using System.Globalization;
using System.Text;
using CalWebhookFunctions.Benchmarks.Infrastructure;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Ingest;
using CalWebhookFunctions.Storage;
using Microsoft.AspNetCore.Http;

namespace CalWebhookFunctions.Benchmarks.Memory;

/// <summary>
/// <c>-- memory</c>: the whole relay in this process (Azurite and the receiver as in the forward benchmark) while
/// (1) 1,000 deliveries of 16 KiB go through receive → forward, and (2) one 1 MiB delivery does (its body goes through
/// a blob). Reports the peak working set of this process during each scenario (sampled every 5 ms, plus the OS's
/// PeakWorkingSet64 at the end), the working set before it, and managed bytes allocated per event by each phase
/// (GC.GetTotalAllocatedBytes, precise). Azurite runs in its own node process and is not counted. Also 1,000 and 10,000
/// deliveries of 2 KiB, with what each leaves on the managed heap after a full collection: memory per event must not
/// grow with the number of events.
/// </summary>
public static class MemoryAtScale
{
    private const int Events = 1000;
    private const int ManyEvents = 10_000;
    private const int SmallBody = 16 * 1024;
    private const int TypicalBody = 2 * 1024;
    private const int LargeBody = 1024 * 1024;
    private const int Concurrency = 16;

    public static async Task<int> RunAsync()
    {
        await using var relay = await RelayUnderTest.StartAsync();
        var ingestor = relay.Get<WebhookIngestor>();
        var function = new ForwardCalWebhook(relay.Get<WebhookForwarder>());
        var queue = relay.Queues.GetQueueClient(StorageNames.WebhookQueue);
        // The connection's derived secret, as Cal.com signs for it under the default connection-bound secrets.
        var key = Encoding.UTF8.GetBytes(relay.Get<WebhookSecrets>().SubscriptionSecretFor(RelayUnderTest.ConnectionId));

        // Warm up: a few events of each size through both paths, so JIT and connection pools are not counted.
        var small = RelayUnderTest.Template(SmallBody);
        var typical = RelayUnderTest.Template(TypicalBody);
        var large = RelayUnderTest.Template(LargeBody);
        foreach (var template in new[] { small, small, small, large })
        {
            await ReceiveAsync(ingestor, relay.UniqueBody(template), key);
        }
        await QueueTriggerLoop.RunAsync(queue, 4, Concurrency, text => function.Run(text, CancellationToken.None));

        var rows = new List<Result>
        {
            await MeasureAsync(relay, $"{Events:N0} × 16 KiB", Events, SmallBody, [.. Enumerable.Range(0, Events).Select(_ => relay.UniqueBody(small))],
                ingestor, function, key),
            await MeasureAsync(relay, "1 × 1 MiB", 1, LargeBody, [relay.UniqueBody(large)], ingestor, function, key),
            await MeasureAsync(relay, $"{Events:N0} × 2 KiB", Events, TypicalBody, [.. Enumerable.Range(0, Events).Select(_ => relay.UniqueBody(typical))],
                ingestor, function, key),
            await MeasureAsync(relay, $"{ManyEvents:N0} × 2 KiB", ManyEvents, TypicalBody, [.. Enumerable.Range(0, ManyEvents).Select(_ => relay.UniqueBody(typical))],
                ingestor, function, key),
        };

        var process = Process.GetCurrentProcess();
        process.Refresh();
        Console.WriteLine();
        Console.WriteLine("| Scenario | Working set before | Peak working set (sampled) | Peak − before | Receive: allocated / event | Forward: allocated / event | Allocated / body byte | Heap left after a full GC − before | Receive → forward time |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var row in rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {row.Name} | {Mb(row.Before)} | {Mb(row.Peak)} | {Mb(row.Peak - row.Before)} | {Kb(row.ReceiveAllocated / row.Events)} | " +
                $"{Kb(row.ForwardAllocated / row.Events)} | {(double)(row.ReceiveAllocated + row.ForwardAllocated) / row.Events / row.BodyBytes:0.0} | " +
                $"{Kb(row.HeapLeft)} | " +
                $"{row.Receive.TotalSeconds:0.00} s + {row.Forward.TotalSeconds:0.00} s |"));
        }
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Process.PeakWorkingSet64 at the end: {Mb(process.PeakWorkingSet64)}; GC heap now: {Mb(GC.GetGCMemoryInfo().HeapSizeBytes)}; " +
            $"server GC: {System.Runtime.GCSettings.IsServerGC}; cores: {Environment.ProcessorCount}."));
        return 0;
    }

    private sealed record Result(string Name, int Events, int BodyBytes, long Before, long Peak, long ReceiveAllocated, long ForwardAllocated,
        TimeSpan Receive, TimeSpan Forward, long HeapLeft);

    private static async Task<Result> MeasureAsync(RelayUnderTest relay, string name, int events, int bodyBytes, byte[][] bodies,
        WebhookIngestor ingestor, ForwardCalWebhook function, byte[] key)
    {
        var queue = relay.Queues.GetQueueClient(StorageNames.WebhookQueue);
        var receivedBefore = relay.Received;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var before = WorkingSet();
        using var sampler = new PeakSampler();

        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(bodies, new ParallelOptions { MaxDegreeOfParallelism = Concurrency },
            async (body, _) => await ReceiveAsync(ingestor, body, key));
        var receive = clock.Elapsed;
        var receiveAllocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;

        allocated = GC.GetTotalAllocatedBytes(precise: true);
        clock.Restart();
        await QueueTriggerLoop.RunAsync(queue, events, Concurrency, text => function.Run(text, CancellationToken.None));
        var forward = clock.Elapsed;
        var forwardAllocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        var peak = sampler.Stop();

        if (relay.Received - receivedBefore != events)
        {
            throw new InvalidOperationException($"{name}: the receiver got {relay.Received - receivedBefore} forwards, expected {events}.");
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: receive {receive.TotalSeconds:0.00} s ({events / receive.TotalSeconds:0} events/s), forward {forward.TotalSeconds:0.00} s " +
            $"({events / forward.TotalSeconds:0} events/s), peak working set {Mb(peak)} (before {Mb(before)})"));
        await relay.Get<DeliveryMarks>().FlushAsync(); // the background marks are written, not pending
        GC.KeepAlive(bodies);
        var heapLeft = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;
        return new Result(name, events, bodyBytes, before, peak, receiveAllocated, forwardAllocated, receive, forward, heapLeft);
    }

    /// <summary>One Cal.com POST through the real ingestor, as ReceiveCalWebhook hands it over.</summary>
    private static async Task ReceiveAsync(WebhookIngestor ingestor, byte[] body, byte[] key)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.QueryString = new QueryString("?nangoConnectionId=" + Uri.EscapeDataString(RelayUnderTest.ConnectionId));
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = body.Length;
        context.Request.Headers[CalSignature.HeaderName] = CalSignature.Sign(body, key);
        context.Request.Headers["X-Cal-Webhook-Version"] = "2021-10-20";
        context.Request.Body = new MemoryStream(body, writable: false);
        var outcome = await ingestor.IngestAsync(context.Request, CancellationToken.None);
        if (outcome.Status != IngestStatus.Accepted)
        {
            throw new InvalidOperationException($"A delivery was not accepted: {outcome.Status}.");
        }
    }

    private static long WorkingSet()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }

    private static string Mb(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.0} MiB");

    private static string Kb(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB");

    /// <summary>Samples this process's working set every 5 ms on its own thread until stopped; returns the largest seen.</summary>
    private sealed class PeakSampler : IDisposable
    {
        private readonly Thread _thread;
        private volatile bool _stop;
        private long _peak;

        public PeakSampler()
        {
            _peak = WorkingSet();
            _thread = new Thread(() =>
            {
                using var process = Process.GetCurrentProcess();
                while (!_stop)
                {
                    process.Refresh();
                    _peak = Math.Max(_peak, process.WorkingSet64);
                    Thread.Sleep(5);
                }
            }) { IsBackground = true, Name = "working-set sampler" };
            _thread.Start();
        }

        public long Stop()
        {
            _stop = true;
            _thread.Join();
            return Math.Max(_peak, WorkingSet());
        }

        public void Dispose()
        {
            if (!_stop)
            {
                Stop();
            }
        }
    }
}
