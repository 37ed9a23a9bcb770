using System.Text.Json;
using System.Text.Json.Serialization;
using CalWebhookFunctions.Configuration;

namespace CalWebhookFunctions.Subscriptions;

/// <summary>
/// The body of <c>PUT /api/connections/{id}</c> as sent (every field optional, unknown fields refused). Each field's
/// converter refuses a bad value with the message the client sees, in the order the fields come.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record ConnectionFields(
    [property: JsonConverter(typeof(ScopeNameConverter))] string? Scope = null,
    [property: JsonConverter(typeof(PositiveIdConverter))] long? OrgId = null,
    [property: JsonConverter(typeof(PositiveIdConverter))] long? TeamId = null,
    [property: JsonConverter(typeof(PositiveIdConverter))] long? EventTypeId = null,
    [property: JsonConverter(typeof(TriggerListConverter))] IReadOnlyList<string>? Triggers = null,
    [property: JsonConverter(typeof(ForwardUrlConverter))] string? ForwardUrl = null);

/// <summary>One of <see cref="SubscriptionScope.Names"/>.</summary>
internal sealed class ScopeNameConverter : ReadingConverter<string>
{
    public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && reader.GetString() is { } name && SubscriptionScope.Names.Contains(name)
            ? name
            : throw new JsonException($"scope must be one of {string.Join(", ", SubscriptionScope.Names)}.");
}

/// <summary>A JSON integer of at least 1 (a string such as <c>"4"</c> is refused).</summary>
internal sealed class PositiveIdConverter : ReadingConverter<long?>
{
    public override long? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.Number when reader.TryGetInt64(out var id) && id >= 1 => id,
        _ => throw new JsonException("must be a positive integer."),
    };
}

/// <summary>1 to <see cref="ConnectionRequestParser.MaxTriggers"/> distinct trigger names; unknown names pass through.</summary>
internal sealed class TriggerListConverter : ReadingConverter<IReadOnlyList<string>>
{
    public override IReadOnlyList<string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("triggers must be an array of trigger names.");
        }
        var triggers = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.String || reader.GetString() is not { } trigger || !SettingChecks.IsTriggerName(trigger, maxLength: 100))
            {
                throw new JsonException("Each trigger must be a name such as BOOKING_CREATED (capital letters, digits and underscores).");
            }
            if (!triggers.Contains(trigger, StringComparer.Ordinal))
            {
                triggers.Add(trigger);
            }
        }
        return triggers.Count switch
        {
            0 => throw new JsonException("triggers must name at least one trigger (leave it out for the defaults)."),
            > ConnectionRequestParser.MaxTriggers => throw new JsonException($"triggers may name at most {ConnectionRequestParser.MaxTriggers} triggers."),
            _ => triggers,
        };
    }
}

/// <summary>An acceptable forward URL (<see cref="ConnectionRequestParser.CheckForwardUrl"/>).</summary>
internal sealed class ForwardUrlConverter : ReadingConverter<string>
{
    public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType != JsonTokenType.String ? throw new JsonException("forwardUrl must be a string.")
        : reader.GetString() is var url && ConnectionRequestParser.CheckForwardUrl(url!) is { } problem ? throw new JsonException(problem)
        : url!;
}
