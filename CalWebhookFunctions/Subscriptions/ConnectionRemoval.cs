using CalWebhookFunctions.Connections;
using States = CalWebhookFunctions.Connections.ConnectionRecord.States;

namespace CalWebhookFunctions.Subscriptions;

public sealed partial class ConnectionLifecycle
{
    /// <summary>Expired tombstones removed after each DELETE, at most: sweeping stays bounded and cheap.</summary>
    public const int TombstoneSweepBatch = 20;

    /// <summary>
    /// DELETE: removes the Cal.com subscription(s), then leaves a tombstone for <c>Deliveries__RetentionDays</c>. When
    /// Cal.com cannot confirm (or no credential was given), a cleanup message is queued first, then the tombstone is
    /// written — in that order, so nothing is forgotten.
    /// </summary>
    public async Task<RemovalOutcome> RemoveAsync(string connectionId, CalCredential? credential, CancellationToken cancellationToken)
    {
        var waitUntil = leases.Time.GetUtcNow() + ConnectionLeases.MaxWait;
        while (true)
        {
            var (row, busy) = await leases.ReadWhenFreeAsync(connectionId, waitUntil, cancellationToken).ConfigureAwait(false);
            if (row is null || row.IsRemoved)
            {
                return new RemovalOutcome(RemovalStatus.NotFound);
            }
            if (busy)
            {
                return new RemovalOutcome(RemovalStatus.Busy, BusyUntil: row.ClaimedUntil);
            }
            var lease = await leases.TryTakeAsync(connectionId, row, _ => { }, cancellationToken).ConfigureAwait(false);
            if (lease is null)
            {
                continue;
            }
            await using (lease.ConfigureAwait(false))
            {
                // Held, the work is finished whatever the caller does (see RegisterAsync).
                var outcome = await RemoveLeasedAsync(lease, credential, CancellationToken.None).ConfigureAwait(false);
                if (outcome is not null)
                {
                    await SweepTombstonesAsync().ConfigureAwait(false);
                    return outcome;
                }
            }
        }
    }

    /// <summary>Under the lease: the Cal.com deletions (or queued cleanups), then the tombstone. Null when the row changed under us.</summary>
    private async Task<RemovalOutcome?> RemoveLeasedAsync(ConnectionLease lease, CalCredential? credential, CancellationToken cancellationToken)
    {
        var row = lease.Row;
        var connectionId = row.ConnectionId;
        var webhookId = row.CalWebhookId;
        var scope = RegistrationPlanner.ScopeOf(row);
        string? failure = credential is null ? "no Cal.com credential was given (X-Cal-Access-Token or CalCom__ApiKey)" : null;
        foreach (var target in RegistrationPlanner.RemovalTargets(row))
        {
            var error = failure;
            if (credential is not null)
            {
                try
                {
                    await RemoveSubscriptionAsync(target, credential, cancellationToken).ConfigureAwait(false);
                }
                catch (CalComApiException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    error = ex.Message;
                }
            }
            if (error is not null)
            {
                // Visible at once: CleanUpSubscription tries again straight away, then on its schedule.
                await cleanup.EnqueueAsync(CleanupFor(connectionId, target, error), null, CancellationToken.None).ConfigureAwait(false);
                failure ??= error;
            }
        }

        var now = leases.Time.GetUtcNow();
        var written = await lease.CompleteAsync(r =>
        {
            r.State = States.Removed;
            r.RemovedAt = now;
            r.ExpiresAt = now + deliveriesOptions.Value.Retention;
            RegistrationPlanner.ClearRequest(r);
            r.PreviousSubscriberUrls = null;
        }, CancellationToken.None).ConfigureAwait(false);
        if (written != LeaseWrite.Written)
        {
            return written == LeaseWrite.Removed ? new RemovalOutcome(RemovalStatus.NotFound) : null;
        }
        if (failure is null)
        {
            SubscriptionsLog.Removed(logger, connectionId, webhookId, scope);
            return new RemovalOutcome(RemovalStatus.Removed, webhookId);
        }
        SubscriptionsLog.RemovedCleanupPending(logger, connectionId, webhookId, scope, Http.LoggedUrl.RedactIn(failure));
        return new RemovalOutcome(RemovalStatus.CleanupPending, webhookId, failure);
    }

    /// <summary>
    /// Deletes a subscription by id (404 counts as done), or else any webhook of the scope still carrying one of the
    /// connection's subscriber URLs (a registration that never learned its id). A scope whose owner Cal.com no longer
    /// knows (404 on the list) holds nothing.
    /// </summary>
    public async Task RemoveSubscriptionAsync(SubscriptionTarget target, CalCredential credential, CancellationToken cancellationToken)
    {
        if (target.WebhookId is not null)
        {
            if (await api.DeleteAsync(target.Scope, credential, target.WebhookId, cancellationToken).ConfigureAwait(false))
            {
                metrics.SubscriptionDeleted();
            }
            return;
        }
        IReadOnlyList<CalWebhook> found;
        try
        {
            found = await api.FindBySubscriberUrlAsync(target.Scope, credential, target.Urls, cancellationToken).ConfigureAwait(false);
        }
        catch (CalComApiException ex) when (ex.StatusCode == 404)
        {
            return;
        }
        foreach (var webhook in found)
        {
            if (await api.DeleteAsync(target.Scope, credential, webhook.Id, cancellationToken).ConfigureAwait(false))
            {
                metrics.SubscriptionDeleted();
            }
        }
    }

    /// <summary>
    /// Makes sure a subscription this request made (or adopted) for a connection that must not have it goes away,
    /// whatever happens to the caller: the cleanup message is queued first (durable, on no caller token), then the
    /// deletion is tried at once with the caller's credential; when that works the message is withdrawn.
    /// </summary>
    private async Task CompensateAsync(string connectionId, SubscriptionTarget target, CalCredential credential, string reason)
    {
        var receipt = await cleanup.EnqueueAsync(CleanupFor(connectionId, target, reason), CleanupMessages.RetrySchedule[0], CancellationToken.None)
            .ConfigureAwait(false);
        SubscriptionsLog.CompensationQueued(logger, connectionId, target.WebhookId, target.Scope, reason);
        try
        {
            await RemoveSubscriptionAsync(target, credential, CancellationToken.None).ConfigureAwait(false);
            await cleanup.WithdrawAsync(receipt, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is CalComApiException || Storage.StorageAccount.IsUnavailable(ex))
        {
            SubscriptionsLog.CompensationDeferred(logger, connectionId, target.WebhookId, Http.LoggedUrl.RedactIn(ex.Message));
        }
    }

    private CleanupMessage CleanupFor(string connectionId, SubscriptionTarget target, string error) => new()
    {
        ConnectionId = connectionId,
        Scope = target.Scope.Name,
        OrgId = target.Scope.OrgId,
        TeamId = target.Scope.TeamId,
        EventTypeId = target.Scope.EventTypeId,
        WebhookId = target.WebhookId,
        SubscriberUrl = target.Urls.Count > 0 ? target.Urls[0] : "",
        Attempts = 1,
        QueuedAt = leases.Time.GetUtcNow(),
        LastError = error,
    };

    /// <summary>Deletes a few expired tombstones; best effort (the next DELETE tries again).</summary>
    private async Task SweepTombstonesAsync()
    {
        try
        {
            await store.SweepExpiredTombstonesAsync(leases.Time.GetUtcNow(), TombstoneSweepBatch, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (Storage.StorageAccount.IsUnavailable(ex))
        {
            SubscriptionsLog.SweepFailed(logger, ex);
        }
    }
}
