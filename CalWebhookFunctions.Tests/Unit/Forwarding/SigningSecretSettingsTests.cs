using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Tests.Unit.Forwarding;

/// <summary>
/// <c>Forwarding__SigningSecret</c> (and each of <c>Forwarding__PreviousSigningSecrets</c>) is a Standard Webhooks
/// secret, <c>whsec_</c> + base64 of at least 24 bytes, or the app does not start and says which key is wrong.
/// </summary>
public class SigningSecretSettingsTests
{
    private const string Storage = "UseDevelopmentStorage=true";

    private static string Whsec(int bytes) => "whsec_" + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(bytes));

    [Theory]
    [InlineData("a-long-plain-text-secret-that-is-not-whsec")]
    [InlineData("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")] // base64, but without the prefix
    [InlineData("whsec_c2hvcnQ=")] // 5 bytes
    [InlineData("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")] // 23 bytes
    [InlineData("whsec_***not base64***")]
    public async Task A_signing_secret_not_in_the_standard_webhooks_format_stops_the_app_naming_the_key(string secret)
    {
        var failure = await Record.ExceptionAsync(async () =>
        {
            await using var app = await TestApp.StartAsync(Storage, new Dictionary<string, string?> { ["Forwarding:SigningSecret"] = secret });
        });

        var validation = Assert.IsType<OptionsValidationException>(failure);
        var message = Assert.Single(validation.Failures, f => f.Contains("Forwarding__SigningSecret", StringComparison.Ordinal));
        Assert.DoesNotContain(secret, message, StringComparison.Ordinal); // names the key, never echoes the secret
    }

    [Fact]
    public async Task An_invalid_previous_signing_secret_stops_the_app_naming_the_key()
    {
        var failure = await Record.ExceptionAsync(async () =>
        {
            await using var app = await TestApp.StartAsync(Storage,
                new Dictionary<string, string?> { ["Forwarding:PreviousSigningSecrets"] = Whsec(32) + ",old-plain-secret" });
        });

        var validation = Assert.IsType<OptionsValidationException>(failure);
        Assert.Contains(validation.Failures, f => f.Contains("Forwarding__PreviousSigningSecrets entry 2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Whsec_secrets_of_24_bytes_or_more_start()
    {
        await using var app = await TestApp.StartAsync(Storage, new Dictionary<string, string?>
        {
            ["Forwarding:SigningSecret"] = Whsec(24),
            ["Forwarding:PreviousSigningSecrets"] = Whsec(32) + ", " + Whsec(64),
        });

        Assert.Equal(3, app.Get<IOptions<CalWebhookFunctions.Configuration.ForwardingOptions>>().Value.SigningSecrets().Count);
    }
}
