using Azure;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Telemetry;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// The ends of one <c>cal-webhooks</c> message: recorded as delivered, a copy re-enqueued (a delivery retry, a storage
/// retry, or a deferral behind another attempt's claim), or a dead letter. Each end either completes (and the host may
/// delete the message) or throws (and the host hands the same message over again): nothing in between.
/// </summary>
public sealed class ForwardSettlement(DeliveryLedger ledger, DeliveryMarks marks, DeadLetters deadLetters, PendingWebhooks pending, StorageRetryPolicy storageRetries,
    WebhookMetrics metrics, TimeProvider time, ILogger<WebhookForwarder> logger)
{
    /// <summary>How soon a copy deferred by another attempt's live claim looks again.</summary>
    private static readonly TimeSpan DeferralRecheck = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Records a 2xx. From the moment the app answered, the claim is kept even if this fails. An inline event's mark is
    /// written in the background (<see cref="DeliveryMarks"/>); a blob event's before its blob is removed.
    /// </summary>
    public async Task<Recorded> DeliveredAsync(Sent sent, QueuedWebhook message, string webhookId, int attempt, bool matched)
    {
        if (message.BodyBlob is null)
        {
            marks.Record(sent, message, webhookId, attempt);
        }
        else
        {
            await ledger.MarkDeliveredAsync(sent.Claim, message.EventId, message.ConnectionId, sent.Result.Status!.Value, attempt,
                bodyInBlob: true, CancellationToken.None).ConfigureAwait(false);
        }
        metrics.Forwarded(time.GetUtcNow() - message.ReceivedAt);
        ForwardingLog.Delivered(logger, message.EventId, webhookId, message.ConnectionId, matched, sent.Result.Status!.Value, attempt, sent.ElapsedMs);
        await RemoveBodyAsync(message).ConfigureAwait(false);
        return new Recorded(sent.Claim, ForwardOutcome.Delivered);
    }

    /// <summary>The app failed retryably: the claim goes first (so the copy never finds its own), then the copy.</summary>
    public async Task<Recorded> RetryAsync(Sent sent, QueuedWebhook message, string webhookId, int attempt)
    {
        await ledger.ReleaseAsync(sent.Claim).ConfigureAwait(false);
        await pending.EnqueueAsync(message with { Attempts = attempt }, sent.Decision.Delay, CancellationToken.None).ConfigureAwait(false);
        metrics.Retried(sent.Decision.Reason);
        ForwardingLog.RetryScheduled(logger, attempt, message.EventId, webhookId, message.ConnectionId, sent.Result.Status, sent.Result.Error,
            sent.Decision.Delay);
        return new Recorded(sent.Claim, ForwardOutcome.RetryScheduled);
    }

    public async Task<ForwardOutcome> AlreadyDeliveredAsync(QueuedWebhook message, string webhookId)
    {
        ForwardingLog.AlreadyDelivered(logger, message.EventId, webhookId, message.ConnectionId);
        await RemoveBodyAsync(message).ConfigureAwait(false);
        return ForwardOutcome.AlreadyDelivered;
    }

    /// <summary>
    /// Another attempt holds a live claim: look again soon (it usually finishes well inside its timeout), at the latest
    /// just after its claim runs out, when an abandoned claim can be taken over.
    /// </summary>
    public async Task<ForwardOutcome> DeferAsync(QueuedWebhook message, string webhookId, DeliveryClaim inFlight, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var remaining = (inFlight.LeaseUntil ?? now) - now + TimeSpan.FromSeconds(1);
        var delay = TimeSpan.FromTicks(Math.Clamp(remaining.Ticks, TimeSpan.FromSeconds(1).Ticks, DeferralRecheck.Ticks));
        await pending.EnqueueAsync(message, delay, cancellationToken).ConfigureAwait(false);
        ForwardingLog.Deferred(logger, message.EventId, webhookId, inFlight.LeaseUntil, delay);
        return ForwardOutcome.Deferred;
    }

    /// <summary>
    /// The claim could have lapsed before the POST (and another copy may have taken it over): nothing was sent. A copy
    /// looks again right away and finds the event delivered, in flight, or free to claim.
    /// </summary>
    public async Task<ForwardOutcome> LapsedAsync(QueuedWebhook message, string webhookId, Claimed claimed)
    {
        await ledger.ReleaseAsync(claimed.Claim).ConfigureAwait(false);
        await pending.EnqueueAsync(message, TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
        ForwardingLog.ClaimLapsed(logger, message.EventId, webhookId, claimed.SendBy);
        return ForwardOutcome.Deferred;
    }

    /// <summary>
    /// Storage failed before the event could be sent or settled: a copy is re-enqueued after the storage retry delay,
    /// with the delivery attempts unchanged. Throws (and the host retries the message) when the copy cannot be stored,
    /// or when the storage retries are spent.
    /// </summary>
    public async Task<ForwardOutcome> StorageRetryAsync(QueuedWebhook message, Exception failure)
    {
        if (message.StorageRetries >= storageRetries.MaxRetries)
        {
            ForwardingLog.StorageRetriesSpent(logger, failure, message.EventId, message.StorageRetries);
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
        var delay = storageRetries.Delay(message.StorageRetries);
        await pending.EnqueueAsync(message with { StorageRetries = message.StorageRetries + 1 }, delay, CancellationToken.None)
            .ConfigureAwait(false);
        metrics.Retried("storage");
        ForwardingLog.StorageRetryScheduled(logger, failure, message.EventId, message.ConnectionId, message.StorageRetries + 1, delay);
        return ForwardOutcome.StorageRetryScheduled;
    }

    /// <summary>Moves the event to <c>cal-webhooks-poison</c> with why, then gives its claim (if any) up.</summary>
    public async Task<ForwardOutcome> DeadLetterAsync(QueuedWebhook message, string webhookId, int attempts, DeliveryClaim claim, string reason,
        AttemptResult result)
    {
        var info = new DeadLetterInfo { Reason = reason, LastStatus = result.Status, LastError = result.Error, DeadLetteredAt = time.GetUtcNow() };
        await deadLetters.WriteAsync(message with { Attempts = attempts, DeadLetter = info }, CancellationToken.None).ConfigureAwait(false);
        await ledger.ReleaseAsync(claim).ConfigureAwait(false);
        metrics.DeadLettered(reason);
        ForwardingLog.DeadLettered(logger, message.EventId, webhookId, message.ConnectionId, attempts, reason, result.Status, result.Error);
        return ForwardOutcome.DeadLettered;
    }

    public async Task<ForwardOutcome> DeadLetterRawAsync(byte[] rawMessage, string problem, CancellationToken cancellationToken)
    {
        await deadLetters.WriteRawAsync(rawMessage, cancellationToken).ConfigureAwait(false);
        metrics.DeadLettered("unreadable");
        ForwardingLog.Unreadable(logger, rawMessage.Length, problem);
        return ForwardOutcome.DeadLettered;
    }

    public async Task<ForwardOutcome> BodyMissingAsync(QueuedWebhook message, CancellationToken cancellationToken)
    {
        if (await ledger.IsEventDeliveredAsync(message.EventId, cancellationToken).ConfigureAwait(false))
        {
            // Delivered, recorded and its blob removed, but the host never got to delete this message.
            ForwardingLog.EventAlreadyDelivered(logger, message.EventId);
            return ForwardOutcome.AlreadyDelivered;
        }
        var info = new DeadLetterInfo { Reason = "body_missing", DeadLetteredAt = time.GetUtcNow() };
        await deadLetters.WriteAsync(message with { DeadLetter = info }, cancellationToken).ConfigureAwait(false);
        metrics.DeadLettered(info.Reason);
        ForwardingLog.BodyMissing(logger, message.EventId);
        return ForwardOutcome.DeadLettered;
    }

    private async Task RemoveBodyAsync(QueuedWebhook message)
    {
        try
        {
            await pending.DeleteBodyAsync(message, CancellationToken.None).ConfigureAwait(false);
        }
        catch (RequestFailedException ex)
        {
            ForwardingLog.BlobNotRemoved(logger, ex, message.EventId);
        }
    }
}
