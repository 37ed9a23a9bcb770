using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace CalWebhookFunctions.Telemetry;

public static class TelemetryRegistration
{
    /// <summary>The ActivitySource of the Functions worker (one activity per invocation).</summary>
    public const string FunctionsWorkerActivitySource = "Microsoft.Azure.Functions.Worker";

    /// <summary>
    /// Exports the worker's telemetry to Application Insights with OpenTelemetry and the Azure Monitor exporter — only
    /// when <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set (locally and in the tests nothing is added): the
    /// product's counters (meter <see cref="WebhookMetrics.MeterName"/>), the invocation traces, and the log lines
    /// with their scopes (so every line of an event carries its <see cref="EventLogScope.EventIdProperty"/>).
    /// </summary>
    public static IServiceCollection AddTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var settings = ApplicationInsightsSettings.FromConfiguration(configuration);
        if (settings is null)
        {
            return services;
        }

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(
                serviceName: configuration["WEBSITE_SITE_NAME"] is { Length: > 0 } site ? site : WebhookMetrics.MeterName))
            .WithMetrics(metrics => metrics.AddMeter(WebhookMetrics.MeterName))
            .WithTracing(tracing => tracing.AddSource(FunctionsWorkerActivitySource))
            .WithLogging()
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

        // The worker now sends its own log lines (with their scopes) to Application Insights; this tells the host
        // not to send the copies it receives from the worker as well (the capability the Functions Application
        // Insights and OpenTelemetry worker packages set).
        services.Configure<WorkerOptions>(options => options.Capabilities[WorkerLoggingCapability] = bool.TrueString);
        return services;
    }

    public const string WorkerLoggingCapability = "WorkerApplicationInsightsLoggingEnabled";
}
