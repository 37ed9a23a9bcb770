using System.ComponentModel.DataAnnotations;

namespace CalWebhookFunctions.Configuration;

/// <summary>An absolute http(s) URL without a fragment; a blank value is left to <see cref="RequiredAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class AbsoluteHttpUrlAttribute() : ValidationAttribute("{0} must be an absolute http(s) URL without a fragment.")
{
    public override bool IsValid(object? value) =>
        value is not string url || string.IsNullOrWhiteSpace(url)
        || (Http.HttpUrl.TryParseAbsolute(url, out var uri) && string.IsNullOrEmpty(uri.Fragment));
}

/// <summary>
/// A Standard Webhooks secret (see <see cref="SigningKey"/>), or with <see cref="EachEntry"/> a comma-separated list of
/// them. The message says what is wrong without echoing the secret; a blank value is left to <see cref="RequiredAttribute"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class StandardWebhooksSecretAttribute : ValidationAttribute
{
    public bool EachEntry { get; set; }

    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        var text = value as string;
        if (string.IsNullOrWhiteSpace(text))
        {
            return ValidationResult.Success;
        }
        var problems = EachEntry
            ? SettingLists.Split(text).Select((secret, i) => SigningKey.Problem(secret) is { } problem ? $"entry {i + 1} {problem}" : null)
            : [SigningKey.Problem(text)];
        var message = string.Join("; ", problems.OfType<string>());
        return message.Length == 0 ? ValidationResult.Success : new ValidationResult($"{validationContext.DisplayName} {message}.");
    }
}

/// <summary>A retry schedule (see <see cref="DurationList"/>) whose every delay a queue message can wait.</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class RetryScheduleAttribute : ValidationAttribute
{
    /// <summary>Azure Queue Storage cannot hide a message for longer than seven days.</summary>
    private static readonly TimeSpan MaxDelay = TimeSpan.FromDays(7);

    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext) =>
        !DurationList.TryParse(value as string, out var delays, out var error)
            ? new ValidationResult($"{validationContext.DisplayName} is invalid: {error}.")
            : delays.Any(d => d > MaxDelay)
                ? new ValidationResult($"{validationContext.DisplayName} has a delay over 7 days, the longest a queue message can wait.")
                : ValidationResult.Success;
}
