using CalWebhookFunctions.Storage;

namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// How an attempt cut short by storage trouble (a table, blob or queue call failing after the SDK's own retries) is
/// retried: a copy of the message is re-enqueued (<see cref="Redelivery"/>) after the next of <see cref="RetrySchedule.Delays"/> (the last one repeating), so
/// minutes or hours of throttling or an outage never spend the host's <c>maxDequeueCount</c> and never park an event
/// that is fine. These retries are counted apart from delivery attempts (<see cref="QueuedWebhook.StorageRetries"/>)
/// and do not spend <c>Forwarding__RetrySchedule</c>: the app was never asked. After <see cref="RetrySchedule.MaxRetries"/> (about
/// a day) the failure goes to the host, which retries and finally parks the message in <c>cal-webhooks-poison</c>.
/// </summary>
public sealed class StorageRetryPolicy(IReadOnlyList<TimeSpan> delays, int maxRetries) : RetrySchedule(delays, maxRetries)
{
    public static readonly StorageRetryPolicy Default = new(
        [TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(5)], 300);

    /// <summary>
    /// Whether an exception is storage failing (an error answer, or no answer within the SDK's retries and timeouts)
    /// rather than the host stopping (<paramref name="cancellationToken"/> cancelled) or a bug.
    /// </summary>
    public static bool IsStorageFailure(Exception ex, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested
        && (StorageAccount.IsUnavailable(ex) || ex is OperationCanceledException
            || (ex is AggregateException aggregate && aggregate.InnerExceptions.All(inner => IsStorageFailure(inner, cancellationToken))));
}
