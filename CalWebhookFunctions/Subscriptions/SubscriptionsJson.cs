using System.Text.Json.Serialization;

namespace CalWebhookFunctions.Subscriptions;

/// <summary>A connection as GET and PUT return it: what is stored, never a secret or credential.</summary>
public sealed record ConnectionBody(
    [property: JsonPropertyName("connectionId")] string ConnectionId,
    [property: JsonPropertyName("scope")] string Scope,
    [property: JsonPropertyName("orgId")] long? OrgId,
    [property: JsonPropertyName("teamId")] long? TeamId,
    [property: JsonPropertyName("eventTypeId")] long? EventTypeId,
    [property: JsonPropertyName("calWebhookId")] string? CalWebhookId,
    [property: JsonPropertyName("subscriberUrl")] string SubscriberUrl,
    [property: JsonPropertyName("triggers")] IReadOnlyList<string> Triggers,
    [property: JsonPropertyName("forwardUrl")] string? ForwardUrl,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("createdAt")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("updatedAt")] DateTimeOffset UpdatedAt);

/// <summary>The 202 of a DELETE whose Cal.com subscription could not be deleted yet.</summary>
public sealed record CleanupPendingBody(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("connectionId")] string ConnectionId,
    [property: JsonPropertyName("calWebhookId")] string? CalWebhookId,
    [property: JsonPropertyName("message")] string Message);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ConnectionBody))]
[JsonSerializable(typeof(CleanupPendingBody))]
[JsonSerializable(typeof(CleanupMessage))]
internal sealed partial class SubscriptionsJsonContext : JsonSerializerContext;
