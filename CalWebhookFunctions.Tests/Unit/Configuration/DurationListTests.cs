using CalWebhookFunctions.Configuration;

namespace CalWebhookFunctions.Tests.Unit.Configuration;

public class DurationListTests
{
    [Fact]
    public void Default_schedule_parses_to_nine_delays()
    {
        Assert.Equal(
            [
                TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10),
                TimeSpan.FromMinutes(30), TimeSpan.FromHours(1), TimeSpan.FromHours(2), TimeSpan.FromHours(4), TimeSpan.FromHours(8),
            ],
            DurationList.Parse(ForwardingOptions.DefaultRetrySchedule));
    }

    [Fact]
    public void Milliseconds_days_and_spaces_parse()
    {
        Assert.Equal([TimeSpan.FromMilliseconds(20), TimeSpan.FromDays(1), TimeSpan.Zero], DurationList.Parse(" 20ms , 1d,0s"));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" , ")]
    [InlineData("5")]
    [InlineData("s")]
    [InlineData("5x")]
    [InlineData("-5s")]
    [InlineData("1.5s")]
    [InlineData("5 s")]
    public void Malformed_schedules_are_refused_with_a_reason(string value)
    {
        Assert.False(DurationList.TryParse(value, out _, out var error));
        Assert.NotEmpty(error);
    }
}
