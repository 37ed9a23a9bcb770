using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Storage;

public static class StorageRegistration
{
    public static IServiceCollection AddStorage(this IServiceCollection services, IConfiguration configuration)
    {
        // Built when first needed; a missing AzureWebJobsStorage fails the start-up check below, naming the setting.
        services.AddSingleton(_ => StorageAccount.FromConfiguration(configuration));
        services.AddSingleton<PendingWebhooks>();
        services.AddOptions<StorageCheck>().Validate(_ =>
        {
            StorageAccount.FromConfiguration(configuration);
            return true;
        }).ValidateOnStart();
        return services;
    }

    /// <summary>A marker whose start-up validation builds the storage clients once, so bad settings stop the app.</summary>
    private sealed class StorageCheck;
}
