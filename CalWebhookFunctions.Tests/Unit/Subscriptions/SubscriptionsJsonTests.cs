using System.Net;
using System.Text;
using System.Text.Json;
using CalWebhookFunctions.Configuration;
using CalWebhookFunctions.Subscriptions;

namespace CalWebhookFunctions.Tests.Unit.Subscriptions;

/// <summary>The source-generated Subscriptions JSON reads Cal.com's answers and the PUT body as the hand-written parsers did.</summary>
public sealed class SubscriptionsJsonTests
{
    [Theory]
    [InlineData("{\"id\":\"3f1c2a9e-0000-4000-8000-000000000001\",\"subscriberUrl\":\"https://r/x\",\"triggers\":[\"BOOKING_PAID\"],\"active\":false}",
        "3f1c2a9e-0000-4000-8000-000000000001", "https://r/x", "BOOKING_PAID", false)]
    [InlineData("{\"id\":42,\"subscriberUrl\":\"https://r/x\",\"triggers\":[\"BOOKING_PAID\",null],\"active\":null,\"secret\":\"s\",\"userId\":7}",
        "42", "https://r/x", "BOOKING_PAID", true)]
    [InlineData("{\"id\":42}", "42", "", null, true)]
    public void Webhook_ids_arrive_as_a_UUID_string_or_a_number_and_missing_fields_take_their_defaults(
        string json, string id, string url, string? trigger, bool active)
    {
        var webhook = JsonSerializer.Deserialize(json, SubscriptionsJsonContext.Default.CalWebhookData)!.ToWebhook()!;

        Assert.Equal((id, url, active), (webhook.Id, webhook.SubscriberUrl, webhook.Active));
        Assert.Equal(trigger is null ? [] : [trigger], webhook.Triggers);
    }

    [Theory]
    [InlineData("{\"subscriberUrl\":\"https://r/x\"}")]
    [InlineData("{\"id\":null}")]
    [InlineData("{\"id\":\"\"}")]
    [InlineData("{\"id\":{\"uuid\":\"x\"}}")]
    public void A_webhook_without_a_usable_id_is_no_webhook(string json) =>
        Assert.Null(JsonSerializer.Deserialize(json, SubscriptionsJsonContext.Default.CalWebhookData)!.ToWebhook());

    [Theory]
    [InlineData("{\"message\":\"Too many requests\"}", null, "Too many requests")]
    [InlineData("{\"error\":\"Bad gateway\",\"message\":\"ignored\"}", null, "Bad gateway")]
    [InlineData("{\"error\":null,\"message\":\"ignored\"}", null, "HTTP 409 Conflict")]
    [InlineData("{\"error\":{\"code\":409,\"message\":[\"a\",null,2]}}", null, "a; null; 2")]
    [InlineData("{\"error\":{\"code\":\"X\",\"message\":{\"k\":1}}}", "X", "{\"k\":1}")]
    [InlineData("{\"error\":{\"code\":\"X\"}}", "X", "HTTP 409 Conflict")]
    [InlineData("[\"error\"]", null, "HTTP 409 Conflict")]
    [InlineData("{\"error\":{\"code\":\"X\",\"message\":\"line\\nbreak\"}}", "X", "line break")]
    public void Odd_error_bodies_still_give_a_code_and_a_message(string body, string? code, string message) =>
        Assert.Equal((code, message), CalComApi.ParseError(Encoding.UTF8.GetBytes(body), HttpStatusCode.Conflict));

    [Theory]
    [InlineData("{\"orgId\":-4,\"triggers\":1}", "invalid_id", "orgId must be a positive integer.")]
    [InlineData("{\"triggers\":1,\"orgId\":-4}", "invalid_triggers", "triggers must be an array of trigger names.")]
    [InlineData("{\"forwardUrl\":\"/r\",\"bogus\":1}", "invalid_forward_url", "forwardUrl must be an absolute http(s) URL.")]
    [InlineData("{\"bogus\":1,\"forwardUrl\":\"/r\"}", "unknown_field", "'bogus' is not a field; the fields are scope, orgId, teamId, eventTypeId, triggers, forwardUrl.")]
    [InlineData("{\"Scope\":\"user\"}", "unknown_field", "'Scope' is not a field; the fields are scope, orgId, teamId, eventTypeId, triggers, forwardUrl.")]
    [InlineData("{\"teamId\":1.5}", "invalid_id", "teamId must be a positive integer.")]
    [InlineData("{\"eventTypeId\":99999999999999999999}", "invalid_id", "eventTypeId must be a positive integer.")]
    [InlineData("{\"scope\":1}", "invalid_scope", "scope must be one of user, organization, eventType, teamEventType.")]
    [InlineData("{\"triggers\":[\"booking_created\"]}", "invalid_triggers", "Each trigger must be a name such as BOOKING_CREATED (capital letters, digits and underscores).")]
    [InlineData("{\"forwardUrl\":1}", "invalid_forward_url", "forwardUrl must be a string.")]
    [InlineData("{\"orgId\":\"4\",", "invalid_json", "The body is not valid JSON.")]
    [InlineData("{\"scope\":\"bad\",\"scope\":\"user\"}", "invalid_json", "The body is not valid JSON.")]
    [InlineData("\"user\"", "invalid_json", "The body must be a JSON object.")]
    public void The_first_bad_field_in_the_body_decides_the_error_code_and_message(string json, string code, string message)
    {
        var result = ConnectionRequestParser.Parse(Encoding.UTF8.GetBytes(json), new CalComOptions());

        Assert.Null(result.Request);
        Assert.Equal((code, message), (result.ErrorCode, result.Error));
    }

    [Fact]
    public void Null_fields_are_left_out_and_65_distinct_triggers_are_too_many()
    {
        var nulls = ConnectionRequestParser.Parse("{\"scope\":null,\"orgId\":null,\"teamId\":null,\"eventTypeId\":null,\"triggers\":null,\"forwardUrl\":null}"u8,
            new CalComOptions());
        var many = ConnectionRequestParser.Parse(Encoding.UTF8.GetBytes(
            "{\"triggers\":[" + string.Join(",", Enumerable.Range(0, 65).Select(i => $"\"T{i}\"")) + "]}"), new CalComOptions());

        Assert.Equal(new SubscriptionScope(SubscriptionScope.User), nulls.Request!.Scope);
        Assert.Equal(("invalid_triggers", "triggers may name at most 64 triggers."), (many.ErrorCode, many.Error));
    }
}
