using System.Text.Json;
using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Operations.Alerts;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CalWebhookFunctions.Tests.Functional.Forwarding;

/// <summary>
/// Failing endpoints: after <c>Forwarding__BreakerFailures</c> consecutive retryable failures a target's events are held,
/// not attempted; one probe goes per <c>Forwarding__BreakerProbeSeconds</c>; the first success releases them. Real
/// Azurite and a real receiving app; the breaker's clock is a fake one the test moves, so each probe is let through by
/// the test, not by timing (held events come back every second of real time and find the probe not yet due).
/// </summary>
public class TargetBreakerTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string AlertsSecret = "whsec_QWxlcnRzU2VjcmV0Rm9yVGVzdHNPbmx5MTIzNDU2";

    private sealed class Setup(ForwardingHarness harness, FakeTimeProvider clock) : IAsyncDisposable
    {
        public ForwardingHarness Harness => harness;
        public FakeTimeProvider Clock => clock;
        public volatile bool Healthy;

        public int Attempts => harness.Receiver.Requests.Count(r => r.Path.StartsWith("/app", StringComparison.Ordinal));

        public int Holds => CountOf(harness.App.Logs.AllText, "held (target_failing");

        public Uri Target => harness.Receiver.UrlFor("app");

        /// <summary>The breaker as another instance of the app has it: same storage and clock, its own memory.</summary>
        public TargetBreaker NewInstance() => new(harness.App.Get<StorageAccount>(), harness.App.Get<BreakerAlerts>(),
            harness.App.Get<IOptions<CalWebhookFunctions.Configuration.ForwardingOptions>>(), clock);

        public ValueTask DisposeAsync() => harness.DisposeAsync();
    }

    /// <summary>An app at /app that answers 503 until the test makes it healthy; threshold 3, probe every second.</summary>
    private async Task<Setup> StartAsync(int eventCount, string maxHoldHours = "72")
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        Setup? setup = null;
        var harness = await ForwardingHarness.StartAsync(azurite,
            respond: (context, _, _) => Task.FromResult(context.Request.Path.StartsWithSegments("/app") && setup?.Healthy != true ? 503 : 200),
            settings: new Dictionary<string, string?>
            {
                [TestApp.BreakerFailuresKey] = "3",
                ["Forwarding:BreakerProbeSeconds"] = "1",
                ["Forwarding:MaxHoldHours"] = maxHoldHours,
                ["Forwarding:RetrySchedule"] = "10ms,10ms,10ms", // 4 attempts: without the breaker every event is dead-lettered in a second
                ["Alerts:Url"] = "http://127.0.0.1:1/alerts",
                ["Alerts:SigningSecret"] = AlertsSecret,
            },
            configureServices: services => services.AddSingleton<TimeProvider>(clock));
        setup = new Setup(harness, clock);
        await harness.AddConnectionAsync("conn-failing", harness.Receiver.UrlFor("app").ToString());
        for (var i = 0; i < eventCount; i++)
        {
            await harness.EnqueueAsync(CalDeliveries.BookingCreated(padTo: 1_000 + i), "conn-failing");
        }
        return setup;
    }

    /// <summary>One invocation at a time, as a host with one slot: the order of attempts is the order of the queue.</summary>
    private static Task<QueueRunReport> RunHost(Setup setup, CancellationToken stop) =>
        new QueueHost(setup.Harness.App.Services, setup.Harness.ConnectionString,
                QueueSettings.FromHostJson() with { BatchSize = 1, NewBatchThreshold = 0 })
            .RunAsync(StorageNames.WebhookQueue, TimeSpan.FromMinutes(3), stop);

    private static async Task<List<string>> AlertTypesQueuedAsync(ForwardingHarness harness)
    {
        await harness.App.Get<Alerts>().FlushAsync();
        var queue = harness.App.Get<StorageAccount>().Queue(StorageNames.AlertsQueue);
        if (!(await queue.ExistsAsync()).Value)
        {
            return [];
        }
        return [.. (await queue.PeekMessagesAsync(32)).Value.Select(m => JsonDocument.Parse(m.Body.ToString()).RootElement.GetProperty("type").GetString()!)];
    }

    [Fact]
    public async Task A_failing_target_holds_its_events_lets_one_probe_through_per_interval_and_delivers_everything_once_after_the_first_success()
    {
        await using var setup = await StartAsync(eventCount: 6);
        using var stop = new CancellationTokenSource();
        var run = RunHost(setup, stop.Token);

        // Three consecutive failures open the breaker, and its first probe goes right away (and fails); from then on
        // nothing is attempted while the clock stands still.
        Assert.True(await Eventually.HoldsAsync(() => setup.Holds >= 8, TimeSpan.FromSeconds(60)), "events were not held");
        Assert.Equal(4, setup.Attempts);
        var holdsBeforeProbe = setup.Holds;

        // A probe interval passes: exactly one event goes (and fails), the rest stay held.
        setup.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await Eventually.HoldsAsync(() => setup.Attempts == 5, TimeSpan.FromSeconds(60)), "no probe went");
        Assert.True(await Eventually.HoldsAsync(() => setup.Holds >= holdsBeforeProbe + 8, TimeSpan.FromSeconds(60)), "events were not held again");
        Assert.Equal(5, setup.Attempts);

        // Two more failing probes: more attempts than the retry schedule allows one event, and nothing is dead-lettered.
        for (var probe = 6; probe <= 7; probe++)
        {
            setup.Clock.Advance(TimeSpan.FromSeconds(1));
            var expected = probe;
            Assert.True(await Eventually.HoldsAsync(() => setup.Attempts == expected, TimeSpan.FromSeconds(60)), $"probe {probe} did not go");
        }
        Assert.Empty(await setup.Harness.DeadLettersAsync());

        // The app recovers; the next probe succeeds and releases every held event.
        setup.Healthy = true;
        setup.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await Eventually.HoldsAsync(() => setup.Harness.Receiver.Deliveries.Count(d => d.Path.StartsWith("/app", StringComparison.Ordinal)) == 6,
            TimeSpan.FromSeconds(90)), "the held events were not all delivered after recovery");
        await stop.CancelAsync();
        await run;

        var delivered = setup.Harness.Receiver.Deliveries.Where(d => d.Path.StartsWith("/app", StringComparison.Ordinal)).ToList();
        Assert.Equal(6, delivered.Select(d => d.Header("webhook-id")).Distinct().Count()); // each once
        Assert.Empty(await setup.Harness.DeadLettersAsync());
        Assert.Equal(13, setup.Attempts); // 3 failures that opened it, 4 failed probes (the first right away), 6 deliveries
        var alerts = await AlertTypesQueuedAsync(setup.Harness);
        Assert.Equal(1, alerts.Count(t => t == AlertTypes.EndpointFailing));
        Assert.Equal(1, alerts.Count(t => t == AlertTypes.EndpointRecovered));
    }

    [Fact]
    public async Task Events_held_longer_than_MaxHoldHours_are_dead_lettered_retries_exhausted()
    {
        await using var setup = await StartAsync(eventCount: 4, maxHoldHours: "1");
        using var stop = new CancellationTokenSource();
        var run = RunHost(setup, stop.Token);
        Assert.True(await Eventually.HoldsAsync(() => setup.Holds >= 8, TimeSpan.FromSeconds(60)), "events were not held");
        Assert.Empty(await setup.Harness.DeadLettersAsync());

        setup.Clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(1));
        Assert.True(await Eventually.HoldsAsync(async () => (await setup.Harness.DeadLettersAsync()).Count == 4, TimeSpan.FromSeconds(60)),
            "held events were not dead-lettered after Forwarding__MaxHoldHours");
        await stop.CancelAsync();
        await run;

        var deadLetters = await setup.Harness.DeadLettersAsync();
        Assert.All(deadLetters, d => Assert.Equal("retries_exhausted", d.DeadLetter!.Reason));
        Assert.Contains(deadLetters, d => d.DeadLetter!.LastError!.Contains("held (target_failing)", StringComparison.Ordinal));
        Assert.True(setup.Attempts <= 5, $"{setup.Attempts} attempts: 3 to open the breaker, its first probe and at most one more");
    }

    [Fact]
    public async Task A_probe_that_fails_on_its_events_last_scheduled_attempt_keeps_the_event_rather_than_dead_lettering_it()
    {
        await using var setup = await StartAsync(eventCount: 0);
        var breaker = setup.Harness.App.Get<TargetBreaker>();
        var target = setup.Harness.Receiver.UrlFor("app");
        for (var i = 0; i < 3; i++)
        {
            await breaker.RecordAsync(target, AttemptResult.Answered(503)); // open
        }
        setup.Clock.Advance(TimeSpan.FromSeconds(1)); // the probe is due
        var last = ForwardingHarness.NewEvent(CalDeliveries.BookingCreated(), "conn-failing") with { Attempts = 3 }; // 4th of 4 attempts

        var outcome = await setup.Harness.App.Get<WebhookForwarder>().ProcessAsync(PendingWebhooks.Serialize(last), default);

        Assert.Equal(ForwardOutcome.RetryScheduled, outcome);
        Assert.Equal(1, setup.Attempts); // it was the probe, and it failed
        Assert.Empty(await setup.Harness.DeadLettersAsync());
        Assert.Equal(1, await setup.Harness.QueueLengthAsync(StorageNames.WebhookQueue)); // its copy waits, to be held
    }

    [Fact]
    public async Task An_instance_that_counts_the_failures_opens_the_breaker_for_all_of_them_and_only_one_takes_each_probe()
    {
        await using var setup = await StartAsync(eventCount: 0);
        var target = setup.Target;
        TargetBreaker Instance() => setup.NewInstance();
        var a = Instance();
        var b = Instance();
        var failure = AttemptResult.Answered(503);

        await a.RecordAsync(target, failure);
        await a.RecordAsync(target, failure);
        await b.RecordAsync(target, failure);
        Assert.Equal(Admission.Go, await b.AdmitAsync(target)); // two of three on a, one on b: each instance counts its own run
        await a.RecordAsync(target, failure); // a's third in a row: open, for everyone

        // Two more instances read it. Its first probe is due at once: one takes it, the other's conditional write loses and
        // it holds. The next probe falls due after the interval, while both still trust their view of the row: again one.
        var c = Instance();
        var d = Instance();
        Assert.Equal((Admission.Probe, Admission.Hold), (await c.AdmitAsync(target), await d.AdmitAsync(target)));
        await c.RecordAsync(target, failure); // the first probe failed
        Assert.Equal((Admission.Hold, Admission.Hold), (await c.AdmitAsync(target), await d.AdmitAsync(target)));
        setup.Clock.Advance(TimeSpan.FromSeconds(1));
        var first = await c.AdmitAsync(target);
        var second = await d.AdmitAsync(target);
        Assert.Equal((Admission.Probe, Admission.Hold), (first, second));

        await c.RecordAsync(target, AttemptResult.Answered(200)); // the probe succeeded: closed for everyone
        Assert.Equal(Admission.Go, await d.AdmitAsync(target));
        Assert.Equal(Admission.Go, await Instance().AdmitAsync(target));
        var alerts = await AlertTypesQueuedAsync(setup.Harness);
        Assert.Equal([AlertTypes.EndpointFailing, AlertTypes.EndpointRecovered], alerts);
    }

    [Fact]
    public async Task A_success_ends_a_run_of_failures_and_a_run_broken_by_a_success_on_another_instance_does_not_reopen_the_breaker()
    {
        await using var setup = await StartAsync(eventCount: 0);
        var target = setup.Target;
        TargetBreaker Instance() => setup.NewInstance();
        var a = Instance();
        var b = Instance();
        var failure = AttemptResult.Answered(503);

        // 20 % failures in this order: never three in a row, so never open (the random 20 % of a load test).
        foreach (var status in new[] { 503, 503, 200, 503, 200, 200, 503, 503, 200, 200 })
        {
            await a.RecordAsync(target, AttemptResult.Answered(status));
        }
        Assert.Equal(Admission.Go, await Instance().AdmitAsync(target));

        // a opens it; b's probe succeeds and closes it; a's run ended there, so a's next failure starts a new run.
        await a.RecordAsync(target, failure);
        await a.RecordAsync(target, failure);
        await a.RecordAsync(target, failure);
        Assert.Equal(Admission.Probe, await b.AdmitAsync(target));
        setup.Clock.Advance(TimeSpan.FromMilliseconds(10));
        await b.RecordAsync(target, AttemptResult.Answered(200));
        setup.Clock.Advance(TimeSpan.FromSeconds(6)); // past a's refresh interval: a reads the row as b left it
        await a.RecordAsync(target, failure);
        await a.RecordAsync(target, failure);
        Assert.Equal(Admission.Go, await Instance().AdmitAsync(target));
        await a.RecordAsync(target, failure); // now three in a row since the close: open again
        Assert.Equal(Admission.Probe, await Instance().AdmitAsync(target));
        // Opened twice, closed once (the second endpoint.failing alert falls under the alerts' rate limit; the log has both).
        var transitions = setup.Harness.App.Logs.Entries.Where(e => e.Category == typeof(BreakerAlerts).FullName).Select(e => e.EventId.Id).ToList();
        Assert.Equal([3210, 3211, 3210], transitions); // failing, recovered, failing
    }

    [Fact]
    public async Task A_probes_success_closes_the_breaker_even_when_another_event_on_the_instance_lost_the_race_for_that_probe_after_it()
    {
        // The loser's answer (412: the winner moved the probe on first) is held until the winner has taken the probe.
        var lostRace = new StorageGate(holdAnswer: m => IsBreakerRow(m) && m.Request.Method == Azure.Core.RequestMethod.Put && m.Response.Status == 412);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var harness = await ForwardingHarness.StartAsync(azurite, settings: new Dictionary<string, string?> { [TestApp.BreakerFailuresKey] = "3" },
            configureServices: services =>
            {
                services.AddSingleton<TimeProvider>(clock);
                services.AddSingleton(StorageFaults.Account(azurite.ConnectionString, tables: lostRace));
            });
        var breaker = harness.App.Get<TargetBreaker>();
        var target = harness.Receiver.UrlFor("app");
        for (var i = 0; i < 3; i++)
        {
            await breaker.RecordAsync(target, AttemptResult.Answered(503)); // open; its first probe is due at once
        }

        var one = breaker.AdmitAsync(target).AsTask();
        var other = breaker.AdmitAsync(target).AsTask(); // same view, same ETag: both try to take the probe
        await lostRace.Held;
        var winner = await Task.WhenAny(one, other);
        Assert.Equal(Admission.Probe, await winner);
        lostRace.Release(); // now the loser learns it lost, after the winner took the probe
        Assert.Equal(Admission.Hold, await (winner == one ? other : one));

        await breaker.RecordAsync(target, AttemptResult.Answered(200)); // the probe succeeded

        Assert.Equal(Admission.Go, await breaker.AdmitAsync(target));
        Assert.Equal(Admission.Go, await new TargetBreaker(harness.App.Get<StorageAccount>(), harness.App.Get<BreakerAlerts>(),
            harness.App.Get<IOptions<CalWebhookFunctions.Configuration.ForwardingOptions>>(), clock).AdmitAsync(target)); // closed in storage too
    }

    [Fact]
    public async Task Outcomes_count_in_the_order_the_app_answered_not_the_order_their_retry_copies_were_stored()
    {
        // Answers: 503, 200, 503. The first failure's retry copy is held in storage until after the other two are settled:
        // counted when stored, the two failures would be "consecutive" (the success counted before both) and open the breaker.
        var retryCopy = new StorageGate(hold: m => m.Request.Method == Azure.Core.RequestMethod.Post
            && m.Request.Uri.Path.EndsWith($"/{StorageNames.WebhookQueue}/messages", StringComparison.Ordinal));
        var answered = 0;
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var harness = await ForwardingHarness.StartAsync(azurite,
            respond: (_, _, _) => Task.FromResult(Interlocked.Increment(ref answered) == 2 ? 200 : 503),
            settings: new Dictionary<string, string?> { [TestApp.BreakerFailuresKey] = "2" },
            configureServices: services =>
            {
                services.AddSingleton<TimeProvider>(clock);
                services.AddSingleton(StorageFaults.Account(azurite.ConnectionString, queues: retryCopy, rawQueues: retryCopy));
            });
        var forwarder = harness.App.Get<WebhookForwarder>();
        Task<ForwardOutcome> Forward(int pad) =>
            forwarder.ProcessAsync(PendingWebhooks.Serialize(ForwardingHarness.NewEvent(CalDeliveries.BookingCreated(padTo: pad), null)), default);

        var first = Forward(1_000);
        await retryCopy.Held; // answered 503; its retry copy not yet stored
        Assert.Equal(ForwardOutcome.Delivered, await Forward(2_000));
        var third = Forward(3_000); // answered 503; its copy waits behind the held one
        Assert.True(await Eventually.HoldsAsync(() => Volatile.Read(ref answered) == 3, TimeSpan.FromSeconds(30)), "the third event was not sent");
        retryCopy.Release();
        Assert.Equal((ForwardOutcome.RetryScheduled, ForwardOutcome.RetryScheduled), (await first, await third));

        Assert.Equal(Admission.Go, await harness.App.Get<TargetBreaker>().AdmitAsync(harness.Receiver.Url));
        Assert.DoesNotContain(harness.App.Logs.Entries, e => e.EventId.Id == 3210);
    }

    [Fact]
    public async Task A_healthy_target_costs_one_breaker_read_per_refresh_interval_and_no_write()
    {
        var reads = 0;
        var writes = 0;
        var counter = new StorageGate(before: m =>
        {
            if (IsBreakerRow(m))
            {
                if (m.Request.Method.Method == "GET")
                {
                    Interlocked.Increment(ref reads);
                }
                else
                {
                    Interlocked.Increment(ref writes);
                }
            }
            return false;
        });
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var harness = await ForwardingHarness.StartAsync(azurite, settings: new Dictionary<string, string?> { [TestApp.BreakerFailuresKey] = "3" },
            configureServices: services =>
            {
                services.AddSingleton<TimeProvider>(clock);
                services.AddSingleton(StorageFaults.Account(azurite.ConnectionString, tables: counter));
            });
        for (var i = 0; i < 20; i++)
        {
            await harness.EnqueueAsync(CalDeliveries.BookingCreated(padTo: 1_000 + i), null);
        }
        var report = await harness.DrainAsync();

        Assert.True(report.Drained);
        Assert.Equal(20, harness.Receiver.Deliveries.Count);
        Assert.Equal(0, Volatile.Read(ref writes));
        Assert.Equal(1, Volatile.Read(ref reads)); // one read for 20 forwards, 16 at once: the clock never passed the refresh interval
    }

    [Fact]
    public async Task When_the_breaker_cannot_be_read_events_go_on_rather_than_being_held()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var breakerDown = new Outage(IsBreakerRow);
        await using var harness = await ForwardingHarness.StartAsync(azurite, settings: new Dictionary<string, string?> { [TestApp.BreakerFailuresKey] = "1" },
            configureServices: services =>
            {
                services.AddSingleton<TimeProvider>(clock);
                services.AddSingleton(StorageFaults.Account(azurite.ConnectionString, tables: breakerDown));
            });
        var breaker = harness.App.Get<TargetBreaker>();
        var target = harness.Receiver.UrlFor("app");

        await breaker.RecordAsync(target, AttemptResult.Answered(503)); // would open at threshold 1, but cannot be written

        Assert.Equal(Admission.Go, await breaker.AdmitAsync(target));
        Assert.True(breakerDown.Failed > 0);
        Assert.Contains("could not be counted in its breaker row", harness.App.Logs.AllText, StringComparison.Ordinal);
    }

    private static bool IsBreakerRow(Azure.Core.HttpMessage message) =>
        Uri.UnescapeDataString(message.Request.Uri.ToString()).Contains("PartitionKey='breaker'", StringComparison.Ordinal);

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }
}
