using Azure.Identity;
using CalWebhookFunctions.Telemetry;
using Microsoft.Extensions.Configuration;

namespace CalWebhookFunctions.Tests.Unit.Telemetry;

public sealed class ApplicationInsightsSettingsTests
{
    private const string ConnectionString = "InstrumentationKey=00000000-0000-4000-8000-000000000000;IngestionEndpoint=http://127.0.0.1:9/";

    private static ApplicationInsightsSettings? Read(params (string Key, string Value)[] settings) =>
        ApplicationInsightsSettings.FromConfiguration(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build());

    [Fact]
    public void Without_a_connection_string_there_is_nothing_to_export_to() => Assert.Null(Read());

    [Fact]
    public void Connection_string_alone_sends_with_its_key()
    {
        var settings = Read(("APPLICATIONINSIGHTS_CONNECTION_STRING", ConnectionString))!;

        Assert.Equal(new ApplicationInsightsSettings(ConnectionString, false, null), settings);
        Assert.Null(settings.Credential());
    }

    [Fact]
    public void Entra_authentication_with_a_client_id_uses_that_user_assigned_identity()
    {
        var settings = Read(("APPLICATIONINSIGHTS_CONNECTION_STRING", ConnectionString),
            ("APPLICATIONINSIGHTS_AUTHENTICATION_STRING", "Authorization=AAD;ClientId=6a7c1f5e-0000-4000-8000-000000000001"))!;

        Assert.Equal(new ApplicationInsightsSettings(ConnectionString, true, "6a7c1f5e-0000-4000-8000-000000000001"), settings);
        Assert.IsType<ManagedIdentityCredential>(settings.Credential());
    }

    [Fact]
    public void Entra_authentication_without_a_client_id_uses_the_system_assigned_identity()
    {
        var settings = Read(("APPLICATIONINSIGHTS_CONNECTION_STRING", ConnectionString), ("APPLICATIONINSIGHTS_AUTHENTICATION_STRING", "Authorization=AAD"))!;

        Assert.Equal(new ApplicationInsightsSettings(ConnectionString, true, null), settings);
        Assert.IsType<ManagedIdentityCredential>(settings.Credential());
    }

    [Theory]
    [InlineData("Authorization=Basic")]
    [InlineData("ClientId=6a7c1f5e")]
    [InlineData("Authorization=AAD;Secret=x")]
    public void Malformed_authentication_string_is_refused_naming_the_setting(string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            Read(("APPLICATIONINSIGHTS_CONNECTION_STRING", ConnectionString), ("APPLICATIONINSIGHTS_AUTHENTICATION_STRING", value)));

        Assert.Contains("APPLICATIONINSIGHTS_AUTHENTICATION_STRING must be", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Connection_string_without_an_instrumentation_key_is_refused_naming_the_setting()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Read(("APPLICATIONINSIGHTS_CONNECTION_STRING", "https://example.org")));

        Assert.Contains("APPLICATIONINSIGHTS_CONNECTION_STRING must be", error.Message, StringComparison.Ordinal);
    }
}
