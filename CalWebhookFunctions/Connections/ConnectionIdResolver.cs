using System.Text;
using System.Text.Json;

namespace CalWebhookFunctions.Connections;

/// <summary>Where a delivery's connection id came from.</summary>
public enum ConnectionIdSource
{
    None,
    Query,
    JsonBody,
    LenientScan,
}

/// <summary>What a delivery says about itself before it is verified: its connection id and trigger.</summary>
public readonly record struct ResolvedDelivery(string? ConnectionId, ConnectionIdSource Source, string? TriggerEvent, bool IsJson);

/// <summary>
/// Finds the <c>nangoConnectionId</c> of a delivery: the query parameter first; else the top-level string
/// field of a JSON body; else, only for a body that is not valid JSON (a Cal.com template that rendered
/// <c>{{organizer}}</c> as <c>[object Object]</c>, say), the first <c>"nangoConnectionId":"…"</c> in its text.
/// </summary>
public static class ConnectionIdResolver
{
    public const string ParameterName = "nangoConnectionId";

    private static ReadOnlySpan<byte> QuotedName => "\"nangoConnectionId\""u8;

    public static ResolvedDelivery Resolve(string? queryValue, ReadOnlySpan<byte> body)
    {
        var isJson = TryReadJsonFields(body, out var fromJson, out var trigger);
        if (!isJson)
        {
            trigger = ScanLeniently(body, "\"triggerEvent\""u8);
        }
        if (!string.IsNullOrEmpty(queryValue))
        {
            return new(queryValue, ConnectionIdSource.Query, trigger, isJson);
        }
        var fromBody = isJson ? fromJson : ScanLeniently(body, QuotedName);
        return string.IsNullOrEmpty(fromBody)
            ? new(null, ConnectionIdSource.None, trigger, isJson)
            : new(fromBody, isJson ? ConnectionIdSource.JsonBody : ConnectionIdSource.LenientScan, trigger, isJson);
    }

    /// <summary>
    /// False when the body is not one valid JSON document in valid UTF-8. True otherwise, with the values of the
    /// top-level string fields <c>nangoConnectionId</c> and <c>triggerEvent</c> when the document is an object
    /// that has them (null when not).
    /// </summary>
    public static bool TryReadJsonFields(ReadOnlySpan<byte> body, out string? connectionId, out string? triggerEvent)
    {
        connectionId = null;
        triggerEvent = null;
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            return false;
        }
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 256 });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1)
                {
                    continue;
                }
                var isConnectionId = reader.ValueTextEquals(ParameterName);
                var isTrigger = reader.ValueTextEquals("triggerEvent"u8);
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    reader.Skip();
                }
                else if (isConnectionId)
                {
                    connectionId ??= reader.GetString();
                }
                else if (isTrigger)
                {
                    triggerEvent ??= reader.GetString();
                }
            }
            return true;
        }
        catch (JsonException)
        {
            connectionId = null;
            triggerEvent = null;
            return false;
        }
    }

    /// <summary>The first <paramref name="quotedName"/> followed by a colon and a quoted string, JSON escapes decoded.</summary>
    public static string? ScanLeniently(ReadOnlySpan<byte> body, ReadOnlySpan<byte> quotedName)
    {
        var rest = body;
        while (true)
        {
            var at = rest.IndexOf(quotedName);
            if (at < 0)
            {
                return null;
            }
            rest = rest[(at + quotedName.Length)..];
            var afterColon = SkipWhitespace(rest);
            if (afterColon.IsEmpty || afterColon[0] != (byte)':')
            {
                continue;
            }
            var value = SkipWhitespace(afterColon[1..]);
            if (value.IsEmpty || value[0] != (byte)'"')
            {
                continue;
            }
            var end = ClosingQuote(value);
            if (end < 0)
            {
                return null;
            }
            return DecodeJsonString(value[..(end + 1)]);
        }
    }

    private static ReadOnlySpan<byte> SkipWhitespace(ReadOnlySpan<byte> span) => span.TrimStart(" \t\r\n"u8);

    /// <summary>Index of the quote that closes the string opening at index 0, or -1.</summary>
    private static int ClosingQuote(ReadOnlySpan<byte> quoted)
    {
        for (var i = 1; i < quoted.Length; i++)
        {
            if (quoted[i] == (byte)'\\')
            {
                i++;
            }
            else if (quoted[i] == (byte)'"')
            {
                return i;
            }
        }
        return -1;
    }

    private static string DecodeJsonString(ReadOnlySpan<byte> quoted)
    {
        var reader = new Utf8JsonReader(quoted);
        try
        {
            if (reader.Read() && reader.TokenType == JsonTokenType.String)
            {
                return reader.GetString() ?? "";
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // Not a valid JSON string (bad escape, invalid UTF-8): fall back to its text as it stands.
        }
        return Encoding.UTF8.GetString(quoted[1..^1]);
    }
}
