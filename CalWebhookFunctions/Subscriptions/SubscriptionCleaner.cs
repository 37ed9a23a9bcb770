using CalWebhookFunctions.Configuration;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Http;
using CalWebhookFunctions.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using States = CalWebhookFunctions.Connections.ConnectionRecord.States;

namespace CalWebhookFunctions.Subscriptions;

public enum CleanupResult
{
    /// <summary>Cal.com deleted the subscription, or it was already gone.</summary>
    Deleted,
    /// <summary>The connection was registered again and owns the subscription now: it must stay.</summary>
    StillInUse,
    /// <summary>Not yet: queued again with the next delay of the schedule.</summary>
    Retrying,
    /// <summary>Given up: moved to <c>cal-subscription-cleanup-poison</c> and logged for a person to finish.</summary>
    DeadLettered,
}

/// <summary>
/// Finishes the deletion of a subscription whose connection is already gone, with <c>CalCom__ApiKey</c> (the only
/// credential there is outside a request; none is ever stored). Transient failures are retried on
/// <see cref="CleanupMessages.RetrySchedule"/> by re-enqueueing with a visibility delay (<see cref="Redelivery"/>); a refusal, an
/// exhausted schedule or a missing credential dead-letters the message and logs exactly what to delete by hand.
/// </summary>
public sealed class SubscriptionCleaner(
    ConnectionStore store,
    ConnectionLifecycle lifecycle,
    DeadLetters deadLetters,
    Redelivery redelivery,
    ConnectionLeases leases,
    IOptions<CalComOptions> options,
    ILogger<SubscriptionCleaner> logger,
    Operations.Alerts.Alerts alerts)
{
    private static readonly RetrySchedule Retries = new(CleanupMessages.RetrySchedule);

    public async Task<CleanupResult> ProcessAsync(byte[] content, CancellationToken cancellationToken)
    {
        var message = CleanupMessages.TryDeserialize(content);
        if (message is null)
        {
            SubscriptionsLog.CleanupUnreadable(logger, content.Length);
            await deadLetters.ParkAsync(StorageNames.CleanupQueue, content, cancellationToken).ConfigureAwait(false);
            return CleanupResult.DeadLettered;
        }

        var row = await store.FindAsync(message.ConnectionId, cancellationToken).ConfigureAwait(false);
        if (row is { IsRemoved: false } && leases.HeldByOther(row))
        {
            // A request holds the connection: the DELETE that queued this message may not have finished yet, or a new
            // registration may be adopting this very subscription. Only a settled row can decide: look later. A row
            // left pending by a failed registration is settled (nobody holds it) and is judged now.
            return await RetryOrGiveUpAsync(message, "the connection is being changed by another request", transient: true, cancellationToken)
                .ConfigureAwait(false);
        }
        if (RegistrationPlanner.IsApplied(row) && (message.WebhookId is null || row.CalWebhookId == message.WebhookId))
        {
            // Registered again since: the new registration found the subscription by its URL and owns it.
            SubscriptionsLog.CleanupSkipped(logger, message.ConnectionId, message.WebhookId);
            return CleanupResult.StillInUse;
        }

        var apiKey = options.Value.ApiKey;
        if (string.IsNullOrWhiteSpace(apiKey))
        {
            return await GiveUpAsync(message with { LastError = "CalCom__ApiKey is not set, so no configured credential can delete it" },
                cancellationToken).ConfigureAwait(false);
        }

        var credential = new CalCredential(apiKey) { Source = "CalCom__ApiKey" };
        try
        {
            await lifecycle.RemoveSubscriptionAsync(new SubscriptionTarget(message.SubscriptionScope, message.WebhookId, [message.SubscriberUrl]),
                credential, cancellationToken).ConfigureAwait(false);
        }
        catch (CalComApiException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return await RetryOrGiveUpAsync(message, ex.Message, ex.IsTransient, cancellationToken).ConfigureAwait(false);
        }
        var reRegistered = await ReRegisterIfAdoptedMeanwhileAsync(message, credential, cancellationToken).ConfigureAwait(false);
        if (reRegistered is not null)
        {
            // The subscription is gone; only the re-registration of the connection that came back failed. Retried on the
            // schedule, and when it is used up the ACTION REQUIRED line says what is left.
            return await RetryOrGiveUpAsync(message, reRegistered, transient: true, cancellationToken).ConfigureAwait(false);
        }
        SubscriptionsLog.CleanupDone(logger, message.ConnectionId, message.WebhookId, message.SubscriptionScope, message.Attempts + 1);
        return CleanupResult.Deleted;
    }

    /// <summary>
    /// A PUT for the same connection may have run while the subscription was being deleted, and adopted it (found by
    /// its subscriber URL) just before it went. Then the row points at nothing, and an identical PUT would not notice.
    /// If the connection came back and does not own a different subscription, it is registered again here, with its
    /// applied settings and the configured credential; the lease serializes this with any PUT still running. Null when
    /// done; otherwise why it could not be done (every failure is a value here, so none escapes and parks the message).
    /// </summary>
    private async Task<string?> ReRegisterIfAdoptedMeanwhileAsync(CleanupMessage message, CalCredential credential, CancellationToken cancellationToken)
    {
        try
        {
            var row = await store.FindAsync(message.ConnectionId, cancellationToken).ConfigureAwait(false);
            if (!RegistrationPlanner.IsApplied(row)
                || (row.State == States.Active && row.CalWebhookId is not null && row.CalWebhookId != message.WebhookId))
            {
                return null;
            }
            if (row.State == States.Active)
            {
                // It names the subscription just deleted: make the registration look for one instead of trusting the id.
                row.CalWebhookId = null;
                row.State = States.Pending;
                if (!await store.TryReplaceAsync(row, cancellationToken).ConfigureAwait(false))
                {
                    return "the connection changed while its cleanup ran";
                }
            }
            var request = new ConnectionRequest(RegistrationPlanner.ScopeOf(row), SettingLists.Split(row.Triggers), row.ForwardUrl);
            var outcome = await lifecycle.RegisterAsync(message.ConnectionId, request, credential, cancellationToken).ConfigureAwait(false);
            if (outcome.Status is RegistrationStatus.Created or RegistrationStatus.Updated or RegistrationStatus.Unchanged)
            {
                SubscriptionsLog.CleanupReRegistered(logger, message.ConnectionId, message.WebhookId, outcome.Record?.CalWebhookId);
                return null;
            }
            return outcome.Status == RegistrationStatus.RemovedMeanwhile
                ? null
                : $"re-registering the connection failed: {outcome.CalComError?.Message ?? outcome.Status.ToString()}";
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return $"re-registering the connection failed: {ex.GetType().Name}: {ex.Message}";
        }
    }

    private async Task<CleanupResult> RetryOrGiveUpAsync(CleanupMessage message, string error, bool transient, CancellationToken cancellationToken)
    {
        var retry = message with { Attempts = message.Attempts + 1, LastError = error };
        if (!transient)
        {
            return await GiveUpAsync(retry, cancellationToken).ConfigureAwait(false);
        }
        var exhausted = retry with { LastError = $"{error} (retries exhausted)" };
        // Attempts counts the DELETE request's own try, so attempt n+1 waits schedule[n-1].
        if (await redelivery.RetryAsync(StorageNames.CleanupQueue, CleanupMessages.Serialize(retry), CleanupMessages.Serialize(exhausted),
                message.Attempts - 1, Retries, cancellationToken).ConfigureAwait(false) is not { } delay)
        {
            return NeedsPerson(exhausted);
        }
        SubscriptionsLog.CleanupRetrying(logger, message.ConnectionId, message.WebhookId, retry.Attempts, delay, LoggedUrl.RedactIn(error));
        return CleanupResult.Retrying;
    }

    private async Task<CleanupResult> GiveUpAsync(CleanupMessage dead, CancellationToken cancellationToken)
    {
        await deadLetters.ParkAsync(StorageNames.CleanupQueue, CleanupMessages.Serialize(dead), cancellationToken).ConfigureAwait(false);
        return NeedsPerson(dead);
    }

    /// <summary>Logs (and alerts) exactly what a person must delete for a cleanup that was parked.</summary>
    private CleanupResult NeedsPerson(CleanupMessage message)
    {
        var error = message.LastError ?? "";
        var scope = message.SubscriptionScope;
        var action = message.WebhookId is null
            ? $"GET <CalCom__ApiBaseUrl>/{scope.CollectionPath()}, then DELETE <CalCom__ApiBaseUrl>/{scope.CollectionPath()}/<id> for the webhook with that subscriber URL"
            : $"DELETE <CalCom__ApiBaseUrl>/{scope.ItemPath(message.WebhookId)}";
        SubscriptionsLog.CleanupNeedsPerson(logger, message.ConnectionId, scope, message.WebhookId ?? "(unknown)",
            LoggedUrl.Redact(message.SubscriberUrl), action, LoggedUrl.RedactIn(error));
        alerts.Raise(Operations.Alerts.AlertTypes.SubscriptionOrphaned, message.ConnectionId, new System.Text.Json.Nodes.JsonObject
        {
            ["connectionId"] = message.ConnectionId, ["webhookId"] = message.WebhookId, ["action"] = action,
            ["scope"] = new System.Text.Json.Nodes.JsonObject
            {
                ["name"] = scope.Name, ["orgId"] = scope.OrgId, ["teamId"] = scope.TeamId, ["eventTypeId"] = scope.EventTypeId,
            },
        });
        return CleanupResult.DeadLettered;
    }
}
