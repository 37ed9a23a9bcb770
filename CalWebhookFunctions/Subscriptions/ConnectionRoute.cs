using System.Text;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CalWebhookFunctions.Subscriptions;

/// <summary>The connection id a request names, or the 400 to answer instead.</summary>
public sealed record ConnectionIdResult(string? Id, BadRequest<ErrorBody>? Error);

/// <summary>
/// The connection id of a connection route. On the real Functions host the path is decoded by the host (every escape
/// but <c>%2F</c>) and re-encoded by its proxy (every <c>%</c> escaped again), so the id <c>a/b</c> sent as
/// <c>a%2Fb</c> and the literal id <c>a%2Fb</c> reach the worker identical (see functions-host.md). A path id that
/// still holds a <c>%</c> after that decoding is therefore ambiguous and refused with <c>ambiguous_connection_id</c>;
/// the query form <c>/api/connections?id=&lt;url-encoded id&gt;</c> arrives exactly as sent and carries any id.
/// </summary>
public static class ConnectionRoute
{
    public const string QueryForm = "/api/connections?id=<url-encoded id>";

    /// <summary>The id of <c>/api/connections/{connectionId}</c>.</summary>
    /// <param name="subResource">For <c>/api/connections/{connectionId}/{subResource}</c> (pause, resume): the id is the segment before it.</param>
    public static ConnectionIdResult FromPath(HttpRequest request, string routeValue, string? subResource = null)
    {
        var resolved = Resolve(request, routeValue, subResource);
        if (resolved is not null && resolved.Contains('%', StringComparison.Ordinal))
        {
            return new ConnectionIdResult(null, ApiResults.BadRequest("ambiguous_connection_id",
                "After the Functions host decodes the path, this id holds a '%': it could stand for a '/' or for itself, so it " +
                $"cannot be used in the path. Name the connection in the query instead: {QueryForm}."));
        }
        return Validate(resolved, "its percent-escapes are not valid UTF-8");
    }

    /// <summary>The id of <c>/api/connections?id=…</c>: the query string reaches the worker exactly as the client sent it.</summary>
    public static ConnectionIdResult FromQuery(HttpRequest request)
    {
        var values = QueryValues(request.QueryString.Value, "id");
        if (values.Count == 0)
        {
            return new ConnectionIdResult(null, ApiResults.BadRequest("missing_connection_id",
                $"Name the connection: {QueryForm} (or /api/connections/<id> for an id without '/' or '%')."));
        }
        return values.Count > 1
            ? new ConnectionIdResult(null, InvalidId("the id parameter is given more than once"))
            : Validate(values[0], "its percent-escapes are not valid UTF-8");
    }

    /// <summary>
    /// The values of <paramref name="name"/> in a raw query string, each decoded exactly once (<c>+</c> is a space) as
    /// strict UTF-8: null for a value whose escapes are not UTF-8, where a lenient decoder would substitute U+FFFD.
    /// </summary>
    public static IReadOnlyList<string?> QueryValues(string? query, string name)
    {
        var values = new List<string?>();
        foreach (var pair in (query ?? "").TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Unescape((equals < 0 ? pair : pair[..equals]).Replace('+', ' '));
            if (key == name)
            {
                values.Add(equals < 0 ? "" : Unescape(pair[(equals + 1)..].Replace('+', ' ')));
            }
        }
        return values;
    }

    private static ConnectionIdResult Validate(string? id, string problemWhenNull)
    {
        var problem = problemWhenNull;
        return id is not null && ConnectionId.IsValid(id, out problem)
            ? new ConnectionIdResult(id, null)
            : new ConnectionIdResult(null, InvalidId(problem));
    }

    public static BadRequest<ErrorBody> InvalidId(string problem) =>
        ApiResults.BadRequest("invalid_connection_id", $"The connection id is not acceptable: {problem}.");

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// The path id decoded exactly once from the raw request target (the route value only where the server exposes no
    /// raw target), or null when its escapes do not decode to valid UTF-8.
    /// </summary>
    public static string? Resolve(HttpRequest request, string routeValue, string? subResource = null)
    {
        var raw = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (subResource is not null && raw is not null)
        {
            var end = raw.IndexOfAny(['?', '#']);
            var path = end < 0 ? raw : raw[..end];
            raw = path.EndsWith("/" + subResource, StringComparison.Ordinal) ? path[..^(subResource.Length + 1)] : path;
        }
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
