using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// Removes expired <c>CalDeliveries</c> rows in the background: up to 100,000 every 6 hours per instance. Lazy by
/// design: an expired row is already ignored by the ledger, so a late sweep only costs storage.
/// </summary>
internal sealed class DeliveryLedgerSweeper(DeliveryLedger ledger, TimeProvider time, ILogger<DeliveryLedgerSweeper> logger) : BackgroundService
{
    private static readonly TimeSpan FirstSweep = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan Interval = TimeSpan.FromHours(6);
    private const int MaxPerSweep = 100_000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(FirstSweep, time, stoppingToken).ConfigureAwait(false);
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
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
