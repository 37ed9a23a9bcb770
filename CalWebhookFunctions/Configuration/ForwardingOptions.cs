using System.ComponentModel.DataAnnotations;

namespace CalWebhookFunctions.Configuration;

/// <summary>Settings under <c>Forwarding__*</c>: where and how accepted events are delivered.</summary>
public sealed class ForwardingOptions
{
    public const string Section = "Forwarding";

    public const string DefaultRetrySchedule = "5s,30s,2m,10m,30m,1h,2h,4h,8h";

    /// <summary>The app's webhook endpoint. Required.</summary>
    [Required, AbsoluteHttpUrl]
    public string Url { get; set; } = "";

    /// <summary>Secret for outbound signatures: <c>whsec_</c> + base64 of at least 24 bytes. Required; never logged.</summary>
    [Required, StandardWebhooksSecret]
    public string SigningSecret { get; set; } = "";

    /// <summary>
    /// Comma-separated <c>whsec_</c> secrets of an outbound rotation: each forward is signed with every one of them too
    /// (one <c>v1,</c> signature each), so the app can switch secrets without a forward that fails to verify.
    /// </summary>
    [StandardWebhooksSecret(EachEntry = true)]
    public string PreviousSigningSecrets { get; set; } = "";

    [Range(1, 600, ErrorMessage = "{0} must be between {1} and {2}.")]
    public int TimeoutSeconds { get; set; } = 15;

    [RetrySchedule]
    public string RetrySchedule { get; set; } = DefaultRetrySchedule;

    // --- Failing endpoints (issue 14) ---

    /// <summary>Concurrent forwards to one target (origin + path) per instance; an event over the cap goes back briefly.</summary>
    [Range(1, 1000, ErrorMessage = "{0} must be between {1} and {2}.")]
    public int MaxConcurrentPerTarget { get; set; } = 8;

    /// <summary>Consecutive retryable failures of one target (no answer, 408, 429, 5xx) before it counts as failing.</summary>
    [Range(1, 1000, ErrorMessage = "{0} must be between {1} and {2}.")]
    public int BreakerFailures { get; set; } = 5;

    /// <summary>While a target is failing, one probe attempt per this many seconds; the first success releases its events.</summary>
    [Range(1, 3600, ErrorMessage = "{0} must be between {1} and {2}.")]
    public int BreakerProbeSeconds { get; set; } = 30;

    /// <summary>How long a held event (its connection paused, or its target failing) waits before it is dead-lettered <c>retries_exhausted</c>.</summary>
    [Range(1, 8760, ErrorMessage = "{0} must be between {1} and {2}.")]
    public int MaxHoldHours { get; set; } = 72;

    // --- end failing endpoints ---

    /// <summary>The current secret first, then the previous ones (without repeats).</summary>
    public IReadOnlyList<string> SigningSecrets() => [.. new[] { SigningSecret }.Concat(SettingLists.Split(PreviousSigningSecrets)).Distinct(StringComparer.Ordinal)];

    /// <summary>The delays between attempts; only valid after validation has passed.</summary>
    public IReadOnlyList<TimeSpan> RetryDelays() => DurationList.Parse(RetrySchedule);
}
