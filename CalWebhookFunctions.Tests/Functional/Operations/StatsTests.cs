using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using CalWebhookFunctions.Operations.Stats;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Telemetry;
using CalWebhookFunctions.Tests.Functional.Forwarding;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace CalWebhookFunctions.Tests.Functional.Operations;

/// <summary><c>GET /api/stats</c> over real events (ingest over HTTP, forwards through the queue host), and the OTel instruments.</summary>
public class StatsTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    static StatsTests() => Environment.SetEnvironmentVariable("APPLICATIONINSIGHTS_STATSBEAT_DISABLED", "true");

    private static Task<ForwardingHarness> StartAsync(AzuriteFixture azurite) =>
        ForwardingHarness.StartAsync(azurite, respond: (_, body, _) =>
            Task.FromResult(Encoding.UTF8.GetString(body).Contains("reject-me", StringComparison.Ordinal) ? 400 : 200));

    [Fact]
    public async Task Stats_count_real_events_by_status_trigger_and_reason_with_queue_depths_oldest_pending_age_and_latency()
    {
        await using var harness = await StartAsync(azurite);
        await using var functions = await FunctionsHost.StartAsync(harness.App.Services);
        using var client = functions.CreateClient();
        foreach (var connection in new[] { "ok-1", "reject-me" })
        {
            using var accepted = await client.SendAsync(CalDeliveries.Post(CalDeliveries.BookingCreated(connection), TestApp.WebhookSecret));
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }
        using (var refused = await client.SendAsync(CalDeliveries.Post(CalDeliveries.BookingCreated(), "wrong-secret")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
        await harness.DrainAsync();
        // One event still waiting, accepted ten minutes ago.
        await harness.App.Get<PendingWebhooks>().EnqueueAsync(ForwardingHarness.NewEvent(CalDeliveries.BookingCreated(), null) with
        {
            ReceivedAt = DateTimeOffset.UtcNow.AddMinutes(-10),
        });

        var (status, stats) = await OperationsHttp.GetAsync(client, "api/stats");

        Assert.Equal(HttpStatusCode.OK, status);
        var byStatus = stats.GetProperty("byStatus");
        Assert.Equal(2, byStatus.GetProperty("accepted").GetInt64());
        Assert.Equal(1, byStatus.GetProperty("delivered").GetInt64());
        Assert.Equal(1, byStatus.GetProperty("dead_lettered").GetInt64());
        Assert.Equal(0, byStatus.GetProperty("retried").GetInt64());
        Assert.Equal(2, stats.GetProperty("byTrigger").GetProperty("BOOKING_CREATED").GetInt64());
        Assert.Equal(1, stats.GetProperty("deadLetteredByReason").GetProperty("rejected").GetInt64());
        Assert.Equal(1, stats.GetProperty("refusedByReason").GetProperty("signature_mismatch").GetInt64());
        Assert.Equal(1, stats.GetProperty("queueDepth").GetProperty(StorageNames.WebhookQueue).GetInt64());
        Assert.Equal(1, stats.GetProperty("queueDepth").GetProperty(StorageNames.WebhookPoisonQueue).GetInt64());
        Assert.InRange(stats.GetProperty("oldestPendingAgeSeconds").GetDouble(), 600, 3600);
        var latency = stats.GetProperty("forwardLatencyMs");
        Assert.Equal(1, latency.GetProperty("count").GetInt64());
        Assert.True(latency.GetProperty("p50").GetDouble() >= 10);
        Assert.True(latency.GetProperty("p95").GetDouble() >= latency.GetProperty("p50").GetDouble());
    }

    [Fact]
    public async Task Stats_add_up_every_instances_rows_of_the_last_24_hours_only()
    {
        await using var harness = await StartAsync(azurite);
        await using var functions = await FunctionsHost.StartAsync(harness.App.Services);
        using var client = functions.CreateClient();
        var table = harness.App.Get<StorageAccount>().Table(StorageNames.DeliveriesTable);
        await table.CreateIfNotExistsAsync();
        var now = StatsCollector.Hour(DateTimeOffset.UtcNow);
        foreach (var (hour, instance, accepted) in new[] { (now, "other-a", 5), (now.AddHours(-23), "other-b", 7), (now.AddHours(-30), "other-c", 1000) })
        {
            await table.UpsertEntityAsync(new TableEntity(StatsStore.PartitionKey, StatsStore.RowKey(hour, instance))
            {
                ["Counts"] = JsonSerializer.Serialize(new Dictionary<string, long> { ["status:accepted"] = accepted, ["trigger:PING"] = accepted }),
                ["Latency"] = "0,0,0,2",
            });
        }

        var (_, stats) = await OperationsHttp.GetAsync(client, "api/stats");

        Assert.Equal(12, stats.GetProperty("byStatus").GetProperty("accepted").GetInt64());
        Assert.Equal(12, stats.GetProperty("byTrigger").GetProperty("PING").GetInt64());
        Assert.Equal(4, stats.GetProperty("forwardLatencyMs").GetProperty("count").GetInt64());
        Assert.Equal(Math.Round(LatencyBuckets.UpperBoundMs(3)), stats.GetProperty("forwardLatencyMs").GetProperty("p95").GetDouble());
        Assert.Equal(JsonValueKind.Null, stats.GetProperty("oldestPendingAgeSeconds").ValueKind);
        Assert.Equal("invalid_query", OperationsHttp.AssertBadRequest(await OperationsHttp.GetAsync(client, "api/stats?window=7d")));
    }

    [Fact]
    public async Task Queue_depth_oldest_pending_age_and_delivery_latency_are_exported_as_OpenTelemetry_metrics()
    {
        await azurite.ResetAsync();
        var exported = new CapturingExporter();
        await using var app = await TestApp.StartAsync(azurite.ConnectionString,
            new Dictionary<string, string?>
            {
                ["APPLICATIONINSIGHTS_CONNECTION_STRING"] =
                    "InstrumentationKey=00000000-0000-4000-8000-000000000000;IngestionEndpoint=http://127.0.0.1:9/;LiveEndpoint=http://127.0.0.1:9/",
            },
            services => services.ConfigureOpenTelemetryMeterProvider(m => m.AddReader(new BaseExportingMetricReader(exported))));
        await app.Get<PendingWebhooks>().EnqueueAsync(ForwardingHarness.NewEvent(CalDeliveries.BookingCreated(), null) with
        {
            ReceivedAt = DateTimeOffset.UtcNow.AddMinutes(-5),
        });

        await app.Get<QueueProbe>().ProbeAsync(default);
        app.Get<WebhookMetrics>().Forwarded(TimeSpan.FromSeconds(3));
        app.Get<MeterProvider>().ForceFlush(10_000);

        Assert.Equal(1, exported.Value("calwebhook.queue.depth", StorageNames.WebhookQueue));
        Assert.InRange(exported.Value("calwebhook.queue.oldest_pending_age", null), 300, 3600);
        Assert.Contains("calwebhook.delivery.latency", exported.Names);
    }

    private sealed class CapturingExporter : BaseExporter<Metric>
    {
        private readonly ConcurrentDictionary<(string Name, string? Queue), double> _values = new();

        public IReadOnlyCollection<string> Names => [.. _values.Keys.Select(k => k.Name)];

        public double Value(string name, string? queue) => _values[(name, queue)];

        public override ExportResult Export(in Batch<Metric> batch)
        {
            foreach (var metric in batch)
            {
                foreach (ref readonly var point in metric.GetMetricPoints())
                {
                    string? queue = null;
                    foreach (var tag in point.Tags)
                    {
                        queue = tag.Key == "queue" ? tag.Value as string : queue;
                    }
                    _values[(metric.Name, queue)] = metric.MetricType switch
                    {
                        MetricType.LongGauge => point.GetGaugeLastValueLong(),
                        MetricType.DoubleGauge => point.GetGaugeLastValueDouble(),
                        MetricType.Histogram => point.GetHistogramSum(),
                        _ => 0,
                    };
                }
            }
            return ExportResult.Success;
        }
    }
}
