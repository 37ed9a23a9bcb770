using System.Net;
using System.Text.Json;
using CalWebhookFunctions.Messages;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Subscriptions;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Tests.Functional.Subscriptions;

/// <summary>DELETE /api/connections/{id} and CleanUpSubscription, against a fake Cal.com over real Azurite.</summary>
public sealed class RemovalTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>, IAsyncLifetime
{
    private const string ApiKey = "cal_configured_key_77aa";

    public Task InitializeAsync() => storage.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Delete_removes_the_Cal_com_subscription_by_its_stored_id_then_the_row_and_answers_204()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        await life.PutAsync("leaver", "{\"scope\":\"teamEventType\",\"teamId\":2,\"eventTypeId\":6}");
        var id = Assert.Single(life.Cal.Webhooks).Id;

        var response = await life.DeleteAsync("leaver");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var delete = Assert.Single(life.Cal.RequestsTo("DELETE", "/v2/"));
        Assert.Equal(($"/v2/teams/2/event-types/6/webhooks/{id}", "Bearer " + Lifecycle.Token), (delete.Path, delete.Authorization));
        Assert.Empty(life.Cal.Webhooks);
        await life.AssertRemovedAsync("leaver");
        Assert.Equal(HttpStatusCode.NotFound, (await life.GetAsync("leaver")).StatusCode);
        Assert.Empty(await life.DrainAsync(StorageNames.CleanupQueue));
    }

    [Fact]
    public async Task Delete_of_an_unknown_connection_is_404_and_calls_nobody()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);

        var response = await life.DeleteAsync("stranger");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("connection_not_found", (await Lifecycle.JsonAsync(response)).GetProperty("error").GetString());
        Assert.Empty(life.Cal.Requests);
    }

    [Fact]
    public async Task A_subscription_Cal_com_no_longer_has_counts_as_deleted()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        await life.PutAsync("gone-already");
        var id = Assert.Single(life.Cal.Webhooks).Id;
        // Someone deleted it in Cal.com's settings.
        await new HttpClient().SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"{life.Cal.ApiBaseUrl}/v2/webhooks/{id}")
        {
            Headers = { { "Authorization", "Bearer " + Lifecycle.Token } },
        });

        var response = await life.DeleteAsync("gone-already");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        await life.AssertRemovedAsync("gone-already");
        Assert.Empty(await life.DrainAsync(StorageNames.CleanupQueue));
    }

    [Fact]
    public async Task When_Cal_com_fails_the_row_goes_a_cleanup_is_queued_202_and_CleanUpSubscription_finishes_later()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString, new Dictionary<string, string?> { ["CalCom:ApiKey"] = ApiKey });
        await life.PutAsync("unlucky", "{\"orgId\":21}");
        var id = Assert.Single(life.Cal.Webhooks).Id;
        life.Cal.Inject(new CalInjection { Status = 500, Times = 100 });

        var response = await life.DeleteAsync("unlucky");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await Lifecycle.JsonAsync(response);
        Assert.Equal(("cleanup_pending", "unlucky", id), (body.GetProperty("status").GetString(), body.GetProperty("connectionId").GetString(),
            body.GetProperty("calWebhookId").GetString()));
        Assert.Contains("500", body.GetProperty("message").GetString(), StringComparison.Ordinal);
        await life.AssertRemovedAsync("unlucky");
        var queued = Assert.Single(await life.DrainAsync(StorageNames.CleanupQueue));
        using (var message = JsonDocument.Parse(queued))
        {
            Assert.Equal(("organization", 21, id), (message.RootElement.GetProperty("scope").GetString(),
                message.RootElement.GetProperty("orgId").GetInt64(), message.RootElement.GetProperty("webhookId").GetString()));
        }
        Assert.DoesNotContain(Lifecycle.Token, queued, StringComparison.Ordinal);
        Assert.DoesNotContain(ApiKey, queued, StringComparison.Ordinal);
        Assert.Single(life.Cal.Webhooks);

        life.Cal.ClearInjections();
        await life.RunCleanupAsync(queued);

        Assert.Empty(life.Cal.Webhooks);
        var delete = life.Cal.RequestsTo("DELETE", "/v2/")[^1];
        Assert.Equal(($"/v2/organizations/21/webhooks/{id}", "Bearer " + ApiKey), (delete.Path, delete.Authorization));
        Assert.Empty(await life.DrainAsync(StorageNames.CleanupQueue));
        Assert.Empty(await life.DrainAsync(CleanupMessages.PoisonQueueName));
    }

    [Fact]
    public async Task A_delete_without_any_credential_still_removes_the_row_and_queues_the_cleanup()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        await life.PutAsync("no-key");
        var id = Assert.Single(life.Cal.Webhooks).Id;

        var response = await life.DeleteAsync("no-key", token: null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await life.AssertRemovedAsync("no-key");
        var queued = Assert.Single(await life.DrainAsync(StorageNames.CleanupQueue));
        Assert.Contains(id, queued, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cleanup_without_CalCom_ApiKey_logs_what_a_person_must_delete_and_dead_letters()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        await life.PutAsync("orphan-risk", "{\"scope\":\"eventType\",\"eventTypeId\":55}");
        var id = Assert.Single(life.Cal.Webhooks).Id;
        life.Cal.Inject(new CalInjection { Status = 502, Times = 100 });
        Assert.Equal(HttpStatusCode.Accepted, (await life.DeleteAsync("orphan-risk")).StatusCode);
        var queued = Assert.Single(await life.DrainAsync(StorageNames.CleanupQueue));
        var calls = life.Cal.Requests.Count;

        await life.RunCleanupAsync(queued);

        Assert.Equal(calls, life.Cal.Requests.Count);
        var dead = Assert.Single(await life.DrainAsync(CleanupMessages.PoisonQueueName));
        Assert.Contains(id, dead, StringComparison.Ordinal);
        Assert.Contains("CalCom__ApiKey is not set", dead, StringComparison.Ordinal);
        var action = Assert.Single(life.App.Logs.Lines, l => l.Contains("ACTION REQUIRED", StringComparison.Ordinal));
        Assert.Contains("event type 55", action, StringComparison.Ordinal);
        Assert.Contains($"DELETE <CalCom__ApiBaseUrl>/v2/event-types/55/webhooks/{id}", action, StringComparison.Ordinal);
        Assert.Contains("orphan-risk", action, StringComparison.Ordinal);
        Assert.Empty(await life.DrainAsync(StorageNames.CleanupQueue));
    }

    [Fact]
    public async Task Cleanup_retries_transient_failures_by_re_enqueueing_and_dead_letters_when_the_schedule_is_used_up()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString, new Dictionary<string, string?> { ["CalCom:ApiKey"] = ApiKey });
        life.Cal.Inject(new CalInjection { Status = 503, Times = 1000 });
        var message = new CleanupMessage
        {
            ConnectionId = "flaky",
            Scope = SubscriptionScope.User,
            WebhookId = "0b7c3f8e-1111-4a2b-9c3d-5e6f7a8b9c0d",
            SubscriberUrl = life.SubscriberUrlFor("flaky"),
            Attempts = 1,
        };

        await life.RunCleanupAsync(System.Text.Encoding.UTF8.GetString(CleanupMessages.Serialize(message)));

        var queue = life.Queue(StorageNames.CleanupQueue);
        Assert.Equal(1, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
        Assert.Empty((await queue.ReceiveMessagesAsync(1)).Value); // waiting out its visibility delay
        Assert.Empty(await life.DrainAsync(CleanupMessages.PoisonQueueName));

        var last = message with { Attempts = CleanupMessages.RetrySchedule.Count + 1 };
        await life.RunCleanupAsync(System.Text.Encoding.UTF8.GetString(CleanupMessages.Serialize(last)));

        var dead = Assert.Single(await life.DrainAsync(CleanupMessages.PoisonQueueName));
        Assert.Contains("retries exhausted", dead, StringComparison.Ordinal);
        Assert.Contains("ACTION REQUIRED", life.App.Logs.AllText, StringComparison.Ordinal);
        Assert.Equal(1, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
    }

    [Fact]
    public async Task Cleanup_leaves_a_subscription_the_connection_adopted_when_it_was_registered_again()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString, new Dictionary<string, string?> { ["CalCom:ApiKey"] = ApiKey });
        await life.PutAsync("returning");
        life.Cal.Inject(new CalInjection { Status = 500, Times = 5, When = r => r.Method == "DELETE" });
        Assert.Equal(HttpStatusCode.Accepted, (await life.DeleteAsync("returning")).StatusCode);
        var queued = Assert.Single(await life.DrainAsync(StorageNames.CleanupQueue));

        Assert.Equal(HttpStatusCode.Created, (await life.PutAsync("returning")).StatusCode);
        var adopted = Assert.Single(life.Cal.Webhooks);
        await life.RunCleanupAsync(queued);

        Assert.Equal(adopted, Assert.Single(life.Cal.Webhooks));
        Assert.Equal(adopted.Id, (await life.RowAsync("returning"))!.CalWebhookId);
        Assert.Empty(await life.DrainAsync(CleanupMessages.PoisonQueueName));
    }

    [Fact]
    public async Task Cleanup_that_runs_before_its_DELETE_removed_the_row_waits_instead_of_dropping_the_subscription()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString, new Dictionary<string, string?> { ["CalCom:ApiKey"] = ApiKey });
        await life.PutAsync("mid-delete", "{\"orgId\":21}");
        var row = await life.RowAsync("mid-delete");
        var subscription = Assert.Single(life.Cal.Webhooks);
        life.Cal.Inject(new CalInjection { Status = 500, Times = 5, When = r => r.Method == "DELETE" });
        Assert.Equal(HttpStatusCode.Accepted, (await life.DeleteAsync("mid-delete")).StatusCode);
        var queued = Assert.Single(await life.DrainAsync(StorageNames.CleanupQueue));
        life.Cal.ClearInjections();

        // The moment between queueing the cleanup and removing the row: the row is still there, leased by the DELETE.
        row!.State = CalWebhookFunctions.Connections.ConnectionRecord.States.Pending;
        row.ClaimId = "the-delete";
        row.ClaimedUntil = DateTimeOffset.UtcNow + ConnectionLeases.Duration;
        await life.App.Get<CalWebhookFunctions.Connections.ConnectionStore>().Table.UpsertEntityAsync(row, Azure.Data.Tables.TableUpdateMode.Replace);
        var cleaner = life.App.Get<SubscriptionCleaner>();

        Assert.Equal(CleanupResult.Retrying, await cleaner.ProcessAsync(System.Text.Encoding.UTF8.GetBytes(queued), CancellationToken.None));
        Assert.Equal(subscription.Id, Assert.Single(life.Cal.Webhooks).Id);

        // Once the DELETE has left its tombstone, the cleanup finishes the job.
        var settled = await life.RowAsync("mid-delete");
        settled!.State = CalWebhookFunctions.Connections.ConnectionRecord.States.Removed;
        settled.ClaimId = null;
        settled.ClaimedUntil = null;
        Assert.True(await life.App.Get<CalWebhookFunctions.Connections.ConnectionStore>().TryReplaceAsync(settled));
        Assert.Equal(CleanupResult.Deleted, await cleaner.ProcessAsync(System.Text.Encoding.UTF8.GetBytes(queued), CancellationToken.None));
        Assert.Empty(life.Cal.Webhooks);
    }

    [Fact]
    public async Task A_PUT_that_adopts_the_subscription_while_the_cleanup_deletes_it_ends_with_a_live_subscription()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString, new Dictionary<string, string?> { ["CalCom:ApiKey"] = ApiKey });
        await life.PutAsync("racing", "{\"orgId\":21}");
        var old = Assert.Single(life.Cal.Webhooks);
        life.Cal.Inject(new CalInjection { Status = 500, Times = 5, When = r => r.Method == "DELETE" });
        Assert.Equal(HttpStatusCode.Accepted, (await life.DeleteAsync("racing")).StatusCode);
        var queued = Assert.Single(await life.DrainAsync(StorageNames.CleanupQueue));
        life.Cal.ClearInjections();

        // The cleanup has found no row and sends its DELETE; just before Cal.com handles it, the connection is PUT
        // again and adopts the subscription (still there, found by its subscriber URL).
        var raced = 0;
        life.Cal.OnRequest = async request =>
        {
            if (request.Method == "DELETE" && request.Path.EndsWith(old.Id, StringComparison.Ordinal) && Interlocked.Exchange(ref raced, 1) == 0)
            {
                using var put = await life.PutAsync("racing", "{\"orgId\":21}");
                Assert.Equal(HttpStatusCode.Created, put.StatusCode);
                Assert.Equal(old.Id, (await life.RowAsync("racing"))!.CalWebhookId);
            }
        };

        Assert.Equal(CleanupResult.Deleted,
            await life.App.Get<SubscriptionCleaner>().ProcessAsync(System.Text.Encoding.UTF8.GetBytes(queued), CancellationToken.None));

        Assert.Equal(1, raced);
        var live = Assert.Single(life.Cal.Webhooks);
        Assert.NotEqual(old.Id, live.Id);
        var row = await life.RowAsync("racing");
        Assert.Equal((live.Id, CalWebhookFunctions.Connections.ConnectionRecord.States.Active), (row!.CalWebhookId, row.State));
        Assert.Equal(old.SubscriberUrl, live.SubscriberUrl);
    }

    [Fact]
    public async Task Connection_api_answers_503_with_a_json_body_when_storage_is_unreachable()
    {
        await using var life = await Lifecycle.StartAsync(CalWebhookFunctions.Tests.Functional.Ingest.ReceiveCalWebhookTests.DeadPort(storage.ConnectionString));

        foreach (var response in new[] { await life.GetAsync("any"), await life.DeleteAsync("any"), await life.PutAsync("any") })
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("storage_unavailable", (await Lifecycle.JsonAsync(response)).GetProperty("error").GetString());
        }
    }

    [Fact]
    public async Task Delete_of_a_registration_that_never_learned_its_webhook_id_finds_the_subscription_by_url()
    {
        var crash = new FailingConnectionWrites();
        await using var cal = await FakeCalCom.StartAsync();
        await using (var crashing = await Lifecycle.StartAsync(storage.ConnectionString, cal: cal,
                         services: s => s.AddSingleton(crash.Account(storage.ConnectionString))))
        {
            cal.OnRequest = r =>
            {
                crash.Armed |= r.Method == "POST";
                return Task.CompletedTask;
            };
            Assert.False((await crashing.PutAsync("half-made")).IsSuccessStatusCode);
            cal.OnRequest = null;
        }
        Assert.Single(cal.Webhooks);

        await using var restarted = await Lifecycle.StartAsync(storage.ConnectionString, cal: cal,
            services: s => s.AddSingleton<TimeProvider>(new ShiftedTime(TimeSpan.FromMinutes(3))));
        var response = await restarted.DeleteAsync("half-made");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Empty(cal.Webhooks);
        await restarted.AssertRemovedAsync("half-made");
    }
}
