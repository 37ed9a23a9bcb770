using System.Buffers;
using System.Text;

namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// Writes Nango's forward envelope
/// <c>{"from":K,"providerConfigKey":K,"type":"forward","connectionId":"…","payload":P}</c> into one exact-size
/// array: the constant head (built once), the connection id, then the payload. A JSON payload is copied byte for
/// byte (never parsed and re-serialised, so Cal.com's signature still matches it); any other payload becomes a JSON
/// string of its text. Runs of bytes that need no escaping are copied in bulk.
/// </summary>
public sealed class ForwardEnvelope
{
    private static ReadOnlySpan<byte> ConnectionIdName => "\"connectionId\":"u8;
    private static ReadOnlySpan<byte> PayloadName => "\"payload\":"u8;

    private readonly byte[] _head;

    /// <param name="providerConfigKey">K: the <c>from</c> and <c>providerConfigKey</c> value.</param>
    public ForwardEnvelope(string providerConfigKey)
    {
        var key = JsonText.QuoteUtf16(providerConfigKey);
        _head = [.. "{\"from\":"u8, .. key, .. ",\"providerConfigKey\":"u8, .. key, .. ",\"type\":\"forward\","u8];
    }

    /// <summary>
    /// The envelope for <paramref name="payload"/>. <paramref name="payloadIsJson"/> must say whether the payload is
    /// one valid JSON document in valid UTF-8 (the caller checks once; the writer trusts it). A payload that is not
    /// valid UTF-8 is decoded with U+FFFD for each invalid sequence before it is quoted.
    /// <paramref name="connectionId"/> null → no <c>connectionId</c> field.
    /// </summary>
    public byte[] Write(string? connectionId, ReadOnlySpan<byte> payload, bool payloadIsJson)
    {
        if (!payloadIsJson && !System.Text.Unicode.Utf8.IsValid(payload))
        {
            // Rare (Cal.com sends UTF-8): the lossy text is what any JSON consumer could represent anyway.
            payload = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(payload));
        }
        // Connection ids are short (≤ 256 characters): encoded on the stack, so the envelope is the only allocation.
        var maxIdBytes = connectionId is null ? 0 : Encoding.UTF8.GetMaxByteCount(connectionId.Length);
        Span<byte> connectionUtf8 = maxIdBytes <= 1024 ? stackalloc byte[maxIdBytes] : new byte[maxIdBytes];
        connectionUtf8 = connectionUtf8[..(connectionId is null ? 0 : Encoding.UTF8.GetBytes(connectionId, connectionUtf8))];
        var connectionLength = connectionId is null ? 0 : ConnectionIdName.Length + JsonText.QuotedLength(connectionUtf8) + 1;
        var payloadLength = payloadIsJson ? payload.Length : JsonText.QuotedLength(payload);
        var envelope = GC.AllocateUninitializedArray<byte>(_head.Length + connectionLength + PayloadName.Length + payloadLength + 1);

        var rest = envelope.AsSpan();
        Append(ref rest, _head);
        if (connectionId is not null)
        {
            Append(ref rest, ConnectionIdName);
            rest = rest[JsonText.WriteQuoted(connectionUtf8, rest)..];
            Append(ref rest, ","u8);
        }
        Append(ref rest, PayloadName);
        if (payloadIsJson)
        {
            Append(ref rest, payload);
        }
        else
        {
            rest = rest[JsonText.WriteQuoted(payload, rest)..];
        }
        Append(ref rest, "}"u8);
        if (!rest.IsEmpty)
        {
            throw new InvalidOperationException("The envelope length was miscounted.");
        }
        return envelope;
    }

    private static void Append(ref Span<byte> destination, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(destination);
        destination = destination[bytes.Length..];
    }
}

/// <summary>JSON string quoting of valid UTF-8 (or UTF-16) text: <c>"</c>, <c>\</c> and control characters escaped, all else raw.</summary>
internal static class JsonText
{
    private static readonly SearchValues<byte> NeedsEscape = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(b => (byte)b), (byte)'"', (byte)'\\']);

    /// <summary>Length of the quoted form of valid UTF-8 <paramref name="text"/>, quotes included.</summary>
    public static int QuotedLength(ReadOnlySpan<byte> text)
    {
        var length = text.Length + 2;
        var rest = text;
        int at;
        while ((at = rest.IndexOfAny(NeedsEscape)) >= 0)
        {
            length += EscapedLength(rest[at]) - 1;
            rest = rest[(at + 1)..];
        }
        return length;
    }

    /// <summary>Writes the quoted form of valid UTF-8 <paramref name="text"/>; returns the bytes written.</summary>
    public static int WriteQuoted(ReadOnlySpan<byte> text, Span<byte> destination)
    {
        destination[0] = (byte)'"';
        var written = 1;
        var rest = text;
        int at;
        while ((at = rest.IndexOfAny(NeedsEscape)) >= 0)
        {
            rest[..at].CopyTo(destination[written..]);
            written += at;
            written += WriteEscape(rest[at], destination[written..]);
            rest = rest[(at + 1)..];
        }
        rest.CopyTo(destination[written..]);
        written += rest.Length;
        destination[written++] = (byte)'"';
        return written;
    }

    public static byte[] QuoteUtf16(string text)
    {
        var utf8 = Encoding.UTF8.GetBytes(text);
        var quoted = new byte[QuotedLength(utf8)];
        WriteQuoted(utf8, quoted);
        return quoted;
    }

    private static int EscapedLength(byte b) => b switch
    {
        (byte)'"' or (byte)'\\' or (byte)'\n' or (byte)'\r' or (byte)'\t' or (byte)'\b' or (byte)'\f' => 2,
        _ => 6,
    };

    private static int WriteEscape(byte b, Span<byte> destination)
    {
        destination[0] = (byte)'\\';
        byte simple = b switch
        {
            (byte)'"' => (byte)'"',
            (byte)'\\' => (byte)'\\',
            (byte)'\n' => (byte)'n',
            (byte)'\r' => (byte)'r',
            (byte)'\t' => (byte)'t',
            (byte)'\b' => (byte)'b',
            (byte)'\f' => (byte)'f',
            _ => 0,
        };
        if (simple != 0)
        {
            destination[1] = simple;
            return 2;
        }
        "u00"u8.CopyTo(destination[1..]);
        destination[4] = HexDigit(b >> 4);
        destination[5] = HexDigit(b & 0xF);
        return 6;
    }

    private static byte HexDigit(int value) => (byte)(value < 10 ? '0' + value : 'a' + value - 10);
}
