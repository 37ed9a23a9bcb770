using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using CalWebhookFunctions.Operations;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Console;

/// <summary>
/// <c>GET /api/console</c> and its files over real HTTP through the host stand-in: anonymous, only the known files,
/// the right content types, validators and gzip, and the security headers on every answer.
/// </summary>
public partial class ConsoleServingTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private static readonly string[] Modules =
        ["app.js", "api.js", "dom.js", "json.js", "list.js", "overview.js", "deliveries.js", "event.js", "dead-letters.js", "connections.js", "rejections.js"];

    private async Task<T> WithHostAsync<T>(Func<HttpClient, Task<T>> run)
    {
        await using var app = await TestApp.StartAsync(storage.ConnectionString);
        await using var host = await FunctionsHost.StartAsync(app.Services);
        using var client = new HttpClient(new HttpClientHandler { AutomaticDecompression = DecompressionMethods.None, AllowAutoRedirect = false }) { BaseAddress = host.BaseAddress };
        return await run(client);
    }

    private static void AssertSecurityHeaders(HttpResponseMessage response)
    {
        Assert.Equal(ConsoleHeaders.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Contains("default-src 'none'", ConsoleHeaders.ContentSecurityPolicy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", ConsoleHeaders.ContentSecurityPolicy, StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
    }

    [Fact]
    public async Task The_page_is_served_anonymously_as_html_with_the_strict_headers_and_a_validator() => await WithHostAsync(async client =>
    {
        using var response = await client.GetAsync("api/console");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        AssertSecurityHeaders(response);
        Assert.NotNull(response.Headers.ETag);
        Assert.Contains("no-cache", response.Headers.CacheControl!.ToString(), StringComparison.Ordinal);
        Assert.Contains("console/app.js", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        return 0;
    });

    [Fact]
    public async Task Every_module_and_the_style_sheet_are_served_with_their_content_types() => await WithHostAsync(async client =>
    {
        foreach (var name in Modules.Append("console.css"))
        {
            using var response = await client.GetAsync("api/console/" + name);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{name}: {response.StatusCode}");
            Assert.Equal(name.EndsWith(".css", StringComparison.Ordinal) ? "text/css" : "text/javascript", response.Content.Headers.ContentType?.MediaType);
            AssertSecurityHeaders(response);
        }
        return 0;
    });

    [Theory]
    [InlineData("index.html")]
    [InlineData("secrets.json")]
    [InlineData("..%2Fappsettings.json")]
    [InlineData("APP.JS")]
    public async Task Only_the_known_files_are_served_any_other_name_is_a_json_404(string name) => await WithHostAsync(async client =>
    {
        using var response = await client.GetAsync("api/console/" + name);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("asset_not_found", body.GetProperty("error").GetString());
        Assert.Contains("app.js", body.GetProperty("message").GetString(), StringComparison.Ordinal);
        AssertSecurityHeaders(response);
        return 0;
    });

    [Fact]
    public async Task A_matching_validator_answers_304_without_a_body() => await WithHostAsync(async client =>
    {
        using var first = await client.GetAsync("api/console/app.js");
        using var again = new HttpRequestMessage(HttpMethod.Get, "api/console/app.js");
        again.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        using var second = await client.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        Assert.Empty(await second.Content.ReadAsByteArrayAsync());
        return 0;
    });

    [Fact]
    public async Task A_client_that_accepts_gzip_gets_the_same_bytes_compressed() => await WithHostAsync(async client =>
    {
        var plain = await client.GetByteArrayAsync("api/console/event.js");
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/console/event.js");
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));
        using var response = await client.SendAsync(request);
        Assert.Equal("gzip", response.Content.Headers.ContentEncoding.Single());
        Assert.Contains("Accept-Encoding", response.Headers.Vary);
        var compressed = await response.Content.ReadAsByteArrayAsync();
        Assert.True(compressed.Length < plain.Length, $"{compressed.Length} >= {plain.Length}");
        using var unzipped = new MemoryStream();
        await new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress).CopyToAsync(unzipped);
        Assert.Equal(plain, unzipped.ToArray());
        return 0;
    });

    [Fact]
    public async Task The_page_with_a_trailing_slash_redirects_to_the_page_so_its_relative_links_resolve() => await WithHostAsync(async client =>
    {
        using var response = await client.GetAsync("api/console/");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/api/console", new Uri(new Uri(client.BaseAddress!, "api/console/"), response.Headers.Location!).AbsolutePath);
        return 0;
    });

    /// <summary>The strict CSP is also kept in the sources: no inline script or style, no HTML built from strings, nothing from elsewhere.</summary>
    [Fact]
    public void The_console_files_hold_no_inline_script_no_html_sinks_and_no_outside_address()
    {
        var folder = RepoPaths.File("CalWebhookFunctions", "Operations", "Console");
        var page = File.ReadAllText(Path.Combine(folder, "index.html"));
        Assert.DoesNotMatch(ScriptWithoutSource(), page);
        Assert.DoesNotMatch(InlineStyleOrHandler(), page);
        foreach (var file in Directory.GetFiles(folder))
        {
            var text = File.ReadAllText(file);
            Assert.DoesNotMatch(HtmlSinks(), text);
            var outside = AbsoluteUrl().Matches(text).Select(m => m.Value).Where(url => url != "http://www.w3.org/2000/svg").ToList();
            Assert.True(outside.Count == 0, $"{Path.GetFileName(file)}: {string.Join(", ", outside)}");
        }
        Assert.Equal(Modules.Append("console.css").Append("index.html").Order(), Directory.GetFiles(folder).Select(Path.GetFileName).Order());
    }

    [GeneratedRegex(@"<script(?![^>]*\bsrc=)[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptWithoutSource();

    [GeneratedRegex(@"<style|\sstyle=|\son[a-z]+=", RegexOptions.IgnoreCase)]
    private static partial Regex InlineStyleOrHandler();

    [GeneratedRegex(@"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(|setAttribute\('style'")]
    private static partial Regex HtmlSinks();

    [GeneratedRegex(@"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s'""`)]*", RegexOptions.IgnoreCase)]
    private static partial Regex AbsoluteUrl();
}
