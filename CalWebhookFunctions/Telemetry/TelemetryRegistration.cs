using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;

namespace CalWebhookFunctions.Telemetry;

public static class TelemetryRegistration
{
    /// <summary>
    /// Exports the worker's telemetry to Application Insights as the Functions OpenTelemetry quickstart does —
    /// <c>AddOpenTelemetry().UseFunctionsWorkerDefaults().UseAzureMonitorExporter()</c> — only when
    /// <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set (locally and in the tests nothing is added). The worker
    /// defaults add the invocation traces, the Azure Functions resource and the capability that tells the host (on the
    /// same pipeline: host.json <c>"telemetryMode": "OpenTelemetry"</c>) not to send the worker's log lines again; this
    /// adds the product's counters (meter <see cref="WebhookMetrics.MeterName"/>) and the log lines with their scopes
    /// (so every line of an event carries its <see cref="EventLogScope.EventIdProperty"/>).
    /// </summary>
    public static IServiceCollection AddTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var settings = ApplicationInsightsSettings.FromConfiguration(configuration);
        if (settings is null)
        {
            return services;
        }

        services.AddOpenTelemetry()
            .UseFunctionsWorkerDefaults()
            .WithMetrics(metrics => metrics.AddMeter(WebhookMetrics.MeterName))
            .UseAzureMonitorExporter(options =>
            {
                options.ConnectionString = settings.ConnectionString;
                options.Credential = settings.Credential();
                // Traces may be sampled; log lines are not dropped with them, so an event's lines are always complete.
                options.EnableTraceBasedLogsSampler = false;
            });
        services.Configure<OpenTelemetryLoggerOptions>(options =>
        {
            options.IncludeScopes = true;
            options.IncludeFormattedMessage = true;
        });
        return services;
    }
}
