using System.Net.Http.Json;
using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Messages;
using CalWebhookFunctions.Operations;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Functional.Forwarding;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Tests.Functional.Operations;

/// <summary>Counts the storage requests that pass through an SDK pipeline (one per HTTP request, batches included).</summary>
internal sealed class StorageCalls(Func<HttpMessage, bool>? counts = null) : HttpPipelinePolicy
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _seen = new();
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>The requests counted since the last reset, as "METHOD path" (for assertion messages).</summary>
    public string Seen => string.Join(", ", _seen);

    public void Reset()
    {
        Volatile.Write(ref _count, 0);
        _seen.Clear();
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The app's storage calls are asynchronous.");

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        if (counts?.Invoke(message) ?? true)
        {
            Interlocked.Increment(ref _count);
            _seen.Enqueue(message.Request.Method + " " + message.Request.Uri.Path);
        }
        await ProcessNextAsync(message, pipeline);
    }
}

/// <summary>
/// The forwarding harness (real Azurite, a receiving app, the queue host) plus the functions.metadata host serving the
/// operations routes with the function key, and a count of the app's table, queue and blob requests (and of the table
/// requests that are entity-group transactions, <see cref="Batches"/>).
/// </summary>
internal sealed class DeliveriesHarness : IAsyncDisposable
{
    private DeliveriesHarness(ForwardingHarness forwarding, FunctionsHost functions, StorageCalls tables, StorageCalls batches, StorageCalls queues,
        StorageCalls blobs)
    {
        Forwarding = forwarding;
        Functions = functions;
        Client = functions.CreateClient();
        Client.DefaultRequestHeaders.Add("x-functions-key", FunctionsHost.FunctionKey);
        Tables = tables;
        Batches = batches;
        Queues = queues;
        Blobs = blobs;
    }

    public ForwardingHarness Forwarding { get; }
    public FunctionsHost Functions { get; }
    public HttpClient Client { get; }
    public StorageCalls Tables { get; }

    /// <summary>The table requests that are entity-group transactions (<c>POST …/$batch</c>).</summary>
    public StorageCalls Batches { get; }
    public StorageCalls Queues { get; }
    public StorageCalls Blobs { get; }
    public TestApp App => Forwarding.App;
    public ReceivingApp Receiver => Forwarding.Receiver;

    /// <param name="tablePolicies">Policies run on every table request after the counts, in order (a <see cref="StorageGate"/>
    /// to hold one, an <see cref="Outage"/>).</param>
    public static async Task<DeliveriesHarness> StartAsync(AzuriteFixture azurite, Func<HttpContext, byte[], int, Task<int>>? respond = null,
        IDictionary<string, string?>? settings = null, IEnumerable<HttpPipelinePolicy>? tablePolicies = null, TimeProvider? time = null)
    {
        var tables = new StorageCalls();
        var batches = new StorageCalls(IsBatch);
        var queues = new StorageCalls();
        var blobs = new StorageCalls();
        var forwarding = await ForwardingHarness.StartAsync(azurite, respond, settings, services =>
        {
            services.AddSingleton(StorageFaults.Account(azurite.ConnectionString, tables: tables, queues: queues, blobs: blobs,
                moreTables: [batches, .. tablePolicies ?? []]));
            if (time is not null)
            {
                services.AddSingleton(time);
            }
        });
        // The app creates its queues and tables in the background at start: let that finish before anything is counted.
        await forwarding.App.Get<CalWebhookFunctions.Storage.StorageInitializer>().Created;
        var functions = await FunctionsHost.StartAsync(forwarding.App.Services);
        return new DeliveriesHarness(forwarding, functions, tables, batches, queues, blobs);
    }

    /// <summary>
    /// An entity-group transaction that carries delivery log rows (a summary row): the log's own, or one of the ledger's that
    /// delivered outcomes rode in.
    /// </summary>
    public static bool IsBatch(HttpMessage message) => StorageFaults.IsWriteWith(message, "RowKey='" + DeliveryLogKeys.SummaryPrefix);

    /// <summary>Runs ForwardCalWebhook until the queue is empty and every background write (marks, log) has landed.</summary>
    public async Task DrainAsync()
    {
        await Forwarding.DrainAsync();
        await App.Get<DeliveryMarks>().FlushAsync();
    }

    /// <summary>An event stored as ingest stores it, with the given body and Content-Type, then forwarded.</summary>
    public async Task<QueuedWebhook> ForwardAsync(byte[] body, string? connectionId = null, string contentType = "application/json")
    {
        var message = ForwardingHarness.NewEvent(body, connectionId);
        message = message with { Headers = new Dictionary<string, string>(message.Headers) { [KeptHeaders.ContentType] = contentType } };
        var stored = await App.Get<PendingWebhooks>().EnqueueAsync(message);
        await DrainAsync();
        return stored;
    }

    /// <summary>A log entry written straight through the app's <see cref="DeliveryLog"/>, for an event received at <paramref name="receivedAt"/>.</summary>
    public async Task<QueuedWebhook> LogAsync(DateTimeOffset receivedAt, string? connectionId, string status, string trigger = "BOOKING_CREATED",
        int attempts = 1, string? eventId = null)
    {
        var body = System.Text.Encoding.UTF8.GetBytes(
            $"{{\"triggerEvent\":\"{trigger}\",\"createdAt\":\"2026-11-26T10:00:00.000Z\",\"payload\":{{\"uid\":\"bk_{receivedAt.ToUnixTimeMilliseconds()}\"}}}}");
        var message = ForwardingHarness.NewEvent(body, connectionId, eventId ?? Guid.CreateVersion7(receivedAt).ToString("N")) with { ReceivedAt = receivedAt };
        var outcome = new LoggedOutcome(status, attempts, connectionId is not null, Receiver.Url, LastStatus: 200,
            DeliveredAt: status == DeliveryStatus.Delivered ? receivedAt : null,
            Attempt: new LoggedAttempt(attempts, receivedAt, 200, 5, null, "ok"));
        await App.Get<DeliveryLog>().RecordAsync(message, OutboundSigner.WebhookId(connectionId, body), outcome, body, CancellationToken.None);
        return message;
    }

    public Task<HttpResponseMessage> GetAsync(string pathAndQuery) => Client.GetAsync("api/" + pathAndQuery);

    public Task<HttpResponseMessage> PostAsync(string path) => Client.PostAsync("api/" + path, null);

    public static async Task<JsonElement> JsonOf(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).Clone();

    /// <summary>Every page of a list, following the continuation; the pages' item counts and all event ids in order.</summary>
    public async Task<(List<int> PageSizes, List<string> EventIds)> AllPagesAsync(string query)
    {
        var sizes = new List<int>();
        var ids = new List<string>();
        string? continuation = null;
        do
        {
            using var response = await GetAsync("deliveries?" + query + (continuation is null ? "" : "&continuation=" + Uri.EscapeDataString(continuation)));
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            var json = await JsonOf(response);
            var items = json.GetProperty("items").EnumerateArray().ToList();
            sizes.Add(items.Count);
            ids.AddRange(items.Select(i => i.GetProperty("eventId").GetString()!));
            continuation = json.GetProperty("continuation").GetString();
        }
        while (continuation is not null && sizes.Count < 100);
        return (sizes, ids);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Functions.DisposeAsync();
        await Forwarding.DisposeAsync();
    }
}
