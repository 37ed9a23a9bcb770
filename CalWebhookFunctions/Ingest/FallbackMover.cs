using Azure;
using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Storage;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Ingest;

/// <summary>What became of one message of the fallback account's <c>cal-webhooks</c>.</summary>
public enum FallbackMove
{
    /// <summary>In the primary's <c>cal-webhooks</c> now (its body blob first): forwarded from there like any event.</summary>
    Moved,

    /// <summary>The primary did not take it: a copy waits in the fallback queue and tries again after a delay.</summary>
    RetryLater,

    /// <summary>Not a readable event: parked in the fallback account's <c>cal-webhooks-poison</c> as it was.</summary>
    Unreadable,
}

/// <summary>
/// Moves events that ingest wrote to the fallback account into the primary account's <c>cal-webhooks</c>, where
/// ForwardCalWebhook forwards them with the same envelope, webhook-id, deduplication and log as any other event. Order:
/// the body blob (if any) is copied first, then the message is sent, then the fallback's blob is removed, and the host
/// deletes the fallback message once the function returns — so at every moment the event is in at least one account.
/// While the primary does not take it, the function does not throw (each throw would spend one of the host's
/// <c>maxDequeueCount</c> and end in the poison queue with a 7-day time-to-live): it re-enqueues a copy into the
/// fallback queue, never expiring, hidden for the next delay of the storage retry policy (<see cref="StorageRetryPolicy.Default"/>: 10 s
/// growing to 5 min, never giving up here), and returns. The copy starts at dequeue count 1 again, so an outage of any length burns nothing. Only when
/// the fallback itself refuses that copy does the invocation fail (the host retries it).
/// </summary>
public sealed partial class FallbackMover(PendingWebhooks primary, IngestFallback fallback, Redelivery redelivery, StorageRetryPolicy delays,
    TimeProvider time, ILogger<FallbackMover> logger)
{
    /// <summary>The storage retry delays, never giving up: the event waits in the fallback account as long as the primary refuses it.</summary>
    private readonly RetrySchedule _retries = delays.Endless();

    public async Task<FallbackMove> MoveAsync(byte[] rawMessage, CancellationToken cancellationToken)
    {
        var fallbackAccount = fallback.Account
            ?? throw new InvalidOperationException($"{IngestFallback.Setting} is not set, so nothing can be drained from it.");
        if (!PendingWebhooks.TryDeserialize(rawMessage, out var message, out _))
        {
            await DeadLetters.ParkAsync(fallbackAccount, StorageNames.WebhookQueue, rawMessage, cancellationToken).ConfigureAwait(false);
            Unreadable(logger, rawMessage.Length);
            return FallbackMove.Unreadable;
        }

        var fallbackPending = new PendingWebhooks(fallbackAccount);
        try
        {
            await CopyBodyAsync(fallbackAccount, message, cancellationToken).ConfigureAwait(false);
            // A fresh start in the primary: storage retries spent while waiting in the fallback are not the forwarder's.
            await PendingWebhooks.SendAsync(primary.Queue, PendingWebhooks.Serialize(message with { StorageRetries = 0 }), null, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (StorageRetryPolicy.IsStorageFailure(ex, cancellationToken))
        {
            var delay = await redelivery.RetryAsync(message with { StorageRetries = message.StorageRetries + 1 }, message.StorageRetries, _retries,
                cancellationToken, into: fallbackPending).ConfigureAwait(false);
            NotYet(logger, ex, message.EventId, message.StorageRetries + 1, delay!.Value);
            return FallbackMove.RetryLater;
        }
        try
        {
            await fallbackPending.DeleteBodyAsync(message, CancellationToken.None).ConfigureAwait(false);
        }
        catch (RequestFailedException ex)
        {
            BlobNotRemoved(logger, ex, message.EventId);
        }
        var age = time.GetUtcNow() - message.ReceivedAt;
        Moved(logger, message.EventId, message.ConnectionId, age);
        return FallbackMove.Moved;
    }

    /// <summary>
    /// Copies the body blob into the primary's container unless it is there already. A blob already gone from the
    /// fallback was copied by an earlier try of this message (whose delete did not reach the host).
    /// </summary>
    private async Task CopyBodyAsync(StorageAccount fallbackAccount, QueuedWebhook message, CancellationToken cancellationToken)
    {
        if (message.BodyBlob is null)
        {
            return;
        }
        var target = primary.Payloads.GetBlobClient(message.BodyBlob);
        if ((await target.ExistsAsync(cancellationToken).ConfigureAwait(false)).Value)
        {
            return;
        }
        byte[] body;
        try
        {
            var source = fallbackAccount.Container(StorageNames.PayloadContainer).GetBlobClient(message.BodyBlob);
            body = (await source.DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToArray();
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return; // The forwarder dead-letters it as body_missing if the primary does not have it either.
        }
        await MissingResource.CreateAndRetryAsync(
            async () => (await target.UploadAsync(new BinaryData(body), overwrite: true, cancellationToken).ConfigureAwait(false)).Value,
            () => primary.Payloads.CreateIfNotExistsAsync(cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 1010, Level = LogLevel.Information,
        Message = "Moved event {EventId} (connection {ConnectionId}) from the fallback account into cal-webhooks, {Age} after it was received")]
    private static partial void Moved(ILogger logger, string eventId, string? connectionId, TimeSpan age);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning,
        Message = "The primary storage account did not take event {EventId} from the fallback account; try {Try} in {Delay}")]
    private static partial void NotYet(ILogger logger, Exception exception, string eventId, int @try, TimeSpan delay);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Error,
        Message = "A message of {MessageBytes} bytes in the fallback account's cal-webhooks is not a readable event; parked in its cal-webhooks-poison")]
    private static partial void Unreadable(ILogger logger, int messageBytes);

    [LoggerMessage(EventId = 1013, Level = LogLevel.Warning,
        Message = "Could not remove the fallback account's body blob of moved event {EventId}; it is only storage now")]
    private static partial void BlobNotRemoved(ILogger logger, Exception exception, string eventId);
}
