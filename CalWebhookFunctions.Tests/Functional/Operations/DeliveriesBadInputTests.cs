using System.Net;
using CalWebhookFunctions.Operations;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Operations;

/// <summary>Every bad input of the delivery log routes: a clear 4xx with the JSON error body, and nothing changes.</summary>
public class DeliveriesBadInputTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static async Task<string> AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        var json = await DeliveriesHarness.JsonOf(response);
        Assert.Equal(code, json.GetProperty("error").GetString());
        var message = json.GetProperty("message").GetString();
        Assert.False(string.IsNullOrWhiteSpace(message));
        return message!;
    }

    [Theory]
    [InlineData("colour=red")]
    [InlineData("status=lost")]
    [InlineData("since=yesterday")]
    [InlineData("until=2026-13-01T00:00:00Z")]
    [InlineData("since=2026-12-01")]
    [InlineData("limit=0")]
    [InlineData("limit=201")]
    [InlineData("limit=ten")]
    [InlineData("continuation=not-a-token")]
    [InlineData("trigger=booking%20created")]
    [InlineData("connectionId=a%01b")]
    [InlineData("status=delivered&status=retrying")]
    [InlineData("since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z")]
    public async Task A_bad_list_query_is_400_invalid_query(string query)
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite);

        using var response = await harness.GetAsync("deliveries?" + query);

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_query");
    }

    [Fact]
    public async Task A_continuation_from_other_filters_is_refused()
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite);
        for (var i = 0; i < 3; i++)
        {
            await harness.LogAsync(DateTimeOffset.UtcNow - TimeSpan.FromMinutes(i), "alpha", DeliveryStatus.Delivered);
        }
        using var first = await harness.GetAsync("deliveries?limit=1");
        var token = (await DeliveriesHarness.JsonOf(first)).GetProperty("continuation").GetString()!;

        using var sameList = await harness.GetAsync("deliveries?limit=1&continuation=" + Uri.EscapeDataString(token));
        using var otherFilters = await harness.GetAsync("deliveries?limit=1&connectionId=alpha&continuation=" + Uri.EscapeDataString(token));

        Assert.Equal(HttpStatusCode.OK, sameList.StatusCode);
        await AssertErrorAsync(otherFilters, HttpStatusCode.BadRequest, "invalid_query");
    }

    [Theory]
    [InlineData("deliveries/not-an-id")]
    [InlineData("deliveries/0123456789abcdef0123456789abcde")]
    [InlineData("deliveries/0123456789abcdef0123456789abcdeg/payload")]
    [InlineData("deliveries/replay")]
    public async Task A_malformed_event_id_is_400_invalid_event_id(string path)
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite);

        using var response = await harness.GetAsync(path);

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_event_id");
    }

    [Fact]
    public async Task A_malformed_event_id_to_redeliver_is_400_and_enqueues_nothing()
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite);

        using var response = await harness.PostAsync("deliveries/x%20y/redeliver");

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_event_id");
        Assert.Equal(0, await harness.Forwarding.QueueLengthAsync(StorageNames.WebhookQueue));
    }

    [Theory]
    [InlineData("deliveries/{0}")]
    [InlineData("deliveries/{0}/payload")]
    public async Task An_unknown_event_is_404_delivery_not_found_saying_the_log_starts_at_the_first_attempt(string template)
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite);
        await harness.LogAsync(DateTimeOffset.UtcNow, null, DeliveryStatus.Delivered); // the table exists
        var unknown = Guid.CreateVersion7().ToString("N");

        using var response = await harness.GetAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, template, unknown));

        var message = await AssertErrorAsync(response, HttpStatusCode.NotFound, "delivery_not_found");
        Assert.Contains("first delivery attempt", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Redelivering_an_unknown_event_is_404_and_enqueues_nothing()
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite);

        using var response = await harness.PostAsync($"deliveries/{Guid.CreateVersion7():N}/redeliver");

        await AssertErrorAsync(response, HttpStatusCode.NotFound, "delivery_not_found");
        Assert.Equal(0, await harness.Forwarding.QueueLengthAsync(StorageNames.WebhookQueue));
    }

    [Fact]
    public async Task The_replay_route_is_still_the_literal_one()
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite);

        using var replay = await harness.PostAsync("deliveries/replay");

        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(0, (await DeliveriesHarness.JsonOf(replay)).GetProperty("moved").GetInt32());
    }

    [Fact]
    public async Task The_routes_need_the_function_key()
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite);
        using var anonymous = harness.Functions.CreateClient();

        using var response = await anonymous.GetAsync("api/deliveries");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
