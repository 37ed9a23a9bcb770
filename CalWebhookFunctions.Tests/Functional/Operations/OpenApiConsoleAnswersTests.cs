using System.Net;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Operations;

/// <summary>Every answer of the operator console's routes, real, validated against the served document.</summary>
public class OpenApiConsoleAnswersTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{

    [Fact]
    public async Task Console_answers_match_the_document()
    {
        await azurite.ResetAsync();
        await using var app = await TestApp.StartAsync(azurite.ConnectionString);
        await using var host = await FunctionsHost.StartAsync(app.Services);
        using var client = host.CreateClient();

        using (var page = await client.GetAsync(new Uri("api/console", UriKind.Relative)))
        {
            await OpenApiContract.AssertAnswerAsync(page, "GET", "/api/console", HttpStatusCode.OK);
            using var again = new HttpRequestMessage(HttpMethod.Get, "api/console");
            again.Headers.IfNoneMatch.Add(page.Headers.ETag!);
            await OpenApiContract.AnswerAsync(client.SendAsync(again), "GET", "/api/console", HttpStatusCode.NotModified);
        }
        foreach (var asset in new[] { "console.css", "app.js" })
        {
            await OpenApiContract.AnswerAsync(client.GetAsync(new Uri("api/console/" + asset, UriKind.Relative)), "GET", "/api/console/{asset}", HttpStatusCode.OK);
        }
        await OpenApiContract.AnswerAsync(client.GetAsync(new Uri("api/console/secrets.txt", UriKind.Relative)), "GET", "/api/console/{asset}", HttpStatusCode.NotFound, "asset_not_found");
    }
}
