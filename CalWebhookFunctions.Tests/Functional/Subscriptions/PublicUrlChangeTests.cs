using System.Net;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Subscriptions;

/// <summary>Webhook__PublicUrl changes (a new host name) while a registration is unfinished.</summary>
public sealed class PublicUrlChangeTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task A_registration_retried_after_the_public_url_changed_adopts_the_subscription_under_its_old_url()
    {
        await storage.ResetAsync();
        await using var cal = await FakeCalCom.StartAsync();
        await using (var before = await Lifecycle.StartAsync(storage.ConnectionString, cal: cal))
        {
            Assert.Equal(HttpStatusCode.Created, (await before.PutAsync("moving-host")).StatusCode);
            // The registration never learned its webhook id (it failed after Cal.com created the subscription).
            var row = (await before.RowAsync("moving-host"))!;
            row.CalWebhookId = null;
            row.State = ConnectionRecord.States.Pending;
            Assert.True(await before.App.Get<ConnectionStore>().TryReplaceAsync(row));
        }

        const string NewUrl = "https://relay-new.example.test/api/webhooks/cal";
        await using var after = await Lifecycle.StartAsync(storage.ConnectionString,
            new Dictionary<string, string?> { ["Webhook:PublicUrl"] = NewUrl }, cal: cal);
        Assert.Equal(HttpStatusCode.Created, (await after.PutAsync("moving-host")).StatusCode);

        var subscription = Assert.Single(cal.Webhooks);
        Assert.StartsWith(NewUrl + "?nangoConnectionId=", subscription.SubscriberUrl, StringComparison.Ordinal);
        Assert.Equal(subscription.Id, (await after.RowAsync("moving-host"))!.CalWebhookId);
    }
}
