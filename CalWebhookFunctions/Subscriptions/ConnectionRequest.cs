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

    /// <summary>Syntax, duplicate fields and depth are checked over the whole body first, so they always answer invalid_json.</summary>
    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false, MaxDepth = 16 };

    public sealed record Result(ConnectionRequest? Request, string? ErrorCode = null, string? Error = null);

    public static Result Parse(ReadOnlySpan<byte> body, CalComOptions options)
    {
        var fields = new ConnectionFields();
        if (!body.Trim(" \t\r\n"u8).IsEmpty)
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(body.ToArray(), Strict);
            }
            catch (JsonException)
            {
                return Invalid("invalid_json", "The body is not valid JSON.");
            }
            using (document)
            {
                if (document.RootElement.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
                {
                    return Invalid("invalid_json", "The body must be a JSON object.");
                }
                try
                {
                    fields = document.Deserialize(SubscriptionsJsonContext.Default.ConnectionFields) ?? fields;
                }
                catch (JsonException ex)
                {
                    return FieldError(ex);
                }
            }
        }
        return ToRequest(fields, options);
    }

    /// <summary>The refusal of the first bad field, by the field's path: its converter's message, or an unknown field.</summary>
    private static Result FieldError(JsonException ex)
    {
        var field = ex.Path is ['$', '.', .. var name] ? name : ex.Path is ['$', '[', '\'', .. var quoted, '\'', ']'] ? quoted : "";
        return field switch
        {
            "scope" => Invalid("invalid_scope", ex.Message),
            "orgId" or "teamId" or "eventTypeId" => Invalid("invalid_id", $"{field} {ex.Message}"),
            "triggers" => Invalid("invalid_triggers", ex.Message),
            "forwardUrl" => Invalid("invalid_forward_url", ex.Message),
            _ => Invalid("unknown_field", $"'{Printable(field)}' is not a field; the fields are {string.Join(", ", KnownFields)}."),
        };
    }

    private static Result ToRequest(ConnectionFields fields, CalComOptions options)
    {
        var (scopeName, orgId, teamId, eventTypeId, triggers, forwardUrl) = fields;
        var defaultOrg = options.OrganizationIdValue();
        scopeName ??= orgId is not null || defaultOrg is not null ? SubscriptionScope.Organization : SubscriptionScope.User;
        (string Code, string Message)? problem = scopeName switch
        {
            SubscriptionScope.User when orgId is not null || teamId is not null || eventTypeId is not null =>
                ("invalid_scope", "The user scope takes no orgId, teamId or eventTypeId."),
            SubscriptionScope.Organization when teamId is not null || eventTypeId is not null =>
                ("invalid_scope", "The organization scope takes orgId only."),
            SubscriptionScope.Organization when (orgId ?? defaultOrg) is null =>
                ("missing_id", "The organization scope needs orgId (or CalCom__OrganizationId set)."),
            SubscriptionScope.EventType when orgId is not null || teamId is not null =>
                ("invalid_scope", "The eventType scope takes eventTypeId only."),
            SubscriptionScope.EventType when eventTypeId is null => ("missing_id", "The eventType scope needs eventTypeId."),
            SubscriptionScope.TeamEventType when orgId is not null =>
                ("invalid_scope", "The teamEventType scope takes teamId and eventTypeId only."),
            SubscriptionScope.TeamEventType when teamId is null || eventTypeId is null =>
                ("missing_id", "The teamEventType scope needs teamId and eventTypeId."),
            _ => null,
        };
        if (problem is var (code, message))
        {
            return Invalid(code, message);
        }
        var scope = scopeName == SubscriptionScope.Organization
            ? new SubscriptionScope(scopeName, OrgId: orgId ?? defaultOrg)
            : new SubscriptionScope(scopeName, TeamId: teamId, EventTypeId: eventTypeId);

        IReadOnlyList<string> chosen = triggers
            ?? (SettingLists.Split(options.DefaultTriggers) is { Count: > 0 } configured ? [.. configured.Distinct(StringComparer.Ordinal)] : AllBookingTriggers);
        return new Result(new ConnectionRequest(scope, chosen, forwardUrl));
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
