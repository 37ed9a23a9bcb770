using Azure;

namespace CalWebhookFunctions.Storage;

/// <summary>
/// Queues, tables and containers are created on first use: a call that fails because its resource does not
/// exist yet creates it and runs once more. No start-up step is needed, and a storage account that was wiped
/// heals itself.
/// </summary>
public static class MissingResource
{
    public static async Task<T> CreateAndRetryAsync<T>(Func<Task<T>> call, Func<Task> create)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (StorageAccount.IsMissingResource(ex))
        {
            await create().ConfigureAwait(false);
            return await call().ConfigureAwait(false);
        }
    }
}
