using System.Net;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Subscriptions;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace CalWebhookFunctions.Tests.Functional.Subscriptions;

/// <summary>
/// The connection-lifecycle defects of issue 9, each with the interleaving forced (held Cal.com answers, a fake clock
/// for the leases, rows changed at an exact moment).
/// </summary>
public sealed class LifecycleDefectTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>, IAsyncLifetime
{
    public Task InitializeAsync() => storage.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Defect 4: the forwarder reads ForwardUrl and IsMatched; a refused PUT must change neither.</summary>
    [Fact]
    public async Task A_put_that_Cal_com_refuses_changes_nothing_the_forwarder_uses()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        Assert.Equal(HttpStatusCode.Created, (await life.PutAsync("steady", "{\"forwardUrl\":\"https://one.example.test/\"}")).StatusCode);
        var triggers = (await life.RowAsync("steady"))!.Triggers;
        life.Cal.Inject(new CalInjection { Status = 400, When = r => r.Method == "PATCH" });

        var refused = await life.PutAsync("steady", "{\"forwardUrl\":\"https://two.example.test/\",\"triggers\":[\"BOOKING_CANCELLED\"]}");

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var row = (await life.RowAsync("steady"))!;
        Assert.Equal(("https://one.example.test/", triggers, true), (row.ForwardUrl, row.Triggers, row.IsMatched));
        Assert.Equal("https://two.example.test/", row.RequestedForwardUrl);
        var get = await Lifecycle.JsonAsync(await life.GetAsync("steady"));
        Assert.Equal("https://one.example.test/", get.GetProperty("forwardUrl").GetString());

        // A first registration Cal.com refuses leaves a row the forwarder does not match.
        life.Cal.Inject(new CalInjection { Status = 400, When = r => r.Method == "POST" });
        Assert.Equal(HttpStatusCode.BadRequest, (await life.PutAsync("newcomer", "{\"forwardUrl\":\"https://three.example.test/\"}")).StatusCode);
        var pending = (await life.RowAsync("newcomer"))!;
        Assert.Equal((null, false, "pending"), (pending.ForwardUrl, pending.IsMatched, pending.State));

