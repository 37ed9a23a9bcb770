using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace CalWebhookFunctions.Storage;

/// <summary>
/// Writes accepted events to <c>cal-webhooks</c> and keeps bodies too large for a queue message in
/// <c>cal-webhook-payloads</c>. Messages never expire: an acknowledged event waits as long as it must.
/// </summary>
public sealed class PendingWebhooks
{
    /// <summary>Time-to-live that tells Azure Queue Storage a message never expires.</summary>
    public static readonly TimeSpan NeverExpires = TimeSpan.FromSeconds(-1);

    private readonly QueueClient _queue;
    private readonly BlobContainerClient _payloads;

    public PendingWebhooks(StorageAccount account)
    {
        _queue = account.Queue(StorageNames.WebhookQueue);
        _payloads = account.Container(StorageNames.PayloadContainer);
    }

    /// <summary>The account's <c>cal-webhooks</c>.</summary>
    public QueueClient Queue => _queue;

    /// <summary>The account's <c>cal-webhook-payloads</c>.</summary>
    public BlobContainerClient Payloads => _payloads;

    /// <summary>
    /// Stores the event durably: returns only once Azure Storage has accepted the message (and, for a large body,
    /// the blob before it). Throws when storage is unavailable after the clients' bounded retries.
    /// Returns the message as stored: with <see cref="QueuedWebhook.BodyBlob"/> set when the body went to a blob.
    /// </summary>
    public Task<QueuedWebhook> EnqueueAsync(QueuedWebhook message, TimeSpan? visibilityDelay = null, CancellationToken cancellationToken = default) =>
        StoreAsync(_queue, message, visibilityDelay, cancellationToken);

    /// <summary>
    /// Writes the event to <paramref name="queue"/> (<c>cal-webhooks</c>, or <c>cal-webhooks-poison</c> for a dead
    /// letter), moving its body to <c>cal-webhook-payloads</c> first when the message would pass the 64 KiB limit.
    /// A body blob that already exists for the event (an earlier copy of it) is reused, and kept if the send fails.
    /// </summary>
    public async Task<QueuedWebhook> StoreAsync(QueueClient queue, QueuedWebhook message, TimeSpan? visibilityDelay, CancellationToken cancellationToken)
    {
        var json = Serialize(message);
        if (FitsInQueueMessage(json.Length))
        {
            await SendAsync(queue, json, visibilityDelay, cancellationToken).ConfigureAwait(false);
            return message;
        }

        var body = message.Body ?? throw new InvalidOperationException("A message too large for the queue must carry its body.");
        var blobName = PayloadBlobName(message);
        var blob = _payloads.GetBlobClient(blobName);
        var created = await MissingResource.CreateAndRetryAsync(
            () => UploadIfAbsentAsync(blob, body, cancellationToken),
            () => _payloads.CreateIfNotExistsAsync(cancellationToken: cancellationToken)).ConfigureAwait(false);
        var reference = message with { Body = null, BodyBlob = blobName };
        try
        {
            await SendAsync(queue, Serialize(reference), visibilityDelay, cancellationToken).ConfigureAwait(false);
            return reference;
        }
        catch when (created)
        {
            // The event was not stored by this call; do not leave a body behind that nothing refers to.
            await blob.DeleteIfExistsAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Uploads the body unless the event's blob already exists (same event id, same bytes); true when it uploaded.</summary>
    private static async Task<bool> UploadIfAbsentAsync(Azure.Storage.Blobs.BlobClient blob, byte[] body, CancellationToken cancellationToken)
    {
        try
        {
            await blob.UploadAsync(new BinaryData(body), overwrite: false, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 409 && ex.ErrorCode == "BlobAlreadyExists")
        {
            return false;
        }
    }

    /// <summary>Sends serialized message bytes to a queue, never expiring, creating the queue on first use.</summary>
    public static async Task<SendReceipt> SendAsync(QueueClient queue, byte[] json, TimeSpan? visibilityDelay, CancellationToken cancellationToken) =>
        (await MissingResource.CreateAndRetryAsync(
            () => queue.SendMessageAsync(new BinaryData(json), visibilityDelay, NeverExpires, cancellationToken),
            () => queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken)).ConfigureAwait(false)).Value;

    /// <summary>The raw body of an event, from the message or from its blob.</summary>
    public async Task<byte[]> ReadBodyAsync(QueuedWebhook message, CancellationToken cancellationToken = default)
    {
        if (message.Body is not null)
        {
            return message.Body;
        }
        if (message.BodyBlob is null)
        {
            throw new InvalidDataException($"Event {message.EventId} has neither a body nor a body blob.");
        }
        var content = await _payloads.GetBlobClient(message.BodyBlob).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
        return content.Value.Content.ToArray();
    }

    /// <summary>Removes the body blob of an event that no longer needs it; a body held inline needs nothing.</summary>
    public Task DeleteBodyAsync(QueuedWebhook message, CancellationToken cancellationToken = default) =>
        message.BodyBlob is null
            ? Task.CompletedTask
            : _payloads.GetBlobClient(message.BodyBlob).DeleteIfExistsAsync(cancellationToken: cancellationToken);

    public static byte[] Serialize(QueuedWebhook message) =>
        JsonSerializer.SerializeToUtf8Bytes(message, StorageJsonContext.Default.QueuedWebhook);

    /// <summary>Parses a message as the Functions host hands it over (already base64-decoded, per host.json).</summary>
    public static QueuedWebhook Deserialize(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize(json, StorageJsonContext.Default.QueuedWebhook)
        ?? throw new InvalidDataException("The queue message is JSON null.");

    /// <summary>
    /// The event in a message as the host hands it over, when it is one with all its fields
    /// (<see cref="QueuedWebhook.IsWellFormed"/>); else false, and <paramref name="problem"/> says why, for a dead letter.
    /// </summary>
    public static bool TryDeserialize(ReadOnlySpan<byte> json, [NotNullWhen(true)] out QueuedWebhook? message, [NotNullWhen(false)] out string? problem)
    {
        try
        {
            message = Deserialize(json);
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException or NotSupportedException or DecoderFallbackException)
        {
            (message, problem) = (null, "not a queued webhook");
            return false;
        }
        problem = QueuedWebhook.IsWellFormed(message) ? null : "missing or invalid fields";
        return problem is null;
    }

    /// <summary>Whether serialized message bytes stay within the queue limit once the client base64-encodes them.</summary>
    public static bool FitsInQueueMessage(int jsonLength) => ((jsonLength + 2L) / 3 * 4) <= StorageAccount.MaxQueueMessageBytes;

    private static string PayloadBlobName(QueuedWebhook message) =>
        $"{message.ReceivedAt.UtcDateTime:yyyy/MM/dd}/{message.EventId}";
}
