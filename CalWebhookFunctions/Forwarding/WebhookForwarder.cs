using Azure;
using CalWebhookFunctions.Configuration;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Storage;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Forwarding;

/// <summary>What became of one queue message.</summary>
public enum ForwardOutcome
{
    Delivered,
    AlreadyDelivered,
    /// <summary>Another attempt was (or may have been) sending the same webhook-id; a copy checks again shortly.</summary>
    Deferred,
    RetryScheduled,
    /// <summary>Storage failed before the event could be sent or settled; a copy tries again after a delay.</summary>
    StorageRetryScheduled,
    DeadLettered,
    /// <summary>Held without an attempt (connection paused, target failing): a copy looks again later (<see cref="HeldEvents"/>).</summary>
    Held,
}

/// <summary>
/// Handles one <c>cal-webhooks</c> message: at most one HTTP attempt, then exactly one of delivered (recorded under its
/// webhook-id), retry (a copy re-enqueued with the next delay and the attempt count) or dead letter. Never sleeps and
/// never retries in process: the function returns, the host deletes the message, and the copy carries on. Storage
/// failures become delayed copies too (<see cref="StorageRetryPolicy"/>); it throws only when even the copy cannot be
/// stored (or the host is stopping), and then the host retries the same message.
/// An attempt moves through explicit states, <see cref="Claimed"/> → <see cref="Sent"/> → <see cref="Recorded"/>.
/// </summary>
public sealed class WebhookForwarder(ForwardEnvelope envelope, ForwardSender sender, DeliveryPolicy policy, DeliveryLedger ledger,
    ForwardSettlement settle, PendingWebhooks pending, ConnectionSnapshot connections, DeliveryGate gate, TargetBreaker breaker,
    TargetSlots slots, HeldEvents held, IOptions<ForwardingOptions> options, TimeProvider time)
{
    public const string HttpClientName = "forwarding";

    /// <summary>
    /// The time a claim leaves for recording the outcome after the longest send, and, as much again, for the storage
    /// calls before the send (body, connection): a claim is held for the send timeout plus twice this.
    /// </summary>
    private static readonly TimeSpan RecordAllowance = TimeSpan.FromSeconds(15);

    private readonly Uri _defaultTarget = new(options.Value.Url, UriKind.Absolute);

    private TimeSpan Lease => sender.Timeout + RecordAllowance + RecordAllowance;

    /// <summary>Processes a message as the host hands it over (base64 already decoded, per host.json).</summary>
    public async Task<ForwardOutcome> ProcessAsync(byte[] rawMessage, CancellationToken cancellationToken)
    {
        if (!PendingWebhooks.TryDeserialize(rawMessage, out var message, out var problem))
        {
            return await settle.DeadLetterRawAsync(rawMessage, problem, cancellationToken).ConfigureAwait(false);
        }
        try
        {
            return await ForwardAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (StorageRetryPolicy.IsStorageFailure(ex, cancellationToken))
        {
            return await settle.StorageRetryAsync(message, ex).ConfigureAwait(false);
        }
    }

    private async Task<ForwardOutcome> ForwardAsync(QueuedWebhook message, CancellationToken cancellationToken)
    {
        byte[] body;
        try
        {
            body = await pending.ReadBodyAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return await settle.BodyMissingAsync(message, cancellationToken).ConfigureAwait(false);
        }

        var webhookId = OutboundSigner.WebhookId(message.ConnectionId, body);
        var attempt = message.Attempts + 1;
        // The connection comes from the instance's snapshot (no storage call unless its change check is due), looked up
        // while the claim is taken: neither depends on the other. The row is used only once the claim is this attempt's.
        var connectionLookup = message.ConnectionId is null
            ? Task.FromResult<ConnectionRecord?>(null)
            : connections.FindAsync(message.ConnectionId, cancellationToken).AsTask();

        // The decision step before the claim (issue 14; DeliveryGate): held, or on (as the target's probe, perhaps).
        var decision = await gate.DecideAsync(message, await connectionLookup.ConfigureAwait(false),
            ForwardRoute.For(await connectionLookup.ConfigureAwait(false), _defaultTarget), webhookId, body).ConfigureAwait(false);
        if (decision.Outcome is { } gated)
        {
            return gated;
        }
        if (message.Holds > 0)
        {
            // Attempted now: a later hold starts a new run — except after a probe, whose event was held for its failing
            // target all along (Forwarding__MaxHoldHours counts from its first hold).
            message = message with { Holds = 0, HeldSince = decision.Admission == Admission.Probe ? message.HeldSince : null };
        }

        DeliveryClaim claim;
        try
        {
            claim = await ledger.TryClaimAsync(LedgerKey.Of(message, webhookId, body), message.EventId, message.ConnectionId, attempt, Lease,
                cancellationToken, message.RedeliverAfter).ConfigureAwait(false);
        }
        catch
        {
            await IgnoreOutcomeAsync(connectionLookup).ConfigureAwait(false);
            throw;
        }
        if (claim.Status != ClaimStatus.Claimed)
        {
            await IgnoreOutcomeAsync(connectionLookup).ConfigureAwait(false);
        }
        return claim.Status switch
        {
            ClaimStatus.AlreadyDelivered => await settle.AlreadyDeliveredAsync(message, webhookId).ConfigureAwait(false),
            ClaimStatus.InFlight => await settle.DeferAsync(message, webhookId, claim, cancellationToken).ConfigureAwait(false),
            _ => await AttemptAsync(message, body, webhookId, attempt, Claimed.Of(claim, sender.Timeout + RecordAllowance), connectionLookup,
                decision.Admission, cancellationToken).ConfigureAwait(false),
        };
    }

    private async Task<ForwardOutcome> AttemptAsync(QueuedWebhook message, byte[] body, string webhookId, int attempt, Claimed claimed,
        Task<ConnectionRecord?> connectionLookup, Admission admission, CancellationToken cancellationToken)
    {
        AttemptState state = claimed;
        try
        {
            var route = ForwardRoute.For(await connectionLookup.ConfigureAwait(false), _defaultTarget);
            if (route.DeadLetterReason is { } reason)
            {
                return await settle.DeadLetterAsync(message, webhookId, message.Attempts, claimed.Claim, reason, default, route, body)
                    .ConfigureAwait(false);
            }
            // Forwarding__MaxConcurrentPerTarget: a slot for the POST, waited for a moment; none → back to the queue, unspent.
            using var slot = await slots.EnterAsync(route.Target!, cancellationToken).ConfigureAwait(false);
            if (slot is null)
            {
                await ledger.ReleaseAsync(claimed.Claim).ConfigureAwait(false);
                return await held.BounceAsync(message).ConfigureAwait(false);
            }
            if (await EnsureSendableAsync(claimed, message, attempt, cancellationToken).ConfigureAwait(false) is not { } ready)
            {
                return await settle.LapsedAsync(message, webhookId, claimed).ConfigureAwait(false);
            }
            state = ready;
            var sent = await SendAsync(ready, message, body, webhookId, route, attempt, admission, slot, cancellationToken).ConfigureAwait(false);
            state = sent;
            var recorded = sent.Decision.Kind switch
            {
                DecisionKind.Delivered => await settle.DeliveredAsync(sent, message, webhookId, attempt, route, body).ConfigureAwait(false),
                DecisionKind.Retry => await settle.RetryAsync(sent, message, webhookId, attempt, route, body).ConfigureAwait(false),
                _ => new Recorded(sent.Claim, await settle.DeadLetterAsync(message, webhookId, attempt, sent.Claim, sent.Decision.Reason, sent.Result,
                    route, body, sent).ConfigureAwait(false)),
            };
            return recorded.Outcome;
        }
        catch when (!state.KeepsClaimOnFailure)
        {
            // Storage failed or the host is stopping before the app answered 2xx: give the claim up for the retry.
            await ledger.ReleaseAsync(state.Claim).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Waits for a task whose result is no longer wanted, without throwing what it may have thrown.</summary>
    private static async Task IgnoreOutcomeAsync(Task task) =>
        await task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

    /// <summary>
    /// The claim, still good for a whole send and its record: as taken when the storage calls since were quick, else
    /// renewed (conditionally on its ETag, so only if no other copy took it over). Null: do not send on it.
    /// </summary>
    private async Task<Claimed?> EnsureSendableAsync(Claimed claimed, QueuedWebhook message, int attempt, CancellationToken cancellationToken)
    {
        if (time.GetUtcNow() <= claimed.SendBy)
        {
            return claimed;
        }
        var renewed = await ledger.RenewAsync(claimed.Claim, message.EventId, message.ConnectionId, attempt, Lease, cancellationToken)
            .ConfigureAwait(false);
        if (renewed is null)
        {
            return null;
        }
        var ready = Claimed.Of(renewed, sender.Timeout + RecordAllowance);
        return time.GetUtcNow() <= ready.SendBy ? ready : null;
    }

    private async Task<Sent> SendAsync(Claimed claimed, QueuedWebhook message, byte[] body, string webhookId, ForwardRoute route, int attempt,
        Admission admission, TargetSlots.Slot slot, CancellationToken cancellationToken)
    {
        var isJson = ConnectionIdResolver.TryReadJsonFields(body, out _, out _);
        var forward = envelope.Write(route.Matched ? message.ConnectionId : null, body, isJson);
        var started = time.GetTimestamp();
        AttemptResult result;
        using (slot) // held for the request only: recording the outcome does not keep the target's slot
        {
            result = await sender.SendAsync(route.Target!, forward, webhookId, message.Headers, cancellationToken).ConfigureAwait(false);
        }
        var elapsedMs = (long)time.GetElapsedTime(started).TotalMilliseconds;
        // Counted as the answer arrives, before the outcome's storage calls: in the order the target answered (a failure
        // counted only after its retry copy was stored would count late, after successes that came later, and runs of
        // failures would seem to form whenever storage slowed down).
        await breaker.RecordAsync(route.Target!, result).ConfigureAwait(false);
        var decision = policy.Decide(attempt, result, admission == Admission.Probe ? breaker.ProbeInterval : null);
        return new Sent(claimed.Claim, result, decision, elapsedMs);
    }
}
