using CalWebhookFunctions.Configuration;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Subscriptions;

/// <summary>
/// Registers and removes a connection's Cal.com subscription, crash-safe and idempotent.
/// <para>
/// A request first takes a <see cref="ConnectionLease"/> on the row (renewed in the background while held), writing
/// what it asks for into the row's <c>Requested*</c> fields; then it carries out the plan of
/// <see cref="RegistrationPlanner"/>; only when Cal.com confirmed does the same conditional write that releases the
/// lease turn the request into the applied settings the forwarder reads. A failure leaves the applied settings as they
/// were and the request pending; the next PUT looks the subscription up by every subscriber URL it may carry before
/// creating one, so it converges on exactly one. If the row vanished or became a tombstone while held, the connection
/// was removed: whatever this request made is compensated through the durable cleanup queue before answering.
/// </para>
/// </summary>
public sealed partial class ConnectionLifecycle(
    ConnectionStore store,
    ConnectionLeases leases,
    CalComApi api,
    WebhookSecrets secrets,
    CleanupMessages cleanup,
    IOptions<WebhookOptions> webhookOptions,
    IOptions<DeliveriesOptions> deliveriesOptions,
    WebhookMetrics metrics,
    ILogger<ConnectionLifecycle> logger)
{
    public string SubscriberUrlFor(string connectionId) => SubscriberUrl.For(webhookOptions.Value.PublicUrl, connectionId);

    /// <summary>PUT: makes the connection's subscription and row match <paramref name="request"/>.</summary>
    public async Task<RegistrationOutcome> RegisterAsync(string connectionId, ConnectionRequest request, CalCredential credential,
        CancellationToken cancellationToken)
    {
        var wanted = new RequestedSettings(request.Scope, string.Join(',', request.Triggers), request.ForwardUrl,
            SubscriberUrlFor(connectionId), Fingerprint(secrets.SubscriptionSecretFor(connectionId)));
        var waitUntil = leases.Time.GetUtcNow() + ConnectionLeases.MaxWait;
        var created = new List<string>();
        while (true)
        {
            var (read, busy) = await leases.ReadWhenFreeAsync(connectionId, waitUntil, cancellationToken).ConfigureAwait(false);
            if (busy)
            {
                return new RegistrationOutcome(RegistrationStatus.Busy, BusyUntil: read!.ClaimedUntil);
            }
            if (RegistrationPlanner.IsUnchanged(read, wanted))
            {
                // Another request finished while ours had lost its lease; anything we created and it did not adopt is extra.
                await CompensateExtraAsync(connectionId, wanted, credential, created, read!.CalWebhookId).ConfigureAwait(false);
                SubscriptionsLog.Unchanged(logger, connectionId, read.CalWebhookId);
                return new RegistrationOutcome(RegistrationStatus.Unchanged, read);
            }

            var plan = RegistrationPlanner.Plan(read, wanted);
            var lease = await leases.TryTakeAsync(connectionId, read, row => RegistrationPlanner.Request(row, wanted), cancellationToken)
                .ConfigureAwait(false);
            if (lease is null)
            {
                continue;
            }
            await using (lease.ConfigureAwait(false))
            {
                // Held, the work is finished whatever the caller does (each Cal.com call is bounded by its own timeouts):
                // a hang-up between Cal.com's create and the row's write would otherwise leave a subscription unrecorded.
                var outcome = await RegisterLeasedAsync(lease, plan, wanted, credential, created, CancellationToken.None).ConfigureAwait(false);
                if (outcome is not null)
                {
                    await CompensateExtraAsync(connectionId, wanted, credential, created, outcome.Record?.CalWebhookId).ConfigureAwait(false);
                    return outcome;
                }
            }
        }
    }

    /// <summary>Carries out <paramref name="plan"/> under the lease. Null when another request took the row over: decide again.</summary>
    private async Task<RegistrationOutcome?> RegisterLeasedAsync(ConnectionLease lease, RegistrationPlan plan, RequestedSettings wanted,
        CalCredential credential, List<string> created, CancellationToken cancellationToken)
    {
        var connectionId = lease.Row.ConnectionId;
        CalWebhook? webhook;
        try
        {
            webhook = await SyncAsync(lease, plan, wanted, credential, created.Add, cancellationToken).ConfigureAwait(false);
        }
        catch (CalComApiException ex) when (!cancellationToken.IsCancellationRequested)
        {
            SubscriptionsLog.RegistrationFailed(logger, connectionId, wanted.Scope, ex.StatusCode, ex.ErrorCode,
                Http.LoggedUrl.RedactIn(ex.CalMessage), ex.RequestId);
            return new RegistrationOutcome(RegistrationStatus.CalComFailed, lease.Row, ex);
        }

        // With the lease lost, CompleteAsync writes nothing and says whether the row was removed or taken over.
        var written = await lease.CompleteAsync(row =>
        {
            if (webhook is not null)
            {
                RegistrationPlanner.Apply(row, wanted, webhook.Id, leases.Time.GetUtcNow());
            }
        }, CancellationToken.None).ConfigureAwait(false);
        if (written == LeaseWrite.Written && webhook is not null)
        {
            var status = plan.WasApplied ? RegistrationStatus.Updated : RegistrationStatus.Created;
            SubscriptionsLog.Registered(logger, connectionId, webhook.Id, wanted.Scope, status);
            return new RegistrationOutcome(status, lease.Row);
        }
        if (written == LeaseWrite.Removed)
        {
            // Removed while we held it: nothing of ours may outlive the connection, whatever the caller does now.
            if (webhook is not null)
            {
                await CompensateAsync(connectionId, new SubscriptionTarget(wanted.Scope, webhook.Id, [wanted.SubscriberUrl]), credential,
                    "the connection was deleted while it was being registered").ConfigureAwait(false);
                created.Remove(webhook.Id);
            }
            return new RegistrationOutcome(RegistrationStatus.RemovedMeanwhile);
        }
        // Another request took over after our lease lapsed: decide again (a subscription we created is adopted by URL,
        // or compensated once the connection ends up with another).
        return null;
    }

    /// <summary>Subscriptions this request created that the connection did not end up with must not stay.</summary>
    private async Task CompensateExtraAsync(string connectionId, RequestedSettings wanted, CalCredential credential,
        List<string> created, string? kept)
    {
        foreach (var id in created.Where(id => id != kept))
        {
            await CompensateAsync(connectionId, new SubscriptionTarget(wanted.Scope, id, [wanted.SubscriberUrl]), credential,
                "the registration lost its lease after creating a subscription the connection did not keep").ConfigureAwait(false);
        }
        created.Clear();
    }

    /// <summary>The plan's Cal.com calls: the subscription that now carries <paramref name="wanted"/>, or null when the lease was lost.</summary>
    private async Task<CalWebhook?> SyncAsync(ConnectionLease lease, RegistrationPlan plan, RequestedSettings wanted,
        CalCredential credential, Action<string> created, CancellationToken cancellationToken)
    {
        foreach (var target in plan.RemoveFirst)
        {
            await RemoveSubscriptionAsync(target, credential, cancellationToken).ConfigureAwait(false);
        }
        if (plan.RemoveFirstIsApplied
            && await lease.SaveAsync(row => row.CalWebhookId = null, cancellationToken).ConfigureAwait(false) != LeaseWrite.Written)
        {
            return null;
        }

        var connectionId = lease.Row.ConnectionId;
        var settings = new WebhookSettings(wanted.SubscriberUrl, SettingLists.Split(wanted.Triggers), secrets.SubscriptionSecretFor(connectionId));
        CalWebhook? webhook = null;
        if (plan.PatchId is { } knownId)
        {
            webhook = await api.UpdateAsync(wanted.Scope, credential, knownId, settings, cancellationToken).ConfigureAwait(false);
            if (webhook is null)
            {
                SubscriptionsLog.StoredWebhookGone(logger, connectionId, knownId);
            }
        }
        webhook ??= await AdoptAsync(wanted.Scope, credential, plan.AdoptUrls, settings, connectionId, cancellationToken).ConfigureAwait(false);
        if (webhook is not null || lease.IsLost)
        {
            return lease.IsLost ? null : webhook;
        }
        try
        {
            webhook = await api.CreateAsync(wanted.Scope, credential, settings, cancellationToken).ConfigureAwait(false);
            created(webhook.Id);
            metrics.SubscriptionCreated();
            return webhook;
        }
        catch (CalComApiException ex) when (ex.StatusCode == 409)
        {
            // Cal.com already has a webhook with this subscriber URL for the owner: it is this connection's.
            var adopted = await AdoptAsync(wanted.Scope, credential, [wanted.SubscriberUrl], settings, connectionId, cancellationToken)
                .ConfigureAwait(false);
            if (adopted is null)
            {
                throw;
            }
            return adopted;
        }
    }

    /// <summary>
    /// The scope's webhook with one of <paramref name="urls"/>, brought in line with <paramref name="settings"/>; any
    /// further ones with those URLs are duplicates and are deleted. Null when there is none.
    /// </summary>
    private async Task<CalWebhook?> AdoptAsync(SubscriptionScope scope, CalCredential credential, IReadOnlyList<string> urls,
        WebhookSettings settings, string connectionId, CancellationToken cancellationToken)
    {
        var found = await api.FindBySubscriberUrlAsync(scope, credential, urls, cancellationToken).ConfigureAwait(false);
        foreach (var candidate in found)
        {
            var updated = await api.UpdateAsync(scope, credential, candidate.Id, settings, cancellationToken).ConfigureAwait(false);
            if (updated is null)
            {
                continue;
            }
            SubscriptionsLog.Adopted(logger, connectionId, updated.Id);
            foreach (var duplicate in found.Where(f => f.Id != updated.Id))
            {
                await api.DeleteAsync(scope, credential, duplicate.Id, cancellationToken).ConfigureAwait(false);
                SubscriptionsLog.DuplicateDeleted(logger, connectionId, duplicate.Id);
                metrics.SubscriptionDeleted();
            }
            return updated;
        }
        return null;
    }

    /// <summary>
    /// 8 hex characters of HMAC-SHA256 keyed with the secret over a fixed label: enough to notice that the secret
    /// changed, too little to confirm a guess of it.
    /// </summary>
    public static string Fingerprint(string secret) =>
        Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(secret), "calwebhookfunctions/secret-fingerprint/v1"u8))[..8];
}
