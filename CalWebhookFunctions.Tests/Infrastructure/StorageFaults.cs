using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using CalWebhookFunctions.Storage;

namespace CalWebhookFunctions.Tests.Infrastructure;

/// <summary>
/// The app's storage account over the test's Azurite with policies in the SDK pipelines, to force an interleaving or an
/// outage at an exact request: the requests that pass still go to Azurite (nothing is mocked), and no SDK retries.
/// Register the result in place of the app's.
/// </summary>
internal static class StorageFaults
{
    /// <param name="moreTables">Further table policies, run after <paramref name="tables"/> in this order.</param>
    public static StorageAccount Account(string connectionString, HttpPipelinePolicy? tables = null, HttpPipelinePolicy? rawQueues = null,
        HttpPipelinePolicy? queues = null, HttpPipelinePolicy? blobs = null, IEnumerable<HttpPipelinePolicy>? moreTables = null)
    {
        T With<T>(T options, HttpPipelinePolicy? policy, IEnumerable<HttpPipelinePolicy>? more = null) where T : ClientOptions
        {
            options.Retry.MaxRetries = 0;
            foreach (var each in (policy is null ? [] : new[] { policy }).Concat(more ?? []))
            {
                options.AddPolicy(each, HttpPipelinePosition.PerRetry);
            }
            return options;
        }
        return new StorageAccount(
            new QueueServiceClient(connectionString, With(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 }, queues)),
            new TableServiceClient(connectionString, With(new TableClientOptions(), tables, moreTables)),
            new BlobServiceClient(connectionString, With(new BlobClientOptions(), blobs)),
            new QueueServiceClient(connectionString, With(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None }, rawQueues)));
    }

    /// <summary>Some of storage down for good: every request to the tables, the blobs or a queue named here fails.</summary>
    /// <param name="downQueues">Queues that are down, by exact name (a queue's poison queue is another queue).</param>
    public static StorageAccount Down(string connectionString, bool tablesDown, bool blobsDown, params string[] downQueues)
    {
        var queuesDown = new Outage(m => m.Request.Uri.Path.Split('/').Intersect(downQueues, StringComparer.Ordinal).Any());
        return Account(connectionString, tables: tablesDown ? new Outage(_ => true) : null, blobs: blobsDown ? new Outage(_ => true) : null,
            queues: queuesDown, rawQueues: queuesDown);
    }

    /// <summary>Every queue, table and container the app uses is down.</summary>
    public static StorageAccount Everything(string connectionString) =>
        Down(connectionString, tablesDown: true, blobsDown: true,
            StorageNames.WebhookQueue, StorageNames.WebhookPoisonQueue, StorageNames.CleanupQueue);

    /// <summary>
    /// A write of table rows: an entity-group transaction, or the plain request a group commit sends for a single action
    /// (not a read, not the creation of a table).
    /// </summary>
    public static bool IsTableWrite(HttpMessage message) =>
        message.Request.Method != RequestMethod.Get && !message.Request.Uri.Path.EndsWith("/Tables", StringComparison.Ordinal);

    public static bool Is(HttpMessage message, string method, string pathPart) =>
        message.Request.Method.Method == method && message.Request.Uri.Path.Contains(pathPart, StringComparison.Ordinal);

    /// <summary>
    /// Whether the request writes table rows (<see cref="IsTableWrite"/>: a transaction, or a single action's plain request)
    /// and its text contains <paramref name="part"/>: e.g. <c>RowKey='e_</c> for a write of the delivery log.
    /// </summary>
    public static bool IsWriteWith(HttpMessage message, string part)
    {
        if (!IsTableWrite(message) || message.Request.Content is not { } content)
        {
            return false;
        }
        using var text = new MemoryStream();
        content.WriteTo(text, CancellationToken.None);
        return System.Text.Encoding.UTF8.GetString(text.ToArray()).Contains(part, StringComparison.Ordinal);
    }
}

/// <summary>
/// Storage down: a request goes to a closed port on 127.0.0.1 (a real connection failure) when <c>down</c> matches it,
/// or when it is one of the next <see cref="FailNext"/> requests.
/// </summary>
internal sealed class Outage(Func<HttpMessage, bool>? down = null) : HttpPipelinePolicy
{
    private int _failuresLeft;
    private int _failed;

    public int Failed => Volatile.Read(ref _failed);

    public void FailNext(int requests) => Volatile.Write(ref _failuresLeft, requests);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The app's storage calls are asynchronous.");

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        if (down?.Invoke(message) == true || Interlocked.Decrement(ref _failuresLeft) >= 0)
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
/// <see cref="Answered"/> completes once a request that <c>answered</c> matches has had a 2xx answer. With
/// <c>holdAnswer</c> the first request it matches goes to storage and is done there, but its answer is held from the
/// app (<see cref="Held"/>) until <see cref="Release"/>: a call that hung after it took effect.
/// </summary>
internal sealed class StorageGate(Func<HttpMessage, bool>? hold = null, Func<HttpMessage, bool>? answered = null,
    Func<HttpMessage, bool>? before = null, Func<HttpMessage, bool>? holdAnswer = null) : HttpPipelinePolicy
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
        if (holdAnswer?.Invoke(message) == true && Interlocked.Exchange(ref _holding, 1) == 0)
        {
            _held.TrySetResult();
            await _release.Task;
        }
    }
}
