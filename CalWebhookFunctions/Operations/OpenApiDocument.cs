using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Net.Http.Headers;

namespace CalWebhookFunctions.Operations;

/// <summary>
/// <c>GET /api/openapi.json</c> (anonymous): the OpenAPI 3.1 document of every HTTP route, embedded in the assembly
/// (<c>Operations/openapi.json</c>). Cacheable: a strong ETag (a hash of the bytes) and a 304 to a matching
/// <c>If-None-Match</c>. The tests validate real answers of every route against this same document.
/// </summary>
public sealed class GetOpenApiDocument
{
    /// <summary>Short enough that a redeployed document is seen within minutes; the ETag makes revalidation cheap.</summary>
    public const string CacheControl = "public, max-age=300";

    [Function(nameof(GetOpenApiDocument))]
    public FileContentHttpResult Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "openapi.json")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.HttpContext.Response.Headers.CacheControl = CacheControl;
        // The file result answers 304 itself when If-None-Match matches the tag.
        return TypedResults.Bytes(OpenApiDocumentFile.Bytes, "application/json; charset=utf-8", entityTag: OpenApiDocumentFile.ETag);
    }
}

/// <summary>The embedded document and its entity tag, read once.</summary>
internal static class OpenApiDocumentFile
{
    public const string ResourceName = "CalWebhookFunctions.Operations.openapi.json";

    public static readonly byte[] Bytes = Read();

    public static readonly EntityTagHeaderValue ETag = new($"\"{Convert.ToHexStringLower(SHA256.HashData(Bytes).AsSpan(0, 16))}\"");

    private static byte[] Read()
    {
        using var stream = typeof(OpenApiDocumentFile).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from the build.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
