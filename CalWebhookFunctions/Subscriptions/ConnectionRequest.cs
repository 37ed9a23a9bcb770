using System.Text.Json;
using CalWebhookFunctions.Configuration;

namespace CalWebhookFunctions.Subscriptions;

/// <summary>What a PUT asks for: where the subscription lives, its triggers, and where the connection's events go.</summary>
public sealed record ConnectionRequest(SubscriptionScope Scope, IReadOnlyList<string> Triggers, string? ForwardUrl);

/// <summary>
/// Reads and validates the body of <c>PUT /api/connections/{id}</c> (every field optional):
/// <c>{"scope":"user|organization|eventType|teamEventType","orgId":1,"teamId":2,"eventTypeId":3,"triggers":[…],"forwardUrl":"https://…"}</c>.
/// </summary>
public static class ConnectionRequestParser
{
    /// <summary>Every BOOKING_* trigger Cal.com's API accepts, the default when neither the request nor <c>CalCom__DefaultTriggers</c> names any.</summary>
    public static readonly IReadOnlyList<string> AllBookingTriggers =
    [
        "BOOKING_CREATED", "BOOKING_PAYMENT_INITIATED", "BOOKING_PAID", "BOOKING_RESCHEDULED", "BOOKING_REQUESTED",
        "BOOKING_CANCELLED", "BOOKING_REJECTED", "BOOKING_NO_SHOW_UPDATED",
    ];

    public const int MaxTriggers = 64;
    public const int MaxUrlLength = 2048;

    private static readonly string[] KnownFields = ["scope", "orgId", "teamId", "eventTypeId", "triggers", "forwardUrl"];

    public sealed record Result(ConnectionRequest? Request, string? ErrorCode = null, string? Error = null);

