using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Storage;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CalWebhookFunctions.Ingest;

public static class IngestRegistration
{
    /// <summary>
    /// Ingest and its optional fallback account. When <c>Ingest__FallbackStorage</c> is set, the fallback account is
    /// read at start (a value that does not parse stops the app, naming the setting) and its queues and container are
    /// created in the background by a <see cref="StorageInitializer"/> of its own.
    /// </summary>
    public static IServiceCollection AddIngest(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddAzureClientsCore();
        services.AddSingleton(sp => IngestFallback.FromConfiguration(configuration, sp.GetRequiredService<AzureComponentFactory>()));
        services.AddSingleton<IngestStore>();
        services.AddSingleton<FallbackMover>();
        services.AddSingleton<WebhookSecrets>();
        services.AddSingleton<WebhookIngestor>();
        if (IngestFallback.IsSet(configuration))
        {
            // AddSingleton, not AddHostedService: that one would drop it as a second StorageInitializer.
            services.AddSingleton<IHostedService>(sp =>
                ActivatorUtilities.CreateInstance<StorageInitializer>(sp, sp.GetRequiredService<IngestFallback>().Account!));
        }
        return services;
    }
}
