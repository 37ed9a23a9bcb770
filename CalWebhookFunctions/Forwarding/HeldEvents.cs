using CalWebhookFunctions.Configuration;
using CalWebhookFunctions.Operations;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// Events that are not attempted now and spend nothing of their retry schedule (issue 14): a copy goes back to
/// <c>cal-webhooks</c> with a visibility delay and the original is deleted by the host, as every re-enqueue does.
/// <list type="bullet">
/// <item><see cref="BounceAsync"/>: the target had its most concurrent requests on this instance for all of
/// <see cref="TargetSlots.Wait"/>; back in <see cref="BounceDelay"/>.</item>
/// <item><see cref="HoldAsync"/>: held (the connection is paused, the target is failing). The delay doubles from
/// <see cref="FirstHold"/> with each hold up to a cap (the probe interval, or <see cref="PauseRecheck"/>), so an event held
/// for hours costs one queue round trip per cap interval, not one every few seconds. Held longer than
/// <c>Forwarding__MaxHoldHours</c> in one run → dead-lettered <c>retries_exhausted</c>.</item>
/// </list>
/// </summary>
/// <summary>An event the gate holds, with what the delivery log needs to show it.</summary>
public sealed record HeldEvent(QueuedWebhook Message, string WebhookId, byte[] Body, ForwardRoute Route);

public sealed partial class HeldEvents(Redelivery redelivery, DeadLetters deadLetters, DeliveryLog log, WebhookMetrics metrics,
    IOptions<ForwardingOptions> options, TimeProvider time, ILogger<HeldEvents> logger)
{
    public static readonly TimeSpan BounceDelay = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan FirstHold = TimeSpan.FromSeconds(5);

    /// <summary>How often a paused connection's held events look again (so a resume takes effect within this).</summary>
    public static readonly TimeSpan PauseRecheck = TimeSpan.FromSeconds(60);

    private readonly TimeSpan _maxHold = TimeSpan.FromHours(options.Value.MaxHoldHours);

    public async Task<ForwardOutcome> BounceAsync(QueuedWebhook message)
    {
        await redelivery.RequeueAsync(message, BounceDelay, CancellationToken.None).ConfigureAwait(false);
        Bounced(logger, message.EventId, message.ConnectionId, BounceDelay);
        return ForwardOutcome.Deferred;
    }

    /// <summary>
    /// Holds the event (or dead-letters it once held past <c>Forwarding__MaxHoldHours</c>). The delivery log is written on the
    /// first hold of a run (status <c>held</c>) and at the dead letter, not on every look: one log write per run of holds.
    /// </summary>
    /// <param name="reason"><c>connection_paused</c> or <c>target_failing</c>.</param>
    /// <param name="cap">The longest one hold waits.</param>
    public async Task<ForwardOutcome> HoldAsync(HeldEvent held, string reason, TimeSpan cap)
    {
        var message = held.Message;
        var now = time.GetUtcNow();
        var since = message.HeldSince ?? now;
        var attempts = message.PriorAttempts + message.Attempts;
        if (now - since > _maxHold)
        {
            var info = new DeadLetterInfo { Reason = "retries_exhausted", LastError = $"held ({reason}) for longer than Forwarding__MaxHoldHours", DeadLetteredAt = now };
            await log.TryRecordAsync(message, held.WebhookId, new LoggedOutcome(DeliveryStatus.DeadLettered, attempts, held.Route.Matched, held.Route.Target,
                LastError: info.LastError, DeadLetterReason: info.Reason), held.Body).ConfigureAwait(false);
            await deadLetters.WriteAsync(message with { DeadLetter = info }, CancellationToken.None).ConfigureAwait(false);
            metrics.DeadLettered(info.Reason);
            HeldTooLong(logger, message.EventId, message.ConnectionId, reason, since);
            return ForwardOutcome.DeadLettered;
        }
        var delay = Delay(message.Holds, cap);
        await redelivery.RequeueAsync(message with { Holds = message.Holds + 1, HeldSince = since }, delay, CancellationToken.None).ConfigureAwait(false);
        if (message.Holds == 0)
        {
            metrics.Held(reason);
            await log.TryRecordAsync(message, held.WebhookId, new LoggedOutcome(DeliveryStatus.Held, attempts, held.Route.Matched, held.Route.Target,
                LastError: $"held: {reason}", NextAttemptAt: now + delay), held.Body).ConfigureAwait(false);
        }
        Held(logger, message.EventId, message.ConnectionId, reason, message.Holds + 1, delay);
        return ForwardOutcome.Held;
    }

    /// <summary><see cref="FirstHold"/> doubled per hold so far, at most <paramref name="cap"/>.</summary>
    public static TimeSpan Delay(int holdsSoFar, TimeSpan cap)
    {
        var delay = FirstHold * Math.Pow(2, Math.Min(holdsSoFar, 20));
        return delay < cap ? delay : cap;
    }

    [LoggerMessage(EventId = 3200, Level = LogLevel.Information,
        Message = "Event {EventId} held ({Reason}, connection {ConnectionId}): hold {Holds}, looking again in {Delay}; no attempt spent")]
    private static partial void Held(ILogger logger, string eventId, string? connectionId, string reason, int holds, TimeSpan delay);

    [LoggerMessage(EventId = 3201, Level = LogLevel.Debug,
        Message = "Event {EventId} (connection {ConnectionId}) found no slot: its target had Forwarding__MaxConcurrentPerTarget requests in flight throughout the wait; back in {Delay}")]
    private static partial void Bounced(ILogger logger, string eventId, string? connectionId, TimeSpan delay);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Error,
        Message = "Event {EventId} (connection {ConnectionId}) was held ({Reason}) since {HeldSince}, longer than Forwarding__MaxHoldHours; dead-lettered")]
    private static partial void HeldTooLong(ILogger logger, string eventId, string? connectionId, string reason, DateTimeOffset heldSince);
}
