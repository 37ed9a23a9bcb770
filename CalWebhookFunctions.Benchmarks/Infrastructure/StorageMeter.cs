using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using CalWebhookFunctions.Storage;

namespace CalWebhookFunctions.Benchmarks.Infrastructure;

/// <summary>
/// In the pipeline of every storage client of a benchmark (the app's and the queue-trigger loop's): counts the requests
/// that go out, and delays each by <see cref="Delay"/> first (0 on loopback; a few ms to stand for Azure Storage's round
/// trip in the same region). Nothing is mocked: every request still goes to Azurite.
/// </summary>
public sealed class StorageMeter(TimeSpan delay) : HttpPipelinePolicy
{
    private long _requests;

    public TimeSpan Delay => delay;

    public long Requests => Interlocked.Read(ref _requests);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The benchmarks' storage calls are asynchronous.");

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Interlocked.Increment(ref _requests);
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay).ConfigureAwait(false);
        }
        await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
    }

    /// <summary>The app's storage account (same encodings as <see cref="StorageAccount.FromConnectionString"/>) with this meter in each pipeline.</summary>
    public StorageAccount Account(string connectionString) => new(
        new QueueServiceClient(connectionString, With(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 })),
        new TableServiceClient(connectionString, With(new TableClientOptions())),
        new BlobServiceClient(connectionString, With(new BlobClientOptions())),
        new QueueServiceClient(connectionString, With(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None })));

    /// <summary>Options with this meter added to their pipeline.</summary>
    public T With<T>(T options) where T : ClientOptions
    {
        options.AddPolicy(this, HttpPipelinePosition.PerRetry);
        return options;
    }
}
