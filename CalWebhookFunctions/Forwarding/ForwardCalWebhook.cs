using Azure.Storage.Queues.Models;
using CalWebhookFunctions.Storage;
using Microsoft.Azure.Functions.Worker;

namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// Queue <c>cal-webhooks</c>: forwards each accepted event to the app. Returning normally lets the host delete the
/// message (the event was delivered, deduplicated, re-enqueued for a retry, or dead-lettered); throwing (storage
/// failure) makes the host hand it over again, and after <c>maxDequeueCount</c> move it to <c>cal-webhooks-poison</c>.
/// </summary>
public sealed class ForwardCalWebhook(WebhookForwarder forwarder)
{
    [Function(nameof(ForwardCalWebhook))]
    public async Task Run(
        [QueueTrigger(StorageNames.WebhookQueue, Connection = StorageNames.Connection)] QueueMessage message,
        CancellationToken cancellationToken)
    {
        // The host has base64-decoded the message (host.json messageEncoding): Body is the bytes the app enqueued.
        await forwarder.ProcessAsync(message.Body.ToArray(), cancellationToken);
    }
}
