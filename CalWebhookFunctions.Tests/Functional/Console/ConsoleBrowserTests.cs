using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Console;

/// <summary>
/// The operator console in a real browser (Debian's Chromium driven by playwright-core) against the app on loopback
/// with real Azurite. Every scenario also fails when the page requests anything outside the app's origin, when a script
/// error or CSP violation happens, or when a browser dialog opens.
/// </summary>
public class ConsoleBrowserTests(ConsoleSite site) : IClassFixture<ConsoleSite>
{
    [Fact]
    public async Task Signing_in_a_wrong_key_says_so_and_the_right_key_typed_by_keyboard_opens_the_console()
    {
        var run = await site.BrowseAsync("sign-in");

        run.AssertPassed();
        Assert.Contains("ok: a wrong key is refused in words", run.Output, StringComparison.Ordinal);
        Assert.Contains("ok: the key is kept in sessionStorage only", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_accepted_event_shows_in_the_delivery_log_and_its_page_shows_its_attempts()
    {
        var connection = "console-log-" + Guid.NewGuid().ToString("N")[..6];
        await site.PutConnectionAsync(connection);
        var sent = await site.SendAsync(connection);
        await site.ForwardsOfAsync(sent, 1, status: 200);

        var run = await site.BrowseAsync("event-log", new { connectionId = connection, eventId = sent.EventId });

        run.AssertPassed();
        Assert.Contains($"ok: the accepted event {sent.EventId} is in the delivery log", run.Output, StringComparison.Ordinal);
        Assert.Contains("ok: its page shows attempt 1 answered HTTP 200", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Redelivering_after_confirmation_sends_the_event_again_and_shows_the_new_attempt()
    {
        var connection = "console-again-" + Guid.NewGuid().ToString("N")[..6];
        await site.PutConnectionAsync(connection);
        var sent = await site.SendAsync(connection);
        var first = Assert.Single(await site.ForwardsOfAsync(sent, 1, status: 200));

        var run = await site.BrowseAsync("redeliver", new { eventId = sent.EventId });

        run.AssertPassed();
        var forwards = await site.ForwardsOfAsync(sent, 2, status: 200);
        Assert.Equal(first.Header("webhook-id"), forwards[1].Header("webhook-id"));
    }

    [Fact]
    public async Task A_dead_letter_is_replayed_only_after_its_dry_run_count_is_shown_and_confirmed()
    {
        var connection = "console-dead-" + Guid.NewGuid().ToString("N")[..6];
        await site.PutConnectionAsync(connection);
        site.Rejecting = true;
        var sent = await site.SendAsync(connection, ConsoleSite.RejectMarker);
        await site.ForwardsOfAsync(sent, 1, status: 400);
        site.Rejecting = false;

        var run = await site.BrowseAsync("replay", new { connectionId = connection, eventId = sent.EventId });

        run.AssertPassed();
        Assert.Contains("ok: the dry run's count is shown first: \"1 dead letter ", run.Output, StringComparison.Ordinal);
        Assert.Contains("ok: the count moved nothing (still dead_lettered)", run.Output, StringComparison.Ordinal);
        await site.ForwardsOfAsync(sent, 1, status: 200);
    }

    [Fact]
    public async Task A_connection_is_paused_and_resumed_from_its_card()
    {
        var connection = "console/pause " + Guid.NewGuid().ToString("N")[..6];
        await site.PutConnectionAsync(connection);

        var run = await site.BrowseAsync("pause-resume", new { connectionId = connection });

        run.AssertPassed();
        Assert.Contains("ok: after Pause the app shows the connection paused", run.Output, StringComparison.Ordinal);
        Assert.Contains("ok: after Resume it is no longer paused", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_payload_holding_markup_is_shown_as_text_and_no_script_from_it_runs()
    {
        var connection = "console-xss-" + Guid.NewGuid().ToString("N")[..6];
        var sent = await site.SendAsync(connection, "<script>window.__xss = 1</script><img src=x onerror=window.__xss=2>");
        await site.ForwardsOfAsync(sent, 1);

        var run = await site.BrowseAsync("script-payload", new { eventId = sent.EventId });

        run.AssertPassed();
        Assert.Contains("ok: the payload's markup is shown as text", run.Output, StringComparison.Ordinal);
        Assert.Contains("ok: no script from the payload ran", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_overview_charts_accepted_delivered_and_dead_lettered_per_hour_over_24_hours()
    {
        var sent = await site.SendAsync("console-chart-" + Guid.NewGuid().ToString("N")[..6]);
        await site.ForwardsOfAsync(sent, 1);

        var run = await site.BrowseAsync("chart");

        run.AssertPassed();
        Assert.Contains("ok: the overview charts 24 hours", run.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1280)]
    [InlineData(360)]
    public async Task Every_view_renders_requests_nothing_outside_the_app_and_does_not_scroll_sideways(int width)
    {
        var connection = "console-tour-" + Guid.NewGuid().ToString("N")[..6];
        await site.PutConnectionAsync(connection);
        var sent = await site.SendAsync(connection);
        await site.ForwardsOfAsync(sent, 1);

        var run = await site.BrowseAsync("tour", new { eventId = sent.EventId },
            new Dictionary<string, string> { ["CONSOLE_WIDTH"] = width.ToString(System.Globalization.CultureInfo.InvariantCulture) });

        run.AssertPassed();
        Assert.Contains($"ok: connections: no horizontal scroll at {width} px", run.Output, StringComparison.Ordinal);
        Assert.Contains("ok: no request left http://127.0.0.1:", run.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Writes screenshots of the main views: into <c>CONSOLE_SCREENSHOTS</c> when set (the README's images are made with
    /// <c>CONSOLE_SCREENSHOTS=$PWD/docs/images dotnet test --filter Screenshots</c>), else into a temporary folder.
    /// </summary>
    [Fact]
    public async Task Screenshots_of_the_main_views_are_written()
    {
        var folder = Environment.GetEnvironmentVariable("CONSOLE_SCREENSHOTS") is { Length: > 0 } set
            ? set
            : Directory.CreateTempSubdirectory("console-shots-").FullName;
        var connection = "customer-42";
        await site.PutConnectionAsync(connection);
        await site.PutConnectionAsync("acme/eu-7");
        await site.PutConnectionAsync("globex");
        foreach (var other in new[] { "globex", "acme/eu-7", "globex" })
        {
            await site.ForwardsOfAsync(await site.SendAsync(other), 1);
        }
        var sent = await site.SendAsync(connection);
        site.Rejecting = true;
        await site.SendAsync("acme/eu-7", ConsoleSite.RejectMarker);
        await site.ForwardsOfAsync(sent, 1);

        var run = await site.BrowseAsync("screenshots", new { eventId = sent.EventId },
            new Dictionary<string, string> { ["CONSOLE_SCREENSHOTS"] = folder });

        run.AssertPassed();
        foreach (var name in new[] { "overview", "deliveries", "event", "connections", "deliveries-360" })
        {
            var png = await File.ReadAllBytesAsync(Path.Combine(folder, $"console-{name}.png"));
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        }
    }
}
