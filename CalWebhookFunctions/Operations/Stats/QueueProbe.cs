using System.Diagnostics.Metrics;
using Azure;
using Azure.Storage.Queues;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Telemetry;

namespace CalWebhookFunctions.Operations.Stats;

/// <summary>What the queues look like right now: approximate depths and the age of the oldest pending event.</summary>
public sealed record QueueSnapshot(int PendingDepth, int DeadLetterDepth, TimeSpan? OldestPendingAge);

/// <summary>
/// Reads the approximate depth of <c>cal-webhooks</c> and <c>cal-webhooks-poison</c> (one properties call each) and peeks
/// the first visible <c>cal-webhooks</c> message for the oldest pending event's age (by its <c>receivedAt</c>; messages
/// waiting out a retry delay are invisible to a peek, so this is the oldest event that is ready to go). The last reading
/// is kept for the OpenTelemetry gauges <c>calwebhook.queue.depth</c> (tag <c>queue</c>) and
/// <c>calwebhook.queue.oldest_pending_age</c> (seconds), which an observation must not wait on storage for.
/// </summary>
public sealed class QueueProbe
{
    private readonly QueueClient _pending;
    private readonly QueueClient _poison;
    private readonly TimeProvider _time;
    private QueueSnapshot? _last;

    public QueueProbe(StorageAccount storage, TimeProvider time, IMeterFactory meterFactory)
    {
        _pending = storage.Queue(StorageNames.WebhookQueue);
        _poison = storage.RawQueue(StorageNames.WebhookPoisonQueue);
        _time = time;
        var meter = meterFactory.Create(WebhookMetrics.MeterName);
        meter.CreateObservableGauge("calwebhook.queue.depth", ObserveDepths, "{message}",
            "Approximate number of messages in cal-webhooks and cal-webhooks-poison");
        meter.CreateObservableGauge("calwebhook.queue.oldest_pending_age", ObserveAge, "s",
            "Age of the oldest event ready to be forwarded (0 when none)");
    }

    /// <summary>The reading the gauges report (null until the first probe).</summary>
    public QueueSnapshot? Last => Volatile.Read(ref _last);

    public async Task<QueueSnapshot> ProbeAsync(CancellationToken cancellationToken)
    {
        var pending = DepthAsync(_pending, cancellationToken);
        var poison = DepthAsync(_poison, cancellationToken);
        var oldest = OldestAsync(cancellationToken);
        var snapshot = new QueueSnapshot(await pending.ConfigureAwait(false), await poison.ConfigureAwait(false), await oldest.ConfigureAwait(false));
        Volatile.Write(ref _last, snapshot);
        return snapshot;
    }

    private static async Task<int> DepthAsync(QueueClient queue, CancellationToken cancellationToken)
    {
        try
        {
            return (await queue.GetPropertiesAsync(cancellationToken).ConfigureAwait(false)).Value.ApproximateMessagesCount;
        }
        catch (RequestFailedException ex) when (StorageAccount.IsMissingResource(ex))
        {
            return 0;
        }
    }

    private async Task<TimeSpan?> OldestAsync(CancellationToken cancellationToken)
    {
        try
        {
            var peeked = (await _pending.PeekMessagesAsync(1, cancellationToken).ConfigureAwait(false)).Value;
            if (peeked.Length == 0)
            {
                return null;
            }
            var received = ReceivedAt(peeked[0].Body) ?? peeked[0].InsertedOn ?? _time.GetUtcNow();
            var age = _time.GetUtcNow() - received;
            return age < TimeSpan.Zero ? TimeSpan.Zero : age;
        }
        catch (RequestFailedException ex) when (StorageAccount.IsMissingResource(ex))
        {
            return null;
        }
    }

    private static DateTimeOffset? ReceivedAt(BinaryData body)
    {
        try
        {
            return PendingWebhooks.Deserialize(body.ToMemory().Span).ReceivedAt;
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidDataException or NotSupportedException or FormatException)
        {
            return null;
        }
    }

    private IEnumerable<Measurement<long>> ObserveDepths() => Last is { } last
        ? [
            new Measurement<long>(last.PendingDepth, new KeyValuePair<string, object?>("queue", StorageNames.WebhookQueue)),
            new Measurement<long>(last.DeadLetterDepth, new KeyValuePair<string, object?>("queue", StorageNames.WebhookPoisonQueue)),
        ]
        : [];

    private IEnumerable<Measurement<double>> ObserveAge() =>
        Last is { } last ? [new Measurement<double>(last.OldestPendingAge?.TotalSeconds ?? 0)] : [];
}
