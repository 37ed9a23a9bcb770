using System.Net;
using System.Text;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Functional.Forwarding;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Tests.Functional.Operations;

/// <summary>Every answer of <c>POST /api/deliveries/replay</c>, real, validated against the served document.</summary>
public class OpenApiReplayAnswersTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private const string Path = "/api/deliveries/replay";

    private static async Task AnswerAsync(FunctionsHost host, string? query, string? json, HttpStatusCode status, string? error = null)
    {
        using var client = host.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/deliveries/replay" + query);
        request.Headers.Add("x-functions-key", FunctionsHost.FunctionKey);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        using var response = await client.SendAsync(request);
        await OpenApiContract.AssertAnswerAsync(response, "POST", Path, status, error);
    }

    [Fact]
    public async Task Replay_answers_match_the_document()
    {
        await storage.ResetAsync();
        await using var app = await TestApp.StartAsync(storage.ConnectionString);
        await using var host = await FunctionsHost.StartAsync(app.Services);
        var poison = app.Get<StorageAccount>().Queue(StorageNames.WebhookPoisonQueue);
        var deadLetter = ForwardingHarness.NewEvent(CalDeliveries.BookingCreated(), null);
        await PendingWebhooks.SendAsync(poison, PendingWebhooks.Serialize(deadLetter), null, default);

        await AnswerAsync(host, "?eventId=" + new string('0', 32), null, HttpStatusCode.NotFound, "dead_letter_not_found");
        await AnswerAsync(host, null, """{"eventId":"not an id!"}""", HttpStatusCode.BadRequest, "invalid_request");
        await AnswerAsync(host, null, "{", HttpStatusCode.BadRequest, "invalid_request");
        await AnswerAsync(host, "?eventId=" + deadLetter.EventId, null, HttpStatusCode.OK);
        await AnswerAsync(host, null, null, HttpStatusCode.OK);
    }

    [Fact]
    public async Task Storage_down_is_the_documented_503()
    {
        await storage.ResetAsync();
        await using var app = await TestApp.StartAsync(storage.ConnectionString,
            configureServices: s => s.AddSingleton(StorageFaults.Everything(storage.ConnectionString)));
        await using var host = await FunctionsHost.StartAsync(app.Services);

        await AnswerAsync(host, null, null, HttpStatusCode.ServiceUnavailable, "storage_unavailable");
    }
}
