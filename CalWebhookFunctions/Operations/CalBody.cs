using System.Text.Json;

namespace CalWebhookFunctions.Operations;

/// <summary>The few fields of a Cal.com body the log lists by and the ledger keys by, read without parsing the rest.</summary>
public static class CalBody
{
    /// <summary>
    /// The top-level <c>triggerEvent</c>, <c>payload.uid</c> and <c>createdAt</c> (Cal.com's firing time) of a JSON body;
    /// nulls for anything else.
    /// </summary>
    public static (string? Trigger, string? BookingUid, DateTimeOffset? CreatedAt) Read(ReadOnlySpan<byte> body)
    {
        string? trigger = null, uid = null;
        DateTimeOffset? createdAt = null;
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 256 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return (null, null, null);
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isTrigger = reader.ValueTextEquals("triggerEvent"u8);
                var isPayload = reader.ValueTextEquals("payload"u8);
                var isCreatedAt = reader.ValueTextEquals("createdAt"u8);
                reader.Read();
                if (isTrigger && reader.TokenType == JsonTokenType.String)
                {
                    trigger ??= Short(reader.GetString());
                }
                else if (isCreatedAt && reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var created))
                {
                    createdAt ??= created;
                }
                else if (isPayload && reader.TokenType == JsonTokenType.StartObject)
                {
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var isUid = reader.ValueTextEquals("uid"u8);
                        reader.Read();
                        if (isUid && reader.TokenType == JsonTokenType.String)
                        {
                            uid ??= Short(reader.GetString());
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON (a form body), or cut short: what was found stands.
        }
        return (trigger, uid, createdAt);
    }

    private static string? Short(string? value) => value is { Length: <= 256 } ? value : null;
}
