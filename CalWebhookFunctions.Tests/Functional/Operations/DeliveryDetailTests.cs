using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Operations;

/// <summary>An event's entry, attempts, payload and redelivery, written by the real forward path.</summary>
public class DeliveryDetailTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    /// <summary>The app answers 500 with a body the first time, then 200 "ok".</summary>
    private static async Task<int> FailOnceThenSucceed(Microsoft.AspNetCore.Http.HttpContext context, byte[] _, int before)
    {
        var status = before == 0 ? 500 : 200;
        context.Response.StatusCode = status;
        await context.Response.WriteAsync(before == 0 ? "upstream down: " + new string('x', 2000) : "ok");
        return status;
    }

    [Fact]
    public async Task The_detail_shows_each_attempt_with_status_duration_and_the_start_of_the_answer()
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite, FailOnceThenSucceed);
        await harness.Forwarding.AddConnectionAsync("customer-42");
        var message = await harness.ForwardAsync(CalDeliveries.BookingCreated(), "customer-42");

        using var response = await harness.GetAsync("deliveries/" + message.EventId);
        var detail = await DeliveriesHarness.JsonOf(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("delivered", detail.GetProperty("status").GetString());
        Assert.Equal(2, detail.GetProperty("attempts").GetInt32());
        Assert.Equal(200, detail.GetProperty("lastStatus").GetInt32());
        Assert.True(detail.GetProperty("matched").GetBoolean());
        Assert.Equal("bk_9f8e7d", detail.GetProperty("bookingUid").GetString());
        Assert.Equal("BOOKING_CREATED", detail.GetProperty("trigger").GetString());
        Assert.Equal(harness.Receiver.Deliveries.Single().Header("webhook-id"), detail.GetProperty("webhookId").GetString());
        var attempts = detail.GetProperty("attemptLog").EnumerateArray().ToList();
        Assert.Equal(2, attempts.Count);
        Assert.Equal([1, 2], attempts.Select(a => a.GetProperty("attempt").GetInt32()));
        Assert.Equal([500, 200], attempts.Select(a => a.GetProperty("status").GetInt32()));
        var failed = attempts[0].GetProperty("response").GetString()!;
        Assert.StartsWith("upstream down: ", failed, StringComparison.Ordinal);
        Assert.Equal(1024, Encoding.UTF8.GetByteCount(failed));
        Assert.Equal("ok", attempts[1].GetProperty("response").GetString());
        Assert.All(attempts, a => Assert.True(a.GetProperty("durationMs").GetInt64() >= 0));
        Assert.True(attempts[0].GetProperty("at").GetDateTime() <= attempts[1].GetProperty("at").GetDateTime());
        Assert.DoesNotContain(CalDeliveries.AttendeeEmail, detail.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_retrying_event_shows_its_next_attempt_and_last_error()
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite, (_, _, _) => Task.FromResult(503),
            new Dictionary<string, string?> { ["Forwarding:RetrySchedule"] = "1h" });
        var message = await harness.ForwardAsync(CalDeliveries.BookingCreated());

        using var response = await harness.GetAsync("deliveries/" + message.EventId);
        var detail = await DeliveriesHarness.JsonOf(response);

        Assert.Equal("retrying", detail.GetProperty("status").GetString());
        Assert.Equal(503, detail.GetProperty("lastStatus").GetInt32());
        var next = detail.GetProperty("nextAttemptAt").GetDateTime();
        Assert.InRange(next, DateTime.UtcNow.AddMinutes(55), DateTime.UtcNow.AddMinutes(61));
        Assert.False(detail.GetProperty("matched").GetBoolean());
    }

    [Fact]
    public async Task A_dead_letter_shows_its_reason()
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite, (_, _, _) => Task.FromResult(400));
        await harness.Forwarding.AddConnectionAsync("gone", state: CalWebhookFunctions.Connections.ConnectionRecord.States.Removed);
        var rejected = await harness.ForwardAsync(CalDeliveries.BookingCreated(), "someone");
        var removed = await harness.ForwardAsync(CalDeliveries.BookingCreated(), "gone");

        using var rejectedResponse = await harness.GetAsync("deliveries/" + rejected.EventId);
        using var removedResponse = await harness.GetAsync("deliveries/" + removed.EventId);
        var rejectedDetail = await DeliveriesHarness.JsonOf(rejectedResponse);
        var removedDetail = await DeliveriesHarness.JsonOf(removedResponse);

        Assert.Equal("dead_lettered", rejectedDetail.GetProperty("status").GetString());
        Assert.Equal("rejected", rejectedDetail.GetProperty("deadLetterReason").GetString());
        Assert.Equal(400, rejectedDetail.GetProperty("lastStatus").GetInt32());
        Assert.Single(rejectedDetail.GetProperty("attemptLog").EnumerateArray());
        Assert.Equal("dead_lettered", removedDetail.GetProperty("status").GetString());
        Assert.Equal("connection_removed", removedDetail.GetProperty("deadLetterReason").GetString());
        Assert.Empty(removedDetail.GetProperty("attemptLog").EnumerateArray()); // nothing was sent
        Assert.Equal(0, removedDetail.GetProperty("attempts").GetInt32());
        using var list = await harness.GetAsync("deliveries?status=dead_lettered");
        Assert.Equal(2, (await DeliveriesHarness.JsonOf(list)).GetProperty("items").GetArrayLength());
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task The_payload_is_the_exact_bytes_with_the_content_type_Cal_com_sent(string contentType)
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite);
        var body = contentType == "application/json"
            ? CalDeliveries.BookingCreated()
            : Encoding.UTF8.GetBytes("triggerEvent=BOOKING_CREATED&title=Caf%C3%A9+%E2%98%95&attendee=Zo\u00eb&raw=\u00ff\u0001");
        var message = await harness.ForwardAsync(body, null, contentType);

        using var response = await harness.GetAsync($"deliveries/{message.EventId}/payload");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(contentType, response.Content.Headers.ContentType!.ToString());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition!.DispositionType);
    }

    [Fact]
    public async Task A_blob_backed_payload_is_kept_after_delivery_and_served_exactly()
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite);
        var body = CalDeliveries.BookingCreated(padTo: 70 * 1024);
        var message = await harness.ForwardAsync(body);
        Assert.NotNull(message.BodyBlob);

        using var response = await harness.GetAsync($"deliveries/{message.EventId}/payload");

        Assert.Single(harness.Receiver.Deliveries);
        Assert.Equal(body, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, await harness.Forwarding.PayloadBlobCountAsync());
    }

    [Fact]
    public async Task A_payload_no_longer_retained_is_410_payload_expired()
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite);
        var message = await harness.ForwardAsync(CalDeliveries.BookingCreated(padTo: 70 * 1024));
        await harness.App.Get<StorageAccount>().Container(StorageNames.PayloadContainer).DeleteBlobAsync(message.BodyBlob);

        using var payload = await harness.GetAsync($"deliveries/{message.EventId}/payload");
        using var redeliver = await harness.PostAsync($"deliveries/{message.EventId}/redeliver");

        Assert.Equal(HttpStatusCode.Gone, payload.StatusCode);
        Assert.Equal("payload_expired", (await DeliveriesHarness.JsonOf(payload)).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.Gone, redeliver.StatusCode);
        Assert.Equal(0, await harness.Forwarding.QueueLengthAsync(StorageNames.WebhookQueue));
    }

    [Fact]
    public async Task Redelivering_a_delivered_event_sends_it_again_with_the_same_webhook_id_and_logs_the_new_attempt()
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite);
        var message = await harness.ForwardAsync(CalDeliveries.BookingCreated(), "customer-7");
        Assert.Single(harness.Receiver.Deliveries);

        using var response = await harness.PostAsync($"deliveries/{message.EventId}/redeliver");
        var accepted = await DeliveriesHarness.JsonOf(response);
        using var pending = await harness.GetAsync("deliveries/" + message.EventId);
        var pendingStatus = (await DeliveriesHarness.JsonOf(pending)).GetProperty("status").GetString();
        await harness.DrainAsync();
        using var after = await harness.GetAsync("deliveries/" + message.EventId);
        var detail = await DeliveriesHarness.JsonOf(after);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("pending", accepted.GetProperty("status").GetString());
        Assert.Equal("pending", pendingStatus);
        var deliveries = harness.Receiver.Deliveries;
        Assert.Equal(2, deliveries.Count);
        Assert.Equal(deliveries[0].Header("webhook-id"), deliveries[1].Header("webhook-id"));
        Assert.Equal(deliveries[0].Body, deliveries[1].Body);
        Assert.Equal("delivered", detail.GetProperty("status").GetString());
        Assert.Equal(2, detail.GetProperty("attempts").GetInt32());
        Assert.Equal([1, 2], detail.GetProperty("attemptLog").EnumerateArray().Select(a => a.GetProperty("attempt").GetInt32()));
    }

    [Fact]
    public async Task A_redelivery_handed_over_twice_is_sent_once()
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite);
        var message = await harness.ForwardAsync(CalDeliveries.BookingCreated());
        using var response = await harness.PostAsync($"deliveries/{message.EventId}/redeliver");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        // The same redelivery message twice, as when the host hands a message over again.
        var queue = harness.App.Get<StorageAccount>().Queue(StorageNames.WebhookQueue);
        var copy = (await queue.PeekMessageAsync()).Value;
        await queue.SendMessageAsync(copy.Body);

        await harness.DrainAsync();

        Assert.Equal(2, harness.Receiver.Deliveries.Count); // the first delivery and one redelivery
    }
}
