using System.Text;

namespace CalWebhookFunctions.Configuration;

/// <summary>How <c>Forwarding__SigningSecret</c> becomes HMAC key bytes (Standard Webhooks convention).</summary>
public static class SigningKey
{
    public const string StandardWebhooksPrefix = "whsec_";

    /// <summary>Key bytes for the Standard Webhooks signature: base64 after <c>whsec_</c>, else the UTF-8 text.</summary>
    public static byte[] ForStandardWebhooks(string secret) =>
        secret.StartsWith(StandardWebhooksPrefix, StringComparison.Ordinal)
        && TryDecodeStandardWebhooksSecret(secret, out var key)
            ? key
            : Encoding.UTF8.GetBytes(secret);

    public static bool TryDecodeStandardWebhooksSecret(string secret, out byte[] key)
    {
        var encoded = secret.AsSpan(StandardWebhooksPrefix.Length);
        var buffer = new byte[(encoded.Length * 3 / 4) + 3];
        if (Convert.TryFromBase64Chars(encoded, buffer, out var written) && written > 0)
        {
            key = buffer[..written];
            return true;
        }
        key = [];
        return false;
    }
}
