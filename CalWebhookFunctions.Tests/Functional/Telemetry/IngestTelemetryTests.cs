using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CalWebhookFunctions.Ingest;
using CalWebhookFunctions.Telemetry;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Telemetry;

/// <summary>
/// Through the HTTP route, against real storage: the log lines of an accepted event carry its id, and the product's
/// counters count what happened, rejections by reason.
/// </summary>
public sealed class IngestTelemetryTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>, IAsyncLifetime
{
    private TestApp _app = null!;
    private FunctionsHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        await azurite.ResetAsync();
        _app = await TestApp.StartAsync(azurite.ConnectionString);
        _host = await FunctionsHost.StartAsync(_app.Services);
        _client = _host.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
        await _app.DisposeAsync();
    }

    private async Task<string> AcceptedIdAsync(string connectionId)
    {
        var response = await _client.SendAsync(CalDeliveries.Post(CalDeliveries.BookingCreated(), TestApp.WebhookSecret, $"nangoConnectionId={connectionId}"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task Log_lines_of_an_accepted_event_carry_its_id_and_no_other_event_s()
    {
        var first = await AcceptedIdAsync("customer-1");
        var second = await AcceptedIdAsync("customer-2");

        var ingestLines = _app.Logs.Entries.Where(e => e.Category == typeof(WebhookIngestor).FullName).ToList();
        var firstLine = Assert.Single(ingestLines, e => e.Message.Contains(first, StringComparison.Ordinal));
        var secondLine = Assert.Single(ingestLines, e => e.Message.Contains(second, StringComparison.Ordinal));
        Assert.Equal(first, firstLine.Scope(EventLogScope.EventIdProperty));
        Assert.Equal(second, secondLine.Scope(EventLogScope.EventIdProperty));
        // Every ingest line written after an id existed carries one.
        Assert.All(ingestLines, e => Assert.NotNull(e.Scope(EventLogScope.EventIdProperty)));
    }

    [Fact]
    public async Task Rejected_delivery_is_logged_without_an_event_id_because_it_never_became_an_event()
    {
        var response = await _client.SendAsync(CalDeliveries.Post(CalDeliveries.BookingCreated(), secret: null));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var line = Assert.Single(_app.Logs.Entries, e => e.Category == typeof(WebhookIngestor).FullName);
        Assert.Null(line.Scope(EventLogScope.EventIdProperty));
    }

    [Fact]
    public async Task Counters_count_accepted_events_and_rejections_by_reason()
    {
        var factory = _app.Get<IMeterFactory>();
        var counts = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // Only this app's meter: other tests' apps run in parallel with their own.
            if (instrument.Meter.Name == WebhookMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var reason = tags.ToArray().FirstOrDefault(t => t.Key == "reason").Value;
            var key = reason is null ? instrument.Name : $"{instrument.Name}{{reason={reason}}}";
            lock (counts)
            {
                counts[key] = counts.GetValueOrDefault(key) + value;
            }
        });
        listener.Start();

        await AcceptedIdAsync("customer-1");
        await AcceptedIdAsync("customer-2");
        await _client.SendAsync(CalDeliveries.Post(CalDeliveries.BookingCreated(), secret: null));
        await _client.SendAsync(CalDeliveries.Post(CalDeliveries.BookingCreated(), "some-other-secret"));
        await _client.SendAsync(CalDeliveries.Post(CalDeliveries.BookingCreated(), "some-other-secret"));
        await _client.SendAsync(CalDeliveries.Post([], TestApp.WebhookSecret));

        Assert.Equal(new Dictionary<string, long>
        {
            ["calwebhook.events.accepted"] = 2,
            ["calwebhook.events.rejected{reason=SignatureMissing}"] = 1,
            ["calwebhook.events.rejected{reason=SignatureMismatch}"] = 2,
            ["calwebhook.events.rejected{reason=EmptyBody}"] = 1,
        }, counts);
    }
}
