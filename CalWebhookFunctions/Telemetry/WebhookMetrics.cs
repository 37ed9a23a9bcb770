using System.Diagnostics.Metrics;

namespace CalWebhookFunctions.Telemetry;

/// <summary>
/// The product's counters, on the meter <see cref="MeterName"/>: exported wherever OpenTelemetry or
/// Application Insights is wired, and readable with <c>dotnet-counters</c> anywhere.
/// </summary>
public sealed class WebhookMetrics
{
    public const string MeterName = "CalWebhookFunctions";

    private readonly Counter<long> _accepted;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _forwarded;
    private readonly Counter<long> _retried;
    private readonly Counter<long> _deadLettered;
    private readonly Counter<long> _subscriptionsCreated;
    private readonly Counter<long> _subscriptionsDeleted;

    public WebhookMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _accepted = meter.CreateCounter<long>("calwebhook.events.accepted", "{event}", "Deliveries verified and stored");
        _rejected = meter.CreateCounter<long>("calwebhook.events.rejected", "{event}", "Deliveries refused, by reason");
        _forwarded = meter.CreateCounter<long>("calwebhook.events.forwarded", "{event}", "Events delivered to the app");
        _retried = meter.CreateCounter<long>("calwebhook.events.retried", "{event}", "Delivery attempts scheduled again");
        _deadLettered = meter.CreateCounter<long>("calwebhook.events.dead_lettered", "{event}", "Events moved to the dead-letter queue");
        _subscriptionsCreated = meter.CreateCounter<long>("calwebhook.subscriptions.created", "{subscription}", "Cal.com subscriptions registered or adopted");
        _subscriptionsDeleted = meter.CreateCounter<long>("calwebhook.subscriptions.deleted", "{subscription}", "Cal.com subscriptions removed");
    }

    public void Accepted() => _accepted.Add(1);

    public void Rejected(string reason) => _rejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Forwarded() => _forwarded.Add(1);

    public void Retried(string reason) => _retried.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void DeadLettered(string reason) => _deadLettered.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void SubscriptionCreated() => _subscriptionsCreated.Add(1);

    public void SubscriptionDeleted() => _subscriptionsDeleted.Add(1);
}
