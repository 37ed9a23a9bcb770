using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Telemetry;

/// <summary>
/// The logging scope that puts an event's id on every log line written while handling it: in Application Insights
/// each such line has the custom dimension <see cref="EventIdProperty"/>. (Not "EventId": that name is the log
/// message's own numeric event id in ILogger and in the Azure Monitor exporter.)
/// </summary>
public static class EventLogScope
{
    public const string EventIdProperty = "CalEventId";

    public static IDisposable? BeginEventScope(this ILogger logger, string eventId, int? dequeueCount = null) =>
        logger.BeginScope(new Scope(eventId, dequeueCount));

    /// <summary>Structured scope state: loggers record its properties, and it prints as "CalEventId:…".</summary>
    private sealed class Scope(string eventId, int? dequeueCount) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private readonly KeyValuePair<string, object?>[] _items = dequeueCount is null
            ? [new(EventIdProperty, eventId)]
            : [new(EventIdProperty, eventId), new("DequeueCount", dequeueCount)];

        public int Count => _items.Length;

        public KeyValuePair<string, object?> this[int index] => _items[index];

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_items).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => string.Join(", ", _items.Select(i => $"{i.Key}:{i.Value}"));
    }
}
