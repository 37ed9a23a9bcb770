using System.Net;
using CalWebhookFunctions.Messages;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Functional.Forwarding;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Operations;

/// <summary><c>POST /api/deliveries/replay</c> with a filter body and <c>dryRun</c>.</summary>
public class ReplayFilterTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly DateTimeOffset Monday = new(2026, 11, 30, 9, 0, 0, TimeSpan.Zero);

    /// <summary>Four dead letters: (connection, reason, received).</summary>
    private static async Task<IReadOnlyList<QueuedWebhook>> SeedAsync(ForwardingHarness harness)
    {
        var poison = harness.App.Get<StorageAccount>().Queue(StorageNames.WebhookPoisonQueue);
        var seeded = new List<QueuedWebhook>();
        foreach (var (connection, reason, hours) in new[] { ("a", "rejected", 0), ("a", "retries_exhausted", 2), ("b", "rejected", 4), ("a", (string?)null, 6) })
        {
            var message = ForwardingHarness.NewEvent(CalDeliveries.BookingCreated(bodyConnectionId: connection + hours), connection) with
            {
                ReceivedAt = Monday.AddHours(hours),
                DeadLetter = reason is null ? null : new DeadLetterInfo { Reason = reason, LastStatus = 400, DeadLetteredAt = DateTimeOffset.UtcNow.AddMinutes(-1) },
            };
            await PendingWebhooks.SendAsync(poison, PendingWebhooks.Serialize(message), null, default);
            seeded.Add(message);
        }
        return seeded;
    }

    [Fact]
    public async Task A_dry_run_counts_what_the_filter_matches_and_moves_nothing_then_the_replay_moves_exactly_those()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        await using var functions = await FunctionsHost.StartAsync(harness.App.Services);
        using var client = functions.CreateClient();
        var seeded = await SeedAsync(harness);
        const string filter = "\"connectionId\":\"a\",\"since\":\"2026-11-30T08:00:00Z\",\"until\":\"2026-11-30T13:00:00Z\"";

        var (dryStatus, dry) = await OperationsHttp.PostAsync(client, "api/deliveries/replay", "{" + filter + ",\"dryRun\":true}");

        Assert.Equal(HttpStatusCode.OK, dryStatus);
        Assert.Equal(2, dry.GetProperty("matched").GetInt32()); // a at +0 h and +2 h; not b, not a at +6 h
        Assert.Equal(4, (await harness.DeadLettersAsync()).Count); // all still there, and visible
        Assert.Equal(0, await harness.QueueLengthAsync(StorageNames.WebhookQueue));

        var (status, moved) = await OperationsHttp.PostAsync(client, "api/deliveries/replay", "{" + filter + "}");
        await harness.DrainAsync();

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, moved.GetProperty("moved").GetInt32());
        Assert.Equal(new[] { seeded[2].EventId, seeded[3].EventId }.Order(), (await harness.DeadLettersAsync()).Select(d => d.EventId).Order());
        Assert.Equal(2, harness.Receiver.Deliveries.Count);
    }

    [Fact]
    public async Task Reason_filters_by_the_dead_letter_reason_and_host_poison_takes_what_the_host_parked()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        await using var functions = await FunctionsHost.StartAsync(harness.App.Services);
        using var client = functions.CreateClient();
        var seeded = await SeedAsync(harness);

        var (_, rejected) = await OperationsHttp.PostAsync(client, "api/deliveries/replay", "{\"reason\":\"rejected\",\"dryRun\":true}");
        var (_, hostPoison) = await OperationsHttp.PostAsync(client, "api/deliveries/replay", "{\"reason\":\"host_poison\"}");

        Assert.Equal(2, rejected.GetProperty("matched").GetInt32());
        Assert.Equal(1, hostPoison.GetProperty("moved").GetInt32());
        Assert.DoesNotContain(seeded[3].EventId, (await harness.DeadLettersAsync()).Select(d => d.EventId));
        Assert.Equal(3, (await harness.DeadLettersAsync()).Count);
    }

    [Fact]
    public async Task Bad_filters_are_refused_with_400_and_move_nothing()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        await using var functions = await FunctionsHost.StartAsync(harness.App.Services);
        using var client = functions.CreateClient();
        await SeedAsync(harness);

        foreach (var body in new[]
                 {
                     "{\"connection\":\"a\"}", // unknown field: must not widen the replay to everything
                     "{\"since\":\"yesterday\"}",
                     "{\"until\":\"Tue, 01 Dec 2026 10:00:00 GMT\"}",
                     "{\"since\":\"2026-12-01T10:00:00Z\",\"until\":\"2026-12-01T09:00:00Z\"}",
                     "{\"reason\":\"gone\"}",
                     "{\"dryRun\":\"yes\"}",
                     "{\"eventId\":\"../x\"}",
                     "[1]",
                     "null",
                 })
        {
            Assert.Equal("invalid_request", OperationsHttp.AssertBadRequest(await OperationsHttp.PostAsync(client, "api/deliveries/replay", body)));
        }
        Assert.Equal("invalid_request", OperationsHttp.AssertBadRequest(
            await OperationsHttp.PostAsync(client, "api/deliveries/replay?connectionId=a", null)));
        Assert.Equal("invalid_request", OperationsHttp.AssertBadRequest(
            await OperationsHttp.PostAsync(client, "api/deliveries/replay?eventId=" + Guid.NewGuid().ToString("N"), "{\"dryRun\":true}")));

        Assert.Equal(4, (await harness.DeadLettersAsync()).Count);
        Assert.Equal(0, await harness.QueueLengthAsync(StorageNames.WebhookQueue));
    }
}
