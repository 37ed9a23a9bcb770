using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Subscriptions;

namespace CalWebhookFunctions.Tests.Unit.Subscriptions;

/// <summary>The pure decisions of the connection lifecycle: stored row + requested settings → plan.</summary>
public sealed class RegistrationPlannerTests
{
    private static readonly SubscriptionScope User = new(SubscriptionScope.User);
    private static readonly SubscriptionScope Org = new(SubscriptionScope.Organization, OrgId: 7);

    private static RequestedSettings Wanted(SubscriptionScope? scope = null, string url = "https://b/cal?nangoConnectionId=c", string? forward = null) =>
        new(scope ?? User, "BOOKING_CREATED", forward, url, "f1");

    private static ConnectionRecord Applied(string url = "https://a/cal?nangoConnectionId=c") => new()
    {
        ConnectionId = "c", Scope = SubscriptionScope.User, CalWebhookId = "w1", SubscriberUrl = url, Triggers = "BOOKING_CREATED",
        SecretFingerprint = "f1", State = ConnectionRecord.States.Active, AppliedAt = DateTimeOffset.UnixEpoch,
    };

    [Fact]
    public void Nothing_stored_or_a_tombstone_plans_a_fresh_registration()
    {
        var tombstone = Applied();
        tombstone.State = ConnectionRecord.States.Removed;

        foreach (var read in new[] { null, tombstone })
        {
            var plan = RegistrationPlanner.Plan(read, Wanted());
            Assert.Equal((false, null), (plan.WasApplied, plan.PatchId));
            Assert.Empty(plan.RemoveFirst);
            Assert.Equal(["https://b/cal?nangoConnectionId=c"], plan.AdoptUrls);
        }
    }

    [Fact]
    public void Only_a_settled_identical_registration_is_unchanged()
    {
        var row = Applied("https://b/cal?nangoConnectionId=c");
        Assert.True(RegistrationPlanner.IsUnchanged(row, Wanted()));
        Assert.False(RegistrationPlanner.IsUnchanged(row, Wanted(forward: "https://x/")));
        row.State = ConnectionRecord.States.Pending;
        Assert.False(RegistrationPlanner.IsUnchanged(row, Wanted()));
    }

    [Fact]
    public void A_new_scope_removes_the_applied_subscription_first_and_does_not_patch_it()
    {
        var plan = RegistrationPlanner.Plan(Applied(), Wanted(Org));

        var target = Assert.Single(plan.RemoveFirst);
        Assert.Equal((User, "w1"), (target.Scope, target.WebhookId));
        Assert.True(plan.RemoveFirstIsApplied);
        Assert.Null(plan.PatchId);
    }

    [Fact]
    public void A_request_is_kept_apart_from_the_applied_settings_until_it_is_applied()
    {
        var row = Applied();

        RegistrationPlanner.Request(row, Wanted(forward: "https://new/"));

        Assert.Equal((null, "https://new/"), (row.ForwardUrl, row.RequestedForwardUrl));
        Assert.Equal("https://a/cal?nangoConnectionId=c", row.PreviousSubscriberUrls);
        Assert.True(row.IsMatched);

        RegistrationPlanner.Apply(row, Wanted(forward: "https://new/"), "w2", DateTimeOffset.UnixEpoch.AddDays(1));

        Assert.Equal(("https://new/", null, "w2", null), (row.ForwardUrl, row.RequestedForwardUrl, row.CalWebhookId, row.PreviousSubscriberUrls));
        Assert.Equal(DateTimeOffset.UnixEpoch, row.AppliedAt);
    }

    [Fact]
    public void Every_url_a_failed_request_used_is_searched_until_a_sync_succeeds()
    {
        var row = Applied();
        RegistrationPlanner.Request(row, Wanted(url: "https://b/cal?nangoConnectionId=c"));

        var plan = RegistrationPlanner.Plan(row, Wanted(url: "https://c/cal?nangoConnectionId=c"));

        Assert.Equal(["https://c/cal?nangoConnectionId=c", "https://a/cal?nangoConnectionId=c", "https://b/cal?nangoConnectionId=c"],
            plan.AdoptUrls);
    }

    [Fact]
    public void A_first_registration_that_never_succeeded_is_not_matched()
    {
        var row = new ConnectionRecord { ConnectionId = "c" };
        RegistrationPlanner.Request(row, Wanted(forward: "https://new/"));

        Assert.False(row.IsMatched);
        Assert.Null(row.ForwardUrl);
        var target = Assert.Single(RegistrationPlanner.RemovalTargets(row));
        Assert.Equal((User, null), (target.Scope, target.WebhookId));
        Assert.Contains("https://b/cal?nangoConnectionId=c", target.Urls);
    }
}
