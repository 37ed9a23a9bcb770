using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using CalWebhookFunctions.Storage;

namespace CalWebhookFunctions.Tests.Infrastructure;

/// <summary>
/// The app's storage account over Azurite with some of it down: every request to a service or queue that is down fails
/// at once with a 503 (no retries); the rest reach Azurite. Register the result in place of the app's.
/// </summary>
public static class StorageOutage
{
    /// <param name="downQueues">Queues that are down, by exact name (a queue's poison queue is another queue).</param>
    public static StorageAccount Account(string connectionString, bool tablesDown, bool blobsDown, params string[] downQueues)
    {
        T With<T>(T options, Func<Uri, bool> isDown) where T : ClientOptions
        {
            options.Retry.MaxRetries = 0;
            options.AddPolicy(new Refuse(isDown), HttpPipelinePosition.PerCall);
            return options;
        }
        bool QueueDown(Uri uri) => uri.AbsolutePath.Split('/').Intersect(downQueues, StringComparer.Ordinal).Any();
        return new StorageAccount(
            new QueueServiceClient(connectionString, With(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 }, QueueDown)),
            new TableServiceClient(connectionString, With(new TableClientOptions(), _ => tablesDown)),
            new BlobServiceClient(connectionString, With(new BlobClientOptions(), _ => blobsDown)),
            new QueueServiceClient(connectionString, With(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None }, QueueDown)));
    }

    /// <summary>Every queue, table and container the app uses is down.</summary>
    public static StorageAccount Everything(string connectionString) =>
        Account(connectionString, tablesDown: true, blobsDown: true,
            StorageNames.WebhookQueue, StorageNames.WebhookPoisonQueue, StorageNames.CleanupQueue);

    private sealed class Refuse(Func<Uri, bool> isDown) : HttpPipelineSynchronousPolicy
    {
        public override void OnSendingRequest(HttpMessage message)
        {
            if (isDown(message.Request.Uri.ToUri()))
            {
                throw new RequestFailedException(503, "Simulated storage outage.");
            }
        }
    }
}
