using System.Security.Cryptography;
using System.Text;

namespace CalWebhookFunctions.Tests.Infrastructure;

/// <summary>
/// How a receiving app verifies a forward, written from the Standard Webhooks specification and Nango's docs with the
/// BCL only (none of the app's code), so a test that passes here passes in the user's app.
/// </summary>
public static class WebhookVerifiers
{
    /// <summary>
    /// Standard Webhooks, as its reference libraries (<c>standardwebhooks</c>, Svix) verify: key = the secret base64-decoded
    /// after an optional <c>whsec_</c> prefix (a secret that is not base64 is an error, never UTF-8 text); signed content =
    /// <c>{webhook-id}.{webhook-timestamp}.{body}</c>; header = space-separated <c>v1,&lt;base64&gt;</c> entries, any of
    /// which may match; timestamp within <paramref name="tolerance"/> of now.
    /// </summary>
    public static bool VerifyStandardWebhooks(string secret, string id, string timestamp, string signatureHeader, byte[] body,
        TimeSpan? tolerance = null, DateTimeOffset? now = null)
    {
        if (!long.TryParse(timestamp, out var seconds))
        {
            return false;
        }
        var age = (now ?? DateTimeOffset.UtcNow) - DateTimeOffset.FromUnixTimeSeconds(seconds);
        if (age.Duration() > (tolerance ?? TimeSpan.FromMinutes(5)))
        {
            return false;
        }
        // As the reference libraries do: drop an optional whsec_ prefix, base64-decode the rest (never UTF-8 text).
        var key = Convert.FromBase64String(secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret["whsec_".Length..] : secret);
        var signed = Encoding.UTF8.GetBytes($"{id}.{timestamp}.").Concat(body).ToArray();
        var expected = HMACSHA256.HashData(key, signed);
        foreach (var entry in signatureHeader.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var comma = entry.IndexOf(',', StringComparison.Ordinal);
            if (comma < 0 || entry[..comma] != "v1")
            {
                continue;
            }
            byte[] given;
            try
            {
                given = Convert.FromBase64String(entry[(comma + 1)..]);
            }
            catch (FormatException)
            {
                continue;
            }
            if (CryptographicOperations.FixedTimeEquals(given, expected))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Nango: lowercase hex HMAC-SHA256 of the raw body, key = the secret's UTF-8 bytes.</summary>
    public static bool VerifyNango(string secret, string header, byte[] body) =>
        CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(header),
            Encoding.ASCII.GetBytes(Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body))));
}
