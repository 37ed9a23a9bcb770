using System.Globalization;
using System.Text.Json;

namespace CalWebhookFunctions.Storage;

/// <summary>The trigger metadata the Functions host sends with a queue-triggered invocation.</summary>
public static class QueueTriggerData
{
    public const string MessageKey = "QueueTrigger";
    public const string DequeueCountKey = "DequeueCount";

    /// <summary>The message text as the function receives it (a value sent as a JSON string literal is unquoted).</summary>
    public static string? MessageText(IReadOnlyDictionary<string, object?> bindingData)
    {
        ArgumentNullException.ThrowIfNull(bindingData);
        if (Text(bindingData, MessageKey) is not { Length: > 0 } text)
        {
            return null;
        }
        if (text.Length >= 2 && text[0] == '"' && text[^1] == '"')
        {
            try
            {
                return JsonSerializer.Deserialize<string>(text);
            }
            catch (JsonException)
            {
                // Not a JSON string literal after all: the text is the message.
            }
        }
        return text;
    }

    /// <summary>How many times the host has handed this message over, this time included; null when not sent.</summary>
    public static int? DequeueCount(IReadOnlyDictionary<string, object?> bindingData)
    {
        ArgumentNullException.ThrowIfNull(bindingData);
        return int.TryParse(Text(bindingData, DequeueCountKey)?.Trim('"'), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            ? count
            : null;
    }

    /// <summary>One trigger metadata value as text, or null when it was not sent.</summary>
    public static string? Text(IReadOnlyDictionary<string, object?> bindingData, string key)
    {
        ArgumentNullException.ThrowIfNull(bindingData);
        return bindingData.TryGetValue(key, out var value) ? value switch
        {
            null => null,
            string s => s,
            BinaryData b => b.ToString(),
            _ => Convert.ToString(value, CultureInfo.InvariantCulture),
        } : null;
    }
}
