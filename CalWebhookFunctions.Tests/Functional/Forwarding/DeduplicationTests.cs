using System.Text;
using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Operations;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Forwarding;

/// <summary>At most one delivery per webhook-id, and what happens to messages that cannot be read.</summary>
public class DeduplicationTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task A_message_redelivered_after_a_success_is_not_forwarded_again()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        var message = ForwardingHarness.NewEvent(CalDeliveries.BookingCreated(), "conn-1");

        // The same queue message twice: as when the host crashed after the delivery but before deleting it.
        var pending = harness.App.Get<PendingWebhooks>();
        await pending.EnqueueAsync(message);
        await harness.DrainAsync();
        await pending.EnqueueAsync(message);
        await harness.DrainAsync();

        Assert.Single(harness.Receiver.Requests);
        Assert.Contains("was delivered before under the same webhook-id", harness.App.Logs.AllText, StringComparison.Ordinal);
        var record = Assert.Single(await harness.DeliveryRecordsAsync());
        Assert.Equal(DeliveryRecord.Delivered, record.State);
        Assert.Equal(DeliveryLogKeys.Ledger(OutboundSigner.WebhookId("conn-1", message.Body!)), record.RowKey);
        Assert.True(record.ExpiresAt > DateTimeOffset.UtcNow.AddDays(29));
    }

    [Fact]
    public async Task An_identical_cal_com_redelivery_to_the_same_connection_is_not_forwarded_twice()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        var body = CalDeliveries.BookingCreated();

        await harness.EnqueueAsync(body, "conn-1");
        await harness.DrainAsync();
        await harness.EnqueueAsync([.. body], "conn-1"); // a new event id, the same bytes
        await harness.DrainAsync();

        Assert.Single(harness.Receiver.Requests);
    }

    [Fact]
    public async Task Identical_deliveries_processed_at_the_same_time_are_forwarded_once()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite, respond: async (_, _, _) =>
        {
            await Task.Delay(300); // keep the first attempt in flight while the others arrive
            return 200;
        });
        var body = CalDeliveries.BookingCreated();

        for (var i = 0; i < 4; i++)
        {
            await harness.EnqueueAsync([.. body], "conn-1");
        }
        await harness.DrainAsync();

        Assert.Single(harness.Receiver.Requests);
        Assert.Contains("is being sent by another attempt", harness.App.Logs.AllText, StringComparison.Ordinal);
        Assert.Equal(0, await harness.QueueLengthAsync(StorageNames.WebhookQueue));
    }

    [Fact]
    public async Task Two_connections_with_the_same_body_get_two_deliveries_with_different_ids()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        await harness.AddConnectionAsync("tenant-a");
        await harness.AddConnectionAsync("tenant-b");
        var body = CalDeliveries.BookingCreated();

        await harness.EnqueueAsync(body, "tenant-a");
        await harness.EnqueueAsync([.. body], "tenant-b");
        await harness.DrainAsync();

        var deliveries = harness.Receiver.Deliveries;
        Assert.Equal(2, deliveries.Count);
        Assert.NotEqual(deliveries[0].Header("webhook-id"), deliveries[1].Header("webhook-id"));
    }

    [Fact]
    public async Task A_retry_copy_after_a_success_elsewhere_is_not_forwarded()
    {
        // Crash window "recorded but not deleted" for a blob-backed event, when the copy runs after retention removed the blob.
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        var message = ForwardingHarness.NewEvent(CalDeliveries.BookingCreated(padTo: 80 * 1024), null);
        var pending = harness.App.Get<PendingWebhooks>();

        var stored = await pending.EnqueueAsync(message);
        Assert.NotNull(stored.BodyBlob);
        await harness.DrainAsync();
        Assert.Equal(1, await harness.PayloadBlobCountAsync()); // kept for the delivery log
        await harness.App.Get<StorageAccount>().Container(StorageNames.PayloadContainer).DeleteBlobAsync(stored.BodyBlob);
        await PendingWebhooks.SendAsync(harness.App.Get<StorageAccount>().Queue(StorageNames.WebhookQueue),
            PendingWebhooks.Serialize(stored), null, default);
        await harness.DrainAsync();

        Assert.Single(harness.Receiver.Requests);
        Assert.Empty(await harness.DeadLetterTextsAsync());
    }

    [Fact]
    public async Task A_malformed_message_goes_to_the_dead_letters_as_it_was_without_looping()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        var queue = harness.App.Get<StorageAccount>().Queue(StorageNames.WebhookQueue);
        var garbage = Encoding.UTF8.GetBytes("{\"this\":\"is not an event\"}");
        var notJson = Encoding.UTF8.GetBytes("definitely not json");

        await PendingWebhooks.SendAsync(queue, garbage, null, default);
        await PendingWebhooks.SendAsync(queue, notJson, null, default);
        var run = await harness.DrainAsync();

        Assert.Equal(2, run.Invocations);
        Assert.Equal(0, run.Failures);
        Assert.Empty(harness.Receiver.Requests);
        var deadLetters = await harness.DeadLetterTextsAsync();
        Assert.Equal(2, deadLetters.Count);
        Assert.Contains("{\"this\":\"is not an event\"}", deadLetters);
        Assert.Contains("definitely not json", deadLetters);
        Assert.Contains("is not a readable event", harness.App.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Records_past_their_retention_no_longer_block_a_delivery_and_are_swept()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        var body = CalDeliveries.BookingCreated();
        var ledger = harness.App.Get<DeliveryLedger>();
        await ledger.Table.CreateIfNotExistsAsync();
        var old = DateTimeOffset.UtcNow - DeliveryLedger.Retention - TimeSpan.FromDays(1);
        var message = await harness.EnqueueAsync(body, "conn-1");
        var key = LedgerKey.Of(message, OutboundSigner.WebhookId("conn-1", body), body);
        // Expired at the webhook-id's own row: taken over. Expired and keyed as versions before the day partitions did: swept.
        await ledger.Table.AddEntityAsync(new DeliveryRecord
        {
            PartitionKey = key.PartitionKey, RowKey = key.RowKey, State = DeliveryRecord.Delivered, DeliveredAt = old,
            ExpiresAt = old + DeliveryLedger.Retention,
        });
        await ledger.Table.AddEntityAsync(new DeliveryRecord
        {
            PartitionKey = "msg_expired_other", RowKey = DeliveryRecord.LegacyRowKey, State = DeliveryRecord.Delivered, DeliveredAt = old,
            ExpiresAt = old + DeliveryLedger.Retention,
        });

        await harness.DrainAsync();
        var swept = await ledger.SweepExpiredAsync(100, default);

        Assert.Single(harness.Receiver.Deliveries);
        Assert.Equal(1, swept);
        var record = Assert.Single(await harness.DeliveryRecordsAsync());
        Assert.Equal((key.PartitionKey, key.RowKey), (record.PartitionKey, record.RowKey));
        Assert.True(record.ExpiresAt > DateTimeOffset.UtcNow);
    }
}