        // Once Cal.com accepts, the request is applied.
        Assert.Equal(HttpStatusCode.OK, (await life.PutAsync("steady", "{\"forwardUrl\":\"https://two.example.test/\"}")).StatusCode);
        row = (await life.RowAsync("steady"))!;
        Assert.Equal(("https://two.example.test/", null), (row.ForwardUrl, row.RequestedForwardUrl));
    }

    /// <summary>Defect 5 (storage side): DELETE leaves a tombstone for Deliveries__RetentionDays; expired ones are swept.</summary>
    [Fact]
    public async Task Delete_leaves_a_tombstone_for_the_retention_period_and_a_put_over_it_registers_anew()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString,
            new Dictionary<string, string?> { ["Deliveries:RetentionDays"] = "7" });
        await life.PutAsync("leaving", "{\"forwardUrl\":\"https://one.example.test/\"}");

        Assert.Equal(HttpStatusCode.NoContent, (await life.DeleteAsync("leaving")).StatusCode);

        await life.AssertRemovedAsync("leaving", retentionDays: 7);
        Assert.Equal(HttpStatusCode.NotFound, (await life.GetAsync("leaving")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await life.DeleteAsync("leaving")).StatusCode);
        Assert.Empty(life.Cal.Webhooks);

        var again = await life.PutAsync("leaving");
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        var row = (await life.RowAsync("leaving"))!;
        Assert.Equal(("active", null, null, true), (row.State, row.RemovedAt, row.ForwardUrl, row.IsMatched));

        // A tombstone past its expiry goes with the next DELETE's bounded sweep; one still within it stays.
        var store = life.App.Get<ConnectionStore>();
        await life.PutAsync("expired");
        await life.DeleteAsync("expired");
        var tombstone = (await life.RowAsync("expired"))!;
        tombstone.ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(-1);
        Assert.True(await store.TryReplaceAsync(tombstone));

        Assert.Equal(HttpStatusCode.NoContent, (await life.DeleteAsync("leaving")).StatusCode);

        Assert.Null(await life.RowAsync("expired"));
        await life.AssertRemovedAsync("leaving", retentionDays: 7);
    }

    /// <summary>
    /// Defect 6: the connection is removed while a PUT creates its subscription, and Cal.com will not delete it at
    /// once. The compensation is queued on cal-subscription-cleanup (durable, whatever the caller does) instead of
    /// only logged.
    /// </summary>
    [Fact]
    public async Task A_subscription_made_for_a_connection_removed_meanwhile_is_queued_for_cleanup()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        var store = life.App.Get<ConnectionStore>();
        life.Cal.OnRequest = async r =>
        {
            if (r.Method == "POST")
            {
                // A DELETE ran (the lease had lapsed): the row is a tombstone when the PUT comes back.
                var row = (await store.FindAsync("vanishing"))!;
                row.State = ConnectionRecord.States.Removed;
                row.RemovedAt = DateTimeOffset.UtcNow;
                row.ClaimId = null;
                Assert.True(await store.TryReplaceAsync(row));
            }
        };
        life.Cal.Inject(new CalInjection { Status = 500, Times = 5, When = r => r.Method == "DELETE" });

        var put = await life.PutAsync("vanishing");

        Assert.Equal(HttpStatusCode.Conflict, put.StatusCode);
        Assert.Equal("connection_removed", (await Lifecycle.JsonAsync(put)).GetProperty("error").GetString());
        var orphan = Assert.Single(life.Cal.Webhooks);
        var cleanupQueue = life.Queue(StorageNames.CleanupQueue);
        // Queued with a delay (the direct deletion goes first), so counted rather than received.
        var queued = await cleanupQueue.ExistsAsync() ? (await cleanupQueue.GetPropertiesAsync()).Value.ApproximateMessagesCount : 0;
        Assert.Equal(1, queued);
        Assert.Contains(life.App.Logs.Entries, e => e.EventId.Id == 4009 && e.Message.Contains(orphan.Id, StringComparison.Ordinal));
        Assert.True((await life.RowAsync("vanishing"))!.IsRemoved);
    }

    /// <summary>
    /// Defect 6, with the caller gone: the client hangs up while Cal.com creates the subscription (the host cancels the
    /// invocation), and the connection was removed meanwhile. The PUT still records what Cal.com made and compensates
    /// through the cleanup queue, instead of abandoning it on the cancelled token.
    /// </summary>
    [Fact]
    public async Task A_registration_the_caller_hung_up_on_still_compensates_through_the_cleanup_queue()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        var store = life.App.Get<ConnectionStore>();
        using var hangUp = new CancellationTokenSource();
        life.Cal.OnRequest = async r =>
        {
            if (r.Method == "POST")
            {
                var row = (await store.FindAsync("abandoned"))!;
                row.State = ConnectionRecord.States.Removed;
                row.RemovedAt = DateTimeOffset.UtcNow;
                row.ClaimId = null;
                Assert.True(await store.TryReplaceAsync(row));
                var cancelled = life.Host.NextInvocationCancelled;
                await hangUp.CancelAsync();
                await cancelled; // the invocation's token is cancelled before Cal.com answers
            }
        };
        life.Cal.Inject(new CalInjection { Status = 500, Times = 5, When = r => r.Method == "DELETE" });
        var request = new HttpRequestMessage(HttpMethod.Put, new Uri(Lifecycle.PathFor("abandoned"), UriKind.Relative));
        request.Headers.Add("X-Cal-Access-Token", Lifecycle.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => life.Client.SendAsync(request, hangUp.Token));

        // The caller's hang-up can return before the fake Cal.com has stored the subscription it is creating, and
        // the compensation runs after that: wait for its outcome (the 4012 log), then look.
        await UntilAsync(() => Task.FromResult(life.App.Logs.Entries.Any(e => e.EventId.Id == 4012)));
        var orphan = Assert.Single(life.Cal.Webhooks);
        Assert.Contains(life.App.Logs.Entries, e => e.EventId.Id == 4009 && e.Message.Contains(orphan.Id, StringComparison.Ordinal));
        var cleanupQueue = life.Queue(StorageNames.CleanupQueue);
        Assert.Equal(1, (await cleanupQueue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
    }

    /// <summary>
    /// Defect 7: Cal.com's answer to the adoption search is held while the clock passes the lease's duration. The lease
    /// is renewed in the background, so a DELETE waits for the PUT instead of running; the PUT cannot resurrect the row.
    /// </summary>
    [Fact]
    public async Task A_put_held_past_the_lease_duration_keeps_its_lease_and_a_delete_waits_so_nothing_is_resurrected()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString, services: s => s.AddSingleton(provider =>
            new ConnectionLeases(provider.GetRequiredService<ConnectionStore>(), clock, provider.GetRequiredService<ILogger<ConnectionLeases>>())));
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        life.Cal.OnRequest = async r =>
        {
            if (r.Method == "GET" && !release.Task.IsCompleted)
            {
                reached.TrySetResult();
                await release.Task;
            }
        };

        var put = life.PutAsync("phoenix");
        await reached.Task.WaitAsync(TimeSpan.FromSeconds(60));
        for (var step = 0; step < 4; step++)
        {
            clock.Advance(ConnectionLeases.Duration / 3);
            await UntilAsync(async () => (await life.RowAsync("phoenix"))!.ClaimedUntil > clock.GetUtcNow() + ConnectionLeases.Duration / 2);
        }

        var delete = life.DeleteAsync("phoenix");
        release.SetResult();
        Assert.Equal(HttpStatusCode.Created, (await put).StatusCode);
        while (!delete.IsCompleted)
        {
            clock.Advance(TimeSpan.FromMilliseconds(150));
            await Task.WhenAny(delete, Task.Delay(20));
        }

        Assert.Equal(HttpStatusCode.NoContent, (await delete).StatusCode);
        await life.AssertRemovedAsync("phoenix");
        Assert.Empty(life.Cal.Webhooks);
    }

    /// <summary>
    /// Defect 8: a registration that never learned its webhook id, then Webhook__PublicUrl changes and the next PUT
    /// fails: the one after must still find the subscription under the first URL instead of creating a second.
    /// </summary>
    [Fact]
    public async Task A_failed_put_after_the_public_url_changed_keeps_the_old_url_so_the_next_put_adopts()
    {
        await using var cal = await FakeCalCom.StartAsync();
        var crash = new FailingConnectionWrites { Once = true };
        await using (var before = await Lifecycle.StartAsync(storage.ConnectionString, cal: cal,
                         services: s => s.AddSingleton(crash.Account(storage.ConnectionString))))
        {
            cal.OnRequest = r =>
            {
                crash.Armed |= r.Method == "POST";
                return Task.CompletedTask;
            };
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await before.PutAsync("moving-host")).StatusCode);
            cal.OnRequest = null;
        }
        var first = Assert.Single(cal.Webhooks);

        const string NewUrl = "https://relay-new.example.test/api/webhooks/cal";
        await using var after = await Lifecycle.StartAsync(storage.ConnectionString,
            new Dictionary<string, string?> { ["Webhook:PublicUrl"] = NewUrl }, cal: cal);
        cal.Inject(new CalInjection { Status = 500, Times = 5, When = r => r.Method == "GET" });
        Assert.Equal(HttpStatusCode.BadGateway, (await after.PutAsync("moving-host")).StatusCode);
        cal.ClearInjections();

        Assert.Equal(HttpStatusCode.Created, (await after.PutAsync("moving-host")).StatusCode);

        var subscription = Assert.Single(cal.Webhooks);
        Assert.Equal(first.Id, subscription.Id);
        Assert.StartsWith(NewUrl + "?nangoConnectionId=", subscription.SubscriberUrl, StringComparison.Ordinal);
        var row = (await after.RowAsync("moving-host"))!;
        Assert.Equal((subscription.Id, null), (row.CalWebhookId, row.PreviousSubscriberUrls));
    }

    private static async Task UntilAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 1500 && !await condition(); i++) // up to ~30 s: the machine may be loaded
        {
            await Task.Delay(20);
        }
    }
}
