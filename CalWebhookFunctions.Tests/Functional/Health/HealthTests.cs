using System.Net;
using System.Text.Json;
using CalWebhookFunctions.Tests.Functional.Ingest;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Health;

public class HealthTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private static async Task<(HttpStatusCode, string)> GetHealthAsync(string connectionString)
    {
        await using var app = await TestApp.StartAsync(connectionString);
        await using var host = await FunctionsHost.StartAsync(app.Services);
        using var client = host.CreateClient();
        using var response = await client.GetAsync("api/health");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return (response.StatusCode, body.GetProperty("status").GetString()!);
    }

    [Fact]
    public async Task Reachable_storage_is_200_healthy_even_before_anything_was_created()
    {
        await storage.ResetAsync();
        Assert.Equal((HttpStatusCode.OK, "healthy"), await GetHealthAsync(storage.ConnectionString));
    }

    [Fact]
    public async Task Unreachable_storage_is_503_unhealthy()
    {
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "unhealthy"),
            await GetHealthAsync(ReceiveCalWebhookTests.DeadPort(storage.ConnectionString)));
    }
}
