using System.Diagnostics.CodeAnalysis;
using CalWebhookFunctions.Connections;
using States = CalWebhookFunctions.Connections.ConnectionRecord.States;

namespace CalWebhookFunctions.Subscriptions;

/// <summary>What a PUT asks for, resolved: the subscriber URL and secret fingerprint it implies included.</summary>
public sealed record RequestedSettings(SubscriptionScope Scope, string Triggers, string? ForwardUrl, string SubscriberUrl, string Fingerprint);

/// <summary>A subscription that may exist at Cal.com: by id when known, else found by one of its subscriber URLs.</summary>
public sealed record SubscriptionTarget(SubscriptionScope Scope, string? WebhookId, IReadOnlyList<string> Urls);

/// <summary>
/// What a registration does, in order: remove the subscriptions that must go first (the old scope's when the scope
/// changes; one a failed earlier request may have made in another scope), PATCH the stored one, else adopt one found
/// by any URL it may carry, else create.
/// </summary>
public sealed record RegistrationPlan(
    bool WasApplied,
    IReadOnlyList<SubscriptionTarget> RemoveFirst,
    bool RemoveFirstIsApplied,
    string? PatchId,
    IReadOnlyList<string> AdoptUrls);

/// <summary>
/// Pure decisions of the connection lifecycle: from the stored row and the requested settings to a plan. The row's
/// scope, subscriber URL, triggers and forward URL are the <em>applied</em> settings (what Cal.com confirmed); the
/// <c>Requested*</c> fields hold what a PUT asked for until Cal.com confirms it.
/// </summary>
public static class RegistrationPlanner
{
    public static SubscriptionScope ScopeOf(ConnectionRecord row) => new(row.Scope, row.OrgId, row.TeamId, row.EventTypeId);

    public static SubscriptionScope? RequestedScopeOf(ConnectionRecord row) => row.RequestedScope is null
        ? null
        : new SubscriptionScope(row.RequestedScope, row.RequestedOrgId, row.RequestedTeamId, row.RequestedEventTypeId);

    /// <summary>Whether the connection has a confirmed registration (its applied settings mean something).</summary>
    public static bool IsApplied([NotNullWhen(true)] ConnectionRecord? row) =>
        row is not null && !row.IsRemoved && (row.AppliedAt is not null || row.State == States.Active);

    /// <summary>An identical repeat of a settled registration: nothing to do, Cal.com is not called.</summary>
    public static bool IsUnchanged(ConnectionRecord? row, RequestedSettings wanted) =>
        row is { State: States.Active, CalWebhookId: not null }
        && ScopeOf(row) == wanted.Scope && row.SubscriberUrl == wanted.SubscriberUrl && row.Triggers == wanted.Triggers
        && row.ForwardUrl == wanted.ForwardUrl && row.SecretFingerprint == wanted.Fingerprint;

    public static IReadOnlyList<string> PreviousUrls(ConnectionRecord row) =>
        string.IsNullOrEmpty(row.PreviousSubscriberUrls) ? [] : row.PreviousSubscriberUrls.Split('\n');

    /// <summary>The plan for registering <paramref name="wanted"/> over <paramref name="read"/> (null or a tombstone: none).</summary>
    public static RegistrationPlan Plan(ConnectionRecord? read, RequestedSettings wanted)
    {
        if (read is null || read.IsRemoved)
        {
            return new RegistrationPlan(false, [], false, null, [wanted.SubscriberUrl]);
        }
        var applied = IsApplied(read);
        var moving = applied && ScopeOf(read) != wanted.Scope;
        var removeFirst = new List<SubscriptionTarget>();
        if (moving)
        {
            removeFirst.Add(new SubscriptionTarget(ScopeOf(read), read.CalWebhookId, Urls(read.SubscriberUrl)));
        }
        var staleScope = RequestedScopeOf(read);
        if (staleScope is not null && staleScope != wanted.Scope && !(applied && staleScope == ScopeOf(read)))
        {
            // An earlier PUT asked for another scope and failed: it may have created a subscription there.
            removeFirst.Add(new SubscriptionTarget(staleScope, null, Urls(read.RequestedSubscriberUrl, [.. PreviousUrls(read)])));
        }
        var adopt = Urls(wanted.SubscriberUrl, [read.SubscriberUrl, read.RequestedSubscriberUrl, .. PreviousUrls(read)]);
        return new RegistrationPlan(applied && read.CalWebhookId is not null, removeFirst, moving, moving ? null : read.CalWebhookId, adopt);
    }

