using System.Text.Json.Serialization.Metadata;
using CalWebhookFunctions.Configuration;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Health;
using CalWebhookFunctions.Http;
using CalWebhookFunctions.Ingest;
using CalWebhookFunctions.Operations;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Subscriptions;
using CalWebhookFunctions.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions;

public static class AppRegistration
{
    /// <summary>Everything the functions need, by capability. The tests build their services through this too.</summary>
    public static IServiceCollection AddCalWebhookFunctions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(TimeProvider.System);
        // ASP.NET Core logs each request's URL at Information, and a function key may travel in its query (?code=).
        services.AddLogging(logging => logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning));
        // The HTTP answers (Ok<T>, NotFound<ErrorBody>, …) are written with the capabilities' source-generated contexts only.
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolver = JsonTypeInfoResolver.Combine(
            HttpJsonContext.Default, IngestJson.Default, HealthJson.Default, OperationsJson.Default, SubscriptionsJsonContext.Default,
            ReplayJsonContext.Default));
        services.AddMetrics();
        services.AddSingleton<WebhookMetrics>();
        services.AddOperatorConsole();
        services.AddTelemetry(configuration);
        services.AddSingleton<ConnectionStore>();
        services.AddForwarding();
        services.AddOperations(configuration);
        services.AddDeliveries();
        services.AddFailingEndpoints();
        services
            .AddCalWebhookOptions(configuration)
            .AddStorage(configuration)
            .AddIngest(configuration)
            .AddSubscriptions();
        return services;
    }
}
