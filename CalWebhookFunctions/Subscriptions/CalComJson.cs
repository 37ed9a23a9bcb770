using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CalWebhookFunctions.Subscriptions;

/// <summary>Cal.com's success envelope <c>{"status":"success","data":…}</c>.</summary>
internal sealed record CalEnvelope<T>(T? Data);

/// <summary>A webhook object as Cal.com answers it; its secret is deliberately not read.</summary>
internal sealed record CalWebhookData(
    [property: JsonConverter(typeof(CalIdConverter))] string? Id,
    string? SubscriberUrl,
    IReadOnlyList<string?>? Triggers,
    bool? Active)
{
    /// <summary>The webhook, or null when it has no id; only an explicit <c>"active":false</c> makes it inactive.</summary>
    public CalWebhook? ToWebhook() => string.IsNullOrEmpty(Id)
        ? null
        : new CalWebhook(Id, SubscriberUrl ?? "", [.. (Triggers ?? []).OfType<string>()], Active != false);
}

/// <summary>Cal.com's error envelope; some answers (older builds, proxies) carry a bare <c>error</c> or only <c>message</c>.</summary>
internal sealed record CalErrorEnvelope(
    [property: JsonConverter(typeof(CalErrorConverter))] CalError? Error,
    [property: JsonConverter(typeof(CalTextConverter))] string? Message);

/// <summary>The <c>error</c> object: its code (only when a string) and its message (a string or a list of them).</summary>
internal sealed record CalError(
    [property: JsonConverter(typeof(CalCodeConverter))] string? Code,
    [property: JsonConverter(typeof(CalTextConverter))] string? Message);

/// <summary>A converter for JSON this app only reads (Cal.com's answers, the PUT body): it never writes one.</summary>
internal abstract class ReadingConverter<T> : JsonConverter<T>
{
    public sealed override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
        throw new NotSupportedException($"{typeof(T).Name} is only read.");
}

/// <summary>An id that arrives as a UUID string (webhooks today) or as a number (older builds, the OpenAPI file): kept as its text.</summary>
internal sealed class CalIdConverter : ReadingConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var id = reader.TokenType switch
        {
            JsonTokenType.String => reader.GetString(),
            JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
            _ => null,
        };
        reader.Skip();
        return id;
    }
}

/// <summary>An error code when it is a string; anything else is no code.</summary>
internal sealed class CalCodeConverter : ReadingConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var code = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        reader.Skip();
        return code;
    }
}

/// <summary>A message as text: a string, a list joined with "; " (validation errors), anything else as its JSON.</summary>
internal sealed class CalTextConverter : ReadingConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.StartArray:
                var items = new List<string>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    items.Add(Text(ref reader));
                }
                return string.Join("; ", items);
            default:
                return Text(ref reader);
        }
    }

    private static string Text(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.String ? reader.GetString()! : JsonElement.ParseValue(ref reader).GetRawText();
}

/// <summary>
/// The <c>error</c> member: an object is read as <see cref="CalError"/>, any other value as its message; a present
/// <c>error</c> (even null) wins over a top-level <c>message</c>.
/// </summary>
internal sealed class CalErrorConverter : ReadingConverter<CalError>
{
    public override bool HandleNull => true;

    public override CalError? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.StartObject
            ? JsonSerializer.Deserialize(ref reader, SubscriptionsJsonContext.Default.CalError)
            : new CalError(null, new CalTextConverter().Read(ref reader, typeof(string), options));
}
