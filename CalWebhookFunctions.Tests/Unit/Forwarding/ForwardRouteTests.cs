using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Forwarding;

namespace CalWebhookFunctions.Tests.Unit.Forwarding;

/// <summary>Where an event goes, from the connection row it names.</summary>
public class ForwardRouteTests
{
    private static readonly Uri Default = new("https://app.example.test/hooks/cal");

    private static readonly DateTimeOffset Applied = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private static ConnectionRecord Row(string state, string? forwardUrl = null, DateTimeOffset? appliedAt = null) =>
        new() { ConnectionId = "conn-1", State = state, ForwardUrl = forwardUrl, AppliedAt = appliedAt ?? Applied };

    [Fact]
    public void No_row_is_unmatched_to_the_default_target()
    {
        Assert.Equal(new ForwardRoute(Default, false, null), ForwardRoute.For(null, Default));
    }

    [Theory]
    [InlineData(ConnectionRecord.States.Active)]
    [InlineData(ConnectionRecord.States.Pending)]
    public void A_registered_row_is_matched_to_its_forward_url_or_the_default(string state)
    {
        Assert.Equal(new ForwardRoute(Default, true, null), ForwardRoute.For(Row(state), Default));
        Assert.Equal(new ForwardRoute(new Uri("https://tenant.example.test/in"), true, null),
            ForwardRoute.For(Row(state, "https://tenant.example.test/in"), Default));
    }

    [Fact]
    public void A_row_whose_first_registration_never_succeeded_is_unmatched_to_the_default_target()
    {
        var neverApplied = new ConnectionRecord
        {
            ConnectionId = "conn-1", State = ConnectionRecord.States.Pending, RequestedForwardUrl = "https://tenant.example.test/in",
        };

        Assert.Equal(new ForwardRoute(Default, false, null), ForwardRoute.For(neverApplied, Default));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("https://tenant.example.test/in")]
    public void A_tombstone_goes_nowhere_whatever_its_forward_url(string? forwardUrl)
    {
        var route = ForwardRoute.For(Row(ConnectionRecord.States.Removed, forwardUrl), Default);

        Assert.Null(route.Target);
        Assert.Equal(ForwardRoute.ConnectionRemoved, route.DeadLetterReason);
    }

    [Fact]
    public void An_unusable_forward_url_is_a_dead_letter_never_the_default()
    {
        var route = ForwardRoute.For(Row(ConnectionRecord.States.Active, "ftp://tenant.example.test/in"), Default);

        Assert.Null(route.Target);
        Assert.Equal(ForwardRoute.InvalidForwardUrl, route.DeadLetterReason);
    }
}
