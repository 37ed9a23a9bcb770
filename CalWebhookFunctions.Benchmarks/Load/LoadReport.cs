using System.Diagnostics;
using System.Globalization;

namespace CalWebhookFunctions.Benchmarks.Load;

/// <summary>Prints <c>-- load</c>'s figures as a two-column table (Markdown), ready for docs/PERFORMANCE.md.</summary>
public static class LoadReport
{
    public sealed record Figures(
        LoadOptions Options,
        LoadSenders Senders,
        FlakyReceiver Receiver,
        HostQueueListener Listener,
        long Started,
        long SendEnded,
        long Ended,
        bool Drained,
        int StorageRequests,
        IReadOnlyList<StorageKind> StorageByKind,
        ProcessCpu Cpu,
        string LoadAverageAfter);

    public static void Print(Figures f)
    {
        var sendSeconds = Seconds(f.Started, f.SendEnded);
        var ackP99 = AzuriteCalls.Percentile([.. f.Senders.AckMs], 0.99);
        var rejectP99 = AzuriteCalls.Percentile([.. f.Senders.RejectMs], 0.99);
        var counts = f.Receiver.DeliveredById.Values.ToArray();
        var deliveredOnce = counts.Count(n => n == 1);
        var duplicates = counts.Sum(n => n - 1);
        var lost = f.Senders.AckedIds.Keys.Count(id => !f.Receiver.DeliveredById.ContainsKey(id));
        var firstOk = f.Receiver.FirstOkTimestamp;
        var lastOk = f.Receiver.LastOkTimestamp;
        var drainSeconds = firstOk == 0 ? double.NaN : Seconds(firstOk, lastOk);
        var delivered = f.Receiver.Distinct;
        // The last few events wait out the retry schedule's longer delays; the rate up to 99 % shows the throughput.
        var firsts = f.Receiver.FirstDeliveries.Order().ToArray();
        var at99 = firsts.Length == 0 ? 0 : firsts[Math.Max(0, (int)Math.Ceiling(firsts.Length * 0.99) - 1)];
        var rows = new List<(string, string)>
        {
            ("acknowledged", $"{f.Senders.Acked:N0} of {f.Options.Count:N0} (sent {f.Senders.Attempted:N0})"),
            ("timeouts (sender gave up)", $"{f.Senders.Timeouts:N0}"),
            ("other answers", $"{f.Senders.OtherStatus:N0}"),
            ("ack rate", $"{f.Senders.Acked / sendSeconds:F0}/s over {sendSeconds:F1} s"),
            ("ack p50 / p99", $"{AzuriteCalls.Percentile([.. f.Senders.AckMs], 0.5):F0} ms / {ackP99:F0} ms"),
            ("reject path p99 (bad signature, same server)", $"{rejectP99:F0} ms ({f.Senders.RejectMs.Count:N0} samples, {f.Senders.RejectUnexpected} not 401)"),
            ("ack p99 / reject p99", $"{ackP99 / rejectP99:F2}×"),
            ("delivered once", $"{deliveredOnce:N0}"),
            ("duplicates (extra 200s)", $"{duplicates:N0}"),
            ("acknowledged but not delivered", $"{lost:N0}{(f.Drained ? "" : " (bound reached)")}"),
            ("forward invocations (failed)", $"{f.Listener.Invocations:N0} ({f.Listener.Failures:N0}); poisoned {f.Listener.Poisoned}; failed polls {f.Listener.FailedPolls}; receiver requests {f.Receiver.Requests:N0}"),
            ("drain rate (first to last delivery)", $"{delivered / drainSeconds:F1} delivered/s, {f.Listener.Invocations / drainSeconds:F1} forwards/s over {drainSeconds:F1} s"),
            ("delivery rate to 99 % of events", at99 == 0 ? "n/a" : $"{0.99 * delivered / Seconds(firstOk, at99):F1} delivered/s over {Seconds(firstOk, at99):F1} s"),
            ("time to drain after the last send (99 % / all)", lastOk == 0 ? "n/a" : $"{Seconds(f.SendEnded, at99):F1} s / {Seconds(f.SendEnded, lastOk):F1} s"),
            ("storage requests per delivered event", $"{(double)f.StorageRequests / delivered:F2} ({f.StorageRequests:N0} requests)"),
            ("CPU: Azurite (node) / app + harness (dotnet)", $"{f.Cpu.Azurite:F1} s / {f.Cpu.Self:F1} s over {Seconds(f.Started, f.Ended):F1} s " +
                $"({f.Cpu.Azurite / Seconds(f.Started, f.Ended):P0} / {f.Cpu.Self / Seconds(f.Started, f.Ended):P0} of one core)"),
            ("load average after", f.LoadAverageAfter),
        };
        Console.WriteLine();
        Console.WriteLine("| Figure | Value |");
        Console.WriteLine("|---|---|");
        foreach (var (name, value) in rows)
        {
            Console.WriteLine($"| {name} | {value} |");
        }
        Console.WriteLine();
        Console.WriteLine("| Storage request | Per delivered event | Requests | 404 | Mean answer |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var k in f.StorageByKind.Where(k => k.Requests > 0))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {k.Kind} | {(double)k.Requests / delivered:F2} | {k.Requests:N0} | {k.NotFound:N0} | {k.Seconds * 1000 / k.Requests:F1} ms |"));
        }
    }

    private static double Seconds(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalSeconds;
}
