using System.Text;
using Azure.Data.Tables;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Messages;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace CalWebhookFunctions.Tests.Functional.Forwarding;

/// <summary>
/// The app's real services over a fresh Azurite account, a receiving app on 127.0.0.1 as <c>Forwarding__Url</c>, and
/// a <see cref="QueueHost"/> that runs ForwardCalWebhook the way the Functions host would.
/// </summary>
internal sealed class ForwardingHarness : IAsyncDisposable
{
    private ForwardingHarness(AzuriteFixture azurite, TestApp app, ReceivingApp receiver)
    {
        ConnectionString = azurite.ConnectionString;
        App = app;
        Receiver = receiver;
        Host = new QueueHost(app.Services, azurite.ConnectionString);
    }

    public string ConnectionString { get; }
    public TestApp App { get; }
    public ReceivingApp Receiver { get; }
    public QueueHost Host { get; }

    public static async Task<ForwardingHarness> StartAsync(AzuriteFixture azurite, Func<HttpContext, byte[], int, Task<int>>? respond = null,
        IDictionary<string, string?>? settings = null, Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? configureServices = null)
    {
        await azurite.ResetAsync();
        var receiver = await ReceivingApp.StartAsync(respond);
        var overrides = new Dictionary<string, string?>
        {
            ["Forwarding:Url"] = receiver.Url.ToString(),
            ["Forwarding:RetrySchedule"] = "10ms,10ms,10ms",
            ["Forwarding:TimeoutSeconds"] = "5",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            overrides[key] = value;
        }
        var app = await TestApp.StartAsync(azurite.ConnectionString, overrides, configureServices);
        return new ForwardingHarness(azurite, app, receiver);
    }

    /// <summary>Stores an event as ReceiveCalWebhook does (inline, or in a blob when large).</summary>
    public Task<QueuedWebhook> EnqueueAsync(byte[] body, string? connectionId, string? eventId = null) =>
        App.Get<PendingWebhooks>().EnqueueAsync(NewEvent(body, connectionId, eventId));

    public static QueuedWebhook NewEvent(byte[] body, string? connectionId, string? eventId = null) => new()
    {
        EventId = eventId ?? Guid.CreateVersion7().ToString("N"),
        ReceivedAt = DateTimeOffset.UtcNow,
        ConnectionId = connectionId,
        Headers = new Dictionary<string, string>
        {
            [KeptHeaders.ContentType] = "application/json",
            [KeptHeaders.CalSignature] = CalDeliveries.Sign(body, TestApp.WebhookSecret),
            [KeptHeaders.CalWebhookVersion] = "2021-10-20",
        },
        BodyLength = body.Length,
        Body = body,
    };

    /// <summary>Writes (or overwrites) a connection row straight into CalConnections: active, or a tombstone as DELETE leaves.</summary>
    public async Task AddConnectionAsync(string connectionId, string? forwardUrl = null, string state = ConnectionRecord.States.Active)
    {
        var table = App.Get<ConnectionStore>().Table;
        await table.CreateIfNotExistsAsync();
        await table.UpsertEntityAsync(new ConnectionRecord
        {
            PartitionKey = ConnectionRecord.PartitionKeyFor(connectionId),
            ConnectionId = connectionId,
            ForwardUrl = forwardUrl,
            State = state,
            RemovedAt = state == ConnectionRecord.States.Removed ? DateTimeOffset.UtcNow : null,
            SubscriberUrl = TestApp.PublicUrl + "?nangoConnectionId=" + Uri.EscapeDataString(connectionId),
            CreatedAt = DateTimeOffset.UtcNow,
            UpdatedAt = DateTimeOffset.UtcNow,
        }, TableUpdateMode.Replace);
        await App.Get<ConnectionStore>().Changes.BumpAsync(); // as every write through ConnectionStore does
    }

    public Task<QueueRunReport> DrainAsync(TimeSpan? timeLimit = null) =>
        Host.RunUntilDrainedAsync(StorageNames.WebhookQueue, timeLimit ?? TimeSpan.FromSeconds(60));

    /// <summary>The dead letters, read as the app reads them (base64-decoded), without removing them.</summary>
    public async Task<IReadOnlyList<string>> DeadLetterTextsAsync()
    {
        var poison = App.Get<StorageAccount>().Queue(StorageNames.WebhookPoisonQueue);
        if (!(await poison.ExistsAsync()).Value)
        {
            return [];
        }
        var peeked = (await poison.PeekMessagesAsync(32)).Value;
        return [.. peeked.Select(m => Encoding.UTF8.GetString(m.Body.ToArray()))];
    }

    public async Task<IReadOnlyList<QueuedWebhook>> DeadLettersAsync() =>
        [.. (await DeadLetterTextsAsync()).Select(t => PendingWebhooks.Deserialize(Encoding.UTF8.GetBytes(t)))];

    public async Task<int> QueueLengthAsync(string queueName)
    {
        var queue = App.Get<StorageAccount>().Queue(queueName);
        return (await queue.ExistsAsync()).Value ? (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount : 0;
    }

    public async Task<int> PayloadBlobCountAsync()
    {
        var container = App.Get<StorageAccount>().Container(StorageNames.PayloadContainer);
        if (!(await container.ExistsAsync()).Value)
        {
            return 0;
        }
        var count = 0;
        await foreach (var _ in container.GetBlobsAsync())
        {
            count++;
        }
        return count;
    }

    /// <summary>
    /// The ledger's rows (its <c>d_</c> and <c>v_</c> rows in the <c>log_</c> day partitions, and rows of earlier versions; not
    /// the delivery log's), once the delivered
    /// marks still being written in the background have landed.
    /// </summary>
    public async Task<IReadOnlyList<DeliveryRecord>> DeliveryRecordsAsync()
    {
        await App.Get<DeliveryMarks>().FlushAsync();
        var table = App.Get<DeliveryLedger>().Table;
        var rows = new List<DeliveryRecord>();
        try
        {
            await foreach (var row in table.QueryAsync<DeliveryRecord>())
            {
                if (!row.PartitionKey.StartsWith(CalWebhookFunctions.Operations.DeliveryLogKeys.PartitionPrefix, StringComparison.Ordinal)
                    || row.RowKey.StartsWith(CalWebhookFunctions.Operations.DeliveryLogKeys.LedgerPrefix, StringComparison.Ordinal)
                    || row.RowKey.StartsWith(CalWebhookFunctions.Operations.DeliveryLogKeys.DeliveredEventPrefix, StringComparison.Ordinal))
                {
                    rows.Add(row);
                }
            }
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
        }
        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        await Receiver.DisposeAsync();
    }
}
