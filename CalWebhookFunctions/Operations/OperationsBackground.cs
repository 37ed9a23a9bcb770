using CalWebhookFunctions.Operations.Rejections;
using CalWebhookFunctions.Operations.Stats;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Operations;

/// <summary>
/// Writes what the operations counters hold in memory: refused requests every <see cref="RejectionInterval"/>, the hourly
/// stats and the queue reading (for the gauges) every <see cref="StatsInterval"/>, both once more when the worker stops;
/// and sweeps rows past <c>Deliveries__RetentionDays</c> every <see cref="SweepInterval"/>. A failed write is logged and
/// tried again next time (the counts stay in memory, bounded).
/// </summary>
public sealed partial class OperationsBackground(RejectionStore rejections, StatsStore stats, QueueProbe probe, TimeProvider time,
    ILogger<OperationsBackground> logger) : BackgroundService
{
    public static readonly TimeSpan RejectionInterval = TimeSpan.FromSeconds(15);
    public static readonly TimeSpan StatsInterval = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan SweepInterval = TimeSpan.FromHours(6);
    private const int MaxSweptPerRound = 10_000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lastStats = time.GetTimestamp();
        var lastSweep = time.GetTimestamp();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(RejectionInterval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            await RunAsync("refused requests", ct => rejections.FlushAsync(ct), stoppingToken).ConfigureAwait(false);
            if (time.GetElapsedTime(lastStats) >= StatsInterval)
            {
                lastStats = time.GetTimestamp();
                await RunAsync("stats", stats.FlushAsync, stoppingToken).ConfigureAwait(false);
                await RunAsync("queue reading", ct => probe.ProbeAsync(ct), stoppingToken).ConfigureAwait(false);
            }
            if (time.GetElapsedTime(lastSweep) >= SweepInterval)
            {
                lastSweep = time.GetTimestamp();
                await RunAsync("retention sweep", async ct =>
                {
                    await rejections.SweepAsync(MaxSweptPerRound, ct).ConfigureAwait(false);
                    await stats.SweepAsync(MaxSweptPerRound, ct).ConfigureAwait(false);
                }, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        // What was counted since the last round is written before the worker goes.
        await RunAsync("refused requests", ct => rejections.FlushAsync(ct), cancellationToken).ConfigureAwait(false);
        await RunAsync("stats", stats.FlushAsync, cancellationToken).ConfigureAwait(false);
    }

    private async Task RunAsync(string what, Func<CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        try
        {
            await work(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            NotWritten(logger, ex, what);
        }
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "Operations: could not write {What}; trying again next round")]
    private static partial void NotWritten(ILogger logger, Exception exception, string what);
}