    public static Result Parse(ReadOnlySpan<byte> body, CalComOptions options)
    {
        string? scopeName = null;
        long? orgId = null, teamId = null, eventTypeId = null;
        List<string>? triggers = null;
        string? forwardUrl = null;

        if (!body.Trim(" \t\r\n"u8).IsEmpty)
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = 16 });
            }
            catch (JsonException)
            {
                return Invalid("invalid_json", "The body is not valid JSON.");
            }
            using (document)
            {
                var root = document.RootElement;
                if (root.ValueKind == JsonValueKind.Null)
                {
                    // Same as no body.
                }
                else if (root.ValueKind != JsonValueKind.Object)
                {
                    return Invalid("invalid_json", "The body must be a JSON object.");
                }
                else
                {
                    foreach (var property in root.EnumerateObject())
                    {
                        var value = property.Value;
                        var isNull = value.ValueKind == JsonValueKind.Null;
                        switch (property.Name)
                        {
                            case "scope" when isNull:
                                break;
                            case "scope" when value.ValueKind == JsonValueKind.String && SubscriptionScope.Names.Contains(value.GetString()):
                                scopeName = value.GetString();
                                break;
                            case "scope":
                                return Invalid("invalid_scope", $"scope must be one of {string.Join(", ", SubscriptionScope.Names)}.");
                            case "orgId" or "teamId" or "eventTypeId":
                                if (isNull)
                                {
                                    break;
                                }
                                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var id) || id < 1)
                                {
                                    return Invalid("invalid_id", $"{property.Name} must be a positive integer.");
                                }
                                if (property.Name == "orgId")
                                {
                                    orgId = id;
                                }
                                else if (property.Name == "teamId")
                                {
                                    teamId = id;
                                }
                                else
                                {
                                    eventTypeId = id;
                                }
                                break;
                            case "triggers":
                                if (isNull)
                                {
                                    break;
                                }
                                var error = ReadTriggers(value, out triggers);
                                if (error is not null)
                                {
                                    return Invalid("invalid_triggers", error);
                                }
                                break;
                            case "forwardUrl":
                                if (isNull)
                                {
                                    break;
                                }
                                var urlError = value.ValueKind == JsonValueKind.String ? CheckForwardUrl(value.GetString()!) : "forwardUrl must be a string.";
                                if (urlError is not null)
                                {
                                    return Invalid("invalid_forward_url", urlError);
                                }
                                forwardUrl = value.GetString();
                                break;
                            default:
                                return Invalid("unknown_field", $"'{Printable(property.Name)}' is not a field; the fields are {string.Join(", ", KnownFields)}.");
                        }
                    }
                }
            }
        }

        var defaultOrg = options.OrganizationIdValue();
        scopeName ??= orgId is not null || defaultOrg is not null ? SubscriptionScope.Organization : SubscriptionScope.User;
        SubscriptionScope scope;
        switch (scopeName)
        {
            case SubscriptionScope.User:
                if (orgId is not null || teamId is not null || eventTypeId is not null)
                {
                    return Invalid("invalid_scope", "The user scope takes no orgId, teamId or eventTypeId.");
                }
                scope = new SubscriptionScope(SubscriptionScope.User);
                break;
            case SubscriptionScope.Organization:
                if (teamId is not null || eventTypeId is not null)
                {
                    return Invalid("invalid_scope", "The organization scope takes orgId only.");
                }
                if ((orgId ?? defaultOrg) is not { } org)
                {
                    return Invalid("missing_id", "The organization scope needs orgId (or CalCom__OrganizationId set).");
                }
                scope = new SubscriptionScope(SubscriptionScope.Organization, OrgId: org);
                break;
            case SubscriptionScope.EventType:
                if (orgId is not null || teamId is not null)
                {
                    return Invalid("invalid_scope", "The eventType scope takes eventTypeId only.");
                }
                if (eventTypeId is null)
                {
                    return Invalid("missing_id", "The eventType scope needs eventTypeId.");
                }
                scope = new SubscriptionScope(SubscriptionScope.EventType, EventTypeId: eventTypeId);
                break;
            default:
                if (orgId is not null)
                {
                    return Invalid("invalid_scope", "The teamEventType scope takes teamId and eventTypeId only.");
                }
                if (teamId is null || eventTypeId is null)
                {
                    return Invalid("missing_id", "The teamEventType scope needs teamId and eventTypeId.");
                }
                scope = new SubscriptionScope(SubscriptionScope.TeamEventType, TeamId: teamId, EventTypeId: eventTypeId);
                break;
        }

        IReadOnlyList<string> chosen = triggers
            ?? (SettingLists.Split(options.DefaultTriggers) is { Count: > 0 } configured ? [.. configured.Distinct(StringComparer.Ordinal)] : AllBookingTriggers);
        return new Result(new ConnectionRequest(scope, chosen, forwardUrl));
    }

    private static string? ReadTriggers(JsonElement value, out List<string>? triggers)
    {
        triggers = null;
        if (value.ValueKind != JsonValueKind.Array)
        {
            return "triggers must be an array of trigger names.";
        }
        var list = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || !SettingChecks.TriggerName().IsMatch(item.GetString()!) || item.GetString()!.Length > 100)
            {
                return "Each trigger must be a name such as BOOKING_CREATED (capital letters, digits and underscores).";
            }
            if (!list.Contains(item.GetString()!, StringComparer.Ordinal))
            {
                list.Add(item.GetString()!);
            }
        }
        if (list.Count == 0)
        {
            return "triggers must name at least one trigger (leave it out for the defaults).";
        }
        if (list.Count > MaxTriggers)
        {
            return $"triggers may name at most {MaxTriggers} triggers.";
        }
        triggers = list;
        return null;
    }

    /// <summary>Null when <paramref name="value"/> is an acceptable forward URL, else what is wrong with it.</summary>
    public static string? CheckForwardUrl(string value)
    {
        if (value.Length > MaxUrlLength)
        {
            return $"forwardUrl is longer than {MaxUrlLength} characters.";
        }
        if (!Http.HttpUrl.TryParseAbsolute(value, out var uri))
        {
            return "forwardUrl must be an absolute http(s) URL.";
        }
        if (!string.IsNullOrEmpty(uri.Fragment))
        {
            return "forwardUrl must not have a fragment.";
        }
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            // It would be stored in the table, and no credential is ever stored.
            return "forwardUrl must not carry a user name or password.";
        }
        return null;
    }

    private static string Printable(string name) =>
        new([.. name.Take(64).Select(c => char.IsControl(c) ? '?' : c)]);

    private static Result Invalid(string code, string message) => new(null, code, message);
}
