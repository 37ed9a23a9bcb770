namespace CalWebhookFunctions.Storage;

/// <summary>
/// The one retry-by-re-enqueue engine (delivery and storage retries, deferrals, the fallback drain, subscription cleanup).
/// A message to try again later is neither retried in process nor thrown back to the host (each throw spends one of its
/// <c>maxDequeueCount</c>): a copy goes back to its queue, never expiring, hidden for the next delay of its
/// <see cref="RetrySchedule"/>, and the host deletes the original when the invocation returns. When the schedule is used
/// up a message is parked (<see cref="DeadLetters"/>); an event is handed back (null), as only its capability knows why.
/// </summary>
public sealed class Redelivery(StorageAccount storage, PendingWebhooks pending, DeadLetters deadLetters)
{
    /// <summary>Re-enqueues a copy of an event into the app's <c>cal-webhooks</c>, hidden for <paramref name="delay"/>.</summary>
    public Task RequeueAsync(QueuedWebhook copy, TimeSpan delay, CancellationToken cancellationToken) =>
        pending.EnqueueAsync(copy, delay, cancellationToken);

    /// <summary>
    /// Retry <paramref name="retriesSoFar"/> + 1 of an event: its delay once the copy is queued in <paramref name="into"/>'s
    /// <c>cal-webhooks</c> (by default the app's), or null when the schedule is used up.
    /// </summary>
    public async Task<TimeSpan?> RetryAsync(QueuedWebhook copy, int retriesSoFar, RetrySchedule schedule, CancellationToken cancellationToken,
        PendingWebhooks? into = null)
    {
        var delay = schedule.Next(retriesSoFar);
        if (delay is { } wait)
        {
            await (into ?? pending).EnqueueAsync(copy, wait, cancellationToken).ConfigureAwait(false);
        }
        return delay;
    }

    /// <summary>
    /// Retry <paramref name="retriesSoFar"/> + 1 of a message of <paramref name="queue"/>: its delay once <paramref name="copy"/>
    /// is queued, or null once the schedule is used up and <paramref name="exhausted"/> is parked in the queue's poison queue.
    /// </summary>
    public async Task<TimeSpan?> RetryAsync(string queue, byte[] copy, byte[] exhausted, int retriesSoFar, RetrySchedule schedule,
        CancellationToken cancellationToken)
    {
        var delay = schedule.Next(retriesSoFar);
        await (delay is null
            ? deadLetters.ParkAsync(queue, exhausted, cancellationToken)
            : PendingWebhooks.SendAsync(storage.Queue(queue), copy, delay, cancellationToken)).ConfigureAwait(false);
        return delay;
    }
}
