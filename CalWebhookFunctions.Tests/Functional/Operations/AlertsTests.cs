using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CalWebhookFunctions.Messages;
using CalWebhookFunctions.Operations.Alerts;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Subscriptions;
using CalWebhookFunctions.Tests.Functional.Forwarding;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CalWebhookFunctions.Tests.Functional.Operations;

/// <summary>Alerts: queued without blocking, POSTed by SendAlert to a real app that verifies the Standard Webhooks signature.</summary>
public class AlertsTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string AlertsSecret = "whsec_QWxlcnRzU2VjcmV0Rm9yVGVzdHNPbmx5MTIzNDU2";

    /// <summary>The app answers 400 to forwards (so they are dead-lettered) and <paramref name="alertStatus"/> to alerts.</summary>
    private static async Task<ForwardingHarness> StartAsync(AzuriteFixture azurite, Func<int, int>? alertStatus = null)
    {
        var harness = await ForwardingHarness.StartAsync(azurite,
            respond: (context, _, before) => Task.FromResult(context.Request.Path.StartsWithSegments("/alerts") ? alertStatus?.Invoke(before) ?? 200 : 400),
            settings: new Dictionary<string, string?>
            {
                ["Alerts:Url"] = "http://127.0.0.1:1/alerts", // replaced below, once the receiver's port is known
                ["Alerts:SigningSecret"] = AlertsSecret,
            });
        // The receiver (the same app, path /alerts) gets its port only when the harness starts it.
        harness.App.Get<IOptions<AlertsOptions>>().Value.Url = harness.Receiver.UrlFor("alerts").ToString();
        return harness;
    }

    private static QueueHost AlertsHost(ForwardingHarness harness) =>
        new(harness.App.Services, harness.ConnectionString, QueueSettings.FromHostJson() with { VisibilityTimeout = TimeSpan.Zero });

    private static JsonElement VerifiedAlert(ReceivedRequest request)
    {
        Assert.True(WebhookVerifiers.VerifyStandardWebhooks(AlertsSecret, request.Header("webhook-id"), request.Header("webhook-timestamp"),
            request.Header("webhook-signature"), request.Body), "the alert's signature does not verify");
        Assert.StartsWith("application/json", request.Header("Content-Type"), StringComparison.Ordinal);
        return JsonDocument.Parse(request.Body).RootElement.Clone();
    }

    [Fact]
    public async Task A_dead_letter_raises_a_signed_delivery_dead_lettered_alert_that_a_real_app_verifies()
    {
        await using var harness = await StartAsync(azurite);
        var stored = await harness.EnqueueAsync(CalDeliveries.BookingCreated(), "conn-42");
        await harness.DrainAsync();
        await harness.App.Get<Alerts>().FlushAsync();

        var run = await AlertsHost(harness).RunUntilDrainedAsync(StorageNames.AlertsQueue, TimeSpan.FromSeconds(60));

        Assert.True(run.Failures == 0, string.Join("\n", run.FailedOutcomes));
        var alert = VerifiedAlert(Assert.Single(harness.Receiver.Requests, r => r.Path == "/alerts"));
        Assert.Equal("delivery.dead_lettered", alert.GetProperty("type").GetString());
        Assert.True(alert.GetProperty("at").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
        var data = alert.GetProperty("data");
        Assert.Equal(stored.EventId, data.GetProperty("eventId").GetString());
        Assert.Equal("conn-42", data.GetProperty("connectionId").GetString());
        Assert.Equal("rejected", data.GetProperty("reason").GetString());
        Assert.Equal(["type", "at", "data"], alert.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task An_alert_the_app_refuses_is_retried_by_the_host_with_the_same_webhook_id()
    {
        await using var harness = await StartAsync(azurite, alertStatus: before => before == 0 ? 503 : 200);
        await harness.EnqueueAsync(CalDeliveries.BookingCreated(), "conn-1");
        await harness.DrainAsync();
        await harness.App.Get<Alerts>().FlushAsync();

        var run = await AlertsHost(harness).RunUntilDrainedAsync(StorageNames.AlertsQueue, TimeSpan.FromSeconds(60));

        Assert.Equal(1, run.Failures);
        var attempts = harness.Receiver.Requests.Where(r => r.Path == "/alerts").ToList();
        Assert.Equal([503, 200], attempts.Select(a => a.Status));
        Assert.Equal(attempts[0].Header("webhook-id"), attempts[1].Header("webhook-id"));
        VerifiedAlert(attempts[1]);
    }

    [Fact]
    public async Task A_cleanup_given_up_for_good_raises_subscription_orphaned_with_connection_webhook_id_and_scope()
    {
        await using var harness = await StartAsync(azurite); // no CalCom__ApiKey: the cleanup cannot be done and is given up
        var message = new CleanupMessage
        {
            ConnectionId = "tenant/9", Scope = SubscriptionScope.Organization, OrgId = 12, WebhookId = "wh-123",
            SubscriberUrl = TestApp.PublicUrl + "?nangoConnectionId=tenant%2F9", Attempts = 1, QueuedAt = DateTimeOffset.UtcNow,
        };

        var result = await harness.App.Get<SubscriptionCleaner>().ProcessAsync(CleanupMessages.Serialize(message), default);
        await harness.App.Get<Alerts>().FlushAsync();
        await AlertsHost(harness).RunUntilDrainedAsync(StorageNames.AlertsQueue, TimeSpan.FromSeconds(60));

        Assert.Equal(CleanupResult.DeadLettered, result);
        var alert = VerifiedAlert(Assert.Single(harness.Receiver.Requests, r => r.Path == "/alerts"));
        Assert.Equal("subscription.orphaned", alert.GetProperty("type").GetString());
        var data = alert.GetProperty("data");
        Assert.Equal("tenant/9", data.GetProperty("connectionId").GetString());
        Assert.Equal("wh-123", data.GetProperty("webhookId").GetString());
        Assert.Equal("organization", data.GetProperty("scope").GetProperty("name").GetString());
        Assert.Equal(12, data.GetProperty("scope").GetProperty("orgId").GetInt64());
    }

    [Fact]
    public async Task Alerts_of_one_type_and_target_are_rate_limited_and_the_next_one_says_how_many_were_held_back()
    {
        await azurite.ResetAsync();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var storage = StorageAccount.FromConnectionString(azurite.ConnectionString);
        var alerts = new Alerts(storage, Options.Create(new AlertsOptions { Url = "http://127.0.0.1:1/a", SigningSecret = AlertsSecret }), time,
            NullLogger<Alerts>.Instance);
        JsonObject Data() => new() { ["eventId"] = "e" };

        alerts.Raise(AlertTypes.DeliveryDeadLettered, "conn-1", Data());
        alerts.Raise(AlertTypes.DeliveryDeadLettered, "conn-1", Data());
        alerts.Raise(AlertTypes.DeliveryDeadLettered, "conn-1", Data());
        alerts.Raise(AlertTypes.DeliveryDeadLettered, "conn-2", Data()); // another target
        alerts.Raise(AlertTypes.EndpointFailing, "conn-1", Data()); // another type
        await alerts.FlushAsync();
        var queue = storage.Queue(StorageNames.AlertsQueue);
        Assert.Equal(3, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);

        time.Advance(TimeSpan.FromSeconds(301));
        alerts.Raise(AlertTypes.DeliveryDeadLettered, "conn-1", Data());
        await alerts.FlushAsync();

        var messages = (await queue.PeekMessagesAsync(32)).Value.Select(m => JsonDocument.Parse(m.Body.ToString()).RootElement.Clone()).ToList();
        Assert.Equal(4, messages.Count);
        Assert.Equal(2, messages[^1].GetProperty("data").GetProperty("suppressed").GetInt64());
    }

    [Fact]
    public async Task Raising_never_throws_or_waits_when_storage_is_down_and_is_a_no_op_when_alerts_are_off()
    {
        await azurite.ResetAsync();
        var down = StorageFaults.Down(azurite.ConnectionString, tablesDown: true, blobsDown: true, StorageNames.AlertsQueue);
        var alerts = new Alerts(down, Options.Create(new AlertsOptions { Url = "http://127.0.0.1:1/a", SigningSecret = AlertsSecret }),
            TimeProvider.System, NullLogger<Alerts>.Instance);
        var off = new Alerts(StorageAccount.FromConnectionString(azurite.ConnectionString), Options.Create(new AlertsOptions()), TimeProvider.System,
            NullLogger<Alerts>.Instance);

        alerts.Raise(AlertTypes.EndpointFailing, "https://app.example.test", new JsonObject { ["failures"] = 5 });
        off.Raise(AlertTypes.EndpointFailing, "https://app.example.test", new JsonObject { ["failures"] = 5 });
        await alerts.FlushAsync();
        await off.FlushAsync();

        Assert.False((await StorageAccount.FromConnectionString(azurite.ConnectionString).Queue(StorageNames.AlertsQueue).ExistsAsync()).Value);
    }

    [Theory]
    [InlineData("https://alerts.example.test/hook", null, "Alerts__SigningSecret")]
    [InlineData("https://alerts.example.test/hook", "not-whsec", "Alerts__SigningSecret")]
    [InlineData("ftp://alerts.example.test", AlertsSecret, "Alerts__Url")]
    public async Task Alert_settings_are_validated_at_start_naming_the_key(string url, string? secret, string key)
    {
        var failure = await Record.ExceptionAsync(async () =>
        {
            await using var app = await TestApp.StartAsync("UseDevelopmentStorage=true",
                new Dictionary<string, string?> { ["Alerts:Url"] = url, ["Alerts:SigningSecret"] = secret });
        });

        var validation = Assert.IsType<OptionsValidationException>(failure);
        Assert.Contains(validation.Failures, f => f.Contains(key, StringComparison.Ordinal));
        Assert.DoesNotContain(validation.Failures, f => f.Contains("not-whsec", StringComparison.Ordinal));
    }
}
