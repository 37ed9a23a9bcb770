using System.Text.Json;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Tests.Infrastructure;
using CalWebhookFunctions.Tests.Unit.Shipping;

namespace CalWebhookFunctions.Tests.Unit.Configuration;

/// <summary>local.settings.sample.json is what `npm start` turns into a running app's settings.</summary>
public class LocalSettingsSampleTests
{
    private static Dictionary<string, string?> SampleValues()
    {
        using var sample = JsonDocument.Parse(File.ReadAllText(RepoPaths.File("local.settings.sample.json")));
        return sample.RootElement.GetProperty("Values").EnumerateObject().ToDictionary(p => p.Name, p => (string?)p.Value.GetString());
    }

    [Fact]
    public void Sample_has_every_setting_of_the_readme_configuration_table()
    {
        var values = SampleValues();
        Assert.All(Readme.ConfigurationKeys(), key => Assert.True(values.ContainsKey(key), $"{key} is missing from local.settings.sample.json"));
        Assert.Equal("UseDevelopmentStorage=true", values["AzureWebJobsStorage"]);
        Assert.Equal("dotnet-isolated", values["FUNCTIONS_WORKER_RUNTIME"]);
    }

    [Fact]
    public async Task Sample_starts_the_app_once_the_start_script_fills_in_its_secrets()
    {
        // What scripts/start-local.mjs does, and how the Functions host maps app settings to configuration.
        var values = SampleValues();
        values["CalCom__WebhookSecret"] = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        values["Forwarding__SigningSecret"] = "whsec_" + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var settings = values.ToDictionary(v => v.Key.Replace("__", ":", StringComparison.Ordinal), v => v.Value);

        await using var app = await TestApp.StartWithSettingsAsync(settings);

        Assert.NotNull(app.Get<WebhookSecrets>());
    }

    [Fact]
    public async Task Sample_without_its_secrets_filled_in_does_not_start_and_names_them()
    {
        var settings = SampleValues().ToDictionary(v => v.Key.Replace("__", ":", StringComparison.Ordinal), v => v.Value);
        var failure = await Record.ExceptionAsync(async () =>
        {
            await using var app = await TestApp.StartWithSettingsAsync(settings);
        });
        Assert.Contains("CalCom__WebhookSecret", failure?.Message ?? "", StringComparison.Ordinal);
        Assert.Contains("Forwarding__SigningSecret", failure?.Message ?? "", StringComparison.Ordinal);
    }
}
