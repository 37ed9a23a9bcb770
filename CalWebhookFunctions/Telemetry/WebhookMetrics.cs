using System.Diagnostics.Metrics;
using CalWebhookFunctions.Operations.Stats;

namespace CalWebhookFunctions.Telemetry;

/// <summary>
/// The product's counters, on the meter <see cref="MeterName"/>: exported wherever OpenTelemetry or
/// Application Insights is wired, and readable with <c>dotnet-counters</c> anywhere. Every count also goes to this
/// instance's <see cref="StatsCollector"/> (in memory; flushed hourly rows behind <c>GET /api/stats</c>).
/// </summary>
public sealed class WebhookMetrics(IMeterFactory meterFactory, StatsCollector stats)
{
    public const string MeterName = "CalWebhookFunctions";

    private readonly Counter<long> _accepted = Counter(meterFactory, "calwebhook.events.accepted", "{event}", "Deliveries verified and stored");
    private readonly Counter<long> _rejected = Counter(meterFactory, "calwebhook.events.rejected", "{event}", "Deliveries refused, by reason");
    private readonly Counter<long> _forwarded = Counter(meterFactory, "calwebhook.events.forwarded", "{event}", "Events delivered to the app");
    private readonly Counter<long> _retried = Counter(meterFactory, "calwebhook.events.retried", "{event}", "Delivery attempts scheduled again");
    private readonly Counter<long> _deadLettered = Counter(meterFactory, "calwebhook.events.dead_lettered", "{event}", "Events moved to the dead-letter queue");
    private readonly Counter<long> _subscriptionsCreated = Counter(meterFactory, "calwebhook.subscriptions.created", "{subscription}", "Cal.com subscriptions registered or adopted");
    private readonly Counter<long> _subscriptionsDeleted = Counter(meterFactory, "calwebhook.subscriptions.deleted", "{subscription}", "Cal.com subscriptions removed");
    private readonly Counter<long> _held = Counter(meterFactory, "calwebhook.events.held", "{event}", "Events held without an attempt, by reason (connection_paused, target_failing)");
    private readonly Counter<long> _breakerTransitions = Counter(meterFactory, "calwebhook.targets.breaker_transitions", "{transition}", "Targets that started failing (open) or recovered (closed)");
    private readonly Histogram<double> _deliveryLatency = meterFactory.Create(MeterName).CreateHistogram<double>("calwebhook.delivery.latency", "s",
        "Time from acceptance to the app's 2xx",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400] });

    /// <summary>A counter on the meter <see cref="MeterName"/> (the factory hands out one meter per name).</summary>
    private static Counter<long> Counter(IMeterFactory meters, string name, string unit, string description) =>
        meters.Create(MeterName).CreateCounter<long>(name, unit, description);

    /// <summary>An event verified and stored; <paramref name="trigger"/> is its trigger as logged (<c>(none)</c> when it has none).</summary>
    public void Accepted(string trigger = "(none)")
    {
        _accepted.Add(1);
        stats.Count("status", "accepted");
        stats.Count("trigger", trigger);
    }

    public void Rejected(string reason) => _rejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>An event delivered; <paramref name="latency"/> is from its acceptance to the app's 2xx.</summary>
    public void Forwarded(TimeSpan latency)
    {
        _forwarded.Add(1);
        _deliveryLatency.Record(Math.Max(latency.TotalSeconds, 0));
        stats.Delivered(latency);
    }

    public void Retried(string reason)
    {
        _retried.Add(1, new KeyValuePair<string, object?>("reason", reason));
        stats.Count("status", "retried");
    }

    public void DeadLettered(string reason)
    {
        _deadLettered.Add(1, new KeyValuePair<string, object?>("reason", reason));
        stats.Count("status", "dead_lettered");
        stats.Count("deadLetter", reason);
    }

    /// <summary>An event held for the first time in a run of holds (not once per look).</summary>
    public void Held(string reason) => _held.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void BreakerTransition(string state) => _breakerTransitions.Add(1, new KeyValuePair<string, object?>("state", state));

    public void SubscriptionCreated() => _subscriptionsCreated.Add(1);

    public void SubscriptionDeleted() => _subscriptionsDeleted.Add(1);
}
