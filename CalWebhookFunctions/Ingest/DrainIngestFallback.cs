using Azure.Storage.Queues.Models;
using CalWebhookFunctions.Storage;
using Microsoft.Azure.Functions.Worker;

namespace CalWebhookFunctions.Ingest;

/// <summary>
/// Queue <c>cal-webhooks</c> of the <em>fallback</em> account (<c>Ingest__FallbackStorage</c>): moves each event ingest
/// wrote there into the primary account's <c>cal-webhooks</c> as soon as the primary takes it (<see cref="FallbackMover"/>).
/// Without a fallback account the host cannot bind this trigger: see the README ("Ingest fallback") for the app setting
/// that disables it.
/// </summary>
public sealed class DrainIngestFallback(FallbackMover mover)
{
    [Function(nameof(DrainIngestFallback))]
    public async Task Run(
        [QueueTrigger(StorageNames.WebhookQueue, Connection = IngestFallback.Connection)] QueueMessage message,
        CancellationToken cancellationToken)
    {
        // The host has base64-decoded the message (host.json messageEncoding): Body is the bytes ingest enqueued.
        await mover.MoveAsync(message.Body.ToArray(), cancellationToken);
    }
}
