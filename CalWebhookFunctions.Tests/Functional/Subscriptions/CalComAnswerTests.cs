using CalWebhookFunctions.Subscriptions;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Tests.Functional.Subscriptions;

/// <summary>How <see cref="CalComApi"/> reads odd 2xx answers, served byte for byte by a real Kestrel on 127.0.0.1.</summary>
public sealed class CalComAnswerTests : IAsyncLifetime
{
    private static readonly CalCredential Credential = new("cal_test_x") { Source = "test" };
    private static readonly SubscriptionScope User = new(SubscriptionScope.User);

    private LoopbackServer _server = null!;
    private ServiceProvider _services = null!;
    private string _answer = "";

    private CalComApi Api => new(_services.GetRequiredService<IHttpClientFactory>());

    public async Task InitializeAsync()
    {
        _server = await LoopbackServer.StartAsync(app => app.Map("/v2/webhooks/{**rest}", (HttpContext context) =>
            Results.Text(_answer, "application/json")));
        _services = new ServiceCollection().AddHttpClient(CalComApi.HttpClientName, c => c.BaseAddress = _server.BaseAddress).Services.BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task A_numeric_webhook_id_is_read_as_its_digits()
    {
        _answer = "{\"status\":\"success\",\"data\":{\"id\":1234,\"subscriberUrl\":\"https://r/x\",\"triggers\":[\"BOOKING_CREATED\"],\"active\":true,\"secret\":\"s\"}}";

        var webhook = await Api.GetAsync(User, Credential, "1234", default);

        Assert.Equal(new CalWebhook("1234", "https://r/x", webhook!.Triggers, true), webhook);
        Assert.Equal(["BOOKING_CREATED"], webhook.Triggers);
    }

    [Fact]
    public async Task A_2xx_answer_that_is_not_JSON_carries_its_status_and_is_not_transient()
    {
        _answer = "<html>maintenance</html>";

        var error = await Assert.ThrowsAsync<CalComApiException>(() => Api.GetAsync(User, Credential, "w", default));

        Assert.Equal((200, "the answer is not JSON", false), (error.StatusCode, error.CalMessage, error.IsTransient));
    }

    [Theory]
    [InlineData("{\"status\":\"success\"}")]
    [InlineData("{\"status\":\"success\",\"data\":[]}")]
    [InlineData("{\"status\":\"success\",\"data\":{\"subscriberUrl\":\"https://r/x\"}}")]
    [InlineData("[]")]
    public async Task A_JSON_answer_without_a_webhook_is_an_unexpected_answer_without_a_status(string answer)
    {
        _answer = answer;

        var error = await Assert.ThrowsAsync<CalComApiException>(() => Api.GetAsync(User, Credential, "w", default));

        Assert.Null(error.StatusCode);
        Assert.StartsWith("unexpected answer", error.CalMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"status\":\"success\",\"data\":{}}")]
    [InlineData("{\"status\":\"success\",\"data\":null}")]
    public async Task A_list_whose_data_is_not_an_array_is_an_unexpected_answer(string answer)
    {
        _answer = answer;

        var error = await Assert.ThrowsAsync<CalComApiException>(() => Api.ListAsync(User, Credential, 10, 0, default));

        Assert.Null(error.StatusCode);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("{\"status\":\"success\",\"data\":{\"id\":\"w\"}}")]
    public async Task A_delete_takes_any_JSON_answer_as_done(string answer)
    {
        _answer = answer;

        Assert.True(await Api.DeleteAsync(User, Credential, "w", default));
    }
}
