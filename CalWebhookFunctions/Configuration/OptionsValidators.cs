using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Configuration;

/// <summary>
/// Start-up validation of every setting in the product contract. Each failure names the app setting
/// exactly as an operator writes it (<c>Section__Key</c>), so a missing key stops the app with a message
/// that says what to set.
/// </summary>
internal static partial class SettingChecks
{
    public static void Required(List<string> failures, string key, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            failures.Add($"{key} is required but is not set.");
        }
    }

    public static void AbsoluteHttpUrl(List<string> failures, string key, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return;
        }
        if (!Http.HttpUrl.TryParseAbsolute(value, out var uri) || !string.IsNullOrEmpty(uri.Fragment))
        {
            failures.Add($"{key} must be an absolute http(s) URL without a fragment.");
        }
    }

    public static ValidateOptionsResult Result(List<string> failures) =>
        failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

    [GeneratedRegex("^[A-Z][A-Z0-9_]*$")]
    public static partial Regex TriggerName();
}

internal sealed class CalComOptionsValidator : IValidateOptions<CalComOptions>
{
    public ValidateOptionsResult Validate(string? name, CalComOptions options)
    {
        var failures = new List<string>();
        SettingChecks.Required(failures, "CalCom__WebhookSecret", options.WebhookSecret);
        SettingChecks.Required(failures, "CalCom__ApiBaseUrl", options.ApiBaseUrl);
        SettingChecks.AbsoluteHttpUrl(failures, "CalCom__ApiBaseUrl", options.ApiBaseUrl);
        SettingChecks.Required(failures, "CalCom__ProviderConfigKey", options.ProviderConfigKey);
        if (!string.IsNullOrWhiteSpace(options.OrganizationId) && options.OrganizationIdValue() is not > 0)
        {
            failures.Add("CalCom__OrganizationId must be a positive integer when set.");
        }
        foreach (var trigger in SettingLists.Split(options.DefaultTriggers))
        {
            if (!SettingChecks.TriggerName().IsMatch(trigger))
            {
                failures.Add($"CalCom__DefaultTriggers has '{trigger}', which is not a trigger name such as BOOKING_CREATED.");
            }
        }
        return SettingChecks.Result(failures);
    }
}

internal sealed class WebhookOptionsValidator : IValidateOptions<WebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        var failures = new List<string>();
        SettingChecks.Required(failures, "Webhook__PublicUrl", options.PublicUrl);
        SettingChecks.AbsoluteHttpUrl(failures, "Webhook__PublicUrl", options.PublicUrl);
        return SettingChecks.Result(failures);
    }
}

internal sealed class IngestOptionsValidator : IValidateOptions<IngestOptions>
{
    public ValidateOptionsResult Validate(string? name, IngestOptions options)
    {
        var failures = new List<string>();
        if (options.MaxBodyBytes is < 1 or > IngestOptions.UpperMaxBodyBytes)
        {
            failures.Add($"Ingest__MaxBodyBytes must be between 1 and {IngestOptions.UpperMaxBodyBytes}.");
        }
        return SettingChecks.Result(failures);
    }
}

internal sealed class ForwardingOptionsValidator : IValidateOptions<ForwardingOptions>
{
    /// <summary>Azure Queue Storage cannot hide a message for longer than seven days.</summary>
    private static readonly TimeSpan MaxDelay = TimeSpan.FromDays(7);

    public ValidateOptionsResult Validate(string? name, ForwardingOptions options)
    {
        var failures = new List<string>();
        SettingChecks.Required(failures, "Forwarding__Url", options.Url);
        SettingChecks.AbsoluteHttpUrl(failures, "Forwarding__Url", options.Url);
        SettingChecks.Required(failures, "Forwarding__SigningSecret", options.SigningSecret);
        if (!string.IsNullOrWhiteSpace(options.SigningSecret) && SigningKey.Problem(options.SigningSecret) is { } problem)
        {
            failures.Add($"Forwarding__SigningSecret {problem}.");
        }
        var previous = SettingLists.Split(options.PreviousSigningSecrets);
        for (var i = 0; i < previous.Count; i++)
        {
            if (SigningKey.Problem(previous[i]) is { } previousProblem)
            {
                failures.Add($"Forwarding__PreviousSigningSecrets entry {i + 1} {previousProblem}.");
            }
        }
        if (options.TimeoutSeconds is < 1 or > 600)
        {
            failures.Add("Forwarding__TimeoutSeconds must be between 1 and 600.");
        }
        if (!DurationList.TryParse(options.RetrySchedule, out var delays, out var error))
        {
            failures.Add($"Forwarding__RetrySchedule is invalid: {error}.");
        }
        else if (delays.Any(d => d > MaxDelay))
        {
            failures.Add("Forwarding__RetrySchedule has a delay over 7 days, the longest a queue message can wait.");
        }
        return SettingChecks.Result(failures);
    }
}

internal sealed class DeliveriesOptionsValidator : IValidateOptions<DeliveriesOptions>
{
    /// <summary>Ten years: anything longer is a typo, and the arithmetic on it must not overflow.</summary>
    public const int MaxRetentionDays = 3650;

    public ValidateOptionsResult Validate(string? name, DeliveriesOptions options)
    {
        var failures = new List<string>();
        if (options.RetentionDays is < 1 or > MaxRetentionDays)
        {
            failures.Add($"Deliveries__RetentionDays must be a whole number of days between 1 and {MaxRetentionDays}.");
        }
        return SettingChecks.Result(failures);
    }
}
