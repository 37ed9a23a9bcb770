using System.Net;
using CalWebhookFunctions.Operations;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Operations;

/// <summary><c>GET /api/deliveries</c>: newest first, paged, filtered, and bounded in storage calls however much is kept.</summary>
public class DeliveryListTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Fact]
    public async Task Paging_over_120_events_gives_three_pages_newest_first_without_duplicates_or_gaps()
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite);
        var logged = new List<string>();
        for (var i = 0; i < 120; i++)
        {
            // 30 minutes apart: 60 hours, so the pages cross day partitions.
            logged.Add((await harness.LogAsync(Now - TimeSpan.FromMinutes(30 * i), $"conn-{i % 3}", DeliveryStatus.Delivered)).EventId);
        }

        var (sizes, ids) = await harness.AllPagesAsync("limit=50");

        Assert.Equal([50, 50, 20], sizes);
        Assert.Equal(logged, ids); // logged newest first
    }

    [Fact]
    public async Task Paging_one_connection_crosses_days_in_order()
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite);
        var mine = new List<string>();
        for (var i = 0; i < 60; i++)
        {
            var logged = await harness.LogAsync(Now - TimeSpan.FromHours(2 * i), i % 2 == 0 ? "tenant/42 #a" : "tenant/4", DeliveryStatus.Delivered);
            if (i % 2 == 0)
            {
                mine.Add(logged.EventId);
            }
        }

        var (sizes, ids) = await harness.AllPagesAsync("limit=7&connectionId=" + Uri.EscapeDataString("tenant/42 #a"));

        Assert.Equal(mine, ids);
        Assert.Equal(5, sizes.Count);
    }

    [Fact]
    public async Task Each_filter_selects_exactly_its_events()
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite);
        var delivered = await harness.LogAsync(Now - TimeSpan.FromMinutes(1), "alpha", DeliveryStatus.Delivered);
        var retrying = await harness.LogAsync(Now - TimeSpan.FromMinutes(2), "beta", DeliveryStatus.Retrying, "BOOKING_CANCELLED");
        var dead = await harness.LogAsync(Now - TimeSpan.FromMinutes(3), "alpha", DeliveryStatus.DeadLettered, "BOOKING_CANCELLED");
        var old = await harness.LogAsync(Now - TimeSpan.FromDays(2), null, DeliveryStatus.Delivered);

        async Task<List<string>> Ids(string query) => (await harness.AllPagesAsync(query)).EventIds;

        Assert.Equal([delivered.EventId, dead.EventId], await Ids("connectionId=alpha"));
        Assert.Equal([retrying.EventId], await Ids("status=retrying"));
        Assert.Equal([delivered.EventId, old.EventId], await Ids("status=delivered"));
        Assert.Equal([retrying.EventId, dead.EventId], await Ids("trigger=BOOKING_CANCELLED"));
        Assert.Equal([dead.EventId], await Ids("trigger=BOOKING_CANCELLED&connectionId=alpha"));
        var since = Uri.EscapeDataString((Now - TimeSpan.FromHours(1)).ToString("O"));
        Assert.Equal([delivered.EventId, retrying.EventId, dead.EventId], await Ids("since=" + since));
        var until = Uri.EscapeDataString((Now - TimeSpan.FromMinutes(2)).ToString("O"));
        Assert.Equal([dead.EventId, old.EventId], await Ids("until=" + until));
        Assert.Equal([dead.EventId], await Ids($"since={since}&until={until}"));
    }

    [Fact]
    public async Task An_item_has_every_field_of_the_contract()
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite);
        var logged = await harness.LogAsync(Now - TimeSpan.FromMinutes(1), "alpha", DeliveryStatus.Delivered);

        using var response = await harness.GetAsync("deliveries");
        var item = Assert.Single((await DeliveriesHarness.JsonOf(response)).GetProperty("items").EnumerateArray());

        Assert.Equal(logged.EventId, item.GetProperty("eventId").GetString());
        Assert.Equal("alpha", item.GetProperty("connectionId").GetString());
        Assert.True(item.GetProperty("matched").GetBoolean());
        Assert.Equal("BOOKING_CREATED", item.GetProperty("trigger").GetString());
        Assert.Equal("bk_" + logged.ReceivedAt.ToUnixTimeMilliseconds(), item.GetProperty("bookingUid").GetString());
        Assert.StartsWith("msg_", item.GetProperty("webhookId").GetString());
        Assert.Equal("delivered", item.GetProperty("status").GetString());
        Assert.Equal(1, item.GetProperty("attempts").GetInt32());
        Assert.Equal(200, item.GetProperty("lastStatus").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, item.GetProperty("lastError").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, item.GetProperty("nextAttemptAt").ValueKind);
        Assert.EndsWith("Z", item.GetProperty("receivedAt").GetString());
        Assert.EndsWith("Z", item.GetProperty("deliveredAt").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, item.GetProperty("deadLetterReason").ValueKind);
        Assert.Equal(harness.Receiver.Url.ToString(), item.GetProperty("target").GetString());
    }

    [Fact]
    public async Task Listing_50_newest_of_one_connection_or_of_the_last_hour_costs_a_bounded_number_of_calls_with_2000_events_kept()
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite);
        // 2,000 events over the last 4 days across 10 connections; 100 of them in the last hour.
        await Parallel.ForAsync(0, 2000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            var at = i < 100 ? Now - TimeSpan.FromSeconds(30 * i) : Now - TimeSpan.FromHours(1) - TimeSpan.FromMinutes(3 * (i - 100));
            await harness.LogAsync(at, $"conn-{i % 10}", i % 7 == 0 ? DeliveryStatus.DeadLettered : DeliveryStatus.Delivered);
        });

        harness.Tables.Reset();
        using var ofOne = await harness.GetAsync("deliveries?connectionId=conn-3&limit=50");
        var oneConnectionCalls = harness.Tables.Count;
        harness.Tables.Reset();
        using var lastHour = await harness.GetAsync("deliveries?limit=50&since=" + Uri.EscapeDataString((Now - TimeSpan.FromHours(1)).ToString("O")));
        var lastHourCalls = harness.Tables.Count;

        var one = (await DeliveriesHarness.JsonOf(ofOne)).GetProperty("items").EnumerateArray().ToList();
        var hour = (await DeliveriesHarness.JsonOf(lastHour)).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(50, one.Count);
        Assert.All(one, i => Assert.Equal("conn-3", i.GetProperty("connectionId").GetString()));
        Assert.Equal(50, hour.Count);
        Assert.True(oneConnectionCalls <= 2, $"one connection: {oneConnectionCalls} table calls");
        Assert.True(lastHourCalls <= 2, $"last hour: {lastHourCalls} table calls");
    }

    [Fact]
    public async Task A_sparse_filter_stops_at_the_call_cap_and_answers_a_continuation()
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite);
        var old = await harness.LogAsync(Now - TimeSpan.FromDays(10), "alpha", DeliveryStatus.Retrying);
        for (var i = 0; i < 20; i++)
        {
            // One event per day: with a limit of 1 per call that is one page per day on the way to the retrying one.
            await harness.LogAsync(Now - TimeSpan.FromDays(i % 9) - TimeSpan.FromMinutes(i), "alpha", DeliveryStatus.Delivered);
        }

        harness.Tables.Reset();
        using var first = await harness.GetAsync("deliveries?status=retrying&limit=1");
        var calls = harness.Tables.Count;
        var (_, ids) = await harness.AllPagesAsync("status=retrying&limit=1");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.True(calls <= DeliveryLogReader.MaxCallsPerPage, $"{calls} table calls");
        Assert.Equal([old.EventId], ids);
    }
}
