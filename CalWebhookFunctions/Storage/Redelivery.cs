using Azure.Storage.Queues.Models;

namespace CalWebhookFunctions.Storage;

/// <summary>
/// The one retry-by-re-enqueue engine (forwarding, its storage retries, the ingest fallback drain, subscription cleanup).
/// A message to be tried again later is neither retried in process nor thrown back to the host (each throw spends one of
/// the host's <c>maxDequeueCount</c> and ends with a 7-day time-to-live): a copy goes back to its queue, never expiring,
/// hidden for the next delay of its <see cref="RetrySchedule"/>, and the invocation returns so the host deletes the
/// original. Once the schedule is used up, a message goes to its poison queue (<see cref="DeadLetters"/>) instead; an
/// event is handed back (null), because what its capability does then says why (a dead letter with its reason, or the
/// host's retries, whose last try parks it). Each capability keeps its own schedule and what it retries.
/// </summary>
public sealed class Redelivery(StorageAccount storage, PendingWebhooks pending, DeadLetters deadLetters)
{
    /// <summary>
    /// Re-enqueues a copy of an event into <paramref name="into"/>'s <c>cal-webhooks</c> (by default the app's), hidden for
    /// <paramref name="delay"/>; its body goes to a blob when the message would be too large.
    /// </summary>
    public Task RequeueAsync(QueuedWebhook copy, TimeSpan delay, CancellationToken cancellationToken, PendingWebhooks? into = null) =>
        (into ?? pending).EnqueueAsync(copy, delay, cancellationToken);

    /// <summary>Re-enqueues a copy of a message of <paramref name="queue"/> (bytes as the host hands them over), hidden for <paramref name="delay"/>.</summary>
    public Task<SendReceipt> RequeueAsync(string queue, byte[] copy, TimeSpan? delay, CancellationToken cancellationToken) =>
        PendingWebhooks.SendAsync(storage.Queue(queue), copy, delay, cancellationToken);

    /// <summary>
    /// Retry <paramref name="retriesSoFar"/> + 1 of an event: the copy re-enqueued after the schedule's delay, which is
    /// returned; null when the schedule is used up (nothing was queued).
    /// </summary>
    public async Task<TimeSpan?> RetryAsync(QueuedWebhook copy, int retriesSoFar, RetrySchedule schedule, CancellationToken cancellationToken,
        PendingWebhooks? into = null)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (schedule.Next(retriesSoFar) is not { } delay)
        {
            return null;
        }
        await RequeueAsync(copy, delay, cancellationToken, into).ConfigureAwait(false);
        return delay;
    }

    /// <summary>
    /// Retry <paramref name="retriesSoFar"/> + 1 of a message of <paramref name="queue"/>: <paramref name="copy"/> re-enqueued
    /// after the schedule's delay, which is returned; when the schedule is used up, <paramref name="exhausted"/> (the
    /// message as it should be kept) is parked in the queue's poison queue and null is returned.
    /// </summary>
    public async Task<TimeSpan?> RetryAsync(string queue, byte[] copy, byte[] exhausted, int retriesSoFar, RetrySchedule schedule,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (schedule.Next(retriesSoFar) is not { } delay)
        {
            await deadLetters.ParkAsync(queue, exhausted, cancellationToken).ConfigureAwait(false);
            return null;
        }
        await RequeueAsync(queue, copy, delay, cancellationToken).ConfigureAwait(false);
        return delay;
    }
}
