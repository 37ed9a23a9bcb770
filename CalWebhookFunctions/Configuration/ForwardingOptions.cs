namespace CalWebhookFunctions.Configuration;

/// <summary>Settings under <c>Forwarding__*</c>: where and how accepted events are delivered.</summary>
public sealed class ForwardingOptions
{
    public const string Section = "Forwarding";

    public const string DefaultRetrySchedule = "5s,30s,2m,10m,30m,1h,2h,4h,8h";

    /// <summary>The app's webhook endpoint. Required.</summary>
    public string Url { get; set; } = "";

    /// <summary>Secret for outbound signatures (<c>whsec_</c> + base64, or any text). Required; never logged.</summary>
    public string SigningSecret { get; set; } = "";

    public int TimeoutSeconds { get; set; } = 15;

    public string RetrySchedule { get; set; } = DefaultRetrySchedule;

    /// <summary>The delays between attempts; only valid after validation has passed.</summary>
    public IReadOnlyList<TimeSpan> RetryDelays() => DurationList.Parse(RetrySchedule);
}
