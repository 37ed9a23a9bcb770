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
    public static string Resolve(HttpRequest request, string routeValue)
    {
        var raw = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget;
        var segment = string.IsNullOrEmpty(raw) ? null : LastSegment(raw);
        return segment is null ? routeValue : Uri.UnescapeDataString(segment);
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
