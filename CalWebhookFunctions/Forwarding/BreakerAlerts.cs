using System.Text.Json.Nodes;
using CalWebhookFunctions.Operations.Alerts;
using CalWebhookFunctions.Telemetry;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// A target's breaker transitions (<see cref="TargetBreaker"/>), each told once by the one writer that made it: a log line,
/// a metric, and the <c>endpoint.failing</c> / <c>endpoint.recovered</c> alert (<c>{target, failures}</c>; the target is
/// its origin and path, never its query).
/// </summary>
public sealed partial class BreakerAlerts(Alerts alerts, WebhookMetrics metrics, TimeProvider time, ILogger<BreakerAlerts> logger)
{
    public void Failing(string target, int failures)
    {
        TargetFailing(logger, target, failures);
        metrics.BreakerTransition("open");
        alerts.Raise(AlertTypes.EndpointFailing, target, new JsonObject { ["target"] = target, ["failures"] = failures });
    }

    public void Recovered(string target, int failures, DateTimeOffset? openedAt)
    {
        var failingFor = openedAt is { } since ? time.GetUtcNow() - since : TimeSpan.Zero;
        TargetRecovered(logger, target, failures, failingFor);
        metrics.BreakerTransition("closed");
        alerts.Raise(AlertTypes.EndpointRecovered, target, new JsonObject { ["target"] = target, ["failures"] = failures });
    }

    /// <summary>A failure or success could not be counted in the target's breaker row (logged; the breaker errs towards sending).</summary>
    public void NotRecorded(string target, Exception exception) => NotCounted(logger, exception, target);

    [LoggerMessage(EventId = 3212, Level = LogLevel.Warning,
        Message = "The outcome of a forward to {Target} could not be counted in its breaker row; it is counted again from the next outcome")]
    private static partial void NotCounted(ILogger logger, Exception exception, string target);

    [LoggerMessage(EventId = 3210, Level = LogLevel.Warning,
        Message = "Target {Target} is failing after {Failures} consecutive retryable failures: its events are held, one probe per Forwarding__BreakerProbeSeconds")]
    private static partial void TargetFailing(ILogger logger, string target, int failures);

    [LoggerMessage(EventId = 3211, Level = LogLevel.Information,
        Message = "Target {Target} recovered after {Failures} failures ({FailingFor} failing): its held events are released")]
    private static partial void TargetRecovered(ILogger logger, string target, int failures, TimeSpan failingFor);
}
