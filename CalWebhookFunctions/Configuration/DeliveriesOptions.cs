namespace CalWebhookFunctions.Configuration;

/// <summary>Settings under <c>Deliveries__*</c>.</summary>
public sealed class DeliveriesOptions
{
    public const string Section = "Deliveries";

    public const int DefaultRetentionDays = 30;

    /// <summary>How long the delivery log, payloads, dedup records and connection tombstones are kept.</summary>
    public int RetentionDays { get; set; } = DefaultRetentionDays;

    public TimeSpan Retention => TimeSpan.FromDays(RetentionDays);
}
