using CalWebhookFunctions.Configuration;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Operations.Alerts;

/// <summary>Settings under <c>Alerts__*</c>: where operational alerts go (off when <see cref="Url"/> is empty).</summary>
public sealed class AlertsOptions
{
    public const string Section = "Alerts";

    /// <summary>Where alerts are POSTed; empty turns alerts off.</summary>
    [AbsoluteHttpUrl]
    public string Url { get; set; } = "";

    /// <summary><c>whsec_</c> secret for the alerts' Standard Webhooks signature; required when <see cref="Url"/> is set. Never logged.</summary>
    [StandardWebhooksSecret]
    public string SigningSecret { get; set; } = "";

    /// <summary>How long after an alert another one of the same type and target is held back (counted, then reported with the next).</summary>
    [System.ComponentModel.DataAnnotations.Range(0, 86400, ErrorMessage = "{0} must be between {1} and {2} seconds.")]
    public int RateLimitSeconds { get; set; } = 300;

    public bool Enabled => !string.IsNullOrWhiteSpace(Url);
}

[OptionsValidator]
internal sealed partial class AlertsOptionsAnnotations : IValidateOptions<AlertsOptions>;

/// <summary>
/// The annotations (a URL, a Standard Webhooks secret) plus what they cannot say: the secret is required once a URL is
/// set. Every failure names the app setting (<c>Alerts__Key</c>).
/// </summary>
internal sealed class AlertsOptionsValidator : IValidateOptions<AlertsOptions>
{
    public ValidateOptionsResult Validate(string? name, AlertsOptions options)
    {
        var failures = new List<string>();
        if (new AlertsOptionsAnnotations().Validate(name, options) is { Failed: true } annotated)
        {
            failures.AddRange(annotated.Failures.Select(f => f.Replace($"{nameof(AlertsOptions)}.", $"{AlertsOptions.Section}__", StringComparison.Ordinal)));
        }
        if (options.Enabled && string.IsNullOrWhiteSpace(options.SigningSecret))
        {
            failures.Add($"{AlertsOptions.Section}__{nameof(AlertsOptions.SigningSecret)} is required when {AlertsOptions.Section}__{nameof(AlertsOptions.Url)} is set.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
