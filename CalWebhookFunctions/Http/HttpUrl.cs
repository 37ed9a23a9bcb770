using System.Diagnostics.CodeAnalysis;

namespace CalWebhookFunctions.Http;

/// <summary>The one rule for every URL the app calls or hands out: absolute, with scheme http or https.</summary>
public static class HttpUrl
{
    public static bool TryParseAbsolute(string? value, [NotNullWhen(true)] out Uri? uri)
    {
        uri = Uri.TryCreate(value?.Trim(), UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https" ? parsed : null;
        return uri is not null;
    }
}
