using System.Text.Json;
using System.Text.Json.Serialization;

namespace CalWebhookFunctions.Subscriptions;

/// <summary>
/// A connection as GET and PUT (and the list) return it: what is stored, never a secret or credential. Its wire names
/// and left-out nulls are its own attributes, so every context writes it alike.
/// </summary>
public sealed record ConnectionBody(
    [property: JsonPropertyName("connectionId")] string ConnectionId,
    [property: JsonPropertyName("scope")] string Scope,
    [property: JsonPropertyName("orgId"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? OrgId,
    [property: JsonPropertyName("teamId"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? TeamId,
    [property: JsonPropertyName("eventTypeId"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? EventTypeId,
    [property: JsonPropertyName("calWebhookId"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CalWebhookId,
    [property: JsonPropertyName("subscriberUrl")] string SubscriberUrl,
    [property: JsonPropertyName("triggers")] IReadOnlyList<string> Triggers,
    [property: JsonPropertyName("forwardUrl"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ForwardUrl,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("createdAt")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("updatedAt")] DateTimeOffset UpdatedAt,
    [property: JsonPropertyName("paused")] bool Paused);

/// <summary>The 202 of a DELETE whose Cal.com subscription could not be deleted yet.</summary>
public sealed record CleanupPendingBody(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("connectionId")] string ConnectionId,
    [property: JsonPropertyName("calWebhookId"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CalWebhookId,
    [property: JsonPropertyName("message")] string Message);

/// <summary>
/// Every JSON the Subscriptions capability reads or writes, source-generated, camelCase: its own API (the PUT body,
/// the connection and cleanup answers), its cleanup queue messages, and Cal.com's webhook API (bodies, envelopes, errors).
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ConnectionFields))]
[JsonSerializable(typeof(ConnectionBody))]
[JsonSerializable(typeof(CleanupPendingBody))]
[JsonSerializable(typeof(CleanupMessage))]
[JsonSerializable(typeof(WebhookSettings))]
[JsonSerializable(typeof(CalEnvelope<CalWebhookData>))]
[JsonSerializable(typeof(CalEnvelope<IReadOnlyList<CalWebhookData?>>))]
[JsonSerializable(typeof(CalErrorEnvelope))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class SubscriptionsJsonContext : JsonSerializerContext;
