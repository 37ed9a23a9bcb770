using System.Diagnostics;
using System.Globalization;
using Azure.Data.Tables;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Benchmarks.Load;

/// <summary>
/// <c>-- azurite-table-calls [--rounds 8]</c>: what the ledger's and the log's table writes cost Azurite, and whether that
/// grows with the table. Each round times 50 plain inserts of a small row (a claim), then 50 entity-group transactions
/// each of 1, 20 and 80 rows carrying a 2 KiB binary body (the log's summary), one after another on one partition, and
/// prints the median of each. The table grows by about 5,100 rows a round.
/// </summary>
public static class AzuriteTableCalls
{
    private const int Samples = 50;

    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = LoadOptions.IntArg(args, "--rounds", 8);
        Console.WriteLine($"Azurite: {AzuritePatch.Describe()}");
        await using var azurite = await Azurite.StartAsync();
        var table = new TableClient(azurite.ConnectionString, "Calls");
        await table.CreateAsync();
        var body = new byte[2048];
        Random.Shared.NextBytes(body);
        var rows = 0;
        Console.WriteLine("| rows before | plain insert (ms) | transaction of 1 | of 20 (per row) | of 80 (per row) |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        for (var round = 0; round < rounds; round++)
        {
            var before = rows;
            var insert = await TimeAsync(() => table.AddEntityAsync(new TableEntity("p", $"c{rows++:D8}") { ["State"] = "sending" }));
            var one = await TimeAsync(() => table.SubmitTransactionAsync(Rows(1)));
            var twenty = await TimeAsync(() => table.SubmitTransactionAsync(Rows(20)));
            var eighty = await TimeAsync(() => table.SubmitTransactionAsync(Rows(80)));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {before:N0} | {insert:F2} | {one:F2} | {twenty:F2} ({twenty / 20:F3}) | {eighty:F2} ({eighty / 80:F3}) |"));
        }
        return 0;

        List<TableTransactionAction> Rows(int count) => [.. Enumerable.Range(0, count).Select(_ => new TableTransactionAction(
            TableTransactionActionType.UpsertReplace,
            new TableEntity("p", $"r{rows++:D8}") { ["Body"] = body, ["Status"] = "delivered", ["Attempts"] = 1 }))];
    }

    /// <summary>The median time of <see cref="Samples"/> calls, one after another, in milliseconds.</summary>
    private static async Task<double> TimeAsync(Func<Task> call)
    {
        var times = new List<double>(Samples);
        for (var i = 0; i < Samples; i++)
        {
            var clock = Stopwatch.StartNew();
            await call();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return AzuriteCalls.Percentile(times, 0.5);
    }
}
