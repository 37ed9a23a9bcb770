using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Subscriptions;

/// <summary>
/// The whole life of a connection, every piece real except Cal.com and the owner's app (both fakes on 127.0.0.1):
/// PUT registers a subscription with the fake Cal.com; a delivery Cal.com would send for it (to its subscriber URL,
/// signed with its secret) is received, queued and forwarded with the connection id; DELETE removes the
/// subscription and leaves a tombstone; the next delivery is still accepted, and dead-lettered as connection_removed
/// instead of reaching the shared endpoint.
/// </summary>
public class ConnectionStoryTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private const string ConnectionId = "customer/42 ü";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Put_then_deliver_then_delete_then_deliver(bool connectionBoundSecrets)
    {
        await storage.ResetAsync();
        await using var receiver = await ReceivingApp.StartAsync();
        await using var lifecycle = await Lifecycle.StartAsync(storage.ConnectionString, new Dictionary<string, string?>
        {
            ["Forwarding:Url"] = receiver.Url.ToString(),
            ["Forwarding:RetrySchedule"] = "10ms",
            ["CalCom:ConnectionBoundSecrets"] = connectionBoundSecrets ? "true" : "false",
        });
        var queueHost = new QueueHost(lifecycle.App.Services, storage.ConnectionString);

        using (var put = await lifecycle.PutAsync(ConnectionId, """{"triggers":["BOOKING_CREATED","BOOKING_CANCELLED"]}"""))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }
        var subscription = Assert.Single(lifecycle.Cal.Webhooks);
        Assert.NotNull(subscription.Secret);

        // What Cal.com sends: a POST to the subscription's URL, signed with the subscription's secret.
        var first = CalDeliveries.BookingCreated();
        Assert.Equal(HttpStatusCode.OK, await DeliverAsync(lifecycle, subscription, first));
        var drained = await queueHost.RunUntilDrainedAsync(StorageNames.WebhookQueue, TimeSpan.FromSeconds(30));
        Assert.True(drained.Drained);
        var forwarded = Assert.Single(receiver.Deliveries);
        using (var envelope = JsonDocument.Parse(forwarded.Body))
        {
            Assert.Equal(ConnectionId, envelope.RootElement.GetProperty("connectionId").GetString());
            Assert.Equal("forward", envelope.RootElement.GetProperty("type").GetString());
            Assert.Equal(first, System.Text.Encoding.UTF8.GetBytes(envelope.RootElement.GetProperty("payload").GetRawText()));
        }

        using (var delete = await lifecycle.DeleteAsync(ConnectionId))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }
        Assert.Empty(lifecycle.Cal.Webhooks);
        await lifecycle.AssertRemovedAsync(ConnectionId);

        // A delivery that was already on its way when the connection went away: the tombstone keeps it from the shared
        // endpoint; it is dead-lettered as connection_removed (replayable if the connection comes back).
        var second = CalDeliveries.BookingCreated(padTo: first.Length + 10);
        Assert.Equal(HttpStatusCode.OK, await DeliverAsync(lifecycle, subscription, second));
        await queueHost.RunUntilDrainedAsync(StorageNames.WebhookQueue, TimeSpan.FromSeconds(30));
        Assert.Single(receiver.Deliveries);
        var poison = lifecycle.App.Get<StorageAccount>().Queue(StorageNames.WebhookPoisonQueue);
        var parked = Assert.Single((await poison.PeekMessagesAsync(32)).Value);
        var deadLetter = PendingWebhooks.Deserialize(parked.Body.ToArray());
        Assert.Equal(ConnectionId, deadLetter.ConnectionId);
        Assert.Equal(CalWebhookFunctions.Forwarding.ForwardRoute.ConnectionRemoved, deadLetter.DeadLetter!.Reason);
    }

    /// <summary>Posts <paramref name="body"/> to the subscription's URL (its path and query, on the served functions).</summary>
    private static async Task<HttpStatusCode> DeliverAsync(Lifecycle lifecycle, CalStoredWebhook subscription, byte[] body)
    {
        var subscriberUrl = new Uri(subscription.SubscriberUrl);
        var target = new Uri(lifecycle.Host.BaseAddress, subscriberUrl.PathAndQuery);
        using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("X-Cal-Signature-256", CalDeliveries.Sign(body, subscription.Secret!));
        using var client = lifecycle.Host.CreateClient();
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }
}
