using Azure;
using CalWebhookFunctions.Operations;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Telemetry;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// The ends of one <c>cal-webhooks</c> message: recorded as delivered, a copy re-enqueued (a delivery retry, a storage
/// retry, or a deferral behind another attempt's claim), or a dead letter. Each end either completes (and the host may
/// delete the message) or throws (and the host hands the same message over again): nothing in between.
/// </summary>
/// Each end an attempt reaches (delivered, retry, dead letter) also writes the event's delivery log entry (<see cref="DeliveryLog"/>),
/// next to the records it already wrote; a log write that fails is logged and costs the event nothing.
public sealed class ForwardSettlement(DeliveryLedger ledger, DeliveryMarks marks, DeadLetters deadLetters, Redelivery redelivery, StorageRetryPolicy storageRetries,
    WebhookMetrics metrics, DeliveryLog log, TimeProvider time, ILogger<WebhookForwarder> logger)
{
    /// <summary>How soon a copy deferred by another attempt's live claim looks again.</summary>
    private static readonly TimeSpan DeferralRecheck = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Records a 2xx. From the moment the app answered, the claim is kept even if this fails. An inline event's mark (and its
    /// log entry) is written in the background (<see cref="DeliveryMarks"/>); a blob event's synchronously, and its blob is
    /// kept until retention (the delivery log serves the payload from it).
    /// </summary>
    public async Task<Recorded> DeliveredAsync(Sent sent, QueuedWebhook message, string webhookId, int attempt, ForwardRoute route, byte[]? body = null)
    {
        var outcome = Outcome(DeliveryStatus.Delivered, message, attempt, route, sent) with { DeliveredAt = time.GetUtcNow() };
        if (message.BodyBlob is null)
        {
            marks.Record(sent, message, webhookId, attempt, () => log.TryRecordAsync(message, webhookId, outcome, body, ledger.RideAsync));
        }
        else
        {
            await Task.WhenAll(
                ledger.MarkDeliveredAsync(sent.Claim, message.EventId, message.ConnectionId, sent.Result.Status!.Value, attempt,
                    blobEvent: message, CancellationToken.None),
                log.TryRecordAsync(message, webhookId, outcome, body)).ConfigureAwait(false);
        }
        metrics.Forwarded(time.GetUtcNow() - message.ReceivedAt);
        ForwardingLog.Delivered(logger, message.EventId, webhookId, message.ConnectionId, route.Matched, sent.Result.Status!.Value, attempt, sent.ElapsedMs);
        return new Recorded(sent.Claim, ForwardOutcome.Delivered);
    }

    /// <summary>
    /// The app failed retryably: the claim goes first (so the copy never finds its own) while the log entry is written (before
    /// the copy exists, so the copy's own outcome can never be overwritten by this one), then the copy.
    /// </summary>
    public async Task<Recorded> RetryAsync(Sent sent, QueuedWebhook message, string webhookId, int attempt, ForwardRoute route = default, byte[]? body = null)
    {
        var outcome = Outcome(DeliveryStatus.Retrying, message, attempt, route, sent) with { NextAttemptAt = time.GetUtcNow() + sent.Decision.Delay };
        await Task.WhenAll(ledger.ReleaseAsync(sent.Claim), log.TryRecordAsync(message, webhookId, outcome, body)).ConfigureAwait(false);
        await redelivery.RequeueAsync(message with { Attempts = attempt }, sent.Decision.Delay, CancellationToken.None).ConfigureAwait(false);
        metrics.Retried(sent.Decision.Reason);
        ForwardingLog.RetryScheduled(logger, attempt, message.EventId, webhookId, message.ConnectionId, sent.Result.Status, sent.Result.Error,
            sent.Decision.Delay);
        return new Recorded(sent.Claim, ForwardOutcome.RetryScheduled);
    }

    public Task<ForwardOutcome> AlreadyDeliveredAsync(QueuedWebhook message, string webhookId)
    {
        // Its body blob (if any) is kept: the first copy's log entry may serve it; the retention sweep removes it.
        ForwardingLog.AlreadyDelivered(logger, message.EventId, webhookId, message.ConnectionId);
        return Task.FromResult(ForwardOutcome.AlreadyDelivered);
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
        await redelivery.RequeueAsync(message, delay, cancellationToken).ConfigureAwait(false);
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
        await redelivery.RequeueAsync(message, TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
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
        if (await redelivery.RetryAsync(message with { StorageRetries = message.StorageRetries + 1 }, message.StorageRetries, storageRetries,
                CancellationToken.None).ConfigureAwait(false) is not { } delay)
        {
            ForwardingLog.StorageRetriesSpent(logger, failure, message.EventId, message.StorageRetries);
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            return ForwardOutcome.StorageRetryScheduled; // not reached
        }
        metrics.Retried("storage");
        ForwardingLog.StorageRetryScheduled(logger, failure, message.EventId, message.ConnectionId, message.StorageRetries + 1, delay);
        return ForwardOutcome.StorageRetryScheduled;
    }

    /// <summary>
    /// Logs the dead letter, moves the event to <c>cal-webhooks-poison</c> with why, then gives its claim (if any) up. The
    /// log goes first: once the dead letter exists a replay may mark the event pending, and that must stand.
    /// </summary>
    public async Task<ForwardOutcome> DeadLetterAsync(QueuedWebhook message, string webhookId, int attempts, DeliveryClaim claim, string reason,
        AttemptResult result, ForwardRoute route = default, byte[]? body = null, Sent? sent = null)
    {
        var outcome = Outcome(DeliveryStatus.DeadLettered, message, attempts, route, sent) with
        {
            DeadLetterReason = reason, LastStatus = result.Status, LastError = result.Error,
        };
        await log.TryRecordAsync(message, webhookId, outcome, body).ConfigureAwait(false);
        var info = new DeadLetterInfo { Reason = reason, LastStatus = result.Status, LastError = result.Error, DeadLetteredAt = time.GetUtcNow() };
        await deadLetters.WriteAsync(message with { Attempts = attempts, DeadLetter = info }, CancellationToken.None).ConfigureAwait(false);
        await ledger.ReleaseAsync(claim).ConfigureAwait(false);
        metrics.DeadLettered(reason);
        ForwardingLog.DeadLettered(logger, message.EventId, webhookId, message.ConnectionId, attempts, reason, result.Status, result.Error);
        return ForwardOutcome.DeadLettered;
    }

    public async Task<ForwardOutcome> DeadLetterRawAsync(byte[] rawMessage, string problem, CancellationToken cancellationToken)
    {
        await deadLetters.ParkAsync(StorageNames.WebhookQueue, rawMessage, cancellationToken).ConfigureAwait(false);
        metrics.DeadLettered("unreadable");
        ForwardingLog.Unreadable(logger, rawMessage.Length, problem);
        return ForwardOutcome.DeadLettered;
    }

    public async Task<ForwardOutcome> BodyMissingAsync(QueuedWebhook message, CancellationToken cancellationToken)
    {
        if (await ledger.IsEventDeliveredAsync(message, cancellationToken).ConfigureAwait(false))
        {
            // Delivered, recorded and its blob removed, but the host never got to delete this message.
            ForwardingLog.EventAlreadyDelivered(logger, message.EventId);
            return ForwardOutcome.AlreadyDelivered;
        }
        var info = new DeadLetterInfo { Reason = "body_missing", DeadLetteredAt = time.GetUtcNow() };
        await log.TryRecordAsync(message, null, new LoggedOutcome(DeliveryStatus.DeadLettered, message.PriorAttempts + message.Attempts, false, null,
            DeadLetterReason: info.Reason), null).ConfigureAwait(false);
        await deadLetters.WriteAsync(message with { DeadLetter = info }, cancellationToken).ConfigureAwait(false);
        metrics.DeadLettered(info.Reason);
        ForwardingLog.BodyMissing(logger, message.EventId);
        return ForwardOutcome.DeadLettered;
    }

    /// <summary>
    /// The log entry of an outcome: attempts are counted over the event's whole history (<see cref="QueuedWebhook.PriorAttempts"/>
    /// plus this schedule's), and the attempt is logged only when something was sent.
    /// </summary>
    private LoggedOutcome Outcome(string status, QueuedWebhook message, int attempts, ForwardRoute route, Sent? sent)
    {
        var number = message.PriorAttempts + attempts;
        var tried = sent is null
            ? null
            : new LoggedAttempt(number, time.GetUtcNow() - TimeSpan.FromMilliseconds(sent.ElapsedMs), sent.Result.Status, sent.ElapsedMs,
                sent.Result.Error, sent.Result.Response);
        return new LoggedOutcome(status, number, route.Matched, route.Target, sent?.Result.Status, sent?.Result.Error, Attempt: tried);
    }
}
