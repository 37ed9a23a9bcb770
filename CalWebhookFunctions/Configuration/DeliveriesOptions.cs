using System.ComponentModel.DataAnnotations;

namespace CalWebhookFunctions.Configuration;

/// <summary>Settings under <c>Deliveries__*</c>.</summary>
public sealed class DeliveriesOptions
{
    public const string Section = "Deliveries";

    public const int DefaultRetentionDays = 30;

    /// <summary>Ten years: anything longer is a typo, and the arithmetic on it must not overflow.</summary>
    public const int MaxRetentionDays = 3650;

    /// <summary>How long the delivery log, payloads, dedup records and connection tombstones are kept.</summary>
    [Range(1, MaxRetentionDays, ErrorMessage = "{0} must be a whole number of days between {1} and {2}.")]
    public int RetentionDays { get; set; } = DefaultRetentionDays;

    public TimeSpan Retention => TimeSpan.FromDays(RetentionDays);
}
