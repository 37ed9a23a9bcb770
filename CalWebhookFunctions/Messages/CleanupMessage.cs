using System.Text.Json.Serialization;

namespace CalWebhookFunctions.Messages;

/// <summary>
/// A Cal.com subscription that must still be deleted after its connection was removed: everything needed to find
/// and delete it (scope ids, webhook id, subscriber URL) and nothing that could call Cal.com (no credential).
/// </summary>
public sealed record CleanupMessage
{
    public const int CurrentVersion = 1;

    [JsonPropertyName("v")]
    public int Version { get; init; } = CurrentVersion;

    [JsonPropertyName("connectionId")]
    public required string ConnectionId { get; init; }

    [JsonPropertyName("scope")]
    public required string Scope { get; init; }

    [JsonPropertyName("orgId")]
    public long? OrgId { get; init; }

    [JsonPropertyName("teamId")]
    public long? TeamId { get; init; }

    [JsonPropertyName("eventTypeId")]
    public long? EventTypeId { get; init; }

    /// <summary>Cal.com's id of the subscription; null when a registration never learned it (then it is found by URL).</summary>
    [JsonPropertyName("webhookId")]
    public string? WebhookId { get; init; }

    [JsonPropertyName("subscriberUrl")]
    public required string SubscriberUrl { get; init; }

    /// <summary>Deletion attempts so far (the one that failed in the DELETE request counts as the first).</summary>
    [JsonPropertyName("attempts")]
    public int Attempts { get; init; }

    [JsonPropertyName("queuedAt")]
    public DateTimeOffset QueuedAt { get; init; }

    [JsonPropertyName("lastError")]
    public string? LastError { get; init; }
}
