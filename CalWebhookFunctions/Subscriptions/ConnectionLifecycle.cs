using CalWebhookFunctions.Configuration;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Ingest;
using CalWebhookFunctions.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using States = CalWebhookFunctions.Connections.ConnectionRecord.States;

namespace CalWebhookFunctions.Subscriptions;

public enum RegistrationStatus
{
    /// <summary>The connection had no active subscription before; now it has one (201).</summary>
    Created,
    /// <summary>The connection's subscription or forward URL changed (200).</summary>
    Updated,
    /// <summary>An identical repeat: nothing changed and Cal.com was not called (200).</summary>
    Unchanged,
}

public sealed record RegistrationOutcome(RegistrationStatus Status, ConnectionRecord Record);

public enum RemovalStatus
{
    NotFound,
    /// <summary>The Cal.com subscription is gone (or never existed) and so is the row (204).</summary>
    Removed,
    /// <summary>The row is gone; Cal.com did not confirm the deletion and a cleanup message is queued (202).</summary>
    CleanupPending,
}

public sealed record RemovalOutcome(RemovalStatus Status, string? CalWebhookId = null, string? Reason = null);

/// <summary>Another request holds the connection (a registration or removal under way) and did not finish in time.</summary>
public sealed class ConnectionBusyException(DateTimeOffset claimedUntil)
    : Exception("Another request is changing this connection's subscription.")
{
    public DateTimeOffset ClaimedUntil { get; } = claimedUntil;
}

/// <summary>The connection was deleted while this request was registering it.</summary>
public sealed class ConnectionRemovedException() : Exception("The connection was deleted while it was being registered.");

/// <summary>
/// Registers and removes a connection's Cal.com subscription, crash-safe and idempotent.
/// <para>
/// The row in <c>CalConnections</c> is the source of truth and is written <em>before</em> Cal.com is called: a request
/// first takes a claim on the row (an ETag-conditional write that also marks it <c>pending</c> and records the scope and
/// subscriber URL), so at most one request at a time talks to Cal.com for a connection and nothing is ever created at
/// Cal.com that the table does not know how to find. Only when Cal.com has answered is the row marked <c>active</c>
/// with the webhook id and the claim released. A failure or crash at any point leaves a <c>pending</c> row; the next
/// PUT re-runs the sync, which looks the subscription up by its (per-connection, unique) subscriber URL before creating
/// one, adopts it on a 409, and so converges on exactly one subscription. A crashed holder's claim lapses after
/// <see cref="ClaimLease"/>.
/// </para>
/// </summary>
public sealed class ConnectionLifecycle
{
    /// <summary>How long a claim holds without being renewed; it is renewed before every Cal.com call.</summary>
    public static readonly TimeSpan ClaimLease = TimeSpan.FromMinutes(2);

    /// <summary>How long a request waits for another one's claim before answering 409.</summary>
    public static readonly TimeSpan MaxClaimWait = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan ClaimPoll = TimeSpan.FromMilliseconds(150);

    private readonly ConnectionStore _store;
    private readonly CalComApi _api;
    private readonly WebhookSecrets _secrets;
    private readonly CleanupMessages _cleanup;
    private readonly TimeProvider _time;
    private readonly WebhookMetrics _metrics;
    private readonly ILogger<ConnectionLifecycle> _logger;
    private readonly string _publicUrl;

    public ConnectionLifecycle(ConnectionStore store, CalComApi api, WebhookSecrets secrets, CleanupMessages cleanup,
        IOptions<WebhookOptions> webhookOptions, TimeProvider time, WebhookMetrics metrics, ILogger<ConnectionLifecycle> logger)
    {
        _store = store;
        _api = api;
        _secrets = secrets;
        _cleanup = cleanup;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _publicUrl = webhookOptions.Value.PublicUrl;
    }

    public string SubscriberUrlFor(string connectionId) => SubscriberUrl.For(_publicUrl, connectionId);

