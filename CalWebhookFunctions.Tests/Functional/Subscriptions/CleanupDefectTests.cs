using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Subscriptions;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Tests.Functional.Subscriptions;

/// <summary>CleanUpSubscription's edge cases (defect 13) and URL redaction in its log lines (defect 10).</summary>
public sealed class CleanupDefectTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>, IAsyncLifetime
{
    private const string ApiKey = "cal_configured_key_91bd";

    public Task InitializeAsync() => storage.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>
    /// A connection registered again after DELETE, whose new registration failed and settled (nobody holds it), is
    /// judged at once: its old subscription is deleted instead of the cleanup waiting for the row for hours.
    /// </summary>
    [Fact]
    public async Task Cleanup_of_a_connection_left_pending_by_a_failed_registration_decides_at_once()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString, new Dictionary<string, string?> { ["CalCom:ApiKey"] = ApiKey });
        // Organization scope: the cleanup's CalCom__ApiKey (another user than the request's token) can reach it.
        await life.PutAsync("settled", "{\"orgId\":21}");
        life.Cal.Inject(new CalInjection { Status = 500, Times = 5, When = r => r.Method == "DELETE" });
        Assert.Equal(HttpStatusCode.Accepted, (await life.DeleteAsync("settled")).StatusCode);
        var queued = Assert.Single(await life.DrainAsync(StorageNames.CleanupQueue));
        life.Cal.ClearInjections();
        life.Cal.Inject(new CalInjection { Status = 400, When = r => r.Method == "PATCH" || r.Method == "POST" });
        Assert.Equal(HttpStatusCode.BadRequest, (await life.PutAsync("settled", "{\"orgId\":21,\"triggers\":[\"BOOKING_CANCELLED\"]}")).StatusCode);
        life.Cal.ClearInjections();
        Assert.Equal("pending", (await life.RowAsync("settled"))!.State);

        var result = await life.App.Get<SubscriptionCleaner>().ProcessAsync(Encoding.UTF8.GetBytes(queued), CancellationToken.None);

        Assert.Equal(CleanupResult.Deleted, result);
        Assert.Empty(life.Cal.Webhooks);
        Assert.Empty(await life.DrainAsync(StorageNames.CleanupQueue));
    }

    /// <summary>
    /// The re-registration after a PUT adopted the subscription mid-cleanup throws (storage refuses writes): the failure
    /// is a value, retried on the schedule, and with the schedule used up it ends with the ACTION REQUIRED line instead
    /// of escaping to the host (which would park the message silently).
    /// </summary>
    [Fact]
    public async Task An_exception_from_re_registering_ends_with_the_action_required_line()
    {
        var fault = new FailingConnectionWrites();
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString, new Dictionary<string, string?> { ["CalCom:ApiKey"] = ApiKey },
            services: s => s.AddSingleton(fault.Account(storage.ConnectionString)));
        await life.PutAsync("racing", "{\"orgId\":21}");
        var old = Assert.Single(life.Cal.Webhooks);
        life.Cal.Inject(new CalInjection { Status = 500, Times = 5, When = r => r.Method == "DELETE" });
        Assert.Equal(HttpStatusCode.Accepted, (await life.DeleteAsync("racing")).StatusCode);
        var queued = JsonNode.Parse(Assert.Single(await life.DrainAsync(StorageNames.CleanupQueue)))!.AsObject();
        life.Cal.ClearInjections();
        queued["attempts"] = CleanupMessages.RetrySchedule.Count + 1; // its last try
        life.Cal.OnRequest = async request =>
        {
            if (request.Method == "DELETE" && request.Path.EndsWith(old.Id, StringComparison.Ordinal) && !fault.Armed)
            {
                using var put = await life.PutAsync("racing", "{\"orgId\":21}");
                Assert.Equal(HttpStatusCode.Created, put.StatusCode);
                fault.Armed = true;
            }
        };

        var result = await life.App.Get<SubscriptionCleaner>().ProcessAsync(Encoding.UTF8.GetBytes(queued.ToJsonString()), CancellationToken.None);

        Assert.Equal(CleanupResult.DeadLettered, result);
        Assert.Contains(life.App.Logs.Entries, e => e.EventId.Id == 4023 && e.Message.Contains("re-registering", StringComparison.Ordinal));
        fault.Armed = false;
        Assert.Single(await life.DrainAsync(CleanupMessages.PoisonQueueName));
    }

    /// <summary>Defect 10: a subscriber URL carrying the function key as ?code= is logged with every query value but nangoConnectionId masked.</summary>
    [Fact]
    public async Task The_action_required_line_shows_the_subscriber_url_without_its_function_key()
    {
        const string Key = "s3cr3t-function-key-5e1";
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString,
            new Dictionary<string, string?> { ["Webhook:PublicUrl"] = $"https://relay.example.test/api/webhooks/cal?code={Key}" });
        await life.PutAsync("keyed");
        life.Cal.Inject(new CalInjection { Status = 500, Times = 5, When = r => r.Method == "DELETE" });
        Assert.Equal(HttpStatusCode.Accepted, (await life.DeleteAsync("keyed")).StatusCode);
        var queued = Assert.Single(await life.DrainAsync(StorageNames.CleanupQueue));

        Assert.Equal(CleanupResult.DeadLettered, await life.App.Get<SubscriptionCleaner>().ProcessAsync(Encoding.UTF8.GetBytes(queued), CancellationToken.None));

        var line = Assert.Single(life.App.Logs.Entries, e => e.EventId.Id == 4023);
        Assert.Contains("https://relay.example.test/api/webhooks/cal?code=REDACTED&nangoConnectionId=keyed", line.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, life.App.Logs.AllText, StringComparison.Ordinal);
    }
}
