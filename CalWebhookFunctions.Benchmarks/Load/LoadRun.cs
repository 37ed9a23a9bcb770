using System.Diagnostics;
using System.Globalization;
using System.Text;
using CalWebhookFunctions.Benchmarks.Infrastructure;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Ingest;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Benchmarks.Load;

/// <summary>
/// <c>-- load [--count 10000] …</c> (see <see cref="LoadOptions"/>): issue 10's volume run in one process, bounded.
/// The app's real services over a fresh Azurite; <c>ReceiveCalWebhook</c> served by Kestrel on 127.0.0.1;
/// <c>ForwardCalWebhook</c> driven by <see cref="HostQueueListener"/> as the host drives it; a receiving app that
/// fails a share of requests. Senders post, then the run waits until every acknowledged event was delivered or the
/// bound is reached, and prints the figures: acks, timeouts, ack latency against the reject path's, delivered once
/// and duplicates, drain rate and time, and storage requests per delivered event by kind.
/// </summary>
public static class LoadRun
{
    public static string ConnectionId(int index) => string.Create(CultureInfo.InvariantCulture, $"load-tenant-{index}");

    public static async Task<int> RunAsync(string[] args)
    {
        var options = LoadOptions.Parse(args);
        Console.WriteLine($"load: {options}");
        Console.WriteLine($"Azurite: {AzuritePatch.Describe()}; load average before: {LoadAverage()}");
        using var storageRequests = new StorageRequestCounter();
        using var tally = new MetricTally();
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(options.MaxSeconds));
        await using var azurite = await Azurite.StartAsync();
        await using var receiver = await FlakyReceiver.StartAsync(options.FailureRate);
        var configuration = RelayUnderTest.AppConfiguration(azurite.ConnectionString, receiver.Url,
            [new("Forwarding:RetrySchedule", options.RetrySchedule)]);
        await using var services = new ServiceCollection().AddLogging(LoadLog.Configure).AddCalWebhookFunctions(configuration).BuildServiceProvider();
        var connections = services.GetRequiredService<ConnectionStore>();
        for (var i = 0; i < options.Connections; i++)
        {
            await RelayUnderTest.RegisterConnectionAsync(connections, ConnectionId(i));
        }

        var ingest = ActivatorUtilities.CreateInstance<ReceiveCalWebhook>(services);
        await using var app = await LoopbackServer.StartAsync(web => web.MapPost("/api/webhooks/cal", async (HttpContext context) =>
        {
            var result = await ingest.Run(context.Request, context.RequestAborted);
            await result.ExecuteAsync(context);
        }));
        var forward = ActivatorUtilities.CreateInstance<ForwardCalWebhook>(services);
        var storage = services.GetRequiredService<StorageAccount>();
        var queue = storage.RawQueue(StorageNames.WebhookQueue);
        await queue.CreateIfNotExistsAsync();
        var listener = new HostQueueListener(queue, storage.RawQueue(StorageNames.WebhookQueue + DeadLetters.PoisonSuffix),
            text => forward.Run(text, CancellationToken.None));

        var secrets = services.GetRequiredService<WebhookSecrets>();
        var senders = new LoadSenders(options, new Uri(app.BaseAddress, "api/webhooks/cal"),
            connectionId => Encoding.UTF8.GetBytes(secrets.SubscriptionSecretFor(connectionId)));
        var requestsBefore = storageRequests.Total;
        var kindsBefore = storageRequests.ByKind().ToDictionary(k => k.Kind);
        var cpuBefore = ProcessCpu.Now();
        var started = Stopwatch.GetTimestamp();
        if (!options.HoldForwards)
        {
            listener.Start();
        }
        using var progress = StartProgress(started, senders, receiver, listener, storageRequests, tally);
        await senders.RunAsync(bound.Token);
        var sendEnded = Stopwatch.GetTimestamp();
        if (options.HoldForwards)
        {
            listener.Start();
        }
        while (!bound.IsCancellationRequested && senders.AckedIds.Keys.Any(id => !receiver.DeliveredById.ContainsKey(id)))
        {
            await Task.Delay(100, CancellationToken.None);
        }
        var drained = !senders.AckedIds.Keys.Any(id => !receiver.DeliveredById.ContainsKey(id));
        // A little longer, so a duplicate sent after the last first delivery is still seen.
        await Task.Delay(TimeSpan.FromSeconds(drained ? 3 : 0), CancellationToken.None);
        var cpu = ProcessCpu.Now().Since(cpuBefore);
        var ended = Stopwatch.GetTimestamp();
        await listener.StopAsync();
        await progress.DisposeAsync();

        LoadReport.Print(new LoadReport.Figures(options, senders, receiver, listener, started, sendEnded, ended, drained,
            storageRequests.Total - requestsBefore,
            [.. storageRequests.ByKind().Select(k => kindsBefore.TryGetValue(k.Kind, out var b)
                ? k with { Requests = k.Requests - b.Requests, NotFound = k.NotFound - b.NotFound, Seconds = k.Seconds - b.Seconds }
                : k)],
            cpu, LoadAverage()));
        return drained ? 0 : 1;
    }

    private static Timer StartProgress(long started, LoadSenders senders, FlakyReceiver receiver, HostQueueListener listener,
        StorageRequestCounter storageRequests, MetricTally tally) =>
        new(_ => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {Stopwatch.GetElapsedTime(started).TotalSeconds,5:F0} s: sent {senders.Attempted:N0}, acked {senders.Acked:N0}, timeouts {senders.Timeouts}, " +
            $"forwards {listener.Invocations:N0} (failed {listener.Failures}), delivered {receiver.Distinct:N0}, storage requests {storageRequests.Total:N0}") + "\n         " + tally.Describe()),
            null, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
