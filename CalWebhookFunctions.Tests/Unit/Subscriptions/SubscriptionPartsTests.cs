using System.Net;
using System.Text;
using CalWebhookFunctions.Configuration;
using CalWebhookFunctions.Subscriptions;

namespace CalWebhookFunctions.Tests.Unit.Subscriptions;

public sealed class SubscriberUrlTests
{
    [Theory]
    [InlineData("https://relay.example/api/webhooks/cal", "c1", "https://relay.example/api/webhooks/cal?nangoConnectionId=c1")]
    [InlineData("https://relay.example/api/webhooks/cal?code=k", "c1", "https://relay.example/api/webhooks/cal?code=k&nangoConnectionId=c1")]
    [InlineData("https://relay.example/api/webhooks/cal?", "c1", "https://relay.example/api/webhooks/cal?nangoConnectionId=c1")]
    [InlineData("https://relay.example/api/webhooks/cal?code=k&", "c1", "https://relay.example/api/webhooks/cal?code=k&nangoConnectionId=c1")]
    [InlineData("https://relay.example/cal", "a/b?c#d e+f&g=h%", "https://relay.example/cal?nangoConnectionId=a%2Fb%3Fc%23d%20e%2Bf%26g%3Dh%25")]
    [InlineData("https://relay.example/cal", "Zoë", "https://relay.example/cal?nangoConnectionId=Zo%C3%AB")]
    public void The_connection_id_is_url_encoded_into_the_query(string publicUrl, string id, string expected) =>
        Assert.Equal(expected, SubscriberUrl.For(publicUrl, id));
}

public sealed class ConnectionRequestParserTests
{
    private static ConnectionRequest Parse(string json, CalComOptions? options = null)
    {
        var result = ConnectionRequestParser.Parse(Encoding.UTF8.GetBytes(json), options ?? new CalComOptions());
        Assert.True(result.Request is not null, result.Error);
        return result.Request!;
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("null")]
    [InlineData("{}")]
    public void No_fields_means_the_user_scope_and_every_booking_trigger(string json)
    {
        var request = Parse(json);

        Assert.Equal(new SubscriptionScope(SubscriptionScope.User), request.Scope);
        Assert.Equal(ConnectionRequestParser.AllBookingTriggers, request.Triggers);
        Assert.All(request.Triggers, t => Assert.StartsWith("BOOKING_", t, StringComparison.Ordinal));
        Assert.Null(request.ForwardUrl);
    }

    [Fact]
    public void An_orgId_or_CalCom_OrganizationId_makes_the_organization_scope_the_default()
    {
        Assert.Equal(new SubscriptionScope(SubscriptionScope.Organization, OrgId: 9), Parse("{\"orgId\":9}").Scope);
        Assert.Equal(new SubscriptionScope(SubscriptionScope.Organization, OrgId: 5),
            Parse("{}", new CalComOptions { OrganizationId = "5" }).Scope);
        Assert.Equal(new SubscriptionScope(SubscriptionScope.Organization, OrgId: 9),
            Parse("{\"orgId\":9}", new CalComOptions { OrganizationId = "5" }).Scope);
        Assert.Equal(new SubscriptionScope(SubscriptionScope.User), Parse("{\"scope\":\"user\"}", new CalComOptions { OrganizationId = "5" }).Scope);
    }

    [Fact]
    public void Triggers_come_from_the_request_else_CalCom_DefaultTriggers_and_unknown_names_pass_through()
    {
        Assert.Equal(["BOOKING_CREATED", "SOMETHING_FROM_2030"],
            Parse("{\"triggers\":[\"BOOKING_CREATED\",\"SOMETHING_FROM_2030\",\"BOOKING_CREATED\"]}").Triggers);
        Assert.Equal(["MEETING_ENDED", "OOO_CREATED"], Parse("{}", new CalComOptions { DefaultTriggers = "MEETING_ENDED, OOO_CREATED" }).Triggers);
    }

    [Fact]
    public void Every_scope_takes_exactly_its_ids()
    {
        Assert.Equal(new SubscriptionScope(SubscriptionScope.EventType, EventTypeId: 3), Parse("{\"scope\":\"eventType\",\"eventTypeId\":3}").Scope);
        Assert.Equal(new SubscriptionScope(SubscriptionScope.TeamEventType, TeamId: 2, EventTypeId: 3),
            Parse("{\"scope\":\"teamEventType\",\"teamId\":2,\"eventTypeId\":3}").Scope);
        Assert.Equal("invalid_scope", ConnectionRequestParser.Parse("{\"scope\":\"user\",\"orgId\":1}"u8, new CalComOptions()).ErrorCode);
        Assert.Equal("invalid_scope", ConnectionRequestParser.Parse("{\"scope\":\"eventType\",\"eventTypeId\":1,\"teamId\":1}"u8, new CalComOptions()).ErrorCode);
    }

