using System.Diagnostics;
using System.Globalization;
using CalWebhookFunctions.Benchmarks.Load;

namespace CalWebhookFunctions.Benchmarks.Forwarding;

/// <summary>
/// <c>-- forward-cpu</c>: who is busy while events go through the forward path, against its floor. Drives the same cases
/// as <see cref="ForwardPathBenchmarks"/> (64 events of 2 KiB a round, through the same loop, Azurite and receiver; a
/// path round ends when its delivered marks and log entries are written), alternating a round of the floor with a round
/// of the path so that both see the same machine. Prints per event the median wall time, the CPU time of this process
/// (the app, the receiver and the loop) and of Azurite's node process (from /proc, in 10 ms ticks: use enough rounds),
/// and the storage requests. On a 2-core machine the app's and Azurite's CPU add up: where both grow, the path pays
/// for each.
/// Options: <c>--concurrency 1|16</c>, <c>--latency loopback|realistic</c>, <c>--rounds N</c> (20).
/// </summary>
public static class ForwardCpu
{
    private sealed record Round(double WallUs, double AppUs, double AzuriteUs, double Requests);

    public static async Task<int> RunAsync(string[] args)
    {
        var bench = new ForwardPathBenchmarks
        {
            Concurrency = LoadOptions.IntArg(args, "--concurrency", 1),
            Latency = LoadOptions.StringArg(args, "--latency", "loopback"),
        };
        var rounds = LoadOptions.IntArg(args, "--rounds", 20);
        bench.Setup();
        try
        {
            var floor = new List<Round>();
            var path = new List<Round>();
            for (var i = 0; i < rounds; i++)
            {
                floor.Add(await MeasureAsync(bench, bench.FillFloorQueue, bench.Floor));
                path.Add(await MeasureAsync(bench, bench.FillAppQueue, bench.ForwardPath));
            }
            Console.WriteLine(FormattableString.Invariant(
                $"| {bench.Concurrency} in flight, {bench.Latency} ({rounds} rounds of {ForwardPathBenchmarks.Events}) | wall µs/event | app CPU µs/event | Azurite CPU µs/event | storage requests/event |"));
            Console.WriteLine("|---|---:|---:|---:|---:|");
            Print("floor", floor);
            Print("forward path", path);
            Console.WriteLine(FormattableString.Invariant(
                $"throughput vs floor (medians): {Median(floor, r => r.WallUs) / Median(path, r => r.WallUs):F2}"));
            return 0;
        }
        finally
        {
            bench.Cleanup();
        }
    }

    private static async Task<Round> MeasureAsync(ForwardPathBenchmarks bench, Action fill, Func<Task> run)
    {
        fill();
        var requests = bench.RequestsSoFar;
        var cpu = ProcessCpu.Now();
        var clock = Stopwatch.StartNew();
        await run();
        var wall = clock.Elapsed;
        var spent = ProcessCpu.Now().Since(cpu);
        var sent = bench.RequestsSoFar - requests;
        bench.CheckEveryEventWasPosted();
        const double events = ForwardPathBenchmarks.Events;
        return new Round(wall.TotalMicroseconds / events, spent.Self * 1e6 / events, spent.Azurite * 1e6 / events, sent / events);
    }

    private static void Print(string name, List<Round> rounds) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {Median(rounds, r => r.WallUs):F0} | {Median(rounds, r => r.AppUs):F0} | {Median(rounds, r => r.AzuriteUs):F0} | {Median(rounds, r => r.Requests):F2} |"));

    private static double Median(List<Round> rounds, Func<Round, double> of) => AzuriteCalls.Percentile([.. rounds.Select(of)], 0.5);
}
