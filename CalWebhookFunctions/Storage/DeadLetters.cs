using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using CalWebhookFunctions.Operations.Alerts;

namespace CalWebhookFunctions.Storage;

/// <summary>
/// The one poison writer: every message parked in a queue's <c>{queue}-poison</c> goes through here, never expiring
/// (the host's own parking would give it a 7-day time-to-live). An event (<see cref="WriteAsync"/>) keeps its body blob,
/// or moves its body to one when the message would be too large, so it can be replayed, and raises
/// <c>delivery.dead_lettered</c>; any other message (<see cref="ParkAsync(string, byte[], CancellationToken)"/>) is
/// parked exactly as it was handed over, as the host would. <c>cal-webhooks-poison</c> thus holds two shapes, both a
/// <see cref="QueuedWebhook"/> in base64: events given up on (with <see cref="QueuedWebhook.DeadLetter"/> saying why) and
/// messages parked as they were.
/// </summary>
public sealed class DeadLetters(StorageAccount storage, PendingWebhooks pending, Alerts alerts)
{
    public const string PoisonSuffix = "-poison";

    private readonly QueueClient _poison = storage.Queue(StorageNames.WebhookPoisonQueue);

    /// <summary><c>cal-webhooks-poison</c> read without decoding: it may hold messages that are not base64 at all.</summary>
    public QueueClient RawQueue { get; } = storage.RawQueue(StorageNames.WebhookPoisonQueue);

    /// <summary>Stores an event with its dead-letter reason in <c>cal-webhooks-poison</c>, then raises <c>delivery.dead_lettered</c> (never blocking: see <see cref="Alerts"/>).</summary>
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

    /// <summary>Parks a message of <paramref name="queue"/> in its poison queue exactly as it was handed over.</summary>
    public Task ParkAsync(string queue, byte[] message, CancellationToken cancellationToken) =>
        ParkAsync(storage, queue, message, cancellationToken);

    /// <summary>Parks a message of <paramref name="queue"/> in <paramref name="account"/> (the app's, or the ingest fallback's).</summary>
    public static Task ParkAsync(StorageAccount account, string queue, byte[] message, CancellationToken cancellationToken) =>
        PendingWebhooks.SendAsync(account.Queue(queue + PoisonSuffix), message, null, cancellationToken);
}
