using CalWebhookFunctions.Http;

namespace CalWebhookFunctions.Tests.Unit.Subscriptions;

public sealed class LoggedUrlTests
{
    [Theory]
    [InlineData("https://r.example/cal?code=abc&nangoConnectionId=a%2Fb", "https://r.example/cal?code=REDACTED&nangoConnectionId=a%2Fb")]
    [InlineData("https://r.example/cal?nangoConnectionId=x&token=t&flag", "https://r.example/cal?nangoConnectionId=x&token=REDACTED&flag")]
    [InlineData("https://r.example/cal", "https://r.example/cal")]
    [InlineData("https://r.example/cal?code=abc#frag", "https://r.example/cal?code=REDACTED")]
    [InlineData("", "")]
    public void Every_query_value_but_nangoConnectionId_is_masked(string url, string logged) =>
        Assert.Equal(logged, LoggedUrl.Redact(url));

    [Fact]
    public void Urls_inside_free_text_are_masked_too()
    {
        var text = LoggedUrl.RedactIn("Webhook with subscriber url https://r.example/cal?code=k3y&nangoConnectionId=c already exists");

        Assert.Equal("Webhook with subscriber url https://r.example/cal?code=REDACTED&nangoConnectionId=c already exists", text);
    }
}
