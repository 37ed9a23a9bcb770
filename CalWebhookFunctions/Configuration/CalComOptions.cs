using System.ComponentModel.DataAnnotations;

namespace CalWebhookFunctions.Configuration;

/// <summary>Settings under <c>CalCom__*</c>: the Cal.com integration (signing secrets and API access).</summary>
public sealed class CalComOptions
{
    public const string Section = "CalCom";

    /// <summary>The integration secret Cal.com signs deliveries with. Required.</summary>
    [Required]
    public string WebhookSecret { get; set; } = "";

    /// <summary>Comma-separated secrets still accepted while a rotation is under way.</summary>
    public string? PreviousWebhookSecrets { get; set; }

    /// <summary>
    /// Give every subscription its own secret derived from the integration secret and the connection id (on by
    /// default: with one shared secret any connected Cal.com account could sign events naming another connection).
    /// </summary>
    public bool ConnectionBoundSecrets { get; set; } = true;

    [Required, AbsoluteHttpUrl]
    public string ApiBaseUrl { get; set; } = "https://api.cal.com";

    /// <summary>Default credential for the Cal.com API; never logged.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Default organization for organization-scoped subscriptions (a positive integer).</summary>
    [RegularExpression(@"^(?:\s*|0*[1-9][0-9]{0,17})$", ErrorMessage = "{0} must be a positive integer when set.")]
    public string? OrganizationId { get; set; }

    [Required]
    public string ProviderConfigKey { get; set; } = "cal-com-oauth";

    /// <summary>Comma-separated trigger names; empty means every BOOKING_* trigger.</summary>
    [RegularExpression(@"^(?>\s*)(?:[A-Z][A-Z0-9_]*(?>\s*))?(?:,(?>\s*)(?:[A-Z][A-Z0-9_]*(?>\s*))?)*$",
        ErrorMessage = "{0} must be comma-separated trigger names such as BOOKING_CREATED.")]
    public string? DefaultTriggers { get; set; }

    public long? OrganizationIdValue() =>
        long.TryParse(OrganizationId, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) ? id : null;
}
