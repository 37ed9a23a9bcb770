using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Storage;

/// <summary>The app starts keyless with the settings infra/main.bicep writes, and stops at start when they are incomplete.</summary>
public sealed class IdentityStorageStartupTests
{
    [Fact]
    public async Task App_starts_with_the_identity_based_settings_the_bicep_writes()
    {
        await using var app = await TestApp.StartAsync("", new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = null,
            ["AzureWebJobsStorage:accountName"] = "stcalwebhooks1234",
            ["AzureWebJobsStorage:credential"] = "managedidentity",
            ["AzureWebJobsStorage:clientId"] = "6a7c1f5e-0000-4000-8000-000000000001",
        });

        var endpoints = app.Get<StorageAccount>().Endpoints;
        Assert.Equal(new Uri("https://stcalwebhooks1234.queue.core.windows.net"), endpoints.Queue);
        Assert.Equal(new Uri("https://stcalwebhooks1234.table.core.windows.net"), endpoints.Table);
    }

    [Fact]
    public async Task App_stops_at_start_naming_the_storage_setting_that_is_missing()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TestApp.StartAsync("", new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = null,
            ["AzureWebJobsStorage:queueServiceUri"] = "https://st.queue.core.windows.net",
            ["AzureWebJobsStorage:blobServiceUri"] = "https://st.blob.core.windows.net",
            ["AzureWebJobsStorage:credential"] = "managedidentity",
        }));

        Assert.Contains("AzureWebJobsStorage__tableServiceUri is not set", error.Message, StringComparison.Ordinal);
    }
}
