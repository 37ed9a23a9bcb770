using System.Text.Json;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using CalWebhookFunctions.Storage;

namespace CalWebhookFunctions.Subscriptions;

/// <summary>The queues <c>cal-subscription-cleanup</c> and its dead letters <c>cal-subscription-cleanup-poison</c>.</summary>
public sealed class CleanupMessages(StorageAccount storage)
{
    /// <summary>Where cleanups go that no configured credential could finish (the host's poison queue name for the trigger).</summary>
    public const string PoisonQueueName = StorageNames.CleanupQueue + DeadLetters.PoisonSuffix;

    /// <summary>Delays between CleanUpSubscription's attempts; when they are used up the message is dead-lettered.</summary>
    public static readonly IReadOnlyList<TimeSpan> RetrySchedule =
    [
        TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(30),
        TimeSpan.FromHours(1), TimeSpan.FromHours(2), TimeSpan.FromHours(4), TimeSpan.FromHours(8),
    ];

    private readonly QueueClient _queue = storage.Queue(StorageNames.CleanupQueue);

    public QueueClient Queue => _queue;

    /// <summary>Queues <paramref name="message"/>; the receipt lets the sender withdraw it (<see cref="WithdrawAsync"/>).</summary>
    public Task<SendReceipt> EnqueueAsync(CleanupMessage message, TimeSpan? delay, CancellationToken cancellationToken) =>
        PendingWebhooks.SendAsync(_queue, Serialize(message), delay, cancellationToken);

    /// <summary>Takes back a message queued with <see cref="EnqueueAsync"/> whose work was done at once (gone already is fine).</summary>
    public async Task WithdrawAsync(SendReceipt receipt, CancellationToken cancellationToken)
    {
        try
        {
            await _queue.DeleteMessageAsync(receipt.MessageId, receipt.PopReceipt, cancellationToken).ConfigureAwait(false);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status is 400 or 404)
        {
            // Already picked up by CleanUpSubscription, which finds the subscription gone.
        }
    }

    public static byte[] Serialize(CleanupMessage message) =>
        JsonSerializer.SerializeToUtf8Bytes(message, SubscriptionsJsonContext.Default.CleanupMessage);

    /// <summary>The message, or null when it is not a readable cleanup message.</summary>
    public static CleanupMessage? TryDeserialize(ReadOnlySpan<byte> json)
    {
        try
        {
            var message = JsonSerializer.Deserialize(json, SubscriptionsJsonContext.Default.CleanupMessage);
            return message is not null && SubscriptionScope.Names.Contains(message.Scope) ? message : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>The Cal.com scope a cleanup message names (its scope name and ids).</summary>
public static class CleanupMessageScope
{
    extension(CleanupMessage message)
    {
        public SubscriptionScope SubscriptionScope => new(message.Scope, message.OrgId, message.TeamId, message.EventTypeId);
    }
}
