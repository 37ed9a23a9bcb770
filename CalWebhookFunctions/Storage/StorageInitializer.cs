using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Storage;

/// <summary>
/// Creates every queue, table and container of the contract (<see cref="StorageNames"/>) when the app starts, so the
/// host's queue listeners find their queues at once instead of logging <c>QueueNotFound</c> on every poll until the
/// first event. It runs in the background: start-up never waits for storage, and storage that is briefly down does
/// not stop the app — each step that fails is logged and tried again (after 2 s, doubling up to 1 min) until it
/// succeeds or the app stops. Every step is "create if not exists", so it is safe on every start; and since the app
/// also creates a resource on first use (<see cref="MissingResource"/>), nothing depends on this having finished.
/// </summary>
public sealed partial class StorageInitializer(StorageAccount storage, TimeProvider time, ILogger<StorageInitializer> logger) : BackgroundService
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromMinutes(1);

    private readonly TaskCompletionSource _created = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once every resource exists.</summary>
    public Task Created => _created.Task;

    /// <summary>The resources, each with the call that creates it when it does not exist.</summary>
    public IReadOnlyList<(string Name, Func<CancellationToken, Task> Create)> Resources =>
    [
        (StorageNames.WebhookQueue, ct => storage.Queue(StorageNames.WebhookQueue).CreateIfNotExistsAsync(cancellationToken: ct)),
        (StorageNames.WebhookPoisonQueue, ct => storage.Queue(StorageNames.WebhookPoisonQueue).CreateIfNotExistsAsync(cancellationToken: ct)),
        (StorageNames.CleanupQueue, ct => storage.Queue(StorageNames.CleanupQueue).CreateIfNotExistsAsync(cancellationToken: ct)),
        (StorageNames.AlertsQueue, ct => storage.Queue(StorageNames.AlertsQueue).CreateIfNotExistsAsync(cancellationToken: ct)),
        (StorageNames.ConnectionsTable, ct => storage.Table(StorageNames.ConnectionsTable).CreateIfNotExistsAsync(ct)),
        (StorageNames.DeliveriesTable, ct => storage.Table(StorageNames.DeliveriesTable).CreateIfNotExistsAsync(ct)),
        (StorageNames.PayloadContainer, ct => storage.Container(StorageNames.PayloadContainer).CreateIfNotExistsAsync(cancellationToken: ct)),
    ];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var (name, create) in Resources)
        {
            var delay = FirstRetry;
            while (true)
            {
                try
                {
                    await create(stoppingToken).ConfigureAwait(false);
                    break;
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested && StorageAccount.IsUnavailable(ex))
                {
                    NotCreated(logger, ex, name, delay);
                }
                try
                {
                    await Task.Delay(delay, time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestRetry.Ticks));
            }
        }
        _created.TrySetResult();
        AllCreated(logger);
    }

    [LoggerMessage(EventId = 6010, Level = LogLevel.Warning,
        Message = "Could not create {Resource} at start; trying again in {Delay} (it is also created on first use)")]
    private static partial void NotCreated(ILogger logger, Exception exception, string resource, TimeSpan delay);

    [LoggerMessage(EventId = 6011, Level = LogLevel.Information, Message = "Every queue, table and container exists")]
    private static partial void AllCreated(ILogger logger);
}
