using System.Net;
using System.Net.Http.Headers;
using CalWebhookFunctions.Operations;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Operations;

/// <summary><c>GET /api/openapi.json</c> through the host stand-in: anonymous, the embedded bytes, cacheable with an ETag.</summary>
public class OpenApiRouteTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private const string Path = "/api/openapi.json";

    [Fact]
    public async Task The_document_is_served_anonymously_as_embedded_with_an_etag_and_cache_headers()
    {
        await using var app = await TestApp.StartAsync(storage.ConnectionString);
        await using var host = await FunctionsHost.StartAsync(app.Services);
        using var client = host.CreateClient();

        using var response = await client.GetAsync(new Uri("api/openapi.json", UriKind.Relative));

        await OpenApiContract.AssertAnswerAsync(response, "GET", Path, HttpStatusCode.OK);
        Assert.Equal(OpenApiDocumentFile.Bytes, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(OpenApiDocumentFile.ETag.ToString(), response.Headers.ETag?.ToString());
        Assert.True(response.Headers.CacheControl?.Public);
        Assert.Equal(TimeSpan.FromMinutes(5), response.Headers.CacheControl?.MaxAge);
    }

    [Fact]
    public async Task A_matching_If_None_Match_is_304_without_a_body_and_another_tag_gets_the_document()
    {
        await using var app = await TestApp.StartAsync(storage.ConnectionString);
        await using var host = await FunctionsHost.StartAsync(app.Services);
        using var client = host.CreateClient();
        using var first = await client.GetAsync(new Uri("api/openapi.json", UriKind.Relative));
        var tag = first.Headers.ETag!;

        using var again = new HttpRequestMessage(HttpMethod.Get, "api/openapi.json");
        again.Headers.IfNoneMatch.Add(tag);
        using var notModified = await client.SendAsync(again);
        using var other = new HttpRequestMessage(HttpMethod.Get, "api/openapi.json");
        other.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"older\""));
        using var changed = await client.SendAsync(other);

        await OpenApiContract.AssertAnswerAsync(notModified, "GET", Path, HttpStatusCode.NotModified);
        Assert.Equal(tag, notModified.Headers.ETag);
        await OpenApiContract.AssertAnswerAsync(changed, "GET", Path, HttpStatusCode.OK);
    }
}
