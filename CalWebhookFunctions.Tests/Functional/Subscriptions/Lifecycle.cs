using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Subscriptions;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;

namespace CalWebhookFunctions.Tests.Functional.Subscriptions;

/// <summary>
/// One running app for lifecycle tests: a fake Cal.com on 127.0.0.1, the app's real services over Azurite, and the
/// HTTP functions served by <see cref="FunctionsHost"/> (function key included in every call).
/// </summary>
public sealed class Lifecycle : IAsyncDisposable
{
    public const string Token = "cal_test_4f9c2b7e1d0a";

    private readonly bool _ownsCal;

    private Lifecycle(FakeCalCom cal, bool ownsCal, TestApp app, FunctionsHost host, string storage)
    {
        Cal = cal;
        _ownsCal = ownsCal;
        App = app;
        Host = host;
        Storage = storage;
        Client = host.CreateClient();
        Client.DefaultRequestHeaders.Add("x-functions-key", FunctionsHost.FunctionKey);
    }

    public FakeCalCom Cal { get; }

    public TestApp App { get; }

    public FunctionsHost Host { get; }

    public HttpClient Client { get; }

    public string Storage { get; }

    /// <summary>
    /// Starts the app against <paramref name="storage"/> and a fake Cal.com (a new one unless <paramref name="cal"/> is
    /// given, for a "restarted app" against the same Cal.com). Cal.com retries wait milliseconds instead of seconds.
    /// </summary>
    public static async Task<Lifecycle> StartAsync(string storage, IDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null, FakeCalCom? cal = null)
    {
        var fake = cal ?? await FakeCalCom.StartAsync();
        var all = new Dictionary<string, string?> { ["CalCom:ApiBaseUrl"] = fake.ApiBaseUrl };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }
        var app = await TestApp.StartAsync(storage, all, s =>
        {
            s.Configure<HttpStandardResilienceOptions>(SubscriptionsRegistration.ResilienceOptionsName, o =>
            {
                o.Retry.Delay = TimeSpan.FromMilliseconds(20);
                o.Retry.UseJitter = false;
            });
            services?.Invoke(s);
        });
        var host = await FunctionsHost.StartAsync(app.Services);
        return new Lifecycle(fake, cal is null, app, host, storage);
    }

    /// <summary>
    /// The documented address of a connection: the path form for ids without <c>/</c> or <c>%</c>, else the query form
    /// (the real host's proxy makes such path ids ambiguous).
    /// </summary>
    public static string PathFor(string connectionId) =>
        connectionId.Contains('/', StringComparison.Ordinal) || connectionId.Contains('%', StringComparison.Ordinal)
            ? QueryPathFor(connectionId)
            : "api/connections/" + Uri.EscapeDataString(connectionId);

    public static string QueryPathFor(string connectionId) => "api/connections?id=" + Uri.EscapeDataString(connectionId);

    public Task<HttpResponseMessage> PutAsync(string connectionId, string? json = null, string? token = Token)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, new Uri(PathFor(connectionId), UriKind.Relative));
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        if (token is not null)
        {
            request.Headers.Add("X-Cal-Access-Token", token);
        }
        return Client.SendAsync(request);
    }

    public Task<HttpResponseMessage> DeleteAsync(string connectionId, string? token = Token)
    {
        var request = new HttpRequestMessage(HttpMethod.Delete, new Uri(PathFor(connectionId), UriKind.Relative));
        if (token is not null)
        {
            request.Headers.Add("X-Cal-Access-Token", token);
        }
        return Client.SendAsync(request);
    }

    public Task<HttpResponseMessage> GetAsync(string connectionId) =>
        Client.GetAsync(new Uri(PathFor(connectionId), UriKind.Relative));

    public Task<ConnectionRecord?> RowAsync(string connectionId) => App.Get<ConnectionStore>().FindAsync(connectionId);

    /// <summary>DELETE left a tombstone (404 to the API, dead-lettered events) kept for the retention period (30 days by default).</summary>
    public async Task AssertRemovedAsync(string connectionId, int retentionDays = 30)
    {
        var row = await RowAsync(connectionId);
        Assert.NotNull(row);
        Assert.True(row.IsRemoved, $"state {row.State}");
        Assert.False(row.IsMatched);
        Assert.Equal(row.RemovedAt + TimeSpan.FromDays(retentionDays), row.ExpiresAt);
        Assert.Null(row.ClaimId);
    }

    public string SubscriberUrlFor(string connectionId) => App.Get<ConnectionLifecycle>().SubscriberUrlFor(connectionId);

    /// <summary>Runs CleanUpSubscription on a message as the Functions host would (its first delivery, already decoded).</summary>
    public Task RunCleanupAsync(string message) =>
        ActivatorUtilities.CreateInstance<CleanUpSubscription>(App.Services).Run(
            QueuesModelFactory.QueueMessage("message-1", "receipt-1", BinaryData.FromString(message), 1), CancellationToken.None);

    public QueueClient Queue(string name) =>
        new(Storage, name, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    /// <summary>Takes every visible message off a queue (empty when the queue does not exist).</summary>
    public async Task<IReadOnlyList<string>> DrainAsync(string name)
    {
        var queue = Queue(name);
        if (!await queue.ExistsAsync())
        {
            return [];
        }
        var messages = new List<string>();
        while (true)
        {
            var batch = (await queue.ReceiveMessagesAsync(32)).Value;
            if (batch.Length == 0)
            {
                return messages;
            }
            foreach (var message in batch)
            {
                messages.Add(message.Body.ToString());
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
        }
    }

    /// <summary>Every property value of every row of CalConnections, as text.</summary>
    public async Task<string> RawTableTextAsync()
    {
        var table = new TableClient(Storage, StorageNames.ConnectionsTable);
        var text = new StringBuilder();
        await foreach (var entity in table.QueryAsync<TableEntity>())
        {
            foreach (var (key, value) in entity)
            {
                text.Append(key).Append('=').Append(value).Append('\n');
            }
        }
        return text.ToString();
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/json", $"Not JSON ({response.StatusCode}): {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Host.DisposeAsync();
        await App.DisposeAsync();
        if (_ownsCal)
        {
            await Cal.DisposeAsync();
        }
    }
}

/// <summary>
/// Storage that stops taking writes to CalConnections when <see cref="Armed"/>: the clients are real (Azurite), with
/// a pipeline policy that fails writes as an outage or a crashed process would. It reaches the app as an ordinary
/// <see cref="StorageAccount"/>; no production code knows about it.
/// </summary>
public sealed class FailingConnectionWrites : HttpPipelinePolicy
{
    private int _failures;
    private volatile bool _armed;

    /// <summary>While true, writes to CalConnections fail.</summary>
    public bool Armed
    {
        get => _armed;
        set => _armed = value;
    }

    /// <summary>Disarms itself after failing one write.</summary>
    public bool Once { get; init; }

    public int Failures => _failures;

    public StorageAccount Account(string connectionString)
    {
        var tableOptions = new TableClientOptions();
        tableOptions.AddPolicy(this, HttpPipelinePosition.PerCall);
        return new StorageAccount(
            new QueueServiceClient(connectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 }),
            new TableServiceClient(connectionString, tableOptions),
            new BlobServiceClient(connectionString));
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Check(message);
        ProcessNext(message, pipeline);
    }

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Check(message);
        return ProcessNextAsync(message, pipeline);
    }

    private void Check(HttpMessage message)
    {
        if (Armed && message.Request.Method != RequestMethod.Get
                  && message.Request.Uri.Path.Contains(StorageNames.ConnectionsTable, StringComparison.Ordinal))
        {
            if (Once)
            {
                Armed = false;
            }
            Interlocked.Increment(ref _failures);
            throw new RequestFailedException(503, "Injected: storage is not taking writes.");
        }
    }
}

/// <summary>The system clock, moved on: for "the retry comes after the crashed request's claim lapsed".</summary>
public sealed class ShiftedTime(TimeSpan shift) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + shift;
}
