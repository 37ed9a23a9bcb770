using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Configuration;

// Start-up validation of every setting in the product contract: the options source generator turns the data
// annotations on each options class into these validators. Each failure names the app setting as an operator
// writes it (Section__Key; see ConfigurationRegistration), so a missing key stops the app with a message that says what to set.

[OptionsValidator]
internal sealed partial class CalComOptionsValidator : IValidateOptions<CalComOptions>;

[OptionsValidator]
internal sealed partial class WebhookOptionsValidator : IValidateOptions<WebhookOptions>;

[OptionsValidator]
internal sealed partial class IngestOptionsValidator : IValidateOptions<IngestOptions>;

[OptionsValidator]
internal sealed partial class ForwardingOptionsValidator : IValidateOptions<ForwardingOptions>;

[OptionsValidator]
internal sealed partial class DeliveriesOptionsValidator : IValidateOptions<DeliveriesOptions>;

internal static partial class SettingChecks
{
    /// <summary>
    /// A Cal.com trigger name such as <c>BOOKING_CREATED</c>: a capital letter, then capital letters, digits and
    /// underscores, at most <paramref name="maxLength"/> characters. Unknown names pass: Cal.com adds triggers.
    /// </summary>
    public static bool IsTriggerName([NotNullWhen(true)] string? name, int maxLength = 64) =>
        name is not null && name.Length <= maxLength && TriggerName().IsMatch(name);

    [GeneratedRegex("^[A-Z][A-Z0-9_]*$")]
    private static partial Regex TriggerName();
}
