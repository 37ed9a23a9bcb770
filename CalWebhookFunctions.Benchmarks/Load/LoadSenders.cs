using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using CalWebhookFunctions.Benchmarks.Infrastructure;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Ingest;
using CalWebhookFunctions.Messages;

namespace CalWebhookFunctions.Benchmarks.Load;

/// <summary>
/// Cal.com's side of the run: <see cref="LoadOptions.Senders"/> concurrent senders post <see cref="LoadOptions.Count"/>
/// signed deliveries (each a distinct booking, so a distinct webhook-id) to the ingest URL, each giving up after
/// <see cref="LoadOptions.SendTimeoutSeconds"/>; every <see cref="LoadOptions.RejectEvery"/>-th request of a sender
/// is followed by one with a bad signature, timed as the reject path on the same server. Each delivery is signed with
/// the key <c>keyFor</c> gives its connection (the connection's derived secret, as Cal.com signs for a registered one).
/// </summary>
public sealed class LoadSenders(LoadOptions options, Uri ingestUrl, Func<string, byte[]> keyFor)
{
    private readonly ConcurrentBag<double> _ackMs = [];
    private readonly ConcurrentBag<double> _rejectMs = [];
    private readonly ConcurrentDictionary<string, bool> _ackedIds = new(StringComparer.Ordinal);
    private int _next = -1;
    private int _timeouts;
    private int _otherStatus;
    private int _rejectUnexpected;

    public IReadOnlyCollection<double> AckMs => _ackMs;

    public IReadOnlyCollection<double> RejectMs => _rejectMs;

    /// <summary>The webhook-ids of the acknowledged deliveries (what the receiver must see exactly once).</summary>
    public IReadOnlyDictionary<string, bool> AckedIds => _ackedIds;

    public int Acked => _ackedIds.Count;

    public int Timeouts => Volatile.Read(ref _timeouts);

    public int OtherStatus => Volatile.Read(ref _otherStatus);

    public int RejectUnexpected => Volatile.Read(ref _rejectUnexpected);

    public int Attempted => Math.Min(Volatile.Read(ref _next) + 1, options.Count);

    public async Task RunAsync(CancellationToken bound)
    {
        using var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        using var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        var template = RelayUnderTest.Template(options.BodyBytes);
        var wrongKey = Encoding.UTF8.GetBytes("not-the-webhook-secret");
        // Warm-up, not measured: each sender opens its connection and runs the reject path twice (JIT, Kestrel).
        await Task.WhenAll(Enumerable.Range(0, options.Senders).Select(async _ =>
        {
            for (var i = 0; i < 2; i++)
            {
                await PostAsync(http, "warm-up", template, CalSignature.Sign(template, wrongKey), bound);
            }
        }));
        await Task.WhenAll(Enumerable.Range(0, options.Senders).Select(_ => Task.Run(async () =>
        {
            var sent = 0;
            int index;
            while (!bound.IsCancellationRequested && (index = Interlocked.Increment(ref _next)) < options.Count)
            {
                var body = RelayUnderTest.WithUid(template, index);
                var connectionId = options.Connections == 0 ? "load-unregistered" : LoadRun.ConnectionId(index % options.Connections);
                var (status, ms) = await PostAsync(http, connectionId, body, CalSignature.Sign(body, keyFor(connectionId)), bound);
                if (status is HttpStatusCode.OK or HttpStatusCode.Accepted)
                {
                    _ackMs.Add(ms);
                    _ackedIds[OutboundSigner.WebhookId(connectionId, body)] = true;
                }
                else if (status is null)
                {
                    Interlocked.Increment(ref _timeouts);
                }
                else
                {
                    Interlocked.Increment(ref _otherStatus);
                }
                if (++sent % options.RejectEvery == 0)
                {
                    var (rejected, rejectMs) = await PostAsync(http, connectionId, body, CalSignature.Sign(body, wrongKey), bound);
                    if (rejected == HttpStatusCode.Unauthorized)
                    {
                        _rejectMs.Add(rejectMs);
                    }
                    else
                    {
                        Interlocked.Increment(ref _rejectUnexpected);
                    }
                }
            }
        }, CancellationToken.None)));
    }

    private async Task<(HttpStatusCode? Status, double Ms)> PostAsync(HttpClient http, string connectionId, byte[] body, string signature,
        CancellationToken bound)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(bound);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.SendTimeoutSeconds));
        using var request = new HttpRequestMessage(HttpMethod.Post,
            new Uri(ingestUrl, "?" + ConnectionIdResolver.ParameterName + "=" + Uri.EscapeDataString(connectionId)))
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add(KeptHeaders.CalSignature, signature);
        request.Headers.Add(KeptHeaders.CalWebhookVersion, "2021-10-20");
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await http.SendAsync(request, timeout.Token);
            await response.Content.ReadAsByteArrayAsync(timeout.Token);
            return (response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (OperationCanceledException)
        {
            return (null, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (HttpRequestException)
        {
            return (HttpStatusCode.BadGateway, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }
}
