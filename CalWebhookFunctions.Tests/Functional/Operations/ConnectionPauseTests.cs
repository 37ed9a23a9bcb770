using System.Net;
using System.Text.Json;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Tests.Functional.Forwarding;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Operations;

/// <summary>
/// <c>POST /api/connections/{id}/pause|resume</c> over real HTTP, with ForwardCalWebhook run as the host runs it: a paused
/// connection's events are accepted and held (never attempted, no schedule spent), and delivered once after resume.
/// </summary>
public class ConnectionPauseTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient client, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        request.Headers.Add("x-functions-key", FunctionsHost.FunctionKey);
        using var response = await client.SendAsync(request);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static async Task<List<JsonElement>> HeldInLogAsync(HttpClient client, string connectionId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"api/deliveries?connectionId={connectionId}&status=held");
        request.Headers.Add("x-functions-key", FunctionsHost.FunctionKey);
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return [.. JsonDocument.Parse(text).RootElement.GetProperty("items").EnumerateArray().Select(item => item.Clone())];
    }

    [Fact]
    public async Task A_paused_connections_events_are_held_unattempted_and_delivered_once_after_resume()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        await using var host = await FunctionsHost.StartAsync(harness.App.Services);
        using var client = host.CreateClient();
        await harness.AddConnectionAsync("tenant-paused");
        await harness.AddConnectionAsync("tenant-live");

        var (status, body) = await PostAsync(client, "api/connections/tenant-paused/pause");
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.True(body.GetProperty("paused").GetBoolean());
        Assert.Equal("tenant-paused", body.GetProperty("connectionId").GetString());
        Assert.True((await harness.App.Get<ConnectionStore>().FindAsync("tenant-paused"))!.Paused);

        for (var i = 0; i < 3; i++)
        {
            await harness.EnqueueAsync(CalDeliveries.BookingCreated(padTo: 1_000 + i), "tenant-paused");
        }
        await harness.EnqueueAsync(CalDeliveries.BookingCreated(padTo: 2_000), "tenant-live");
        var run = harness.DrainAsync(TimeSpan.FromMinutes(3));

        var held = await Eventually.HoldsAsync(() => HeldLines(harness) >= 3 && harness.Receiver.Deliveries.Count == 1, TimeSpan.FromSeconds(60));
        var requestsWhilePaused = harness.Receiver.Requests.Count;
        var heldInLog = await HeldInLogAsync(client, "tenant-paused");
        (status, body) = await PostAsync(client, "api/connections/tenant-paused/resume");
        var report = await run;

        // The delivery log shows each held event as `held` (written on the first hold of its run, no attempt logged).
        Assert.Equal(3, heldInLog.Count);
        Assert.All(heldInLog, item =>
        {
            Assert.Equal(0, item.GetProperty("attempts").GetInt32());
            Assert.Equal(JsonValueKind.String, item.GetProperty("nextAttemptAt").ValueKind);
        });

        Assert.True(held, "the paused connection's events were not all held");
        Assert.Equal(1, requestsWhilePaused); // only tenant-live's event was sent while paused
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False(body.GetProperty("paused").GetBoolean());
        Assert.True(report.Drained);
        Assert.Equal((0, 0), (report.Failures, report.Poisoned));
        Assert.Equal(4, harness.Receiver.Requests.Count); // each event sent exactly once: the holds spent no attempt
        Assert.Equal(4, harness.Receiver.Deliveries.Select(d => d.Header("webhook-id")).Distinct().Count());
        Assert.Empty(await harness.DeadLettersAsync());
    }

    [Fact]
    public async Task Pause_in_the_query_form_carries_any_id_and_an_unknown_connection_is_404()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        await using var host = await FunctionsHost.StartAsync(harness.App.Services);
        using var client = host.CreateClient();
        await harness.AddConnectionAsync("tenant/42#a");

        var (status, body) = await PostAsync(client, "api/connections/pause?id=" + Uri.EscapeDataString("tenant/42#a"));
        var (unknown, error) = await PostAsync(client, "api/connections/nobody/resume");
        await harness.AddConnectionAsync("gone", state: ConnectionRecord.States.Removed);
        var (removed, _) = await PostAsync(client, "api/connections/gone/pause");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("tenant/42#a", body.GetProperty("connectionId").GetString());
        Assert.True((await harness.App.Get<ConnectionStore>().FindAsync("tenant/42#a"))!.Paused);
        Assert.Equal(HttpStatusCode.NotFound, unknown);
        Assert.Equal("connection_not_found", error.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.NotFound, removed);
    }

    private static int HeldLines(ForwardingHarness harness) =>
        harness.App.Logs.Entries.Count(e => e.EventId.Id == 3200);
}
