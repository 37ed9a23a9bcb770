using System.Collections.Concurrent;
using System.Text.Json;
using CalWebhookFunctions.Telemetry;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace CalWebhookFunctions.Tests.Functional.Telemetry;

/// <summary>
/// Telemetry is wired only when Application Insights is configured: without the connection string the app starts
/// with no exporter at all; with it, the Azure Monitor exporter is registered for metrics, traces and logs, the
/// product's meter is exported, and the Functions worker defaults are in place (the Azure Functions resource, and the
/// capability that tells the host, on the same OpenTelemetry pipeline, not to forward the worker's log lines again).
/// Nothing is sent anywhere: the connection string points at a closed loopback port.
/// </summary>
public sealed class TelemetryRegistrationTests
{
    // Ingestion and Live Metrics on loopback; no storage call is made by these tests.
    private const string ConnectionString =
        "InstrumentationKey=00000000-0000-4000-8000-000000000000;IngestionEndpoint=http://127.0.0.1:9/;LiveEndpoint=http://127.0.0.1:9/";

    /// <summary>The capability <c>UseFunctionsWorkerDefaults()</c> sets; the host then leaves the worker's telemetry to the worker.</summary>
    private const string WorkerOpenTelemetryCapability = "WorkerOpenTelemetryEnabled";

    static TelemetryRegistrationTests() =>
        // The exporter's own usage statistics (Statsbeat) would go to a Microsoft endpoint; keep the tests on loopback.
        Environment.SetEnvironmentVariable("APPLICATIONINSIGHTS_STATSBEAT_DISABLED", "true");

    [Fact]
    public async Task App_starts_without_the_connection_string_and_registers_no_exporter()
    {
        await using var app = await TestApp.StartAsync("UseDevelopmentStorage=true");

        Assert.Null(app.Services.GetService<MeterProvider>());
        Assert.Null(app.Services.GetService<TracerProvider>());
        Assert.DoesNotContain(app.Services.GetServices<ILoggerProvider>(), p => p is OpenTelemetryLoggerProvider);
        Assert.False(app.Get<IOptions<WorkerOptions>>().Value.Capabilities.ContainsKey(WorkerOpenTelemetryCapability));
    }

    [Fact]
    public async Task With_the_connection_string_the_exporter_and_the_Functions_worker_defaults_are_registered()
    {
        await using var app = await TestApp.StartAsync("UseDevelopmentStorage=true",
            new Dictionary<string, string?> { ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = ConnectionString });

        Assert.NotNull(app.Services.GetService<MeterProvider>());
        Assert.NotNull(app.Services.GetService<TracerProvider>());
        Assert.Contains(app.Services.GetServices<ILoggerProvider>(), p => p is OpenTelemetryLoggerProvider);
        Assert.True(app.Get<IOptions<OpenTelemetryLoggerOptions>>().Value.IncludeScopes);
        Assert.Equal(bool.TrueString, app.Get<IOptions<WorkerOptions>>().Value.Capabilities[WorkerOpenTelemetryCapability]);
        // The worker defaults' resource marks the telemetry as the isolated worker's (the SDK prefix Application Insights shows).
        var resource = app.Get<TracerProvider>().GetResource().Attributes.ToDictionary(a => a.Key, a => a.Value);
        Assert.StartsWith("dotnetiso:", Assert.IsType<string>(resource["ai.sdk.prefix"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_the_connection_string_the_product_counters_are_exported_by_name()
    {
        var exported = new CapturingExporter();
        await using var app = await TestApp.StartAsync("UseDevelopmentStorage=true",
            // No Entra authentication here: its managed identity would ask the instance metadata endpoint for a token.
            new Dictionary<string, string?> { ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = ConnectionString },
            services => services.ConfigureOpenTelemetryMeterProvider(m => m.AddReader(new BaseExportingMetricReader(exported))));

        var metrics = app.Get<WebhookMetrics>();
        metrics.Accepted();
        metrics.Rejected("SignatureMismatch");
        metrics.Forwarded(TimeSpan.FromSeconds(2));
        metrics.DeadLettered("http_410");
        // Flushes every reader; the Azure Monitor exporter's attempt fails (nothing listens), the test reader's succeeds.
        app.Get<MeterProvider>().ForceFlush(10_000);

        Assert.Contains("calwebhook.events.accepted", exported.Names);
        Assert.Contains("calwebhook.events.rejected", exported.Names);
        Assert.Contains("calwebhook.events.forwarded", exported.Names);
        Assert.Contains("calwebhook.events.dead_lettered", exported.Names);
    }

    [Fact]
    public void Host_json_puts_the_host_on_the_OpenTelemetry_pipeline_too()
    {
        using var hostJson = JsonDocument.Parse(File.ReadAllBytes(RepoPaths.File("host.json")));

        Assert.Equal("OpenTelemetry", hostJson.RootElement.GetProperty("telemetryMode").GetString());
    }

    [Fact]
    public async Task App_stops_at_start_when_the_authentication_string_is_malformed()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TestApp.StartAsync("UseDevelopmentStorage=true",
            new Dictionary<string, string?>
            {
                ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = ConnectionString,
                ["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] = "Authorization=Key",
            }));

        Assert.Contains("APPLICATIONINSIGHTS_AUTHENTICATION_STRING", error.Message, StringComparison.Ordinal);
    }

    private sealed class CapturingExporter : BaseExporter<Metric>
    {
        private readonly ConcurrentBag<string> _names = [];

        public IReadOnlyCollection<string> Names => _names;

        public override ExportResult Export(in Batch<Metric> batch)
        {
            foreach (var metric in batch)
            {
                _names.Add(metric.Name);
            }
            return ExportResult.Success;
        }
    }
}
