using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace CalWebhookFunctions.Tests.Infrastructure;

/// <summary>One request the fake app received, with the status it answered.</summary>
public sealed record ReceivedRequest(DateTimeOffset At, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body, int Status)
{
    public string Header(string name) => Headers.TryGetValue(name, out var value) ? value : throw new KeyNotFoundException($"No {name} header.");
}

/// <summary>
/// The owner's app: a real Kestrel server on 127.0.0.1 that records every POST (headers and exact body bytes) and
/// answers what the test's responder says (200 by default). The responder gets the request and how many requests
/// for the same <c>webhook-id</c> came before it.
/// </summary>
public sealed class ReceivingApp : IAsyncDisposable
{
    private readonly LoopbackServer _server;
    private readonly ConcurrentQueue<ReceivedRequest> _requests;

    private ReceivingApp(LoopbackServer server, ConcurrentQueue<ReceivedRequest> requests)
    {
        _server = server;
        _requests = requests;
    }

    /// <summary>The default endpoint, <c>http://127.0.0.1:port/hooks/cal</c>.</summary>
    public Uri Url => new(_server.BaseAddress, "hooks/cal");

    public Uri UrlFor(string path) => new(_server.BaseAddress, path);

    public IReadOnlyList<ReceivedRequest> Requests => [.. _requests];

    /// <summary>Requests the app answered 2xx: the deliveries.</summary>
    public IReadOnlyList<ReceivedRequest> Deliveries => [.. _requests.Where(r => r.Status is >= 200 and <= 299)];

    public static async Task<ReceivingApp> StartAsync(Func<HttpContext, byte[], int, Task<int>>? respond = null)
    {
        var requests = new ConcurrentQueue<ReceivedRequest>();
        var seen = new ConcurrentDictionary<string, int>();
        var server = await LoopbackServer.StartAsync(app => app.MapPost("/{**path}", async (HttpContext context) =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
            var body = buffer.ToArray();
            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            var id = headers.TryGetValue("webhook-id", out var value) ? value : "";
            var before = seen.AddOrUpdate(id, 0, (_, n) => n + 1);
            var status = respond is null ? 200 : await respond(context, body, before);
            requests.Enqueue(new ReceivedRequest(DateTimeOffset.UtcNow, context.Request.Path, headers, body, status));
            if (!context.Response.HasStarted)
            {
                context.Response.StatusCode = status; // A responder that wrote an answer body has set it already.
            }
        }));
        return new ReceivingApp(server, requests);
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
