using System.Net;
using System.Text;
using CalWebhookFunctions.Operations.Rejections;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Functional.Forwarding;
using CalWebhookFunctions.Tests.Functional.Subscriptions;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Tests.Functional.Operations;

/// <summary>
/// Every answer of refused requests, the connections list, and replay's filters and dry run, real,
/// validated against the served document.
/// </summary>
public class OpenApiOperationsAnswersTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static async Task<FunctionsHost> HostAsync(TestApp app) => await FunctionsHost.StartAsync(app.Services);

    private static HttpClient KeyedClient(FunctionsHost host)
    {
        var client = host.CreateClient();
        client.DefaultRequestHeaders.Add("x-functions-key", FunctionsHost.FunctionKey);
        return client;
    }

    private static Task<HttpResponseMessage> PostJsonAsync(HttpClient client, string uri, string? json) =>
        client.PostAsync(new Uri(uri, UriKind.Relative), json is null ? null : new StringContent(json, Encoding.UTF8, "application/json"));

    [Fact]
    public async Task Refused_requests_answers_match_the_document()
    {
        await azurite.ResetAsync();
        await using var app = await TestApp.StartAsync(azurite.ConnectionString);
        await using var host = await HostAsync(app);
        using var client = KeyedClient(host);
        var body = CalDeliveries.BookingCreated();
        (await client.SendAsync(CalDeliveries.Post(body, "wrong-secret", "nangoConnectionId=customer-42"))).Dispose();
        (await client.SendAsync(CalDeliveries.Post(body, secret: null, contentType: "text/plain"))).Dispose();
        (await client.SendAsync(CalDeliveries.Post([], TestApp.WebhookSecret))).Dispose();
        await app.Get<RejectionStore>().FlushAsync(default);

        using (var page = await client.GetAsync(new Uri("api/rejections", UriKind.Relative)))
        {
            var json = await OpenApiContract.AssertAnswerAsync(page, "GET", "/api/rejections", HttpStatusCode.OK);
            Assert.Equal(3, json.GetProperty("items").GetArrayLength());
        }
        await OpenApiContract.AnswerAsync(client.GetAsync(new Uri("api/rejections?since=2026-01-01T00:00:00Z&limit=1", UriKind.Relative)), "GET", "/api/rejections", HttpStatusCode.OK);
        await OpenApiContract.AnswerAsync(client.GetAsync(new Uri("api/rejections?limit=500", UriKind.Relative)), "GET", "/api/rejections", HttpStatusCode.BadRequest, "invalid_query");
        await OpenApiContract.AnswerAsync(client.GetAsync(new Uri("api/rejections?reason=x", UriKind.Relative)), "GET", "/api/rejections", HttpStatusCode.BadRequest, "invalid_query");
    }

    [Fact]
    public async Task Connections_list_answers_match_the_document()
    {
        await azurite.ResetAsync();
        await using var life = await Lifecycle.StartAsync(azurite.ConnectionString);
        foreach (var id in new[] { "alpha", "beta/2", "gamma" })
        {
            (await life.PutAsync(id, """{"triggers":["BOOKING_CREATED"]}""")).Dispose();
        }

        using (var first = await life.Client.GetAsync(new Uri("api/connections?limit=2", UriKind.Relative)))
        {
            var json = await OpenApiContract.AssertAnswerAsync(first, "GET", "/api/connections", HttpStatusCode.OK);
            var next = json.GetProperty("continuation").GetString();
            Assert.NotNull(next);
            await OpenApiContract.AnswerAsync(life.Client.GetAsync(new Uri("api/connections?limit=2&continuation=" + Uri.EscapeDataString(next), UriKind.Relative)),
                "GET", "/api/connections", HttpStatusCode.OK);
        }
        await OpenApiContract.AnswerAsync(life.Client.GetAsync(new Uri("api/connections?limit=0", UriKind.Relative)), "GET", "/api/connections", HttpStatusCode.BadRequest, "invalid_query");
        await OpenApiContract.AnswerAsync(life.Client.GetAsync(new Uri("api/connections?continuation=forged", UriKind.Relative)), "GET", "/api/connections", HttpStatusCode.BadRequest, "invalid_query");
    }

    [Fact]
    public async Task Storage_down_is_the_documented_503_on_the_list_routes()
    {
        await azurite.ResetAsync();
        await using var app = await TestApp.StartAsync(azurite.ConnectionString,
            configureServices: s => s.AddSingleton(StorageFaults.Everything(azurite.ConnectionString)));
        await using var host = await HostAsync(app);
        using var client = KeyedClient(host);

        await OpenApiContract.AnswerAsync(client.GetAsync(new Uri("api/connections", UriKind.Relative)), "GET", "/api/connections", HttpStatusCode.ServiceUnavailable, "storage_unavailable");
        await OpenApiContract.AnswerAsync(client.GetAsync(new Uri("api/rejections", UriKind.Relative)), "GET", "/api/rejections", HttpStatusCode.ServiceUnavailable, "storage_unavailable");
    }

    [Fact]
    public async Task Replay_with_filters_and_dry_run_answers_match_the_document()
    {
        await azurite.ResetAsync();
        await using var app = await TestApp.StartAsync(azurite.ConnectionString);
        await using var host = await HostAsync(app);
        using var client = KeyedClient(host);
        var poison = app.Get<StorageAccount>().Queue(StorageNames.WebhookPoisonQueue);
        var deadLetter = ForwardingHarness.NewEvent(CalDeliveries.BookingCreated(), "customer-42");
        await PendingWebhooks.SendAsync(poison, PendingWebhooks.Serialize(deadLetter), null, default);
        const string path = "/api/deliveries/replay";

        using (var dryRun = await PostJsonAsync(client, "api/deliveries/replay", """{"connectionId":"customer-42","since":"2020-01-01T00:00:00Z","dryRun":true}"""))
        {
            var json = await OpenApiContract.AssertAnswerAsync(dryRun, "POST", path, HttpStatusCode.OK);
            Assert.Equal(1, json.GetProperty("matched").GetInt32());
        }
        await OpenApiContract.AnswerAsync(PostJsonAsync(client, "api/deliveries/replay", """{"colour":"red"}"""), "POST", path, HttpStatusCode.BadRequest, "invalid_request");
        await OpenApiContract.AnswerAsync(PostJsonAsync(client, "api/deliveries/replay", """{"reason":"bored"}"""), "POST", path, HttpStatusCode.BadRequest, "invalid_request");
        await OpenApiContract.AnswerAsync(PostJsonAsync(client, "api/deliveries/replay",
            """{"since":"2026-12-02T00:00:00Z","until":"2026-12-01T00:00:00Z"}"""), "POST", path, HttpStatusCode.BadRequest, "invalid_request");
        using (var moved = await PostJsonAsync(client, "api/deliveries/replay", """{"connectionId":"customer-42","reason":"host_poison"}"""))
        {
            var json = await OpenApiContract.AssertAnswerAsync(moved, "POST", path, HttpStatusCode.OK);
            Assert.Equal(1, json.GetProperty("moved").GetInt32());
        }
    }
}
