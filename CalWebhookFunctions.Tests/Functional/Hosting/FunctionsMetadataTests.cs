using System.Text.Json;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Hosting;

/// <summary>What the real Functions host will read: the generated functions.metadata and host.json.</summary>
public class FunctionsMetadataTests
{
    [Fact]
    public void ReceiveCalWebhook_is_an_anonymous_post_on_webhooks_cal()
    {
        var function = FunctionsMetadata.Get("ReceiveCalWebhook");
        Assert.Equal("httpTrigger", function.TriggerType);
        Assert.Equal("webhooks/cal", function.Route);
        Assert.Equal(["POST"], function.Methods);
        Assert.Equal("Anonymous", function.AuthLevel);
    }

    [Fact]
    public void Health_is_an_anonymous_get_on_health()
    {
        var function = FunctionsMetadata.Get("Health");
        Assert.Equal("httpTrigger", function.TriggerType);
        Assert.Equal("health", function.Route);
        Assert.Equal(["GET"], function.Methods);
        Assert.Equal("Anonymous", function.AuthLevel);
    }

    [Fact]
    public void Host_json_keeps_the_api_route_prefix_and_version_2()
    {
        using var hostJson = JsonDocument.Parse(File.ReadAllText(RepoPaths.File("host.json")));
        Assert.Equal("2.0", hostJson.RootElement.GetProperty("version").GetString());
        Assert.Equal("api", hostJson.RootElement.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString());
    }

    [Fact]
    public void Host_json_is_copied_into_the_app_output()
    {
        var output = Path.GetDirectoryName(typeof(CalWebhookFunctions.AppRegistration).Assembly.Location)!;
        Assert.Equal(File.ReadAllText(RepoPaths.File("host.json")), File.ReadAllText(Path.Combine(output, "host.json")));
    }
}
