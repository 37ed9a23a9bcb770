using CalWebhookFunctions.Operations.Alerts;
using CalWebhookFunctions.Operations.Rejections;
using CalWebhookFunctions.Operations.Stats;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Operations;

public static class OperationsRegistration
{
    /// <summary>Refused requests, stats (with their OpenTelemetry gauges), the connections list and alerts.</summary>
    public static IServiceCollection AddOperations(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AlertsOptions>().Bind(configuration.GetSection(AlertsOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AlertsOptions>, AlertsOptionsValidator>();
        services.AddSingleton<Alerts.Alerts>();
        services.AddHostedService(sp => sp.GetRequiredService<Alerts.Alerts>());
        services.AddHttpClient(SendAlert.HttpClientName)
            .ConfigureHttpClient(client =>
            {
                client.Timeout = TimeSpan.FromSeconds(15);
                client.DefaultRequestHeaders.UserAgent.ParseAdd("CalWebhookFunctions/1.0");
            })
            // A redirect would carry a signed alert elsewhere: a 3xx is a failure, retried by the host.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
            .RemoveAllLoggers();

        services.AddSingleton<StatsCollector>();
        services.AddSingleton<StatsStore>();
        services.AddSingleton<QueueProbe>();
        services.AddSingleton<RejectionRecorder>();
        services.AddSingleton<RejectionStore>();
        services.AddSingleton<ConnectionList>();
        services.AddHostedService<OperationsBackground>();
        return services;
    }
}
