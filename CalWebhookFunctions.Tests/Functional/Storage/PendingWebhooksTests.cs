using System.Text.Json;
using Azure.Storage.Queues;
using CalWebhookFunctions.Messages;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Storage;

/// <summary>The queue message format against real Azurite, read back the way the Functions host reads it.</summary>
public class PendingWebhooksTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private static QueuedWebhook Message(byte[] body) => new()
    {
        EventId = Guid.CreateVersion7().ToString("N"),
        ReceivedAt = DateTimeOffset.UtcNow,
        ConnectionId = "conn/ü",
        Headers = new Dictionary<string, string> { ["Content-Type"] = "application/json" },
        BodyLength = body.Length,
        Body = body,
    };

    [Fact]
    public void Host_json_and_the_app_agree_on_base64_message_encoding()
    {
        Assert.Equal("base64", HostQueueMessages.MessageEncoding);
    }

    [Fact]
    public async Task Stored_message_is_base64_text_that_the_host_decodes_into_the_same_message()
    {
        await storage.ResetAsync();
        var pending = new PendingWebhooks(StorageAccount.FromConnectionString(storage.ConnectionString));
        var message = Message(CalDeliveries.BookingCreated());

        await pending.EnqueueAsync(message);

        var raw = new QueueClient(storage.ConnectionString, StorageNames.WebhookQueue);
        var peeked = Assert.Single((await raw.PeekMessagesAsync(10)).Value).Body.ToString();
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(peeked)); // not plain JSON on the wire…
        var decoded = PendingWebhooks.Deserialize(HostQueueMessages.Decode(peeked)); // …but the host's decoding yields it
        Assert.Equal(message.EventId, decoded.EventId);
        Assert.Equal(message.Body, decoded.Body);
        Assert.Equal(message.ConnectionId, decoded.ConnectionId);
        Assert.Equal(message.ReceivedAt, decoded.ReceivedAt);
    }

    [Fact]
    public async Task Messages_never_expire()
    {
        await storage.ResetAsync();
        var pending = new PendingWebhooks(StorageAccount.FromConnectionString(storage.ConnectionString));
        await pending.EnqueueAsync(Message(CalDeliveries.BookingCreated()));

        var raw = new QueueClient(storage.ConnectionString, StorageNames.WebhookQueue);
        var received = Assert.Single((await raw.ReceiveMessagesAsync(1)).Value);
        Assert.True(received.ExpiresOn > DateTimeOffset.UtcNow.AddYears(100), $"expires {received.ExpiresOn}");
    }

    [Fact]
    public async Task The_largest_inline_message_is_accepted_by_the_queue_and_one_byte_more_goes_to_a_blob()
    {
        await storage.ResetAsync();
        var pending = new PendingWebhooks(StorageAccount.FromConnectionString(storage.ConnectionString));
        var template = Message([]);
        var largestInline = Enumerable.Range(30_000, 20_000)
            .Last(n => PendingWebhooks.FitsInQueueMessage(PendingWebhooks.Serialize(template with { Body = new byte[n], BodyLength = n }).Length));

        var inline = await pending.EnqueueAsync(template with { Body = new byte[largestInline], BodyLength = largestInline });
        var spilled = await pending.EnqueueAsync(template with { Body = new byte[largestInline + 1], BodyLength = largestInline + 1 });

        Assert.Null(inline.BodyBlob);
        Assert.NotNull(spilled.BodyBlob);
        var raw = new QueueClient(storage.ConnectionString, StorageNames.WebhookQueue);
        var texts = (await raw.PeekMessagesAsync(10)).Value.Select(m => m.Body.ToString()).ToList();
        Assert.Equal(2, texts.Count);
        Assert.Contains(texts, t => t.Length >= StorageAccount.MaxQueueMessageBytes - 8);
        Assert.All(texts, t => Assert.True(t.Length <= StorageAccount.MaxQueueMessageBytes));
    }

    [Fact]
    public async Task Blob_backed_body_is_read_back_and_deleted_on_request()
    {
        await storage.ResetAsync();
        var pending = new PendingWebhooks(StorageAccount.FromConnectionString(storage.ConnectionString));
        var body = CalDeliveries.BookingCreated(padTo: 300_000);

        var stored = await pending.EnqueueAsync(Message(body));
        Assert.Equal(body, await pending.ReadBodyAsync(stored));

        await pending.DeleteBodyAsync(stored);
        var blob = new Azure.Storage.Blobs.BlobContainerClient(storage.ConnectionString, StorageNames.PayloadContainer).GetBlobClient(stored.BodyBlob);
        Assert.False(await blob.ExistsAsync());
    }

    [Fact]
    public async Task Queue_is_created_on_first_use()
    {
        await storage.ResetAsync();
        var raw = new QueueClient(storage.ConnectionString, StorageNames.WebhookQueue);
        Assert.False(await raw.ExistsAsync());

        await new PendingWebhooks(StorageAccount.FromConnectionString(storage.ConnectionString)).EnqueueAsync(Message([1, 2, 3]));

        Assert.True(await raw.ExistsAsync());
    }
}
