using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using CalWebhookFunctions.Telemetry;

namespace CalWebhookFunctions.Benchmarks.Load;

/// <summary>
/// The app's own counters (meter <see cref="WebhookMetrics.MeterName"/>) summed by name and <c>reason</c>/<c>state</c>
/// tag over the run, so the progress lines say what the forwards became (delivered, retried, held, breaker transitions).
/// </summary>
public sealed class MetricTally : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public MetricTally()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == WebhookMetrics.MeterName && instrument is Counter<long>)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var name = instrument.Name.Replace("calwebhook.", "", StringComparison.Ordinal);
            foreach (var tag in tags)
            {
                if (tag.Key is "reason" or "state" or "transition")
                {
                    name += "/" + tag.Value;
                }
            }
            _counts.AddOrUpdate(name, value, (_, old) => old + value);
        });
        _listener.Start();
    }

    public string Describe() => string.Join(", ", _counts.OrderBy(c => c.Key, StringComparer.Ordinal)
        .Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Key} {c.Value:N0}")));

    public void Dispose() => _listener.Dispose();
}
