using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Storage;

public static class StorageRegistration
{
    public static IServiceCollection AddStorage(this IServiceCollection services, IConfiguration configuration)
    {
        // Built when first needed; a missing AzureWebJobsStorage fails the start-up check below, naming the setting.
        services.AddAzureClientsCore();
        services.AddSingleton(sp => StorageAccount.FromConfiguration(configuration, sp.GetRequiredService<AzureComponentFactory>()));
        services.AddSingleton<PendingWebhooks>();
        services.AddSingleton<DeadLetters>();
        services.AddSingleton<Redelivery>();
        // Creates the queues, tables and container at start, in the background (see StorageInitializer).
        services.AddSingleton<StorageInitializer>();
        services.AddHostedService(sp => sp.GetRequiredService<StorageInitializer>());
        services.AddOptions<StorageCheck>().Validate<StorageAccount>((_, account) => account is not null).ValidateOnStart();
        return services;
    }

    /// <summary>A marker whose start-up validation resolves the storage account, so bad settings stop the app at start.</summary>
    private sealed class StorageCheck;
}
