using System.Text.Json;
using System.Text.Json.Serialization;

namespace CalWebhookFunctions.Subscriptions;

/// <summary>A connection as GET and PUT return it: what is stored, never a secret or credential.</summary>
public sealed record ConnectionBody(
    string ConnectionId,
    string Scope,
    long? OrgId,
    long? TeamId,
    long? EventTypeId,
    string? CalWebhookId,
    string SubscriberUrl,
    IReadOnlyList<string> Triggers,
    string? ForwardUrl,
    string State,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    bool Paused);

/// <summary>The 202 of a DELETE whose Cal.com subscription could not be deleted yet.</summary>
public sealed record CleanupPendingBody(string Status, string ConnectionId, string? CalWebhookId, string Message);

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
