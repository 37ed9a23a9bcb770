namespace CalWebhookFunctions.Configuration;

/// <summary>
/// Outbound signing secrets in the Standard Webhooks format: <c>whsec_</c> + base64 of the key bytes. The reference
/// libraries (<c>standardwebhooks</c>, Svix) base64-decode what follows the prefix, so nothing else is accepted.
/// </summary>
public static class SigningKey
{
    public const string StandardWebhooksPrefix = "whsec_";

    /// <summary>The shortest key accepted: 24 random bytes (192 bits), as the Standard Webhooks specification asks.</summary>
    public const int MinKeyBytes = 24;

    /// <summary>The key bytes of a secret that passed <see cref="Problem"/>; throws for anything else.</summary>
    public static byte[] ForStandardWebhooks(string secret) =>
        TryDecode(secret, out var key) && key.Length >= MinKeyBytes
            ? key
            : throw new FormatException($"A signing secret must be {StandardWebhooksPrefix} + base64 of at least {MinKeyBytes} bytes.");

    /// <summary>Why a secret is not usable (without echoing it), or null when it is.</summary>
    public static string? Problem(string secret) =>
        !secret.StartsWith(StandardWebhooksPrefix, StringComparison.Ordinal)
            ? $"must start with {StandardWebhooksPrefix} (the Standard Webhooks format: {StandardWebhooksPrefix} + base64 of at least {MinKeyBytes} random bytes)"
            : !TryDecode(secret, out var key) ? $"starts with {StandardWebhooksPrefix} but the rest is not base64"
            : key.Length < MinKeyBytes ? $"decodes to {key.Length} bytes; at least {MinKeyBytes} are required"
            : null;

    private static bool TryDecode(string secret, out byte[] key)
    {
        key = [];
        if (!secret.StartsWith(StandardWebhooksPrefix, StringComparison.Ordinal))
        {
            return false;
        }
        var encoded = secret.AsSpan(StandardWebhooksPrefix.Length);
        var buffer = new byte[(encoded.Length * 3 / 4) + 3];
        if (!Convert.TryFromBase64Chars(encoded, buffer, out var written) || written == 0)
        {
            return false;
        }
        key = buffer[..written];
        return true;
    }
}
