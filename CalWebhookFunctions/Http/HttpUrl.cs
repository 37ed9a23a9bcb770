using System.Diagnostics.CodeAnalysis;

namespace CalWebhookFunctions.Http;

/// <summary>The one rule for every URL the app calls or hands out: absolute, with scheme http or https.</summary>
public static class HttpUrl
{
    public static bool TryParseAbsolute(string? value, [NotNullWhen(true)] out Uri? uri)
    {
        uri = null;
        if (string.IsNullOrWhiteSpace(value)
            || !Uri.TryCreate(value.Trim(), UriKind.Absolute, out var parsed)
            || (parsed.Scheme != Uri.UriSchemeHttps && parsed.Scheme != Uri.UriSchemeHttp))
        {
            return false;
        }
        uri = parsed;
        return true;
    }
}
