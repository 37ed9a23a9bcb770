using System.Globalization;

namespace CalWebhookFunctions.Subscriptions;

/// <summary>
/// Where a Cal.com webhook subscription lives (<c>calcom/README.md</c> §3): the user owning the credential, an
/// organization, an event type, or a team's event type. Each has its own collection route under <c>/v2</c>.
/// </summary>
public sealed record SubscriptionScope(string Name, long? OrgId = null, long? TeamId = null, long? EventTypeId = null)
{
    public const string User = "user";
    public const string Organization = "organization";
    public const string EventType = "eventType";
    public const string TeamEventType = "teamEventType";

    public static readonly IReadOnlyList<string> Names = [User, Organization, EventType, TeamEventType];

    /// <summary>The route of the scope's webhook collection (create, list), relative to the API base URL.</summary>
    public string CollectionPath() => Name switch
    {
        User => "v2/webhooks",
        Organization => $"v2/organizations/{Id(OrgId)}/webhooks",
        EventType => $"v2/event-types/{Id(EventTypeId)}/webhooks",
        TeamEventType => $"v2/teams/{Id(TeamId)}/event-types/{Id(EventTypeId)}/webhooks",
        _ => throw new InvalidOperationException($"Unknown subscription scope '{Name}'."),
    };

    /// <summary>The route of one webhook (get, PATCH, delete).</summary>
    public string ItemPath(string webhookId) => CollectionPath() + "/" + Uri.EscapeDataString(webhookId);

    /// <summary>A description for logs and for the people who must act on them, e.g. <c>organization 12</c>.</summary>
    public override string ToString() => Name switch
    {
        Organization => $"organization {Id(OrgId)}",
        EventType => $"event type {Id(EventTypeId)}",
        TeamEventType => $"team {Id(TeamId)} event type {Id(EventTypeId)}",
        _ => "user (the credential's owner)",
    };

    private string Id(long? value) =>
        value is > 0 ? value.Value.ToString(CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"Scope {Name} is missing an id.");
}
