using System.Globalization;
using CalWebhookFunctions.Configuration;
using CalWebhookFunctions.Storage;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// What one HTTP attempt came to: a status (with its Retry-After and the start of the app's answer, as text), or an error
/// with no answer.
/// </summary>
public readonly record struct AttemptResult(int? Status, string? Error, TimeSpan? RetryAfter = null, string? Response = null)
{
    public static AttemptResult Answered(int status, TimeSpan? retryAfter = null, string? response = null) => new(status, null, retryAfter, response);

    public static AttemptResult Failed(string error) => new(null, error);
}

public enum DecisionKind
{
    Delivered,
    Retry,
    DeadLetter,
}

/// <summary>The policy's verdict: <see cref="Delay"/> for a retry, <see cref="Reason"/> for a retry or dead letter.</summary>
public readonly record struct DeliveryDecision(DecisionKind Kind, string Reason, TimeSpan Delay = default);

/// <summary>
/// Which outcomes are retried and when. 2xx → delivered. No answer (network error, timeout), 408, 429 and 5xx →
/// retried after the next delay of <c>Forwarding__RetrySchedule</c>; for 429 and 503 a <c>Retry-After</c> (seconds
/// or HTTP date) longer than that delay wins. Every delay is capped at 7 days, the longest a queue message can stay
/// hidden. Anything else (3xx — redirects are never followed — and other 4xx) is dead-lettered at once, and so is
/// every failure once the schedule is exhausted.
/// </summary>
public sealed class DeliveryPolicy
{
    public static readonly TimeSpan MaxDelay = TimeSpan.FromDays(7);

    private readonly RetrySchedule _schedule;

    public DeliveryPolicy(IOptions<ForwardingOptions> options)
        : this(options.Value.RetryDelays())
    {
    }

    public DeliveryPolicy(IReadOnlyList<TimeSpan> schedule) => _schedule = new RetrySchedule(schedule);

    /// <summary>Attempts allowed in all: the first plus one per scheduled delay.</summary>
    public int MaxAttempts => _schedule.MaxRetries + 1;

    /// <param name="attemptsMade">Attempts made so far, including the one that produced <paramref name="result"/> (≥ 1).</param>
    /// <param name="probeInterval">
    /// Set when the attempt was a failing target's probe (<see cref="TargetBreaker"/>): its events are held until
    /// <c>Forwarding__MaxHoldHours</c> rather than spending their schedule, so a probe that fails once the schedule is used
    /// up retries after this interval (and is held again) instead of being dead-lettered <c>retries_exhausted</c>.
    /// </param>
    public DeliveryDecision Decide(int attemptsMade, AttemptResult result, TimeSpan? probeInterval = null)
    {
        if (result.Status is >= 200 and <= 299)
        {
            return new(DecisionKind.Delivered, "delivered");
        }
        if (!IsRetryable(result))
        {
            return new(DecisionKind.DeadLetter, "rejected");
        }
        if (_schedule.Next(attemptsMade - 1) is not { } delay)
        {
            return probeInterval is { } probe
                ? new(DecisionKind.Retry, RetryReason(result), probe)
                : new(DecisionKind.DeadLetter, "retries_exhausted");
        }
        if (result.RetryAfter is { } retryAfter && retryAfter > delay)
        {
            delay = retryAfter;
        }
        return new(DecisionKind.Retry, RetryReason(result), delay > MaxDelay ? MaxDelay : delay);
    }

    public static bool IsRetryable(AttemptResult result) =>
        result.Status is null or 408 or 429 or >= 500;

    /// <summary>A low-cardinality reason for metrics and logs: <c>status_503</c>, <c>timeout</c>, <c>network</c>.</summary>
    public static string RetryReason(AttemptResult result) =>
        result.Status is { } status ? $"status_{status}" : result.Error?.StartsWith("timeout", StringComparison.Ordinal) == true ? "timeout" : "network";

    /// <summary>Whether a status's <c>Retry-After</c> is honoured.</summary>
    public static bool HonoursRetryAfter(int status) => status is 429 or 503;

    /// <summary>
    /// A <c>Retry-After</c> value as a delay from <paramref name="now"/>: delta-seconds, or an HTTP date (rounded up to
    /// whole seconds; a date in the past is zero). Null when absent or unreadable.
    /// </summary>
    public static TimeSpan? ParseRetryAfter(string? value, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        value = value.Trim();
        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return seconds >= (long)MaxDelay.TotalSeconds ? MaxDelay : TimeSpan.FromSeconds(seconds);
        }
        if (DateTimeOffset.TryParseExact(value, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date)
            || DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out date))
        {
            // Rounded up to whole seconds: a date is "not before", and the queue's visibility delay has one-second
            // resolution (the SDK drops the fraction), so 1.95 s left must wait 2 s, not 1.
            var delay = TimeSpan.FromSeconds(Math.Ceiling((date - now).TotalSeconds));
            return delay < TimeSpan.Zero ? TimeSpan.Zero : delay > MaxDelay ? MaxDelay : delay;
        }
        return null;
    }
}
