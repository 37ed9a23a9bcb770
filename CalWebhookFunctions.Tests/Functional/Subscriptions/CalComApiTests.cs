using System.Net;
using System.Text.Json;
using CalWebhookFunctions.Subscriptions;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Tests.Functional.Subscriptions;

/// <summary>The Cal.com API client as the app builds it (IHttpClientFactory, standard resilience) against the fake Cal.com.</summary>
public sealed class CalComApiTests : IAsyncLifetime
{
    private static readonly CalCredential Credential = new(Lifecycle.Token) { Source = "test" };
    private static readonly SubscriptionScope EventType = new(SubscriptionScope.EventType, EventTypeId: 31);

    private FakeCalCom _cal = null!;
    private TestApp _app = null!;

    private CalComApi Api => _app.Get<CalComApi>();

    public async Task InitializeAsync()
    {
        _cal = await FakeCalCom.StartAsync();
        // No storage call is made here; the connection string only has to be well formed.
        _app = await TestApp.StartAsync("UseDevelopmentStorage=true", new Dictionary<string, string?> { ["CalCom:ApiBaseUrl"] = _cal.ApiBaseUrl + "/" },
            s => s.Configure<HttpStandardResilienceOptions>(SubscriptionsRegistration.ResilienceOptionsName, o => o.Retry.Delay = TimeSpan.FromMilliseconds(10)));
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _cal.DisposeAsync();
    }

    [Fact]
    public async Task Create_get_patch_and_delete_one_webhook_by_its_UUID_string_id()
    {
        var created = await Api.CreateAsync(EventType, Credential, new WebhookSettings("https://r.example/cal?nangoConnectionId=x", ["BOOKING_CREATED"], "s"), default);

        Assert.True(Guid.TryParse(created.Id, out _));
        var fetched = await Api.GetAsync(EventType, Credential, created.Id, default);
        Assert.Equal((created.Id, created.SubscriberUrl, true), (fetched!.Id, fetched.SubscriberUrl, fetched.Active));
        Assert.Equal(created.Triggers, fetched.Triggers);
        var patched = await Api.UpdateAsync(EventType, Credential, created.Id,
            new WebhookSettings(created.SubscriberUrl, ["BOOKING_PAID"], "s2", Active: false), default);
        Assert.Equal((created.Id, false, "BOOKING_PAID"), (patched!.Id, patched.Active, patched.Triggers.Single()));
        Assert.True(await Api.DeleteAsync(EventType, Credential, created.Id, default));
        Assert.Null(await Api.GetAsync(EventType, Credential, created.Id, default));
        Assert.Null(await Api.UpdateAsync(EventType, Credential, created.Id, new WebhookSettings("u", ["BOOKING_PAID"], "s"), default));
        Assert.False(await Api.DeleteAsync(EventType, Credential, created.Id, default));
    }

    [Fact]
    public async Task List_pages_with_take_and_skip_and_the_search_reads_every_page()
    {
        for (var i = 0; i < 260; i++)
        {
            _cal.Seed("eventType:31", $"https://r.example/{i}");
        }

        var page = await Api.ListAsync(EventType, Credential, 25, 250, default);
        var found = await Api.FindBySubscriberUrlAsync(EventType, Credential, ["https://r.example/3", "https://r.example/259"], default);

        Assert.Equal(10, page.Count);
        Assert.Equal("https://r.example/250", page[0].SubscriberUrl);
        Assert.Equal(["https://r.example/3", "https://r.example/259"], found.Select(w => w.SubscriberUrl));
        Assert.Equal(["?take=25&skip=250", "?take=250&skip=0", "?take=250&skip=250"], _cal.RequestsTo("GET", "/v2/event-types/31/webhooks").Select(r => r.Query));
    }

    [Fact]
    public async Task A_409_is_Cal_com_s_answer_with_its_error_envelope_and_is_not_retried()
    {
        var settings = new WebhookSettings("https://r.example/dup", ["BOOKING_CREATED"], "s");
        await Api.CreateAsync(EventType, Credential, settings, default);

        var error = await Assert.ThrowsAsync<CalComApiException>(() => Api.CreateAsync(EventType, Credential, settings, default));

        Assert.Equal((409, "ConflictException", "Webhook with this subscriber url already exists for this user"),
            (error.StatusCode, error.ErrorCode, error.CalMessage));
        Assert.NotNull(error.RequestId);
        Assert.False(error.IsTransient);
        Assert.Equal(2, _cal.RequestsTo("POST", "/v2/").Count);
    }

    [Fact]
    public async Task Server_errors_are_retried_five_attempts_in_all_then_reported_as_transient()
    {
        _cal.Inject(new CalInjection { Status = 500, Times = 10 });

        var error = await Assert.ThrowsAsync<CalComApiException>(() => Api.ListAsync(EventType, Credential, 10, 0, default));

        Assert.Equal((500, true), (error.StatusCode, error.IsTransient));
        Assert.Equal(5, _cal.Requests.Count);
    }

    [Fact]
    public async Task Dropped_connections_are_retried_and_reported_without_a_status_when_they_persist()
    {
        _cal.Inject(new CalInjection { DropBefore = true, Times = 10 });

        var error = await Assert.ThrowsAsync<CalComApiException>(() => Api.GetAsync(EventType, Credential, "x", default));

        Assert.Null(error.StatusCode);
        Assert.Equal(5, _cal.Requests.Count);
    }

    [Fact]
    public async Task The_fake_answers_401_with_Cal_com_s_envelope_without_a_bearer_token()
    {
        using var client = new HttpClient();

        var response = await client.GetAsync(new Uri(_cal.ApiBaseUrl + "/v2/webhooks"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("error", body.RootElement.GetProperty("status").GetString());
        Assert.Equal("UnauthorizedException", body.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.True(response.Headers.Contains("X-Request-Id"));
    }
}
