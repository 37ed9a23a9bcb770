using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Forwarding;

/// <summary>
/// <c>Forwarding__MaxConcurrentPerTarget</c>: a slow app (its answers held until the test lets them go) gets at most that
/// many forwards at once, and the host's other slots keep delivering to everyone else.
/// </summary>
public class PerTargetConcurrencyTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task A_slow_target_takes_at_most_its_cap_of_slots_and_another_targets_deliveries_go_through()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slowNow = 0;
        var slowMost = 0;
        await using var harness = await ForwardingHarness.StartAsync(azurite, async (context, _, _) =>
        {
            if (context.Request.Path.StartsWithSegments("/slow"))
            {
                var now = Interlocked.Increment(ref slowNow);
                InterlockedMax(ref slowMost, now);
                await release.Task;
                Interlocked.Decrement(ref slowNow);
            }
            return 200;
        }, new Dictionary<string, string?>
        {
            ["Forwarding:MaxConcurrentPerTarget"] = "2",
            ["Forwarding:TimeoutSeconds"] = "300", // the held answers are not timeouts
        });
        await harness.AddConnectionAsync("slow-app", harness.Receiver.UrlFor("slow").ToString());
        await harness.AddConnectionAsync("fast-app", harness.Receiver.UrlFor("fast").ToString());
        for (var i = 0; i < 6; i++)
        {
            await harness.EnqueueAsync(CalDeliveries.BookingCreated(padTo: 1_000 + i), "slow-app");
        }
        for (var i = 0; i < 4; i++)
        {
            await harness.EnqueueAsync(CalDeliveries.BookingCreated(padTo: 2_000 + i), "fast-app");
        }
        // The host gives this instance four slots (batches of 2, the next batch when 2 or fewer run): without the cap
        // the slow app's first four events would take all of them.
        var host = new QueueHost(harness.App.Services, harness.ConnectionString,
            QueueSettings.FromHostJson() with { BatchSize = 2, NewBatchThreshold = 2 });
        using var stop = new CancellationTokenSource();
        var run = host.RunAsync(StorageNames.WebhookQueue, TimeSpan.FromMinutes(3), stop.Token);

        var fastDelivered = await Eventually.HoldsAsync(() => Delivered(harness, "/fast") == 4 || run.IsCompleted, TimeSpan.FromSeconds(90));
        var slowMostWhileHeld = Volatile.Read(ref slowMost);
        var fastWhileHeld = Delivered(harness, "/fast");
        release.SetResult();
        var report = await run;

        Assert.True(fastDelivered && fastWhileHeld == 4, $"the fast app got {fastWhileHeld} of 4 while the slow one held its answers");
        Assert.Equal(2, slowMostWhileHeld);
        Assert.True(report.Drained);
        Assert.Equal((0, 0), (report.Failures, report.Poisoned));
        Assert.Equal(6, harness.Receiver.Deliveries.Where(d => d.Path.StartsWith("/slow", StringComparison.Ordinal))
            .Select(d => d.Header("webhook-id")).Distinct().Count());
        Assert.Equal(10, harness.Receiver.Requests.Count); // every event sent once: no attempt was spent on a bounce
        Assert.Empty(await harness.DeadLettersAsync());
    }

    private static int Delivered(ForwardingHarness harness, string path) =>
        harness.Receiver.Deliveries.Count(d => d.Path.StartsWith(path, StringComparison.Ordinal));

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
