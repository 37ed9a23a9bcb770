using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Storage;

namespace CalWebhookFunctions.Forwarding;

/// <summary>What the decision step before the claim came to: go on (as the target's probe when <see cref="Admission"/> says so), or an end.</summary>
public readonly record struct GateDecision(ForwardOutcome? Outcome, Admission Admission = Admission.Go);

/// <summary>
/// The decision step before an event's claim and send (issue 14), in this order: a paused connection's events are held;
/// an event whose target is failing (<see cref="TargetBreaker"/>) is held unless it is the target's probe. Neither spends
/// an attempt. Everything else goes on to the claim and the send (where <see cref="TargetSlots"/> caps the requests in
/// flight to one target).
/// </summary>
public sealed class DeliveryGate(TargetBreaker breaker, HeldEvents held)
{
    public const string ConnectionPaused = "connection_paused";
    public const string TargetFailing = "target_failing";

    public async Task<GateDecision> DecideAsync(QueuedWebhook message, ConnectionRecord? connection, ForwardRoute route, string webhookId, byte[] body)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (route.Target is null)
        {
            return default; // dead-lettered on as before (removed connection, unusable forward URL)
        }
        // HELD — the one place a held event is decided (the delivery log's `held` status): a paused connection, a failing target.
        if (connection is { Paused: true })
        {
            return new GateDecision(await held.HoldAsync(new HeldEvent(message, webhookId, body, route), ConnectionPaused, HeldEvents.PauseRecheck).ConfigureAwait(false));
        }
        var admission = await breaker.AdmitAsync(route.Target).ConfigureAwait(false);
        if (admission == Admission.Hold)
        {
            return new GateDecision(await held.HoldAsync(new HeldEvent(message, webhookId, body, route), TargetFailing, breaker.ProbeInterval).ConfigureAwait(false));
        }
        return new GateDecision(null, admission);
    }
}
