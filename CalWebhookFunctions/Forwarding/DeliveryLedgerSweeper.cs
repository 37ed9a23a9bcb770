using CalWebhookFunctions.Operations;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// Removes expired <c>CalDeliveries</c> content in the background every 6 hours per instance: the delivery log's day
/// partitions and payload blobs past <c>Deliveries__RetentionDays</c> (<see cref="DeliveryLogRetention"/>, at most
/// <see cref="MaxLogCallsPerSweep"/> storage calls; the ledger's dedup rows live in those partitions and go with them),
/// then up to 100,000 expired dedup rows of versions before that layout. Lazy by design: an expired row is already ignored
/// by the ledger, and the log's lists are bounded by time, so a late sweep only costs storage.
/// </summary>
internal sealed class DeliveryLedgerSweeper(DeliveryLedger ledger, DeliveryLogRetention retention, TimeProvider time,
    ILogger<DeliveryLedgerSweeper> logger) : BackgroundService
{
    private static readonly TimeSpan FirstSweep = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan Interval = TimeSpan.FromHours(6);
    private const int MaxPerSweep = 100_000;
    public const int MaxLogCallsPerSweep = 5_000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(FirstSweep, time, stoppingToken).ConfigureAwait(false);
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    var run = await retention.SweepAsync(MaxLogCallsPerSweep, stoppingToken).ConfigureAwait(false);
                    ForwardingLog.LogSwept(logger, run.Rows, run.Blobs, run.Calls, run.More);
                    var count = await ledger.SweepExpiredAsync(MaxPerSweep, stoppingToken).ConfigureAwait(false);
                    ForwardingLog.Swept(logger, count);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    ForwardingLog.SweepFailed(logger, ex);
                }
                await Task.Delay(Interval, time, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }
}
