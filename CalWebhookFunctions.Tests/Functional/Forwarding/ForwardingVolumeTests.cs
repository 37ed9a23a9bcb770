using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace CalWebhookFunctions.Tests.Functional.Forwarding;

/// <summary>The whole path under load: receive (HTTP) → queue → forward (queue trigger) against a flaky app.</summary>
public class ForwardingVolumeTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const int Events = 1000;

    [Fact]
    public async Task A_thousand_events_through_a_receiver_failing_20_percent_are_each_delivered_exactly_once()
    {
        var random = new Random(20261126);
        var failures = 0;
        await using var harness = await ForwardingHarness.StartAsync(azurite, respond: (_, _, _) =>
        {
            bool fail;
            lock (random)
            {
                fail = random.NextDouble() < 0.2;
            }
            if (fail)
            {
                Interlocked.Increment(ref failures);
            }
            return Task.FromResult(fail ? 500 : 200);
        }, settings: new Dictionary<string, string?>
        {
            // Milliseconds, so retries are due at once; 13 attempts make exhausting them a one-in-a-billion event.
            ["Forwarding:RetrySchedule"] = string.Join(',', Enumerable.Repeat("10ms", 12)),
        });
        await harness.AddConnectionAsync("tenant-0");
        await harness.AddConnectionAsync("tenant-1");
        await using var functions = await FunctionsHost.StartAsync(harness.App.Services);
        using var client = functions.CreateClient();

        var bodies = Enumerable.Range(0, Events)
            .Select(i => Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(CalDeliveries.BookingCreated()).Replace("bk_9f8e7d", $"bk_{i:D5}", StringComparison.Ordinal)))
            .ToArray();
        var receive = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, Events), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            using var request = CalDeliveries.Post(bodies[i], TestApp.WebhookSecret, query: i % 4 == 3 ? null : $"nangoConnectionId=tenant-{i % 4}");
            using var response = await client.SendAsync(request, ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        });
        receive.Stop();

        var run = await harness.DrainAsync(TimeSpan.FromMinutes(3));
        output.WriteLine($"receive: {receive.Elapsed}; forward: {run.Elapsed} ({run.Invocations} invocations, " +
                         $"{harness.Receiver.Requests.Count} attempts, {failures} answered 500)");

        Assert.True(run.Drained, "the queue was not drained in time");
        Assert.Equal(0, run.Failures);
        var deliveries = harness.Receiver.Deliveries;
        Assert.Equal(Events, deliveries.Count);
        Assert.Equal(Events, deliveries.Select(d => d.Header("webhook-id")).Distinct().Count());
        var payloads = deliveries.Select(d => PayloadOf(d.Body)).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(bodies.Select(b => Encoding.UTF8.GetString(b)).ToHashSet(StringComparer.Ordinal), payloads);
        Assert.InRange(failures, Events / 10, Events / 2);
        Assert.Equal(Events + failures, harness.Receiver.Requests.Count);
        Assert.Equal(0, await harness.QueueLengthAsync(StorageNames.WebhookQueue));
        Assert.Empty(await harness.DeadLetterTextsAsync());
        Assert.Equal(0, await harness.PayloadBlobCountAsync());
        var connections = new ConcurrentBag<string?>(deliveries.Select(d =>
            JsonDocument.Parse(d.Body).RootElement.TryGetProperty("connectionId", out var c) ? c.GetString() : null));
        Assert.Equal(Events / 4, connections.Count(c => c == "tenant-0"));
        Assert.Equal(Events / 4, connections.Count(c => c == "tenant-1"));
        Assert.Equal(Events / 2, connections.Count(c => c is null)); // tenant-2 is unmatched; every fourth names none
    }

    /// <summary>The payload bytes of an envelope, as text (they are the last value, before the closing brace).</summary>
    private static string PayloadOf(byte[] envelope)
    {
        var text = Encoding.UTF8.GetString(envelope);
        var at = text.IndexOf("\"payload\":", StringComparison.Ordinal) + "\"payload\":".Length;
        return text[at..^1];
    }
}
