using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using CalWebhookFunctions.Operations.Alerts;
using CalWebhookFunctions.Storage;

namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// <c>cal-webhooks-poison</c>. It holds two shapes, both a <see cref="QueuedWebhook"/> in base64: events the forwarder
/// gave up on (with <see cref="QueuedWebhook.DeadLetter"/> saying why), and messages the Functions host moved there
/// itself after <c>maxDequeueCount</c> failed invocations (the original message, untouched). Messages never expire,
/// and a dead-lettered event keeps its body blob so it can be replayed.
/// </summary>
public sealed class DeadLetters(StorageAccount storage, PendingWebhooks pending, Alerts alerts)
{
    private readonly QueueClient _poison = storage.Queue(StorageNames.WebhookPoisonQueue);
    private readonly QueueClient _rawPoison = storage.RawQueue(StorageNames.WebhookPoisonQueue);

    public QueueClient Queue => _poison;

    /// <summary>The poison queue read without decoding: it may hold messages that are not base64 at all.</summary>
    public QueueClient RawQueue => _rawPoison;

    /// <summary>Stores an event with its dead-letter reason (its body moves to a blob if the message would be too large).</summary>
    /// <summary>Raises <c>delivery.dead_lettered</c> once it is stored (never blocking: see <see cref="Alerts"/>).</summary>
    public async Task WriteAsync(QueuedWebhook message, CancellationToken cancellationToken)
    {
        await pending.StoreAsync(_poison, message, null, cancellationToken).ConfigureAwait(false);
        alerts.Raise(AlertTypes.DeliveryDeadLettered, message.ConnectionId ?? "(none)", new JsonObject
        {
            ["eventId"] = message.EventId,
            ["connectionId"] = message.ConnectionId,
            ["reason"] = message.DeadLetter?.Reason,
        });
    }

    /// <summary>Stores a message that could not be read as an event exactly as it was handed over (as the host would).</summary>
    public Task WriteRawAsync(byte[] message, CancellationToken cancellationToken) =>
        PendingWebhooks.SendAsync(_poison, message, null, cancellationToken);
}