    [Theory]
    [InlineData("https://app.example/hooks?x=1", null)]
    [InlineData("http://127.0.0.1:3000/", null)]
    [InlineData("app.example/hooks", "absolute")]
    [InlineData("https://app.example/#frag", "fragment")]
    [InlineData("https://u:p@app.example/", "password")]
    public void Forward_urls_must_be_absolute_http_without_fragment_or_credentials(string url, string? problem)
    {
        var error = ConnectionRequestParser.CheckForwardUrl(url);
        if (problem is null)
        {
            Assert.Null(error);
        }
        else
        {
            Assert.Contains(problem, error, StringComparison.Ordinal);
        }
    }
}

public sealed class ConnectionRouteTests
{
    [Theory]
    [InlineData("/api/connections/a%2Fb", "a%2Fb")]
    [InlineData("/api/connections/a%2Fb?code=k", "a%2Fb")]
    [InlineData("/api/connections/abc/", "abc")]
    [InlineData("http://host:7071/api/connections/x%23y?z", "x%23y")]
    [InlineData("/api/connections/", "connections")]
    public void The_last_raw_segment_is_the_escaped_id(string rawTarget, string expected) =>
        Assert.Equal(expected, ConnectionRoute.LastSegment(rawTarget));
}

public sealed class CalComApiPartsTests
{
    [Fact]
    public void Scopes_map_to_Cal_com_s_routes_and_escape_the_webhook_id()
    {
        Assert.Equal("v2/webhooks/a%2Fb", new SubscriptionScope(SubscriptionScope.User).ItemPath("a/b"));
        Assert.Equal("v2/organizations/4/webhooks", new SubscriptionScope(SubscriptionScope.Organization, OrgId: 4).CollectionPath());
        Assert.Equal("v2/event-types/5/webhooks/w", new SubscriptionScope(SubscriptionScope.EventType, EventTypeId: 5).ItemPath("w"));
        Assert.Equal("v2/teams/6/event-types/7/webhooks", new SubscriptionScope(SubscriptionScope.TeamEventType, 0, 6, 7).CollectionPath());
        Assert.Throws<InvalidOperationException>(() => new SubscriptionScope(SubscriptionScope.Organization).CollectionPath());
    }

    [Fact]
    public void The_create_body_has_Cal_com_s_fields_in_order()
    {
        var body = CalComApi.SettingsBody(new WebhookSettings("https://r.example/cal?nangoConnectionId=a%2Fb", ["BOOKING_CREATED"], "s3cret"));

        Assert.Equal("{\"active\":true,\"subscriberUrl\":\"https://r.example/cal?nangoConnectionId=a%2Fb\",\"triggers\":[\"BOOKING_CREATED\"],\"secret\":\"s3cret\"}",
            Encoding.UTF8.GetString(body));
    }

    [Theory]
    [InlineData("{\"status\":\"error\",\"timestamp\":\"t\",\"path\":\"/v2/webhooks\",\"error\":{\"code\":\"ConflictException\",\"message\":\"Webhook with this subscriber url already exists for this user\",\"details\":{}}}",
        "ConflictException", "Webhook with this subscriber url already exists for this user")]
    [InlineData("{\"status\":\"error\",\"error\":{\"code\":\"BadRequestException\",\"message\":[\"triggers must be an array\",\"active must be a boolean\"]}}",
        "BadRequestException", "triggers must be an array; active must be a boolean")]
    [InlineData("<html>Bad gateway</html>", null, "HTTP 409 Conflict")]
    [InlineData("", null, "HTTP 409 Conflict")]
    public void Error_envelopes_give_Cal_com_s_code_and_message(string body, string? code, string message) =>
        Assert.Equal((code, message), CalComApi.ParseError(Encoding.UTF8.GetBytes(body), HttpStatusCode.Conflict));

    [Fact]
    public void A_credential_never_shows_itself_as_text()
    {
        var credential = new CalCredential("cal_live_abc123") { Source = "X-Cal-Access-Token" };

        Assert.DoesNotContain("abc123", credential.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("abc123", $"{credential}", StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData(408, true)]
    [InlineData(429, true)]
    [InlineData(500, true)]
    [InlineData(503, true)]
    [InlineData(400, false)]
    [InlineData(401, false)]
    [InlineData(404, false)]
    [InlineData(409, false)]
    public void Only_no_answer_408_429_and_5xx_are_transient(int? status, bool transient) =>
        Assert.Equal(transient, new CalComApiException(status, null, "m", null).IsTransient);
}

public sealed class ConnectionIdUnescapeTests
{
    [Theory]
    [InlineData("a%2Fb", "a/b")]
    [InlineData("a%252Fb", "a%2Fb")]
    [InlineData("100%", "100%")]
    [InlineData("5%zz", "5%zz")]
    [InlineData("Zo%C3%AB%20%E2%98%95", "Zoë ☕")]
    [InlineData("plus+sign", "plus+sign")]
    [InlineData("%F0%9F%8E%89", "🎉")]
    public void Escapes_are_decoded_exactly_once(string segment, string id) =>
        Assert.Equal(id, ConnectionRoute.Unescape(segment));

    [Theory]
    [InlineData("%ED%A0%80")]
    [InlineData("%C3")]
    [InlineData("%FF")]
    public void Escapes_that_are_not_UTF_8_are_refused(string segment) =>
        Assert.Null(ConnectionRoute.Unescape(segment));
}
