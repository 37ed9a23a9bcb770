using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Tests.Unit.Telemetry;

public class LogFilterTests
{
    [Fact]
    public async Task Request_urls_which_may_carry_a_function_key_are_not_logged()
    {
        await using var app = await TestApp.StartAsync("UseDevelopmentStorage=true");
        var factory = app.Get<ILoggerFactory>();
        // The app as the worker's own builder makes it (FunctionsApplication.CreateBuilder), not a substitute host.
        Assert.NotNull(app.Services.GetService(typeof(Microsoft.Azure.Functions.Worker.Middleware.FunctionExecutionDelegate)));

        Assert.False(factory.CreateLogger("Microsoft.AspNetCore.Hosting.Diagnostics").IsEnabled(LogLevel.Information));
        Assert.True(factory.CreateLogger("Microsoft.AspNetCore.Hosting.Diagnostics").IsEnabled(LogLevel.Warning));
        Assert.True(factory.CreateLogger("CalWebhookFunctions.Ingest.WebhookIngestor").IsEnabled(LogLevel.Information));
    }
}
