using System.Net;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Operations;

/// <summary>A replay of dead letters shows in the delivery log: pending once moved, then the new outcome, earlier attempts kept.</summary>
public class DeliveryReplayLogTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task A_replayed_dead_letter_shows_pending_then_delivered_with_the_earlier_attempts_kept()
    {
        var appFixed = false;
        await using var harness = await DeliveriesHarness.StartAsync(azurite, (_, _, _) => Task.FromResult(appFixed ? 200 : 400));
        var message = await harness.ForwardAsync(CalDeliveries.BookingCreated(), "customer-9");
        using var dead = await harness.GetAsync("deliveries/" + message.EventId);
        Assert.Equal("dead_lettered", (await DeliveriesHarness.JsonOf(dead)).GetProperty("status").GetString());

        appFixed = true;
        using var replay = await harness.PostAsync("deliveries/replay");
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        using var pending = await harness.GetAsync("deliveries/" + message.EventId);
        var pendingDetail = await DeliveriesHarness.JsonOf(pending);
        using var pendingOfConnection = await harness.GetAsync("deliveries?status=pending&connectionId=customer-9");
        await harness.DrainAsync();
        using var after = await harness.GetAsync("deliveries/" + message.EventId);
        var detail = await DeliveriesHarness.JsonOf(after);

        Assert.Equal("pending", pendingDetail.GetProperty("status").GetString());
        Assert.Equal(1, (await DeliveriesHarness.JsonOf(pendingOfConnection)).GetProperty("items").GetArrayLength());
        Assert.Equal("delivered", detail.GetProperty("status").GetString());
        Assert.Equal(2, detail.GetProperty("attempts").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, detail.GetProperty("deadLetterReason").ValueKind);
        var attempts = detail.GetProperty("attemptLog").EnumerateArray().ToList();
        Assert.Equal([1, 2], attempts.Select(a => a.GetProperty("attempt").GetInt32()));
        Assert.Equal([400, 200], attempts.Select(a => a.GetProperty("status").GetInt32()));
    }
}
