using System.Text.RegularExpressions;

namespace CalWebhookFunctions.Http;

/// <summary>
/// The one way a URL reaches a log line: every query value is replaced by <see cref="Mask"/> except
/// <c>nangoConnectionId</c> (a subscriber URL may carry the function key as <c>?code=</c>, a forward URL a token).
/// Scheme, host, path and the parameter names stay, so the line still says which URL it was.
/// </summary>
public static partial class LoggedUrl
{
    public const string Mask = "REDACTED";

    private const string KeptParameter = "nangoConnectionId";

    /// <summary><paramref name="url"/> with its query values masked (and any fragment dropped).</summary>
    public static string Redact(string? url)
    {
        if (string.IsNullOrEmpty(url))
        {
            return "";
        }
        var fragment = url.IndexOf('#', StringComparison.Ordinal);
        var text = fragment < 0 ? url : url[..fragment];
        var queryAt = text.IndexOf('?', StringComparison.Ordinal);
        if (queryAt < 0)
        {
            return text;
        }
        return text[..(queryAt + 1)] + string.Join('&', text[(queryAt + 1)..].Split('&').Select(MaskValue));
    }

    /// <summary>One <c>name=value</c> of a query with its value masked, unless it is <see cref="KeptParameter"/>'s.</summary>
    private static string MaskValue(string parameter)
    {
        var equals = parameter.IndexOf('=', StringComparison.Ordinal);
        return equals < 0 || Uri.UnescapeDataString(parameter[..equals]) == KeptParameter ? parameter : parameter[..(equals + 1)] + Mask;
    }

    /// <summary>Free text (an error message, say) with every http(s) URL in it redacted as <see cref="Redact"/> does.</summary>
    public static string RedactIn(string? text) =>
        string.IsNullOrEmpty(text) ? "" : UrlInText().Replace(text, m => Redact(m.Value));

    [GeneratedRegex(@"https?://[^\s""'<>]+", RegexOptions.IgnoreCase)]
    private static partial Regex UrlInText();
}
