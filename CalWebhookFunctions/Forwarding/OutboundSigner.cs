using System.Buffers.Binary;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using CalWebhookFunctions.Configuration;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// The outbound identity and signatures of a forward: the Standard Webhooks <c>webhook-id</c>,
/// <c>webhook-signature</c> (<c>v1,</c> + base64 HMAC-SHA256 over <c>{id}.{timestamp}.{body}</c>, key = the bytes
/// after <c>whsec_</c> base64-decoded; during a rotation one such entry per secret, current first, space-separated)
/// and Nango's <c>X-Nango-Hmac-Sha256</c> (lowercase hex HMAC-SHA256 of the body, key = the current secret's whole
/// text as UTF-8, <c>whsec_</c> included).
/// </summary>
public sealed class OutboundSigner
{
    public const string WebhookIdHeader = "webhook-id";
    public const string WebhookTimestampHeader = "webhook-timestamp";
    public const string WebhookSignatureHeader = "webhook-signature";
    public const string NangoSignatureHeader = "X-Nango-Hmac-Sha256";
    public const string WebhookIdPrefix = "msg_";

    private static readonly MediaTypeHeaderValue Json = new("application/json");

    /// <summary>Domain separation: a webhook id is useless as a hash of anything else.</summary>
    private static ReadOnlySpan<byte> IdLabel => "calwebhookfunctions/webhook-id/v1\n"u8;

    private readonly byte[][] _standardKeys;
    private readonly byte[] _nangoKey;

    public OutboundSigner(IOptions<ForwardingOptions> options)
        : this(options.Value.SigningSecrets())
    {
    }

    /// <param name="signingSecrets">The current secret first, then any previous ones still signed with.</param>
    public OutboundSigner(params IReadOnlyList<string> signingSecrets)
    {
        ArgumentOutOfRangeException.ThrowIfZero(signingSecrets.Count);
        _standardKeys = [.. signingSecrets.Select(SigningKey.ForStandardWebhooks)];
        _nangoKey = Encoding.UTF8.GetBytes(signingSecrets[0]);
    }

    /// <summary>
    /// <c>msg_</c> + lowercase hex SHA-256 over a label, the connection id the delivery named (length-prefixed; none
    /// is distinct from any id) and the exact body. So it is the same for every retry and for an identical Cal.com
    /// redelivery to the same connection, and differs between connections that receive the same body. It does not
    /// depend on the signing secret, so rotating the secret does not break deduplication of events in flight.
    /// </summary>
    public static string WebhookId(string? connectionId, ReadOnlySpan<byte> body)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(IdLabel);
        Span<byte> prefix = stackalloc byte[5];
        if (connectionId is null)
        {
            prefix[0] = 0;
            hash.AppendData(prefix[..1]);
        }
        else
        {
            var id = Encoding.UTF8.GetBytes(connectionId);
            prefix[0] = 1;
            BinaryPrimitives.WriteInt32BigEndian(prefix[1..], id.Length);
            hash.AppendData(prefix);
            hash.AppendData(id);
        }
        hash.AppendData(body);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        hash.GetHashAndReset(digest);
        return WebhookIdPrefix + Convert.ToHexStringLower(digest);
    }

    /// <summary>
    /// A POST of the JSON <paramref name="body"/> to <paramref name="target"/> with the Standard Webhooks headers:
    /// <c>webhook-id</c>, <c>webhook-timestamp</c> (<paramref name="now"/>, Unix seconds) and <c>webhook-signature</c>.
    /// </summary>
    public HttpRequestMessage SignedPost(Uri target, byte[] body, string webhookId, DateTimeOffset now)
    {
        var timestamp = now.ToUnixTimeSeconds();
        var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = Json;
        request.Headers.Add(WebhookIdHeader, webhookId);
        request.Headers.Add(WebhookTimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignatureHeader, StandardSignature(webhookId, timestamp, body));
        return request;
    }

    /// <summary>The <c>webhook-signature</c> value for one attempt: one <c>v1,</c> entry per secret, space-separated.</summary>
    public string StandardSignature(string webhookId, long timestamp, ReadOnlySpan<byte> body)
    {
        var signed = Encoding.UTF8.GetBytes($"{webhookId}.{timestamp.ToString(CultureInfo.InvariantCulture)}.");
        var entries = new string[_standardKeys.Length];
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        for (var i = 0; i < _standardKeys.Length; i++)
        {
            using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _standardKeys[i]);
            hmac.AppendData(signed);
            hmac.AppendData(body);
            hmac.GetHashAndReset(mac);
            entries[i] = "v1," + Convert.ToBase64String(mac);
        }
        return string.Join(' ', entries);
    }

    /// <summary>The <c>X-Nango-Hmac-Sha256</c> value.</summary>
    public string NangoSignature(ReadOnlySpan<byte> body)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_nangoKey, body, mac);
        return Convert.ToHexStringLower(mac);
    }
}
