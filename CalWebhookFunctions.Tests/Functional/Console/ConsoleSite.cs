using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Console;

/// <summary>
/// The app as an operator's browser meets it: real services over Azurite, HTTP functions behind the host stand-in on
/// loopback, ForwardCalWebhook run by the queue stand-in in the background, a fake Cal.com for connection routes and a
/// receiving app that refuses (400) any body holding <see cref="RejectMarker"/> while <see cref="Rejecting"/> is set.
/// Events go in through <c>POST /api/webhooks/cal</c>, as Cal.com sends them.
/// </summary>
public sealed class ConsoleSite : IAsyncLifetime, IDisposable
{
    public const string RejectMarker = "reject-me";

    /// <summary>Notes written as a sender writes them: <c>&lt;</c> and <c>&gt;</c> raw, not <c>\u003C</c>.</summary>
    private static readonly JsonSerializerOptions RawText = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly AzuriteFixture _storage = new();
    private readonly CancellationTokenSource _stopping = new();
    private FakeCalCom? _cal;
    private TestApp? _app;
    private Task? _pump;
    private volatile bool _rejecting = true;

    public FunctionsHost Host { get; private set; } = null!;
    public ReceivingApp Receiver { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;

    /// <summary>While true the receiving app answers 400 to bodies holding <see cref="RejectMarker"/> (so they are dead-lettered).</summary>
    public bool Rejecting
    {
        get => _rejecting;
        set => _rejecting = value;
    }

    public Uri PageUrl => new(Host.BaseAddress, "api/console");

    public async Task InitializeAsync()
    {
        await _storage.InitializeAsync();
        _cal = await FakeCalCom.StartAsync();
        Receiver = await ReceivingApp.StartAsync((_, body, _) =>
            Task.FromResult(Rejecting && Encoding.UTF8.GetString(body).Contains(RejectMarker, StringComparison.Ordinal) ? 400 : 200));
        _app = await TestApp.StartAsync(_storage.ConnectionString, new Dictionary<string, string?>
        {
            ["Forwarding:Url"] = Receiver.Url.ToString(),
            ["Forwarding:RetrySchedule"] = "10ms,10ms",
            ["Forwarding:TimeoutSeconds"] = "5",
            ["CalCom:ApiBaseUrl"] = _cal.ApiBaseUrl,
        });
        Host = await FunctionsHost.StartAsync(_app.Services);
        Client = Host.CreateClient();
        Client.DefaultRequestHeaders.Add("x-functions-key", FunctionsHost.FunctionKey);
        var queues = new QueueHost(_app.Services, _storage.ConnectionString);
        _pump = Task.Run(async () =>
        {
            while (!_stopping.IsCancellationRequested)
            {
                await queues.RunAsync(StorageNames.WebhookQueue, TimeSpan.FromMinutes(10), _stopping.Token);
                await Task.Delay(200, CancellationToken.None);
            }
        });
    }

    /// <summary>Registers a connection through <c>PUT /api/connections?id=…</c> (Cal.com is the fake).</summary>
    public async Task PutConnectionAsync(string connectionId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "api/connections?id=" + Uri.EscapeDataString(connectionId))
        {
            Content = JsonContent.Create(new { triggers = new[] { "BOOKING_CREATED" } }),
        };
        request.Headers.Add("X-Cal-Access-Token", "cal_test_console");
        using var response = await Client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"PUT {connectionId}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>
    /// Sends a signed delivery naming <paramref name="connectionId"/>; returns the event id the app acknowledged and the
    /// booking uid that marks the event's forwards.
    /// </summary>
    public async Task<SentEvent> SendAsync(string connectionId, string notes = "Looking forward to it")
    {
        var uid = $"bk_{Guid.NewGuid():N}";
        var body = Encoding.UTF8.GetBytes(
            "{\"triggerEvent\":\"BOOKING_CREATED\",\"createdAt\":\"2026-12-01T10:00:00.000Z\",\"payload\":{\"title\":\"Intro call\"," +
            $"\"uid\":\"{uid}\",\"attendees\":[{{\"name\":\"{CalDeliveries.AttendeeName}\"}}],\"notes\":{JsonSerializer.Serialize(notes, RawText)}}}}}");
        using var request = CalDeliveries.Post(body, TestApp.WebhookSecret, "nangoConnectionId=" + Uri.EscapeDataString(connectionId));
        using var response = await Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"ingest: {(int)response.StatusCode} {text}");
        return new SentEvent(JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!, uid);
    }

    /// <summary>Waits (bounded) until the receiving app has answered <paramref name="count"/> forwards of the event (with <paramref name="status"/>).</summary>
    public async Task<IReadOnlyList<ReceivedRequest>> ForwardsOfAsync(SentEvent sent, int count, int? status = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var seen = Receiver.Requests.Where(r => Encoding.UTF8.GetString(r.Body).Contains(sent.BookingUid, StringComparison.Ordinal))
                .Where(r => status is null || r.Status == status).ToList();
            if (seen.Count >= count)
            {
                return seen;
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"{seen.Count} of {count} forwards of {sent.EventId} arrived.");
            await Task.Delay(50);
        }
    }

    /// <summary>Runs a scenario of console-browser.mjs against this site.</summary>
    public Task<ConsoleRun> BrowseAsync(string scenario, object? data = null, IDictionary<string, string>? environment = null) =>
        ConsoleBrowser.RunAsync(scenario, PageUrl, FunctionsHost.FunctionKey, data, environment);

    public async Task DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_pump is not null)
        {
            await _pump;
        }
        Client?.Dispose();
        await Host.DisposeAsync();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
        await Receiver.DisposeAsync();
        if (_cal is not null)
        {
            await _cal.DisposeAsync();
        }
        await _storage.DisposeAsync();
    }

    public void Dispose() => _stopping.Dispose();
}

/// <summary>An event sent through ingest: the id the app answered and the booking uid in its body.</summary>
public sealed record SentEvent(string EventId, string BookingUid);
