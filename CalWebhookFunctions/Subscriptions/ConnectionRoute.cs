using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace CalWebhookFunctions.Subscriptions;

/// <summary>
/// The connection id of <c>/api/connections/{connectionId}</c>, decoded exactly once. ASP.NET Core routing leaves
/// <c>%2F</c> encoded in route values while decoding every other escape, so an id containing <c>/</c> would arrive
/// as <c>%2F</c>, and one containing a literal <c>%2F</c> could not be told apart from it. The id is therefore taken
/// from the raw request target (the last path segment as the client sent it) and unescaped once; the route value
/// is only a fallback for a server that does not expose the raw target.
/// </summary>
public static class ConnectionRoute
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The connection id, or null when its escapes do not decode to valid UTF-8.</summary>
    public static string? Resolve(HttpRequest request, string routeValue)
    {
        var raw = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget;
        var segment = string.IsNullOrEmpty(raw) ? null : LastSegment(raw);
        return segment is null ? routeValue : Unescape(segment);
    }

    /// <summary>
    /// Percent-decodes once into bytes and reads them as strict UTF-8 (null when they are not), so two different
    /// escaped forms never name the same id. A <c>%</c> not followed by two hex digits stands for itself.
    /// </summary>
    public static string? Unescape(string segment)
    {
        var bytes = new List<byte>(segment.Length);
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < segment.Length; i++)
        {
            if (segment[i] == '%' && i + 2 < segment.Length
                && Uri.IsHexDigit(segment[i + 1]) && Uri.IsHexDigit(segment[i + 2]))
            {
                bytes.Add((byte)((Uri.FromHex(segment[i + 1]) << 4) | Uri.FromHex(segment[i + 2])));
                i += 2;
                continue;
            }
            var length = char.IsHighSurrogate(segment[i]) && i + 1 < segment.Length
                ? Encoding.UTF8.GetBytes(segment.AsSpan(i++, 2), utf8)
                : Encoding.UTF8.GetBytes(segment.AsSpan(i, 1), utf8);
            foreach (var b in utf8[..length])
            {
                bytes.Add(b);
            }
        }
        try
        {
            return StrictUtf8.GetString([.. bytes]);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>The last non-empty path segment of a request target (origin or absolute form), still escaped.</summary>
    public static string? LastSegment(string rawTarget)
    {
        var path = rawTarget;
        var query = path.IndexOfAny(['?', '#']);
        if (query >= 0)
        {
            path = path[..query];
        }
        var scheme = path.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            var pathStart = path.IndexOf('/', scheme + 3);
            path = pathStart < 0 ? "" : path[pathStart..];
        }
        path = path.TrimEnd('/');
        var slash = path.LastIndexOf('/');
        var segment = slash < 0 ? path : path[(slash + 1)..];
        return segment.Length == 0 ? null : segment;
    }
}
