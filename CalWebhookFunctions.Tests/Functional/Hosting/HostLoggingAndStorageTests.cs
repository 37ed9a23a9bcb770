using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Tests.Functional.Hosting;

/// <summary>
/// What the real host logs on its own: its queue listeners' storage requests (category <c>Azure.Core</c>) are silenced by
/// host.json, and it never logs <c>QueueNotFound</c> because the app creates every queue, table and container at start.
/// </summary>
public class HostLoggingAndStorageTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public void Host_json_logs_Azure_Core_only_from_Warning()
    {
        using var hostJson = JsonDocument.Parse(File.ReadAllBytes(RepoPaths.File("host.json")));
        var levels = hostJson.RootElement.GetProperty("logging").GetProperty("logLevel");

        Assert.Equal("Warning", levels.GetProperty("Azure.Core").GetString());
        Assert.Equal("Information", levels.GetProperty("default").GetString()); // what would log every poll otherwise
    }

    [Fact]
    public async Task A_fresh_account_has_every_queue_table_and_container_once_the_app_has_started()
    {
        await azurite.ResetAsync();

        await using var app = await TestApp.StartAsync(azurite.ConnectionString);
        await app.Get<StorageInitializer>().Created.WaitAsync(TimeSpan.FromMinutes(1)); // the bound is only reached on failure

        var queues = new QueueServiceClient(azurite.ConnectionString);
        foreach (var queue in new[] { StorageNames.WebhookQueue, StorageNames.WebhookPoisonQueue, StorageNames.CleanupQueue })
        {
            Assert.True((await queues.GetQueueClient(queue).ExistsAsync()).Value, queue);
        }
        var tables = new TableServiceClient(azurite.ConnectionString);
        var tableNames = new List<string>();
        await foreach (var table in tables.QueryAsync())
        {
            tableNames.Add(table.Name);
        }
        Assert.Contains(StorageNames.ConnectionsTable, tableNames);
        Assert.Contains(StorageNames.DeliveriesTable, tableNames);
        Assert.True((await new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient(StorageNames.PayloadContainer).ExistsAsync()).Value);
    }

    [Fact]
    public async Task Storage_that_is_down_at_start_neither_stops_the_app_nor_holds_up_its_start()
    {
        await azurite.ResetAsync();

        await using var app = await TestApp.StartAsync(azurite.ConnectionString,
            configureServices: services => services.AddSingleton(StorageFaults.Everything(azurite.ConnectionString)));

        Assert.False(app.Get<StorageInitializer>().Created.IsCompleted); // still trying, in the background
        Assert.False((await new QueueServiceClient(azurite.ConnectionString).GetQueueClient(StorageNames.WebhookQueue).ExistsAsync()).Value);
    }
}
