using CalWebhookFunctions.Storage;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Ingest;

/// <summary>Where an accepted event was stored.</summary>
public sealed record StoredEvent(QueuedWebhook Message, bool InFallback);

/// <summary>
/// Stores one verified event durably. Without <c>Ingest__FallbackStorage</c>: the primary account, with the storage
/// clients' short bounded retry (as before). With it: the primary write gets <see cref="PrimaryBudget"/>, and when it
/// fails or has not finished by then the event goes to the fallback account (same queue and blob names), which gets
/// <see cref="FallbackBudget"/>. Returns only once one of them holds the event; throws when both failed, so the caller
/// answers 503 and acknowledges nothing. The whole write is bounded by the two budgets (~8 s), well inside the time
/// Cal.com waits for an answer.
/// A primary write that was cut off by its budget may still land later: the event is then in both accounts under the same
/// event id and body, so its webhook-id is the same and the forwarder's deduplication delivers it once.
/// </summary>
public sealed partial class IngestStore(PendingWebhooks primary, IngestFallback fallback, TimeProvider time, ILogger<IngestStore> logger)
{
    public static readonly TimeSpan PrimaryBudget = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan FallbackBudget = TimeSpan.FromSeconds(5);

    private readonly PendingWebhooks? _fallback = fallback.Account is { } account ? new PendingWebhooks(account) : null;

    public async Task<StoredEvent> StoreAsync(QueuedWebhook message)
    {
        if (_fallback is null)
        {
            return new StoredEvent(await primary.EnqueueAsync(message, cancellationToken: CancellationToken.None).ConfigureAwait(false), false);
        }
        try
        {
            return new StoredEvent(await WithinAsync(primary, message, PrimaryBudget).ConfigureAwait(false), false);
        }
        catch (Exception ex)
        {
            PrimaryFailed(logger, ex, message.EventId, PrimaryBudget);
        }
        return new StoredEvent(await WithinAsync(_fallback, message, FallbackBudget).ConfigureAwait(false), true);
    }

    /// <summary>
    /// One account's write, given up after <paramref name="budget"/>: its requests are cancelled then, and the wait ends
    /// then even if a request ignores the cancellation (or a clean-up after a failure hangs).
    /// </summary>
    private async Task<QueuedWebhook> WithinAsync(PendingWebhooks account, QueuedWebhook message, TimeSpan budget)
    {
        using var cancel = new CancellationTokenSource(budget, time);
        var write = account.EnqueueAsync(message, cancellationToken: cancel.Token);
        try
        {
            return await write.WaitAsync(budget, time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Nobody waits for it any more; observe its outcome so a late failure is not an unobserved exception.
            _ = write.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }
    }

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning,
        Message = "The primary storage account did not take event {EventId} within {Budget}; writing it to the fallback account")]
    private static partial void PrimaryFailed(ILogger logger, Exception exception, string eventId, TimeSpan budget);
}
