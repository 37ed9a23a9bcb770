using System.Diagnostics;
using System.Globalization;
using Azure.Storage.Queues;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Benchmarks.Load;

/// <summary>
/// <c>-- azurite-calls [--messages 10000] [--sweep-seconds 75]</c>: what one queue call costs Azurite as its queue
/// grows, and how long its extent sweep stalls it. Measures DeleteMessage and GetMessages ×16 on an empty queue and
/// on a queue holding <c>--messages</c> messages, then clears the queue and probes the queue every 50 ms through
/// one sweep (Azurite sweeps unreferenced message bodies every 60 s) and reports the longest probe. Run it once with
/// the patch applied (<c>npm ci</c>) and once without (<c>npx patch-package --reverse</c>) to compare.
/// </summary>
public static class AzuriteCalls
{
    private const int Samples = 40;

    public static async Task<int> RunAsync(string[] args)
    {
        var messages = LoadOptions.IntArg(args, "--messages", 10_000);
        var sweepSeconds = LoadOptions.IntArg(args, "--sweep-seconds", 75);
        Console.WriteLine($"Azurite: {AzuritePatch.Describe()}");
        await using var azurite = await Azurite.StartAsync();
        var queue = new QueueClient(azurite.ConnectionString, "calls");
        await queue.CreateAsync();

        await PrintAsync(queue, "empty queue", refill: true);
        await FillAsync(queue, messages);
        await PrintAsync(queue, $"{messages:N0} messages", refill: false);

        // Every stored body becomes unreferenced at once; the next sweep removes them.
        await queue.ClearMessagesAsync();
        Console.WriteLine($"cleared the queue; probing for {sweepSeconds} s (one sweep)...");
        var (longest, over1s, probes) = await ProbeAsync(queue, TimeSpan.FromSeconds(sweepSeconds));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sweep: longest probe {longest.TotalMilliseconds:F0} ms; probes over 1 s: {over1s} of {probes}"));
        return 0;
    }

    private static async Task FillAsync(QueueClient queue, int messages)
    {
        var text = new string('x', 3_000);
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, messages), new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (_, ct) => await queue.SendMessageAsync(text, null, TimeSpan.FromSeconds(-1), ct));
        Console.WriteLine($"filled {messages:N0} messages in {clock.Elapsed.TotalSeconds:F1} s");
    }

    private static async Task PrintAsync(QueueClient queue, string label, bool refill)
    {
        // Received messages stay in the store (invisible for 10 minutes), so the store keeps its size. On the empty
        // queue each sample first enqueues the one message it receives and deletes.
        var text = new string('y', 3_000);
        var deletes = new List<double>();
        var gets = new List<double>();
        for (var i = 0; i < Samples; i++)
        {
            if (refill)
            {
                await queue.SendMessageAsync(text, null, TimeSpan.FromSeconds(-1));
            }
            var clock = Stopwatch.StartNew();
            var batch = (await queue.ReceiveMessagesAsync(16, TimeSpan.FromMinutes(10))).Value;
            gets.Add(clock.Elapsed.TotalMilliseconds);
            clock.Restart();
            await queue.DeleteMessageAsync(batch[0].MessageId, batch[0].PopReceipt);
            deletes.Add(clock.Elapsed.TotalMilliseconds);
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{label,-18} DeleteMessage p50 {Percentile(deletes, 0.5),7:F1} ms mean {deletes.Average(),7:F1} ms | GetMessages x16 p50 {Percentile(gets, 0.5),7:F1} ms mean {gets.Average(),7:F1} ms"));
    }

    private static async Task<(TimeSpan Longest, int Over1s, int Probes)> ProbeAsync(QueueClient queue, TimeSpan duration)
    {
        var longest = TimeSpan.Zero;
        var over1s = 0;
        var probes = 0;
        var total = Stopwatch.StartNew();
        while (total.Elapsed < duration)
        {
            var clock = Stopwatch.StartNew();
            await queue.PeekMessagesAsync(1);
            var took = clock.Elapsed;
            probes++;
            longest = took > longest ? took : longest;
            over1s += took > TimeSpan.FromSeconds(1) ? 1 : 0;
            await Task.Delay(50);
        }
        return (longest, over1s, probes);
    }

    public static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }
        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}

/// <summary>Whether the installed Azurite carries the repository's patch (patches/azurite+*.patch).</summary>
public static class AzuritePatch
{
    public static bool IsApplied() =>
        File.ReadAllText(RepoPaths.File("node_modules", "azurite", "dist", "src", "queue", "persistence", "LokiQueueMetadataStore.js"))
            .Contains("patched (patches/", StringComparison.Ordinal);

    public static string Describe() => IsApplied() ? "patched (patches/)" : "UNPATCHED (as published)";
}
