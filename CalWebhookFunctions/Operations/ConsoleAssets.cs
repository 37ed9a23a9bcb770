using System.Buffers.Text;
using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;

namespace CalWebhookFunctions.Operations;

/// <summary>One file of the operator console: its bytes, their gzip form and a strong validator per form.</summary>
public sealed record ConsoleAsset(string Name, string ContentType, byte[] Bytes, byte[] Gzipped, EntityTagHeaderValue ETag, EntityTagHeaderValue GzipETag);

/// <summary>
/// The operator console's files (<c>Operations/Console/*</c>), embedded in the assembly at build time, read and gzipped
/// once. Only these names are ever served: nothing is looked up on disk or by a caller-supplied path.
/// </summary>
public sealed class ConsoleAssets
{
    /// <summary>The page itself, served at <c>GET /api/console</c>.</summary>
    public const string PageName = "index.html";

    private const string ResourcePrefix = "Console/";

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.Ordinal)
    {
        [".html"] = "text/html; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
    };

    private readonly Dictionary<string, ConsoleAsset> _assets = LoadAll();

    public ConsoleAsset Page => _assets[PageName];

    /// <summary>Every file but the page, by the name it is served under (<c>/api/console/{name}</c>).</summary>
    public IEnumerable<string> AssetNames => _assets.Keys.Where(name => name != PageName).Order(StringComparer.Ordinal);

    /// <summary>A file the page loads, or null for any other name (the page is not an asset).</summary>
    public ConsoleAsset? Find(string name) =>
        name != PageName && _assets.TryGetValue(name, out var asset) ? asset : null;

    private static Dictionary<string, ConsoleAsset> LoadAll()
    {
        var assembly = typeof(ConsoleAssets).Assembly;
        var assets = assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            .Select(name => Load(assembly, name))
            .ToDictionary(asset => asset.Name, StringComparer.Ordinal);
        return assets.ContainsKey(PageName)
            ? assets
            : throw new InvalidOperationException($"The console page {ResourcePrefix}{PageName} is not embedded in the assembly.");
    }

    private static ConsoleAsset Load(Assembly assembly, string resourceName)
    {
        using var stream = assembly.GetManifestResourceStream(resourceName)!;
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var bytes = buffer.ToArray();
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gzip.Write(bytes);
        }
        var name = resourceName[ResourcePrefix.Length..];
        var contentType = ContentTypes.TryGetValue(Path.GetExtension(name), out var type)
            ? type
            : throw new InvalidOperationException($"No content type is known for the console file {name}.");
        var hash = Base64Url.EncodeToString(SHA256.HashData(bytes).AsSpan(0, 16));
        return new ConsoleAsset(name, contentType, bytes, compressed.ToArray(), new($"\"{hash}\""), new($"\"{hash}-gz\""));
    }
}

/// <summary>
/// Serves one console file: gzip when the client accepts it, <c>304</c> when its validator matches (the framework's file
/// result answers that), revalidated on every load (<c>no-cache</c>) so an upgraded app is never mixed with stale modules;
/// with the console's security headers.
/// </summary>
public sealed class ConsoleFileResult(ConsoleAsset asset) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        var gzip = AcceptsGzip(httpContext.Request);
        ConsoleHeaders.Apply(response);
        response.Headers.CacheControl = "no-cache";
        response.Headers.Vary = HeaderNames.AcceptEncoding;
        if (gzip)
        {
            response.Headers.ContentEncoding = "gzip";
        }
        return TypedResults.Bytes(gzip ? asset.Gzipped : asset.Bytes, asset.ContentType, entityTag: gzip ? asset.GzipETag : asset.ETag)
            .ExecuteAsync(httpContext);
    }

    private static bool AcceptsGzip(HttpRequest request) =>
        StringWithQualityHeaderValue.TryParseList(request.Headers.AcceptEncoding, out var codings)
        && codings.Any(c => c.Value.Equals("gzip", StringComparison.OrdinalIgnoreCase) && c.Quality is not 0);
}

/// <summary>The headers every console answer carries (the page, its files and their 404s).</summary>
public static class ConsoleHeaders
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static void Apply(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
    }
}

public static class ConsoleRegistration
{
    public static IServiceCollection AddOperatorConsole(this IServiceCollection services) =>
        services.AddSingleton<ConsoleAssets>();
}
