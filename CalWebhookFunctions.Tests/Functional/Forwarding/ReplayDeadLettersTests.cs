using System.Net;
using System.Text;
using System.Text.Json;
using CalWebhookFunctions.Messages;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Tests.Functional.Forwarding;

/// <summary><c>POST /api/deliveries/replay</c> through the functions.metadata host, with the function key.</summary>
public class ReplayDeadLettersTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static HttpRequestMessage Replay(string? query = null, string? body = null, bool withKey = true)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "api/deliveries/replay" + (query is null ? "" : "?" + query));
        if (withKey)
        {
            request.Headers.Add("x-functions-key", FunctionsHost.FunctionKey);
        }
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        return request;
    }

    /// <summary>Replays every dead letter and checks the one there was is moved, delivered, and gone from the poison queue.</summary>
    private static async Task AssertReplayDeliversTheOneDeadLetterAsync(ForwardingHarness harness, HttpClient client)
    {
        using var response = await client.SendAsync(Replay());
        await harness.DrainAsync();

        Assert.Equal(1, (await JsonOf(response)).GetProperty("moved").GetInt32());
        Assert.Single(harness.Receiver.Deliveries);
        Assert.Empty(await harness.DeadLetterTextsAsync());
    }

    private static async Task<JsonElement> JsonOf(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    [Fact]
    public async Task A_dead_letter_replayed_after_the_app_is_fixed_is_delivered_with_a_fresh_schedule()
    {
        var appFixed = false;
        await using var harness = await ForwardingHarness.StartAsync(azurite, respond: (_, _, _) => Task.FromResult(appFixed ? 200 : 500),
            settings: new Dictionary<string, string?> { ["Forwarding:RetrySchedule"] = "10ms" });
        await using var functions = await FunctionsHost.StartAsync(harness.App.Services);
        using var client = functions.CreateClient();
        var body = CalDeliveries.BookingCreated(padTo: 70 * 1024); // blob-backed: the blob must survive the dead letter
        await harness.EnqueueAsync(body, null);
        await harness.DrainAsync();
        Assert.Single(await harness.DeadLettersAsync());
        Assert.Equal(2, harness.Receiver.Requests.Count);

        appFixed = true;
        using var response = await client.SendAsync(Replay());
        var answer = await JsonOf(response);
        await harness.DrainAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, answer.GetProperty("moved").GetInt32());
        Assert.False(answer.GetProperty("more").GetBoolean());
        var delivery = Assert.Single(harness.Receiver.Deliveries);
        Assert.Equal(body, delivery.Body[^(body.Length + 1)..^1]);
        Assert.Empty(await harness.DeadLetterTextsAsync());
        Assert.Equal(1, await harness.PayloadBlobCountAsync()); // kept for the delivery log until retention
        Assert.Contains("on attempt 1", harness.App.Logs.Lines.Last(l => l.Contains("Forwarded event", StringComparison.Ordinal)),
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_the_host_poisoned_itself_is_replayed_too()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        await using var functions = await FunctionsHost.StartAsync(harness.App.Services);
        using var client = functions.CreateClient();
        // The host's shape: the original cal-webhooks message, copied unchanged after maxDequeueCount failures.
        var original = ForwardingHarness.NewEvent(CalDeliveries.BookingCreated(), "conn-9") with { Attempts = 3 };
        var poison = harness.App.Get<StorageAccount>().Queue(StorageNames.WebhookPoisonQueue);
        await PendingWebhooks.SendAsync(poison, PendingWebhooks.Serialize(original), null, default);

        await AssertReplayDeliversTheOneDeadLetterAsync(harness, client);
    }

    private static async Task AssertReplayThroughTheHostDeliversTheOneDeadLetterAsync(ForwardingHarness harness)
    {
        await using var functions = await FunctionsHost.StartAsync(harness.App.Services);
        using var client = functions.CreateClient();
        await AssertReplayDeliversTheOneDeadLetterAsync(harness, client);
    }

    /// <summary>The dead letters with how long each lives: (text, expires − inserted).</summary>
    private async Task<IReadOnlyList<(string Text, TimeSpan TimeToLive)>> DeadLettersWithTimeToLiveAsync()
    {
        var poison = new Azure.Storage.Queues.QueueClient(azurite.ConnectionString, StorageNames.WebhookPoisonQueue);
        var peeked = (await poison.PeekMessagesAsync(32)).Value;
        return [.. peeked.Select(m => (Encoding.UTF8.GetString(HostQueueMessages.Decode(m.MessageText)), m.ExpiresOn!.Value - m.InsertedOn!.Value))];
    }

    /// <summary>Runs ForwardCalWebhook for one event through an app whose storage is partly down, as the host would.</summary>
    private async Task<(QueueRunReport Run, QueuedWebhook Message)> RunAgainstOutageAsync(ForwardingHarness harness, StorageAccount outage)
    {
        await using var broken = await TestApp.StartAsync(azurite.ConnectionString,
            new Dictionary<string, string?> { ["Forwarding:Url"] = harness.Receiver.Url.ToString() },
            services => services.AddSingleton(outage));
        var message = ForwardingHarness.NewEvent(CalDeliveries.BookingCreated(), null);
        await harness.App.Get<PendingWebhooks>().EnqueueAsync(message);
        var host = new QueueHost(broken.Services, azurite.ConnectionString,
            QueueSettings.FromHostJson() with { VisibilityTimeout = TimeSpan.Zero }); // host.json's minute, shortened
        return (await host.RunUntilDrainedAsync(StorageNames.WebhookQueue, TimeSpan.FromSeconds(60)), message);
    }

    [Fact]
    public async Task A_message_whose_function_and_park_keep_failing_is_poisoned_by_the_host_for_seven_days_and_replay_delivers_it()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        // All of the app's storage down: every invocation throws, and so does FinalDequeueMiddleware's own park.
        var (run, message) = await RunAgainstOutageAsync(harness, StorageFaults.Everything(azurite.ConnectionString));

        var maxDequeueCount = QueueSettings.FromHostJson().MaxDequeueCount;
        Assert.Equal(maxDequeueCount, run.Invocations);
        Assert.Equal(maxDequeueCount, run.Failures);
        Assert.Equal(1, run.Poisoned);
        Assert.Empty(harness.Receiver.Requests);
        var poisoned = Assert.Single(await DeadLettersWithTimeToLiveAsync());
        Assert.Equal(Encoding.UTF8.GetString(PendingWebhooks.Serialize(message)), poisoned.Text); // the original, unchanged
        Assert.Equal(TimeSpan.FromDays(7), poisoned.TimeToLive); // the storage SDK's default: the host's copy expires

        await AssertReplayThroughTheHostDeliversTheOneDeadLetterAsync(harness);
    }

    [Fact]
    public async Task A_message_whose_function_keeps_throwing_is_parked_never_expiring_on_the_hosts_last_try_and_replay_delivers_it()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        // Tables and cal-webhooks down, the poison queue up: every invocation throws; on the host's last try
        // FinalDequeueMiddleware (run by the worker's pipeline) parks the message itself and the invocation succeeds.
        var (run, message) = await RunAgainstOutageAsync(harness,
            StorageFaults.Down(azurite.ConnectionString, tablesDown: true, blobsDown: true, StorageNames.WebhookQueue));

        var maxDequeueCount = QueueSettings.FromHostJson().MaxDequeueCount;
        Assert.Equal(maxDequeueCount, run.Invocations);
        Assert.Equal(maxDequeueCount - 1, run.Failures);
        Assert.Equal(0, run.Poisoned);
        Assert.Empty(harness.Receiver.Requests);
        var parked = Assert.Single(await DeadLettersWithTimeToLiveAsync());
        Assert.Equal(Encoding.UTF8.GetString(PendingWebhooks.Serialize(message)), parked.Text);
        Assert.True(parked.TimeToLive > TimeSpan.FromDays(365 * 100), $"lives {parked.TimeToLive}"); // never expires

        await AssertReplayThroughTheHostDeliversTheOneDeadLetterAsync(harness);
    }

    [Fact]
    public async Task A_replay_does_not_pick_up_an_event_the_app_rejected_again_while_it_ran()
    {
        // The app keeps answering 400. The replay is held just before it deletes the dead letter it moved; meanwhile the
        // host forwards the moved event, the app rejects it again, and it is dead-lettered anew, after the replay began.
        var poisonDeletes = new StorageGate(before: m => StorageFaults.Is(m, "DELETE", StorageNames.WebhookPoisonQueue + "/messages/"));
        await using var harness = await ForwardingHarness.StartAsync(azurite, respond: (_, _, _) => Task.FromResult(400),
            configureServices: services => services.AddSingleton(StorageFaults.Account(azurite.ConnectionString, rawQueues: poisonDeletes)));
        poisonDeletes.BeforeFirst = () => harness.DrainAsync();
        await using var functions = await FunctionsHost.StartAsync(harness.App.Services);
        using var client = functions.CreateClient();
        var stored = await harness.EnqueueAsync(CalDeliveries.BookingCreated(), null);
        await harness.DrainAsync();
        Assert.Single(await harness.DeadLettersAsync());

        using var response = await client.SendAsync(Replay());
        var answer = await JsonOf(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, answer.GetProperty("moved").GetInt32());
        Assert.False(answer.GetProperty("more").GetBoolean());
        Assert.Equal(2, harness.Receiver.Requests.Count); // the first attempt and the replayed one: no loop
        var deadLetter = Assert.Single(await harness.DeadLettersAsync()); // dead-lettered again, and left there
        Assert.Equal(stored.EventId, deadLetter.EventId);
        Assert.Equal("rejected", deadLetter.DeadLetter!.Reason);
        Assert.Equal(0, await harness.QueueLengthAsync(StorageNames.WebhookQueue));
    }

    [Fact]
    public async Task Replay_by_event_id_moves_only_that_event_and_leaves_unreadable_ones()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        await using var functions = await FunctionsHost.StartAsync(harness.App.Services);
        using var client = functions.CreateClient();
        var poison = harness.App.Get<StorageAccount>().Queue(StorageNames.WebhookPoisonQueue);
        var wanted = ForwardingHarness.NewEvent(CalDeliveries.BookingCreated(bodyConnectionId: "a"), null);
        var other = ForwardingHarness.NewEvent(CalDeliveries.BookingCreated(bodyConnectionId: "b"), null);
        foreach (var message in new[] { wanted, other })
        {
            await PendingWebhooks.SendAsync(poison, PendingWebhooks.Serialize(message with
            {
                DeadLetter = new DeadLetterInfo { Reason = "rejected", LastStatus = 400, DeadLetteredAt = DateTimeOffset.UtcNow },
            }), null, default);
        }
        await PendingWebhooks.SendAsync(poison, "not an event"u8.ToArray(), null, default);
        // And one that is not even base64 (the host copies such a message from cal-webhooks as it was).
        var rawPoison = new Azure.Storage.Queues.QueueClient(azurite.ConnectionString, StorageNames.WebhookPoisonQueue);
        await rawPoison.SendMessageAsync("{raw text, not base64}", timeToLive: TimeSpan.FromSeconds(-1));

        using var byQuery = await client.SendAsync(Replay("eventId=" + wanted.EventId));
        var answer = await JsonOf(byQuery);
        await harness.DrainAsync();

        Assert.Equal(HttpStatusCode.OK, byQuery.StatusCode);
        Assert.Equal(1, answer.GetProperty("moved").GetInt32());
        Assert.Equal(2, answer.GetProperty("unreadable").GetInt32());
        var delivery = Assert.Single(harness.Receiver.Deliveries);
        Assert.Equal(wanted.Body, delivery.Body[^(wanted.Body!.Length + 1)..^1]);
        var left = (await rawPoison.PeekMessagesAsync(32)).Value.Select(m => m.MessageText).ToList(); // all visible again
        Assert.Equal(3, left.Count);
        Assert.Contains(Convert.ToBase64String("not an event"u8), left);
        Assert.Contains("{raw text, not base64}", left);

        using var byBody = await client.SendAsync(Replay(body: $"{{\"eventId\":\"{other.EventId}\"}}"));
        Assert.Equal(1, (await JsonOf(byBody)).GetProperty("moved").GetInt32());
        using var unknown = await client.SendAsync(Replay("eventId=0197000000000000000000000000abcd"));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("dead_letter_not_found", (await JsonOf(unknown)).GetProperty("error").GetString());
        using var invalid = await client.SendAsync(Replay("eventId=../x"));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
    }

    [Fact]
    public async Task Replay_needs_the_function_key()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        await using var functions = await FunctionsHost.StartAsync(harness.App.Services);
        using var client = functions.CreateClient();

        using var response = await client.SendAsync(Replay(withKey: false));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_replay_whose_enqueue_fails_leaves_the_dead_letter_in_place_and_visible()
    {
        await azurite.ResetAsync();
        // cal-webhooks unreachable (a closed port on 127.0.0.1); the poison queue is the real one.
        var unreachable = System.Text.RegularExpressions.Regex.Replace(azurite.ConnectionString, "QueueEndpoint=[^;]+;",
            "QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;");
        var queueOptions = new Azure.Storage.Queues.QueueClientOptions { MessageEncoding = Azure.Storage.Queues.QueueMessageEncoding.Base64 };
        queueOptions.Retry.MaxRetries = 0;
        await using var app = await TestApp.StartAsync(azurite.ConnectionString, configureServices: services =>
            services.AddSingleton(new PendingWebhooks(new StorageAccount(
                new Azure.Storage.Queues.QueueServiceClient(unreachable, queueOptions),
                new Azure.Data.Tables.TableServiceClient(azurite.ConnectionString),
                new Azure.Storage.Blobs.BlobServiceClient(azurite.ConnectionString)))));
        await using var functions = await FunctionsHost.StartAsync(app.Services);
        using var client = functions.CreateClient();
        var poison = app.Get<StorageAccount>().Queue(StorageNames.WebhookPoisonQueue);
        var message = ForwardingHarness.NewEvent(CalDeliveries.BookingCreated(), null);
        await PendingWebhooks.SendAsync(poison, PendingWebhooks.Serialize(message), null, default);

        using var response = await client.SendAsync(Replay());

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("storage_unavailable", (await JsonOf(response)).GetProperty("error").GetString());
        var left = Assert.Single((await poison.PeekMessagesAsync(32)).Value); // visible again at once
        Assert.Equal(message.EventId, PendingWebhooks.Deserialize(left.Body.ToArray()).EventId);
    }
}
