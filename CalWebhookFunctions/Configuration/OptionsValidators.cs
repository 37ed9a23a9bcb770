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
    [GeneratedRegex("^[A-Z][A-Z0-9_]*$")]
    public static partial Regex TriggerName();
}
