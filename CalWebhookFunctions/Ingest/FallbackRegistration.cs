using CalWebhookFunctions.Storage;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Ingest;

public static class FallbackRegistration
{
    /// <summary>
    /// The ingest fallback account: read (and a value that does not parse stops the app, naming
    /// <c>Ingest__FallbackStorage</c>) at start; its queues and container are created in the background when it is set.
    /// </summary>
    public static IServiceCollection AddIngestFallback(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddAzureClientsCore();
        services.AddSingleton(sp => IngestFallback.FromConfiguration(configuration, sp.GetRequiredService<AzureComponentFactory>()));
        services.AddSingleton<IngestStore>();
        services.AddSingleton<FallbackMover>();
        services.AddHostedService<FallbackInitializer>();
        services.AddOptions<FallbackCheck>().Validate<IngestFallback>((_, fallback) => fallback is not null).ValidateOnStart();
        return services;
    }

    /// <summary>A marker whose start-up validation reads the fallback setting, so a bad value stops the app at start.</summary>
    private sealed class FallbackCheck;

    /// <summary>The fallback account's <see cref="StorageInitializer"/>, when there is a fallback account.</summary>
    private sealed class FallbackInitializer(IngestFallback fallback, TimeProvider time, ILogger<StorageInitializer> logger) : IHostedService
    {
        private readonly StorageInitializer? _initializer = fallback.Account is { } account ? new StorageInitializer(account, time, logger) : null;

        public Task StartAsync(CancellationToken cancellationToken) => _initializer?.StartAsync(cancellationToken) ?? Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => _initializer?.StopAsync(cancellationToken) ?? Task.CompletedTask;
    }
}