    /// <summary>PUT: makes the connection's subscription and row match <paramref name="request"/>.</summary>
    public async Task<RegistrationOutcome> RegisterAsync(string connectionId, ConnectionRequest request, CalCredential credential,
        CancellationToken cancellationToken)
    {
        var subscriberUrl = SubscriberUrlFor(connectionId);
        var triggers = string.Join(',', request.Triggers);
        var fingerprint = Fingerprint(_secrets.SubscriptionSecretFor(connectionId));
        var claimId = Guid.NewGuid().ToString("N");
        var waitUntil = _time.GetUtcNow() + MaxClaimWait;
        string? createdByUs = null;
        try
        {
            while (true)
            {
                var row = await _store.FindAsync(connectionId, cancellationToken).ConfigureAwait(false);
                var now = _time.GetUtcNow();
                if (row is not null && row.State == States.Active && row.CalWebhookId is not null
                    && !IsClaimedByOther(row, claimId, now)
                    && SameScope(row, request.Scope) && row.SubscriberUrl == subscriberUrl && row.Triggers == triggers
                    && row.ForwardUrl == request.ForwardUrl && row.SecretFingerprint == fingerprint)
                {
                    if (createdByUs is not null && createdByUs != row.CalWebhookId)
                    {
                        // Our claim lapsed after we created one and another request finished with its own: ours is extra.
                        await DeleteQuietlyAsync(request.Scope, credential, createdByUs, cancellationToken).ConfigureAwait(false);
                    }
                    SubscriptionsLog.Unchanged(_logger, connectionId, row.CalWebhookId);
                    return new RegistrationOutcome(RegistrationStatus.Unchanged, row);
                }
                if (row is not null && IsClaimedByOther(row, claimId, now))
                {
                    await WaitForClaimAsync(row, waitUntil, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                var wasActive = row is { State: States.Active, CalWebhookId: not null };
                var inserted = row is null;
                var claimed = row ?? new ConnectionRecord { ConnectionId = connectionId, CreatedAt = now };
                var moving = !inserted && !SameScope(claimed, request.Scope);
                // The URL the subscription may still carry (Webhook__PublicUrl can change between registrations).
                var previousUrl = claimed.SubscriberUrl.Length > 0 ? claimed.SubscriberUrl : subscriberUrl;
                if (!moving)
                {
                    Apply(claimed, request, subscriberUrl, triggers);
                }
                if (!await TakeClaimAsync(claimed, claimId, inserted, cancellationToken).ConfigureAwait(false))
                {
                    continue;
                }

                try
                {
                    var result = await SyncAsync(claimed, request, subscriberUrl, previousUrl, triggers, credential, moving,
                        id => createdByUs = id, cancellationToken).ConfigureAwait(false);
                    if (result is null)
                    {
                        // The claim was lost to another request (ours lapsed); decide again from what it wrote.
                        continue;
                    }
                    if (createdByUs is not null && createdByUs != result.CalWebhookId)
                    {
                        await DeleteQuietlyAsync(request.Scope, credential, createdByUs, cancellationToken).ConfigureAwait(false);
                    }
                    var status = wasActive ? RegistrationStatus.Updated : RegistrationStatus.Created;
                    SubscriptionsLog.Registered(_logger, connectionId, result.CalWebhookId, request.Scope, status);
                    return new RegistrationOutcome(status, result);
                }
                catch (CalComApiException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    SubscriptionsLog.RegistrationFailed(_logger, connectionId, request.Scope, ex.StatusCode, ex.ErrorCode,
                        ex.CalMessage, ex.RequestId);
                    await ReleaseAfterFailureAsync(claimed).ConfigureAwait(false);
                    throw;
                }
                catch (Exception ex) when (ex is not ConnectionRemovedException)
                {
                    await ReleaseAfterFailureAsync(claimed).ConfigureAwait(false);
                    throw;
                }
            }
        }
        catch (ConnectionRemovedException)
        {
            if (createdByUs is not null)
            {
                await DeleteQuietlyAsync(request.Scope, credential, createdByUs, cancellationToken).ConfigureAwait(false);
            }
            throw;
        }
    }

    /// <summary>
    /// Under the claim: moves the subscription out of an old scope if the scope changed, then brings the Cal.com
    /// subscription in line (PATCH by stored id; else adopt one found by subscriber URL; else create, adopting on 409)
    /// and marks the row active. Null when the claim was lost.
    /// </summary>
    private async Task<ConnectionRecord?> SyncAsync(ConnectionRecord row, ConnectionRequest request, string subscriberUrl,
        string previousUrl, string triggers, CalCredential credential, bool moving, Action<string> created, CancellationToken cancellationToken)
    {
        if (moving)
        {
            // The old subscription goes first; the row still names it, so a crash here is retried from the same place.
            await RemoveSubscriptionAsync(ScopeOf(row), credential, row.CalWebhookId, row.SubscriberUrl, cancellationToken).ConfigureAwait(false);
            row.CalWebhookId = null;
            Apply(row, request, subscriberUrl, triggers);
            if (!await RenewClaimAsync(row, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
        }

        var settings = new WebhookSettings(subscriberUrl, request.Triggers, _secrets.SubscriptionSecretFor(row.ConnectionId));
        CalWebhook? webhook = null;
        if (row.CalWebhookId is { } knownId)
        {
            webhook = await _api.UpdateAsync(request.Scope, credential, knownId, settings, cancellationToken).ConfigureAwait(false);
            if (webhook is null)
            {
                SubscriptionsLog.StoredWebhookGone(_logger, row.ConnectionId, knownId);
            }
        }
        if (webhook is null)
        {
            webhook = await AdoptAsync(request.Scope, credential, [subscriberUrl, previousUrl], settings, row.ConnectionId, cancellationToken)
                .ConfigureAwait(false);
        }
        if (webhook is null)
        {
            if (!await RenewClaimAsync(row, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
            try
            {
                webhook = await _api.CreateAsync(request.Scope, credential, settings, cancellationToken).ConfigureAwait(false);
                created(webhook.Id);
                _metrics.SubscriptionCreated();
            }
            catch (CalComApiException ex) when (ex.StatusCode == 409)
            {
                // Cal.com already has a webhook with this subscriber URL for the owner: it is this connection's.
                webhook = await AdoptAsync(request.Scope, credential, [subscriberUrl], settings, row.ConnectionId, cancellationToken)
                    .ConfigureAwait(false);
                if (webhook is null)
                {
                    throw;
                }
            }
        }

        row.CalWebhookId = webhook.Id;
        row.SecretFingerprint = Fingerprint(settings.Secret);
        row.State = States.Active;
        row.ClaimId = null;
        row.ClaimedUntil = null;
        row.UpdatedAt = _time.GetUtcNow();
        if (await _store.TryReplaceAsync(row, cancellationToken).ConfigureAwait(false))
        {
            return row;
        }
        var current = await _store.FindAsync(row.ConnectionId, cancellationToken).ConfigureAwait(false);
        if (current is null)
        {
            throw new ConnectionRemovedException();
        }
        return null;
    }

    /// <summary>
    /// The scope's webhook with one of <paramref name="urls"/>, brought in line with <paramref name="settings"/>; any
    /// further ones with those URLs are duplicates and are deleted. Null when there is none.
    /// </summary>
    private async Task<CalWebhook?> AdoptAsync(SubscriptionScope scope, CalCredential credential, IReadOnlyCollection<string> urls,
        WebhookSettings settings, string connectionId, CancellationToken cancellationToken)
    {
        var found = await _api.FindBySubscriberUrlAsync(scope, credential, [.. urls.Where(u => u.Length > 0).Distinct()], cancellationToken)
            .ConfigureAwait(false);
        foreach (var candidate in found)
        {
            var updated = await _api.UpdateAsync(scope, credential, candidate.Id, settings, cancellationToken).ConfigureAwait(false);
            if (updated is null)
            {
                continue;
            }
            SubscriptionsLog.Adopted(_logger, connectionId, updated.Id);
            foreach (var duplicate in found.Where(f => f.Id != updated.Id))
            {
                await _api.DeleteAsync(scope, credential, duplicate.Id, cancellationToken).ConfigureAwait(false);
                SubscriptionsLog.DuplicateDeleted(_logger, connectionId, duplicate.Id);
                _metrics.SubscriptionDeleted();
            }
            return updated;
        }
        return null;
    }

    /// <summary>
    /// DELETE: removes the Cal.com subscription, then the row. When Cal.com cannot confirm (or no credential was
    /// given), the row is removed anyway after a cleanup message is queued — in that order, so nothing is forgotten.
    /// </summary>
    public async Task<RemovalOutcome> RemoveAsync(string connectionId, CalCredential? credential, CancellationToken cancellationToken)
    {
        var claimId = Guid.NewGuid().ToString("N");
        var waitUntil = _time.GetUtcNow() + MaxClaimWait;
        while (true)
        {
            var row = await _store.FindAsync(connectionId, cancellationToken).ConfigureAwait(false);
            if (row is null)
            {
                return new RemovalOutcome(RemovalStatus.NotFound);
            }
            if (IsClaimedByOther(row, claimId, _time.GetUtcNow()))
            {
                await WaitForClaimAsync(row, waitUntil, cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (!await TakeClaimAsync(row, claimId, inserted: false, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }

            try
            {
                var outcome = await RemoveClaimedAsync(row, credential, cancellationToken).ConfigureAwait(false);
                if (outcome is not null)
                {
                    return outcome;
                }
            }
            catch (Exception)
            {
                await ReleaseAfterFailureAsync(row).ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>Under the claim: the Cal.com deletion (or a queued cleanup), then the row. Null when the row changed under us.</summary>
    private async Task<RemovalOutcome?> RemoveClaimedAsync(ConnectionRecord row, CalCredential? credential, CancellationToken cancellationToken)
    {
        var connectionId = row.ConnectionId;
        var scope = ScopeOf(row);
        string? failure;
        if (credential is null)
        {
            failure = "no Cal.com credential was given (X-Cal-Access-Token or CalCom__ApiKey)";
        }
        else
        {
            try
            {
                await RemoveSubscriptionAsync(scope, credential, row.CalWebhookId, row.SubscriberUrl, cancellationToken).ConfigureAwait(false);
                failure = null;
            }
            catch (CalComApiException ex) when (!cancellationToken.IsCancellationRequested)
            {
                failure = ex.Message;
            }
        }

        if (failure is not null)
        {
            var message = new CleanupMessage
            {
                ConnectionId = connectionId,
                Scope = scope.Name,
                OrgId = scope.OrgId,
                TeamId = scope.TeamId,
                EventTypeId = scope.EventTypeId,
                WebhookId = row.CalWebhookId,
                SubscriberUrl = row.SubscriberUrl,
                Attempts = 1,
                QueuedAt = _time.GetUtcNow(),
                LastError = failure,
            };
            // Visible at once: CleanUpSubscription tries again straight away, then on its schedule.
            await _cleanup.EnqueueAsync(message, null, cancellationToken).ConfigureAwait(false);
        }
        if (!await _store.TryDeleteAsync(row, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        if (failure is null)
        {
            SubscriptionsLog.Removed(_logger, connectionId, row.CalWebhookId, scope);
            return new RemovalOutcome(RemovalStatus.Removed, row.CalWebhookId);
        }
        SubscriptionsLog.RemovedCleanupPending(_logger, connectionId, row.CalWebhookId, scope, failure);
        return new RemovalOutcome(RemovalStatus.CleanupPending, row.CalWebhookId, failure);
    }

    /// <summary>
    /// Deletes a subscription by id (404 counts as done) and any webhook of the scope still carrying the
    /// connection's subscriber URL (a registration that never learned its id). A scope whose owner Cal.com no
    /// longer knows (404 on the list) holds nothing.
    /// </summary>
    public async Task RemoveSubscriptionAsync(SubscriptionScope scope, CalCredential credential, string? webhookId, string subscriberUrl,
        CancellationToken cancellationToken)
    {
        if (webhookId is not null)
        {
            if (await _api.DeleteAsync(scope, credential, webhookId, cancellationToken).ConfigureAwait(false))
            {
                _metrics.SubscriptionDeleted();
            }
            return;
        }
        IReadOnlyList<CalWebhook> found;
        try
        {
            found = await _api.FindBySubscriberUrlAsync(scope, credential, [subscriberUrl], cancellationToken).ConfigureAwait(false);
        }
        catch (CalComApiException ex) when (ex.StatusCode == 404)
        {
            return;
        }
        foreach (var webhook in found)
        {
            if (await _api.DeleteAsync(scope, credential, webhook.Id, cancellationToken).ConfigureAwait(false))
            {
                _metrics.SubscriptionDeleted();
            }
        }
    }

    private async Task DeleteQuietlyAsync(SubscriptionScope scope, CalCredential credential, string webhookId, CancellationToken cancellationToken)
    {
        try
        {
            if (await _api.DeleteAsync(scope, credential, webhookId, cancellationToken).ConfigureAwait(false))
            {
                _metrics.SubscriptionDeleted();
            }
        }
        catch (CalComApiException ex)
        {
            SubscriptionsLog.OrphanLeft(_logger, webhookId, scope, ex.Message);
        }
    }

    private async Task<bool> TakeClaimAsync(ConnectionRecord row, string claimId, bool inserted, CancellationToken cancellationToken)
    {
        row.ClaimId = claimId;
        row.ClaimedUntil = _time.GetUtcNow() + ClaimLease;
        row.State = States.Pending;
        row.UpdatedAt = _time.GetUtcNow();
        return inserted
            ? await _store.TryInsertAsync(row, cancellationToken).ConfigureAwait(false)
            : await _store.TryReplaceAsync(row, cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> RenewClaimAsync(ConnectionRecord row, CancellationToken cancellationToken)
    {
        row.ClaimedUntil = _time.GetUtcNow() + ClaimLease;
        row.UpdatedAt = _time.GetUtcNow();
        return await _store.TryReplaceAsync(row, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Gives the claim back after a failure, so a retry need not wait for it to lapse. The row stays pending (with the
    /// webhook id when one was learned), so the retry re-syncs. Best effort: if storage fails too, the claim lapses.
    /// </summary>
    private async Task ReleaseAfterFailureAsync(ConnectionRecord row)
    {
        try
        {
            row.State = States.Pending;
            row.ClaimId = null;
            row.ClaimedUntil = null;
            await _store.TryReplaceAsync(row, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (Storage.StorageAccount.IsUnavailable(ex) || ex is InvalidOperationException)
        {
            SubscriptionsLog.ReleaseFailed(_logger, ex, row.ConnectionId);
        }
    }

    private async Task WaitForClaimAsync(ConnectionRecord row, DateTimeOffset waitUntil, CancellationToken cancellationToken)
    {
        if (_time.GetUtcNow() >= waitUntil)
        {
            throw new ConnectionBusyException(row.ClaimedUntil ?? _time.GetUtcNow());
        }
        await Task.Delay(ClaimPoll, _time, cancellationToken).ConfigureAwait(false);
    }

    private static bool IsClaimedByOther(ConnectionRecord row, string claimId, DateTimeOffset now) =>
        row.ClaimId is not null && row.ClaimId != claimId && row.ClaimedUntil > now;

    private static void Apply(ConnectionRecord row, ConnectionRequest request, string subscriberUrl, string triggers)
    {
        row.Scope = request.Scope.Name;
        row.OrgId = request.Scope.OrgId;
        row.TeamId = request.Scope.TeamId;
        row.EventTypeId = request.Scope.EventTypeId;
        row.SubscriberUrl = subscriberUrl;
        row.Triggers = triggers;
        row.ForwardUrl = request.ForwardUrl;
    }

    /// <summary>
    /// 8 hex characters of HMAC-SHA256 keyed with the secret over a fixed label: enough to notice that the secret
    /// changed, too little to confirm a guess of it.
    /// </summary>
    public static string Fingerprint(string secret) =>
        Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(secret), "calwebhookfunctions/secret-fingerprint/v1"u8))[..8];

    public static SubscriptionScope ScopeOf(ConnectionRecord row) => new(row.Scope, row.OrgId, row.TeamId, row.EventTypeId);

    private static bool SameScope(ConnectionRecord row, SubscriptionScope scope) => ScopeOf(row) == scope;
}
