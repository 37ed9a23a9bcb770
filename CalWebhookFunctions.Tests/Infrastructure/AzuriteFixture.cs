using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace CalWebhookFunctions.Tests.Infrastructure;

/// <summary>One Azurite per test class (xunit runs a class's tests one at a time, classes in parallel).</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private Azurite? _azurite;

    public string ConnectionString => _azurite?.ConnectionString ?? throw new InvalidOperationException("Azurite has not started.");

    public async Task InitializeAsync() => _azurite = await Azurite.StartAsync();

    public async Task DisposeAsync()
    {
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }
    }

    /// <summary>Empties the account: every queue, table and container the previous test made is deleted.</summary>
    public Task ResetAsync() => ResetAsync(ConnectionString);

    /// <summary>Empties the account behind <paramref name="connectionString"/>.</summary>
    public static async Task ResetAsync(string connectionString)
    {
        var queues = new QueueServiceClient(connectionString);
        await foreach (var queue in queues.GetQueuesAsync())
        {
            await queues.DeleteQueueAsync(queue.Name);
        }
        var tables = new TableServiceClient(connectionString);
        await foreach (var table in tables.QueryAsync())
        {
            await tables.DeleteTableAsync(table.Name);
        }
        var blobs = new BlobServiceClient(connectionString);
        await foreach (var container in blobs.GetBlobContainersAsync())
        {
            await blobs.DeleteBlobContainerAsync(container.Name);
        }
    }
}
