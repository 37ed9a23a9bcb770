using CalWebhookFunctions.Forwarding;

namespace CalWebhookFunctions.Tests.Unit.Forwarding;

public class DeliveryPolicyTests
{
    private static readonly DeliveryPolicy Policy = new([TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2)]);

    [Theory]
    [InlineData(200)]
    [InlineData(202)]
    [InlineData(204)]
    public void Two_hundreds_are_delivered(int status) =>
        Assert.Equal(DecisionKind.Delivered, Policy.Decide(1, AttemptResult.Answered(status)).Kind);

    [Theory]
    [InlineData(408)]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(504)]
    public void Transient_statuses_are_retried_on_the_schedule(int status)
    {
        Assert.Equal(new DeliveryDecision(DecisionKind.Retry, $"status_{status}", TimeSpan.FromSeconds(5)), Policy.Decide(1, AttemptResult.Answered(status)));
        Assert.Equal(TimeSpan.FromSeconds(30), Policy.Decide(2, AttemptResult.Answered(status)).Delay);
        Assert.Equal(TimeSpan.FromMinutes(2), Policy.Decide(3, AttemptResult.Answered(status)).Delay);
    }

    [Fact]
    public void Network_errors_and_timeouts_are_retried()
    {
        Assert.Equal(new DeliveryDecision(DecisionKind.Retry, "network", TimeSpan.FromSeconds(5)),
            Policy.Decide(1, AttemptResult.Failed("network: ConnectionError")));
        Assert.Equal(new DeliveryDecision(DecisionKind.Retry, "timeout", TimeSpan.FromSeconds(5)),
            Policy.Decide(1, AttemptResult.Failed("timeout after 15 s")));
    }

    [Theory]
    [InlineData(301)]
    [InlineData(302)]
    [InlineData(304)]
    [InlineData(307)]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(403)]
    [InlineData(404)]
    [InlineData(410)]
    [InlineData(422)]
    public void Other_3xx_and_4xx_are_dead_lettered_at_once(int status) =>
        Assert.Equal(new DeliveryDecision(DecisionKind.DeadLetter, "rejected"), Policy.Decide(1, AttemptResult.Answered(status)));

    [Fact]
    public void The_attempt_after_the_last_delay_is_the_last()
    {
        Assert.Equal(4, Policy.MaxAttempts);
        Assert.Equal(DecisionKind.Retry, Policy.Decide(3, AttemptResult.Answered(500)).Kind);
        Assert.Equal(new DeliveryDecision(DecisionKind.DeadLetter, "retries_exhausted"), Policy.Decide(4, AttemptResult.Answered(500)));
    }

    [Fact]
    public void A_failing_targets_probe_past_the_schedule_retries_after_the_probe_interval_instead_of_dead_lettering()
    {
        var probe = TimeSpan.FromSeconds(30);
        Assert.Equal(new DeliveryDecision(DecisionKind.Retry, "status_503", probe), Policy.Decide(4, AttemptResult.Answered(503), probe));
        Assert.Equal(new DeliveryDecision(DecisionKind.Retry, "status_503", TimeSpan.FromSeconds(5)), Policy.Decide(1, AttemptResult.Answered(503), probe));
        Assert.Equal(new DeliveryDecision(DecisionKind.DeadLetter, "rejected"), Policy.Decide(4, AttemptResult.Answered(400), probe));
        Assert.Equal(DecisionKind.Delivered, Policy.Decide(4, AttemptResult.Answered(200), probe).Kind);
    }

    [Fact]
    public void Retry_after_wins_when_longer_than_the_schedule_and_is_capped_at_seven_days()
    {
        Assert.Equal(TimeSpan.FromSeconds(90), Policy.Decide(1, AttemptResult.Answered(429, TimeSpan.FromSeconds(90))).Delay);
        Assert.Equal(TimeSpan.FromSeconds(5), Policy.Decide(1, AttemptResult.Answered(429, TimeSpan.FromSeconds(1))).Delay);
        Assert.Equal(TimeSpan.FromDays(7), Policy.Decide(1, AttemptResult.Answered(429, TimeSpan.FromDays(30))).Delay);
        Assert.Equal(TimeSpan.FromDays(7), new DeliveryPolicy([TimeSpan.FromDays(9)]).Decide(1, AttemptResult.Answered(500)).Delay);
    }

    [Fact]
    public void Retry_after_is_read_as_seconds_or_an_http_date()
    {
        var now = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

        Assert.Equal(TimeSpan.FromSeconds(120), DeliveryPolicy.ParseRetryAfter("120", now));
        Assert.Equal(TimeSpan.FromSeconds(90), DeliveryPolicy.ParseRetryAfter("Thu, 26 Nov 2026 12:01:30 GMT", now));
        Assert.Equal(TimeSpan.Zero, DeliveryPolicy.ParseRetryAfter("Thu, 26 Nov 2026 11:00:00 GMT", now));
        // A date is "not before", and queue delays have one-second resolution: what is left is rounded up, never down.
        Assert.Equal(TimeSpan.FromSeconds(2), DeliveryPolicy.ParseRetryAfter("Thu, 26 Nov 2026 12:00:02 GMT", now.AddMilliseconds(50)));
        Assert.Equal(TimeSpan.FromDays(7), DeliveryPolicy.ParseRetryAfter("99999999999", now));
        Assert.Null(DeliveryPolicy.ParseRetryAfter("soon", now));
        Assert.Null(DeliveryPolicy.ParseRetryAfter("-5", now));
        Assert.Null(DeliveryPolicy.ParseRetryAfter(null, now));
    }
}
