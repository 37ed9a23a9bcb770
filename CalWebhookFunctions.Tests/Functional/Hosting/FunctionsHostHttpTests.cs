using System.Net;
using System.Text.Json;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace CalWebhookFunctions.Tests.Functional.Hosting;

/// <summary>
/// The HTTP side of the Functions host stand-in behaves as functions-host.md records for the real host: one test per
/// line of its table, the exact query string, the proxy's headers and the invocation's cancellation token.
/// </summary>
public sealed class FunctionsHostHttpTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    [Theory]
    [InlineData("api/echo/tenant%2F42", "/api/echo/tenant%252F42", "tenant%2F42")]
    [InlineData("api/echo/x%252Fy", "/api/echo/x%252Fy", "x%2Fy")]
    [InlineData("api/echo/a%20b", "/api/echo/a%20b", "a b")]
    public async Task The_path_reaches_the_worker_decoded_by_the_host_and_re_encoded_by_its_proxy(string sent, string rawTarget, string routeValue)
    {
        await using var app = await TestApp.StartAsync(storage.ConnectionString);
        await using var host = await StartAsync(app);

        var echo = await EchoAsync(host, sent);

        Assert.Equal(rawTarget, echo.GetProperty("rawTarget").GetString());
        Assert.Equal(routeValue, echo.GetProperty("routeValue").GetString());
    }

    [Fact]
    public async Task The_query_string_reaches_the_worker_exactly_as_sent()
    {
        await using var app = await TestApp.StartAsync(storage.ConnectionString);
        await using var host = await StartAsync(app);

        var echo = await EchoAsync(host, "api/echo/q?id=tenant%2F42%23a%3Fb%20c%25-z&plus=a+b");

        Assert.Equal("/api/echo/q?id=tenant%2F42%23a%3Fb%20c%25-z&plus=a+b", echo.GetProperty("rawTarget").GetString());
        Assert.Equal("tenant/42#a?b c%-z", echo.GetProperty("id").GetString());
        Assert.Equal("a b", echo.GetProperty("plus").GetString());
    }

    [Fact]
    public async Task The_proxy_adds_the_original_request_headers_and_an_invocation_id()
    {
        await using var app = await TestApp.StartAsync(storage.ConnectionString);
        await using var host = await StartAsync(app);

        var echo = await EchoAsync(host, "api/echo/h");

        Assert.Equal("http", echo.GetProperty("X-Original-Proto").GetString());
        Assert.Equal(host.BaseAddress.Authority, echo.GetProperty("X-Original-Host").GetString());
        Assert.StartsWith("127.0.0.1:", echo.GetProperty("X-Original-For").GetString(), StringComparison.Ordinal);
        Assert.True(Guid.TryParse(echo.GetProperty("x-ms-invocation-id").GetString(), out _));
    }

    [Fact]
    public async Task The_invocation_is_cancelled_when_the_client_has_gone()
    {
        await using var app = await TestApp.StartAsync(storage.ConnectionString);
        await using var host = await StartAsync(app);
        using var client = host.CreateClient();
        using var hangUp = new CancellationTokenSource();

        var call = client.GetAsync(new Uri("api/hold", UriKind.Relative), hangUp.Token);
        await _started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await hangUp.CancelAsync();

        await _cancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }

    [Fact]
    public async Task The_invocation_is_cancelled_when_the_host_stops()
    {
        await using var app = await TestApp.StartAsync(storage.ConnectionString);
        var host = await StartAsync(app);
        using var client = host.CreateClient();

        var call = client.GetAsync(new Uri("api/hold", UriKind.Relative));
        await _started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await host.DisposeAsync();

        await _cancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));
        try
        {
            using var _ = await call;
        }
        catch (HttpRequestException)
        {
            // The host went away mid-answer.
        }
    }

    private Task<FunctionsHost> StartAsync(TestApp app) => FunctionsHost.StartAsync(app.Services, new Dictionary<string, RequestDelegate>
    {
        ["echo/{value}"] = EchoAsync,
        ["hold"] = HoldAsync,
    });

    private static async Task<JsonElement> EchoAsync(FunctionsHost host, string relative)
    {
        using var client = host.CreateClient();
        using var response = await client.GetAsync(new Uri(relative, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>What a function on the worker sees of its request.</summary>
    private static Task EchoAsync(HttpContext context)
    {
        var request = context.Request;
        var seen = new Dictionary<string, string?>
        {
            ["rawTarget"] = context.Features.Get<IHttpRequestFeature>()!.RawTarget,
            ["routeValue"] = context.GetRouteValue("value") as string,
            ["id"] = request.Query["id"],
            ["plus"] = request.Query["plus"],
        };
        foreach (var name in new[] { "X-Original-Proto", "X-Original-Host", "X-Original-For", "x-ms-invocation-id" })
        {
            seen[name] = request.Headers[name];
        }
        return context.Response.WriteAsJsonAsync(seen);
    }

    private async Task HoldAsync(HttpContext context)
    {
        var invocation = FunctionsHost.InvocationOf(context);
        _started.TrySetResult();
        try
        {
            await Task.Delay(Timeout.Infinite, invocation);
        }
        catch (OperationCanceledException) when (invocation.IsCancellationRequested)
        {
            _cancelled.TrySetResult();
        }
    }
}