    /// <summary>Writes a PUT's requested settings into the row it leases, remembering every URL not yet confirmed.</summary>
    public static void Request(ConnectionRecord row, RequestedSettings wanted)
    {
        var previous = PreviousUrls(row).ToList();
        if (row.RequestedSubscriberUrl is { Length: > 0 } earlier && earlier != wanted.SubscriberUrl && !previous.Contains(earlier))
        {
            previous.Add(earlier);
        }
        if (row.SubscriberUrl.Length > 0 && row.SubscriberUrl != wanted.SubscriberUrl && !previous.Contains(row.SubscriberUrl))
        {
            previous.Add(row.SubscriberUrl);
        }
        row.PreviousSubscriberUrls = previous.Count == 0 ? null : string.Join('\n', previous);
        (row.RequestedScope, row.RequestedOrgId, row.RequestedTeamId, row.RequestedEventTypeId) = wanted.Scope;
        row.RequestedTriggers = wanted.Triggers;
        row.RequestedForwardUrl = wanted.ForwardUrl;
        row.RequestedSubscriberUrl = wanted.SubscriberUrl;
    }

    /// <summary>Cal.com confirmed <paramref name="webhookId"/> with <paramref name="wanted"/>: the request becomes the applied settings.</summary>
    public static void Apply(ConnectionRecord row, RequestedSettings wanted, string webhookId, DateTimeOffset now)
    {
        (row.Scope, row.OrgId, row.TeamId, row.EventTypeId) = wanted.Scope;
        row.SubscriberUrl = wanted.SubscriberUrl;
        row.Triggers = wanted.Triggers;
        row.ForwardUrl = wanted.ForwardUrl;
        row.SecretFingerprint = wanted.Fingerprint;
        row.CalWebhookId = webhookId;
        row.State = States.Active;
        row.AppliedAt ??= now;
        ClearRequest(row);
        row.PreviousSubscriberUrls = null;
    }

    public static void ClearRequest(ConnectionRecord row)
    {
        row.RequestedScope = null;
        row.RequestedOrgId = null;
        row.RequestedTeamId = null;
        row.RequestedEventTypeId = null;
        row.RequestedTriggers = null;
        row.RequestedForwardUrl = null;
        row.RequestedSubscriberUrl = null;
    }

    /// <summary>Every subscription a DELETE must remove: the applied one, and any a failed PUT may have made.</summary>
    public static IReadOnlyList<SubscriptionTarget> RemovalTargets(ConnectionRecord row)
    {
        var targets = new List<SubscriptionTarget>();
        if (row.CalWebhookId is not null || row.SubscriberUrl.Length > 0)
        {
            targets.Add(new SubscriptionTarget(ScopeOf(row), row.CalWebhookId,
                Urls(row.SubscriberUrl, row.CalWebhookId is null ? [.. PreviousUrls(row)] : [])));
        }
        if (RequestedScopeOf(row) is { } requested)
        {
            var urls = Urls(row.RequestedSubscriberUrl, [.. PreviousUrls(row)]);
            var coveredById = row.CalWebhookId is not null && requested == ScopeOf(row) && urls.All(u => u == row.SubscriberUrl);
            if (!coveredById && !targets.Any(t => t.WebhookId is null && t.Scope == requested && urls.All(t.Urls.Contains)))
            {
                targets.Add(new SubscriptionTarget(requested, null, urls));
            }
        }
        return targets;
    }

    private static string[] Urls(string? first, IEnumerable<string?>? more = null) =>
        [.. new[] { first }.Concat(more ?? []).Where(u => !string.IsNullOrEmpty(u)).Select(u => u!).Distinct()];
}
