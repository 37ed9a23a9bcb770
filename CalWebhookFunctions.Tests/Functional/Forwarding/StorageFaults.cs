using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using CalWebhookFunctions.Storage;

namespace CalWebhookFunctions.Tests.Functional.Forwarding;

/// <summary>
/// The app's storage account over the test's Azurite with policies in the SDK pipelines, to force an interleaving or an
/// outage at an exact request: the requests that pass still go to Azurite (nothing is mocked), and no SDK retries.
/// </summary>
internal static class StorageFaults
{
    public static StorageAccount Account(string connectionString, HttpPipelinePolicy? tables = null, HttpPipelinePolicy? rawQueues = null,
        HttpPipelinePolicy? queues = null)
    {
        var tableOptions = new TableClientOptions();
        tableOptions.Retry.MaxRetries = 0;
        if (tables is not null)
        {
            tableOptions.AddPolicy(tables, HttpPipelinePosition.PerRetry);
        }
        var rawOptions = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None };
        if (rawQueues is not null)
        {
            rawOptions.AddPolicy(rawQueues, HttpPipelinePosition.PerRetry);
        }
        var queueOptions = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        queueOptions.Retry.MaxRetries = 0;
        if (queues is not null)
        {
            queueOptions.AddPolicy(queues, HttpPipelinePosition.PerRetry);
        }
        return new StorageAccount(
            new QueueServiceClient(connectionString, queueOptions),
            new TableServiceClient(connectionString, tableOptions),
            new BlobServiceClient(connectionString),
            new QueueServiceClient(connectionString, rawOptions));
    }

    public static bool Is(HttpMessage message, string method, string pathPart) =>
        message.Request.Method.Method == method && message.Request.Uri.Path.Contains(pathPart, StringComparison.Ordinal);
}

/// <summary>Storage down: the next <see cref="FailNext"/> requests go to a closed port on 127.0.0.1 (a real connection failure).</summary>
internal sealed class Outage : HttpPipelinePolicy
{
    private int _failuresLeft;
    private int _failed;

    public int Failed => Volatile.Read(ref _failed);

    public void FailNext(int requests) => Volatile.Write(ref _failuresLeft, requests);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The app's storage calls are asynchronous.");

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        if (Interlocked.Decrement(ref _failuresLeft) >= 0)
        {
            Interlocked.Increment(ref _failed);
            message.Request.Uri.Port = 9;
        }
        await ProcessNextAsync(message, pipeline);
    }
}

/// <summary>
/// A gate: the first request that <c>hold</c> matches waits (<see cref="Held"/> completes) until <see cref="Release"/>,
/// and <see cref="BeforeFirst"/> runs a test step just before the first request that <c>before</c> matches goes out.
/// <see cref="Answered"/> completes once a request that <c>answered</c> matches has had a 2xx answer.
/// </summary>
internal sealed class StorageGate(Func<HttpMessage, bool>? hold = null, Func<HttpMessage, bool>? answered = null,
    Func<HttpMessage, bool>? before = null) : HttpPipelinePolicy
{
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _answered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _holding;
    private int _before;

    public Task Held => _held.Task;

    public Task Answered => _answered.Task;

    public Func<Task>? BeforeFirst { get; set; }

    public void Release() => _release.TrySetResult();

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The app's storage calls are asynchronous.");

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        if (hold?.Invoke(message) == true && Interlocked.Exchange(ref _holding, 1) == 0)
        {
            _held.TrySetResult();
            await _release.Task;
        }
        if (before?.Invoke(message) == true && BeforeFirst is { } step && Interlocked.Exchange(ref _before, 1) == 0)
        {
            await step();
        }
        await ProcessNextAsync(message, pipeline);
        if (answered?.Invoke(message) == true && message.Response.Status is >= 200 and <= 299)
        {
            _answered.TrySetResult();
        }
    }
}
