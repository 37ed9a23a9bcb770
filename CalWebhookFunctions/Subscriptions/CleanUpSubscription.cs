using Azure.Storage.Queues.Models;
using CalWebhookFunctions.Storage;
using Microsoft.Azure.Functions.Worker;

namespace CalWebhookFunctions.Subscriptions;

/// <summary>Queue <c>cal-subscription-cleanup</c>: deletes Cal.com subscriptions left behind by removed connections.</summary>
public sealed class CleanUpSubscription(SubscriptionCleaner cleaner)
{
    [Function(nameof(CleanUpSubscription))]
    public async Task Run(
        [QueueTrigger(StorageNames.CleanupQueue, Connection = StorageNames.Connection)] QueueMessage message,
        CancellationToken cancellationToken)
    {
        await cleaner.ProcessAsync(message.Body.ToArray(), cancellationToken);
    }
}
