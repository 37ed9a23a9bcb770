using System.Text;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using CalWebhookFunctions.Benchmarks.Payloads;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Ingest;
using CalWebhookFunctions.Messages;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Benchmarks.Infrastructure;

/// <summary>
/// The app's real services (<c>AddCalWebhookFunctions</c>) over a fresh Azurite, forwarding to a lean Kestrel receiver
/// on 127.0.0.1 that reads each body and answers 200 (it keeps nothing, so its cost is the same for the floors and the
/// paths under test). One connection, <see cref="ConnectionId"/>, is registered in CalConnections, so forwards match.
/// </summary>
public sealed class RelayUnderTest : IAsyncDisposable
{
    public const string WebhookSecret = "benchmark-integration-secret";
    public const string SigningSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    public const string ConnectionId = "tenant-7f3a9c2e/prod";

    private static readonly byte[] UidMarker = "\"uid\":\"bk_"u8.ToArray();

    private readonly Azurite _azurite;
    private readonly LoopbackServer _receiver;
    private readonly ServiceProvider _services;
    private readonly ReceiverCounts _counts;
    private int _nextUid;

    private RelayUnderTest(Azurite azurite, LoopbackServer receiver, ServiceProvider services, ReceiverCounts counts, StorageMeter meter)
    {
        _azurite = azurite;
        _receiver = receiver;
        _services = services;
        _counts = counts;
        Meter = meter;
        Queues = new QueueServiceClient(azurite.ConnectionString, meter.With(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None }));
    }

    /// <summary>Counts (and, with latency, delays) every storage request: the app's and the queue loop's.</summary>
    public StorageMeter Meter { get; }

    public string StorageConnectionString => _azurite.ConnectionString;

    public IServiceProvider Services => _services;

    public T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    /// <summary>Queues as the Functions host reads them: message text as stored (base64), no decoding.</summary>
    public QueueServiceClient Queues { get; }

    public Uri ReceiverUrl => new(_receiver.BaseAddress, "hooks/cal");

    /// <summary>A target on the same receiver that answers every forward 503 (after the app delay), as an app that is down.</summary>
    public Uri FailingUrl => new(_receiver.BaseAddress, "failing/cal");

    /// <summary>Forwards the failing target answered 503.</summary>
    public int Refused => Volatile.Read(ref _counts.Refused);

    /// <summary>Requests the receiver has answered so far.</summary>
    public int Received => Volatile.Read(ref _counts.Requests);

    public long ReceivedBytes => Interlocked.Read(ref _counts.Bytes);

    private sealed class ReceiverCounts
    {
        public int Requests;
        public int Refused;
        public long Bytes;
    }

    /// <param name="storageDelay">Added to each storage request (0 = loopback).</param>
    /// <param name="appDelay">How long the receiving app takes to answer each forward (0 = at once).</param>
    /// <param name="settings">App settings over the defaults of <see cref="AppConfiguration"/>.</param>
    public static async Task<RelayUnderTest> StartAsync(TimeSpan storageDelay = default, TimeSpan appDelay = default,
        IEnumerable<KeyValuePair<string, string?>>? settings = null)
    {
        var azurite = await Azurite.StartAsync();
        var meter = new StorageMeter(storageDelay);
        var counts = new ReceiverCounts();
        var receiver = await LoopbackServer.StartAsync(app => app.MapPost("/{**path}", async (HttpContext context) =>
        {
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
            long total = 0;
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                total += read;
            }
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            if (appDelay > TimeSpan.Zero)
            {
                await Task.Delay(appDelay, context.RequestAborted);
            }
            if (context.Request.Path.StartsWithSegments("/failing"))
            {
                Interlocked.Increment(ref counts.Refused);
                context.Response.StatusCode = 503;
                return;
            }
            Interlocked.Increment(ref counts.Requests);
            Interlocked.Add(ref counts.Bytes, total);
            context.Response.StatusCode = 200;
        }));
        var configuration = AppConfiguration(azurite.ConnectionString, new Uri(receiver.BaseAddress, "hooks/cal"), settings);
        var services = new ServiceCollection().AddLogging().AddCalWebhookFunctions(configuration)
            .AddSingleton(meter.Account(azurite.ConnectionString))
            .BuildServiceProvider();

        await RegisterConnectionAsync(services.GetRequiredService<ConnectionStore>(), ConnectionId);
        return new RelayUnderTest(azurite, receiver, services, counts, meter);
    }

    /// <summary>The app's settings for a run: this storage, forwarding to <paramref name="forwardingUrl"/>, plus <paramref name="extra"/>.</summary>
    public static IConfiguration AppConfiguration(string storageConnectionString, Uri forwardingUrl,
        IEnumerable<KeyValuePair<string, string?>>? extra = null) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = storageConnectionString,
            ["CalCom:WebhookSecret"] = WebhookSecret,
            ["Webhook:PublicUrl"] = "https://relay.example.test/api/webhooks/cal",
            ["Forwarding:Url"] = forwardingUrl.ToString(),
            ["Forwarding:SigningSecret"] = SigningSecret,
        }.Concat(extra ?? [])).Build();

    /// <summary>Registers an active connection (its subscriber URL on the relay), so its forwards match.</summary>
    /// <param name="forwardUrl">The connection's own target; null: <c>Forwarding__Url</c>.</param>
    public static Task<bool> RegisterConnectionAsync(ConnectionStore connections, string connectionId, Uri? forwardUrl = null) =>
        connections.TryInsertAsync(new ConnectionRecord
        {
            ConnectionId = connectionId,
            ForwardUrl = forwardUrl?.ToString(),
            State = "active",
            SubscriberUrl = "https://relay.example.test/api/webhooks/cal?nangoConnectionId=" + Uri.EscapeDataString(connectionId),
            CreatedAt = DateTimeOffset.UtcNow,
            UpdatedAt = DateTimeOffset.UtcNow,
        });

    /// <summary>
    /// A copy of <paramref name="template"/> that no earlier call returned (its booking uid differs), so each forward
    /// has its own webhook-id and is really sent rather than deduplicated.
    /// </summary>
    public byte[] UniqueBody(byte[] template) => WithUid(template, Interlocked.Increment(ref _nextUid));

    /// <summary>A copy of <paramref name="template"/> whose booking uid ends in <paramref name="uid"/> (0–999,999).</summary>
    public static byte[] WithUid(byte[] template, int uid)
    {
        var body = (byte[])template.Clone();
        var at = body.AsSpan().IndexOf(UidMarker) + UidMarker.Length;
        Encoding.ASCII.GetBytes(uid.ToString("D6", System.Globalization.CultureInfo.InvariantCulture), body.AsSpan(at, 6));
        return body;
    }

    /// <summary>The queue message ReceiveCalWebhook stores for <paramref name="body"/>, naming <see cref="ConnectionId"/>.</summary>
    public static QueuedWebhook Event(byte[] body, string connectionId = ConnectionId) => new()
    {
        EventId = Guid.CreateVersion7().ToString("N"),
        ReceivedAt = DateTimeOffset.UtcNow,
        ConnectionId = connectionId,
        Headers = new Dictionary<string, string>
        {
            [KeptHeaders.ContentType] = "application/json",
            [KeptHeaders.CalSignature] = CalSignature.Sign(body, Encoding.UTF8.GetBytes(WebhookSecret)),
            [KeptHeaders.CalWebhookVersion] = "2021-10-20",
        },
        BodyLength = body.Length,
        Body = body,
    };

    /// <summary>A realistic body template (see <see cref="CalPayloads"/>).</summary>
    public static byte[] Template(int bytes) => CalPayloads.BookingCreated(bytes);

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await _receiver.DisposeAsync();
        await _azurite.DisposeAsync();
    }
}

