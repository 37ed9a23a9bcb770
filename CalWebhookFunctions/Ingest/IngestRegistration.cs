using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Health;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Ingest;

public static class IngestRegistration
{
    public static IServiceCollection AddIngest(this IServiceCollection services)
    {
        services.AddSingleton<WebhookSecrets>();
        services.AddSingleton<WebhookIngestor>();
        services.AddSingleton<StorageHealth>();
        return services;
    }
}
