using System.Net;
using System.Text.Json;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Tests.Functional.Subscriptions;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Tests.Functional.Operations;

/// <summary>Every answer of pause and resume (path and <c>?id=</c> forms), real, validated against the served document.</summary>
public class OpenApiPauseAnswersTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static Task<JsonElement> PostAsync(Lifecycle life, string uri, HttpStatusCode status, string? error = null)
    {
        var path = uri.StartsWith("api/connections/pause", StringComparison.Ordinal) ? "/api/connections/pause"
            : uri.StartsWith("api/connections/resume", StringComparison.Ordinal) ? "/api/connections/resume"
            : "/api/connections/{connectionId}/" + uri[(uri.LastIndexOf('/') + 1)..];
        return OpenApiContract.AnswerAsync(life.Client.PostAsync(new Uri(uri, UriKind.Relative), null), "POST", path, status, error);
    }

    [Fact]
    public async Task Pause_and_resume_answer_as_documented_in_both_forms()
    {
        await azurite.ResetAsync();
        await using var life = await Lifecycle.StartAsync(azurite.ConnectionString);
        (await life.PutAsync("customer-42")).Dispose();
        (await life.PutAsync("tenant/7")).Dispose();

        Assert.True((await PostAsync(life, "api/connections/customer-42/pause", HttpStatusCode.OK)).GetProperty("paused").GetBoolean());
        await PostAsync(life, "api/connections/customer-42/pause", HttpStatusCode.OK);
        Assert.False((await PostAsync(life, "api/connections/customer-42/resume", HttpStatusCode.OK)).GetProperty("paused").GetBoolean());
        await PostAsync(life, "api/connections/pause?id=" + Uri.EscapeDataString("tenant/7"), HttpStatusCode.OK);
        await PostAsync(life, "api/connections/resume?id=" + Uri.EscapeDataString("tenant/7"), HttpStatusCode.OK);
        await OpenApiContract.AnswerAsync(life.GetAsync("customer-42"), "GET", "/api/connections/{connectionId}", HttpStatusCode.OK);

        await PostAsync(life, "api/connections/nobody/pause", HttpStatusCode.NotFound, "connection_not_found");
        await PostAsync(life, "api/connections/resume?id=nobody", HttpStatusCode.NotFound, "connection_not_found");
        await PostAsync(life, "api/connections/a%252Fb/pause", HttpStatusCode.BadRequest, "ambiguous_connection_id");
        await PostAsync(life, "api/connections/pause", HttpStatusCode.BadRequest, "missing_connection_id");
        await PostAsync(life, "api/connections/resume?id=", HttpStatusCode.BadRequest, "invalid_connection_id");
    }

    [Fact]
    public async Task A_connection_a_put_holds_is_the_documented_409()
    {
        await azurite.ResetAsync();
        await using var life = await Lifecycle.StartAsync(azurite.ConnectionString);
        await life.App.Get<ConnectionStore>().TryInsertAsync(new ConnectionRecord
        {
            ConnectionId = "held",
            SubscriberUrl = life.SubscriberUrlFor("held"),
            ClaimId = "someone-else",
            ClaimedUntil = DateTimeOffset.UtcNow.AddDays(1),
        });

        await PostAsync(life, "api/connections/held/pause", HttpStatusCode.Conflict, "registration_in_progress");
    }

    [Fact]
    public async Task Storage_down_is_the_documented_503()
    {
        await azurite.ResetAsync();
        await using var life = await Lifecycle.StartAsync(azurite.ConnectionString,
            services: s => s.AddSingleton(StorageFaults.Everything(azurite.ConnectionString)));

        await PostAsync(life, "api/connections/c1/pause", HttpStatusCode.ServiceUnavailable, "storage_unavailable");
        await PostAsync(life, "api/connections/resume?id=c1", HttpStatusCode.ServiceUnavailable, "storage_unavailable");
    }
}
