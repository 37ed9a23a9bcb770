using System.Collections.Concurrent;
using System.Collections.ObjectModel;
using System.Diagnostics.Tracing;

namespace CalWebhookFunctions.Benchmarks.Load;

/// <summary>
/// Counts every storage request the process sends (the app's clients and the harness's queue listener alike, each
/// retry included) from the Azure SDK's own "Azure-Core" event source, by kind: method and resource, e.g.
/// <c>GET CalConnections(entity)</c> or <c>DELETE cal-webhooks/messages/{id}</c>, with how many were answered 404 and
/// the total time the SDK waited for their answers.
/// </summary>
public sealed class StorageRequestCounter : EventListener
{
    // Per kind: [requests, 404s, microseconds waited].
    private readonly ConcurrentDictionary<string, long[]> _byKind = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _kindOfRequest = new(StringComparer.Ordinal);
    private int _total;

    public int Total => Volatile.Read(ref _total);

    /// <summary>Each kind with its request count, its 404 count and the seconds waited for answers, most frequent first.</summary>
    public IReadOnlyList<StorageKind> ByKind() =>
        [.. _byKind.Select(p => new StorageKind(p.Key, Interlocked.Read(ref p.Value[0]), Interlocked.Read(ref p.Value[1]),
            Interlocked.Read(ref p.Value[2]) / 1e6)).OrderByDescending(k => k.Requests)];

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Azure-Core")
        {
            EnableEvents(eventSource, EventLevel.Informational);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.Payload is not { } payload || eventData.PayloadNames is not { } names)
        {
            return;
        }
        var requestId = Field(names, payload, "requestId");
        if (requestId is null)
        {
            return;
        }
        switch (eventData.EventName)
        {
            case "Request" when Field(names, payload, "uri") is { } uri && Field(names, payload, "method") is { } method:
                var kind = method + " " + Resource(uri);
                _kindOfRequest[requestId] = kind;
                Interlocked.Increment(ref Counts(kind)[0]);
                Interlocked.Increment(ref _total);
                break;
            case "Response" or "ErrorResponse" when _kindOfRequest.TryRemove(requestId, out var answered):
                var counts = Counts(answered);
                if (eventData.EventName == "ErrorResponse" && Field(names, payload, "status") == "404")
                {
                    Interlocked.Increment(ref counts[1]);
                }
                if (Value(names, payload, "seconds") is double seconds)
                {
                    Interlocked.Add(ref counts[2], (long)(seconds * 1e6));
                }
                break;
        }
    }

    private long[] Counts(string kind) => _byKind.GetOrAdd(kind, _ => new long[3]);

    private static string? Field(ReadOnlyCollection<string> names, ReadOnlyCollection<object?> payload, string name) =>
        Value(names, payload, name) is { } value ? Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) : null;

    private static object? Value(ReadOnlyCollection<string> names, ReadOnlyCollection<object?> payload, string name)
    {
        var at = names.IndexOf(name);
        return at < 0 ? null : payload[at];
    }

    /// <summary><c>/devstoreaccount1/CalDeliveries(PartitionKey='…',RowKey='…')</c> → <c>CalDeliveries(entity)</c>.</summary>
    private static string Resource(string uri)
    {
        var path = new Uri(uri).AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToArray();
        if (path.Length == 0)
        {
            return "(account)";
        }
        var first = path[0];
        var paren = first.IndexOf('(', StringComparison.Ordinal);
        if (paren > 0)
        {
            first = first[..paren] + (first.Length > paren + 2 ? "(entity)" : "()");
        }
        return path.Length switch
        {
            1 => first,
            2 => path[1] == "messages" ? $"{first}/messages" : $"{first}/{{blob}}",
            _ => $"{first}/{path[1]}/{{id}}",
        };
    }
}

/// <summary>One kind of storage request: how many, how many answered 404, and the seconds spent waiting for answers.</summary>
public sealed record StorageKind(string Kind, long Requests, long NotFound, double Seconds);
