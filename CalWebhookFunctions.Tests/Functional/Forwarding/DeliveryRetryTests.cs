using System.Globalization;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace CalWebhookFunctions.Tests.Functional.Forwarding;

/// <summary>Retries by re-enqueueing, dead letters, Retry-After, timeouts and redirects, against a real receiving app.</summary>
public class DeliveryRetryTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task A_500_then_a_200_makes_one_delivery_with_the_same_webhook_id()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite,
            respond: (_, _, before) => Task.FromResult(before == 0 ? 500 : 200));

        await harness.EnqueueAsync(CalDeliveries.BookingCreated(), null);
        var run = await harness.DrainAsync();

        Assert.Equal(2, harness.Receiver.Requests.Count);
        Assert.Equal([500, 200], harness.Receiver.Requests.Select(r => r.Status));
        Assert.Single(harness.Receiver.Deliveries);
        Assert.Single(harness.Receiver.Requests.Select(r => r.Header("webhook-id")).Distinct());
        Assert.Equal(2, run.Invocations); // the original message, then the re-enqueued copy
        Assert.Equal(0, run.Failures); // retrying is not failing: the function returned both times
        Assert.Empty(await harness.DeadLetterTextsAsync());
        Assert.True(run.Drained);
    }

    [Fact]
    public async Task A_400_is_dead_lettered_at_once_with_its_status_and_attempt_count()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite, respond: (_, _, _) => Task.FromResult(400));

        var stored = await harness.EnqueueAsync(CalDeliveries.BookingCreated(), null);
        await harness.DrainAsync();

        Assert.Single(harness.Receiver.Requests);
        var deadLetter = Assert.Single(await harness.DeadLettersAsync());
        Assert.Equal(stored.EventId, deadLetter.EventId);
        Assert.Equal(stored.Body, deadLetter.Body);
        Assert.Equal(1, deadLetter.Attempts);
        Assert.Equal("rejected", deadLetter.DeadLetter!.Reason);
        Assert.Equal(400, deadLetter.DeadLetter.LastStatus);
        Assert.Equal(0, await harness.QueueLengthAsync(StorageNames.WebhookQueue));
    }

    [Fact]
    public async Task Failures_past_the_schedule_are_dead_lettered_with_the_last_error_and_keep_their_blob()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite, respond: (_, _, _) => Task.FromResult(502),
            settings: new Dictionary<string, string?> { ["Forwarding:RetrySchedule"] = "10ms,10ms" });

        await harness.EnqueueAsync(CalDeliveries.BookingCreated(padTo: 100 * 1024), null);
        await harness.DrainAsync();

        Assert.Equal(3, harness.Receiver.Requests.Count);
        var deadLetter = Assert.Single(await harness.DeadLettersAsync());
        Assert.Equal(3, deadLetter.Attempts);
        Assert.Equal("retries_exhausted", deadLetter.DeadLetter!.Reason);
        Assert.Equal(502, deadLetter.DeadLetter.LastStatus);
        Assert.NotNull(deadLetter.BodyBlob);
        Assert.Equal(1, await harness.PayloadBlobCountAsync()); // kept for replay
    }

    [Fact]
    public async Task A_429_retry_after_in_seconds_is_honoured_over_a_shorter_schedule()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite, respond: (context, _, before) =>
        {
            if (before > 0)
            {
                return Task.FromResult(200);
            }
            context.Response.Headers.RetryAfter = "2";
            return Task.FromResult(429);
        });

        await harness.EnqueueAsync(CalDeliveries.BookingCreated(), null);
        await harness.DrainAsync();

        var requests = harness.Receiver.Requests;
        Assert.Equal([429, 200], requests.Select(r => r.Status));
        var gap = requests[1].At - requests[0].At;
        Assert.True(gap >= TimeSpan.FromSeconds(1.9), $"retried after {gap}, before Retry-After's 2 s");
    }

    [Fact]
    public async Task A_429_retry_after_as_an_http_date_is_honoured()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite, respond: (context, _, before) =>
        {
            if (before > 0)
            {
                return Task.FromResult(200);
            }
            context.Response.Headers.RetryAfter = DateTimeOffset.UtcNow.AddSeconds(3).ToString("r", CultureInfo.InvariantCulture);
            return Task.FromResult(429);
        });

        await harness.EnqueueAsync(CalDeliveries.BookingCreated(), null);
        await harness.DrainAsync();

        var requests = harness.Receiver.Requests;
        Assert.Equal([429, 200], requests.Select(r => r.Status));
        Assert.True(requests[1].At - requests[0].At >= TimeSpan.FromSeconds(1.9), $"retried after {requests[1].At - requests[0].At}");
    }

    [Fact]
    public async Task An_attempt_that_times_out_is_retried_and_delivered_once()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite, respond: async (context, _, before) =>
        {
            if (before == 0)
            {
                // Longer than Forwarding__TimeoutSeconds; ends early when the forwarder gives up and hangs up.
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                }
                return 200;
            }
            return 200;
        }, settings: new Dictionary<string, string?> { ["Forwarding:TimeoutSeconds"] = "1" });

        await harness.EnqueueAsync(CalDeliveries.BookingCreated(), null);
        var run = await harness.DrainAsync();

        Assert.Equal(2, run.Invocations);
        Assert.Contains("timeout after 1 s", harness.App.Logs.AllText, StringComparison.Ordinal);
        Assert.Contains(harness.App.Logs.Lines, l => l.Contains("Forwarded event", StringComparison.Ordinal) && l.Contains("attempt 2", StringComparison.Ordinal));
        Assert.Empty(await harness.DeadLetterTextsAsync());
    }

    [Fact]
    public async Task A_refused_connection_is_retried_as_a_network_error()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite,
            settings: new Dictionary<string, string?> { ["Forwarding:Url"] = "http://127.0.0.1:9/closed", ["Forwarding:RetrySchedule"] = "10ms" });

        await harness.EnqueueAsync(CalDeliveries.BookingCreated(), null);
        await harness.DrainAsync();

        var deadLetter = Assert.Single(await harness.DeadLettersAsync());
        Assert.Equal(2, deadLetter.Attempts);
        Assert.Equal("retries_exhausted", deadLetter.DeadLetter!.Reason);
        Assert.Null(deadLetter.DeadLetter.LastStatus);
        Assert.StartsWith("network:", deadLetter.DeadLetter.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_redirect_is_not_followed_and_is_dead_lettered()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite, respond: (context, _, _) =>
        {
            if (context.Request.Path == "/elsewhere")
            {
                return Task.FromResult(200);
            }
            context.Response.Headers.Location = "/elsewhere";
            return Task.FromResult(StatusCodes.Status307TemporaryRedirect);
        });

        await harness.EnqueueAsync(CalDeliveries.BookingCreated(), null);
        await harness.DrainAsync();

        var only = Assert.Single(harness.Receiver.Requests);
        Assert.Equal("/hooks/cal", only.Path);
        var deadLetter = Assert.Single(await harness.DeadLettersAsync());
        Assert.Equal(307, deadLetter.DeadLetter!.LastStatus);
    }
}
