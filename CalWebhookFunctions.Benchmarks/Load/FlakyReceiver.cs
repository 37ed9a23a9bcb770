using System.Collections.Concurrent;
using System.Diagnostics;
using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace CalWebhookFunctions.Benchmarks.Load;

/// <summary>
/// The receiving app on 127.0.0.1: reads each forward, answers 500 to a random share of requests and 200 to the rest,
/// and counts the 200s per <c>webhook-id</c> (one per event), so the run can tell delivered-once from duplicates.
/// </summary>
public sealed class FlakyReceiver(LoopbackServer server, double failureRate) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, int> _delivered = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<long> _firstDeliveries = new();
    private int _requests;
    private int _ok;
    private long _firstOkTicks;
    private long _lastOkTicks;

    public Uri Url => new(server.BaseAddress, "hooks/cal");

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Requests answered 200 (duplicates included).</summary>
    public int Ok => Volatile.Read(ref _ok);

    /// <summary>Events answered 200 at least once.</summary>
    public int Distinct => _delivered.Count;

    public long FirstOkTimestamp => Interlocked.Read(ref _firstOkTicks);

    public long LastOkTimestamp => Interlocked.Read(ref _lastOkTicks);

    public IReadOnlyDictionary<string, int> DeliveredById => _delivered;

    /// <summary>When each event was first answered 200 (<see cref="Stopwatch.GetTimestamp"/>), in order.</summary>
    public IReadOnlyCollection<long> FirstDeliveries => _firstDeliveries;

    public static async Task<FlakyReceiver> StartAsync(double failureRate)
    {
        FlakyReceiver? receiver = null;
        var server = await LoopbackServer.StartAsync(app => app.MapPost("/{**path}", (HttpContext context) => receiver!.HandleAsync(context)));
        receiver = new FlakyReceiver(server, failureRate);
        return receiver;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
        while (await context.Request.Body.ReadAsync(buffer, context.RequestAborted) > 0)
        {
        }
        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        Interlocked.Increment(ref _requests);
        if (Random.Shared.NextDouble() < failureRate)
        {
            context.Response.StatusCode = 500;
            return;
        }
        var id = context.Request.Headers[OutboundSigner.WebhookIdHeader].ToString();
        var now = Stopwatch.GetTimestamp();
        if (_delivered.AddOrUpdate(id, 1, static (_, n) => n + 1) == 1)
        {
            _firstDeliveries.Enqueue(now);
        }
        Interlocked.CompareExchange(ref _firstOkTicks, now, 0);
        Interlocked.Exchange(ref _lastOkTicks, now);
        Interlocked.Increment(ref _ok);
        context.Response.StatusCode = 200;
    }

    public ValueTask DisposeAsync() => server.DisposeAsync();
}