/// <summary>
/// Runs a queue the way the Functions host's queue trigger does (host.json: batchSize 16, base64): receives up to 16
/// messages at a time, hands each one, its body decoded, to <c>handle</c> with at most <c>concurrency</c> in flight, deletes
/// it when <c>handle</c> returns, and fetches the next batch as soon as a slot frees. The floors and the forward path
/// run through this same loop, so only what <c>handle</c> does differs.
/// </summary>
public static class QueueTriggerLoop
{
    public const int BatchSize = 16;

    public static async Task RunAsync(QueueClient rawQueue, int messages, int concurrency, Func<QueueMessage, Task> handle)
    {
        using var slots = new SemaphoreSlim(concurrency);
        var inFlight = new List<Task>(messages);
        var received = 0;
        while (received < messages)
        {
            var batch = (await rawQueue.ReceiveMessagesAsync(Math.Min(BatchSize, messages - received), TimeSpan.FromMinutes(10))).Value;
            if (batch.Length == 0)
            {
                throw new InvalidOperationException($"The queue ran dry after {received} of {messages} messages.");
            }
            received += batch.Length;
            foreach (var message in batch)
            {
                await slots.WaitAsync();
                inFlight.Add(HandleAsync(message));
            }
        }
        await Task.WhenAll(inFlight);

        async Task HandleAsync(QueueMessage message)
        {
            try
            {
                await handle(Decoded(message));
                await rawQueue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
            finally
            {
                slots.Release();
            }
        }
    }

    /// <summary>As the host does for messageEncoding base64: the message as the trigger gets it, its body decoded.</summary>
    public static QueueMessage Decoded(QueueMessage raw) => QueuesModelFactory.QueueMessage(raw.MessageId, raw.PopReceipt,
        BinaryData.FromBytes(Convert.FromBase64String(raw.MessageText)), raw.DequeueCount, raw.NextVisibleOn, raw.InsertedOn, raw.ExpiresOn);

    /// <summary>Sends serialized messages base64-encoded, as the app's queue client does, 16 at a time.</summary>
    public static Task FillAsync(QueueClient rawQueue, IReadOnlyList<byte[]> messages) =>
        Parallel.ForEachAsync(messages, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (json, ct) =>
            await rawQueue.SendMessageAsync(Convert.ToBase64String(json), null, PendingWebhooks.NeverExpires, ct));
}
