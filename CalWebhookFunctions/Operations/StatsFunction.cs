using System.Text.Json.Serialization;
using CalWebhookFunctions.Http;
using CalWebhookFunctions.Operations.Stats;
using CalWebhookFunctions.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;

namespace CalWebhookFunctions.Operations;

/// <summary>
/// <c>GET /api/stats</c>: counts of the current hour and the 23 before it (<see cref="Window"/>), summed over every
/// instance's hourly row (at most <see cref="StatsStore.MaxRowsRead"/> rows of one partition), plus a live reading of the
/// queues (two properties calls and one peek). This instance's counts are written first, so they are included at once;
/// other instances' counts are at most a minute old. <c>hours</c>: the 24 hours of the window, oldest first, each present. Statuses: <c>accepted</c> (verified and stored by ingest),
/// <c>delivered</c> (the app answered 2xx), <c>retried</c> (an attempt scheduled again after a retryable failure or
/// storage trouble; one event can count several times), <c>dead_lettered</c> (moved to <c>cal-webhooks-poison</c>).
/// </summary>
public sealed class GetStats(StatsStore store, QueueProbe probe, TimeProvider time)
{
    public static readonly TimeSpan Window = TimeSpan.FromHours(23);

    private static readonly string[] Statuses = ["accepted", "delivered", "retried", "dead_lettered"];

    [Function(nameof(GetStats))]
    public async Task<Results<Ok<StatsBody>, BadRequest<ErrorBody>, JsonHttpResult<ErrorBody>>> Run(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "stats")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        if (ListQuery.Read(request).Error() is { } error)
        {
            return error;
        }
        try
        {
            var now = time.GetUtcNow();
            var since = StatsCollector.Hour(now - Window);
            await store.FlushAsync(cancellationToken);
            var statsTask = store.ReadAsync(since, cancellationToken);
            var queuesTask = probe.ProbeAsync(cancellationToken);
            var stats = await statsTask;
            var queues = await queuesTask;
            var latency = stats.Latency.Sum() == 0
                ? null
                : new LatencyBody(LatencyBuckets.Percentile(stats.Latency, 0.50)!.Value, LatencyBuckets.Percentile(stats.Latency, 0.95)!.Value,
                    stats.Latency.Sum());
            var body = new StatsBody(
                since,
                now,
                new SortedDictionary<string, long>(Statuses.ToDictionary(status => status, status => stats.Get("status:" + status)), StringComparer.Ordinal),
                stats.Of("trigger"),
                stats.Of("deadLetter"),
                stats.Of("refused"),
                new SortedDictionary<string, long>(StringComparer.Ordinal)
                {
                    [StorageNames.WebhookQueue] = queues.PendingDepth,
                    [StorageNames.WebhookPoisonQueue] = queues.DeadLetterDepth,
                },
                queues.OldestPendingAge is { } age ? Math.Round(age.TotalSeconds, 3) : null,
                latency,
                [.. Enumerable.Range(0, 24).Select(i => since.AddHours(i)).Select(hour => new HourBody(hour,
                    stats.Get(hour, "status:accepted"), stats.Get(hour, "status:delivered"), stats.Get(hour, "status:dead_lettered")))]);
            return TypedResults.Ok(body);
        }
        catch (Exception ex) when (StorageAccount.IsUnavailable(ex))
        {
            return ApiResults.StorageUnavailable("Storage did not answer; retry later.");
        }
    }
}

/// <summary>The answer of <c>GET /api/stats</c>.</summary>
public sealed record StatsBody(
    [property: JsonPropertyName("since")] DateTimeOffset Since,
    [property: JsonPropertyName("until")] DateTimeOffset Until,
    [property: JsonPropertyName("byStatus")] IReadOnlyDictionary<string, long> ByStatus,
    [property: JsonPropertyName("byTrigger")] IReadOnlyDictionary<string, long> ByTrigger,
    [property: JsonPropertyName("deadLetteredByReason")] IReadOnlyDictionary<string, long> DeadLetteredByReason,
    [property: JsonPropertyName("refusedByReason")] IReadOnlyDictionary<string, long> RefusedByReason,
    [property: JsonPropertyName("queueDepth")] IReadOnlyDictionary<string, long> QueueDepth,
    [property: JsonPropertyName("oldestPendingAgeSeconds")] double? OldestPendingAgeSeconds,
    [property: JsonPropertyName("forwardLatencyMs")] LatencyBody? ForwardLatencyMs,
    [property: JsonPropertyName("hours")] IReadOnlyList<HourBody> Hours);

/// <summary>One hour of the window (every hour present, oldest first, zeros included) for the console's chart.</summary>
public sealed record HourBody(
    [property: JsonPropertyName("hour")] DateTimeOffset Hour,
    [property: JsonPropertyName("accepted")] long Accepted,
    [property: JsonPropertyName("delivered")] long Delivered,
    [property: JsonPropertyName("deadLettered")] long DeadLettered);

/// <summary>Received → delivered, from the histogram: each percentile is its bucket's upper bound (at most 19 % high).</summary>
public sealed record LatencyBody(
    [property: JsonPropertyName("p50")] double P50,
    [property: JsonPropertyName("p95")] double P95,
    [property: JsonPropertyName("count")] long Count);
