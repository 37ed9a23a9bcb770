using CalWebhookFunctions.Storage;

namespace CalWebhookFunctions.Health;

/// <summary>Whether the storage account answers: one cheap read each of the queue, table and blob services.</summary>
public sealed class StorageHealth(StorageAccount storage)
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public async Task<bool> IsHealthyAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            await Task.WhenAll(
                storage.Queue(StorageNames.WebhookQueue).ExistsAsync(timeout.Token),
                storage.Table(StorageNames.ConnectionsTable).GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>(
                    "health", "probe", cancellationToken: timeout.Token),
                storage.Container(StorageNames.PayloadContainer).ExistsAsync(timeout.Token)).ConfigureAwait(false);
            return true;
        }
        catch (Azure.RequestFailedException ex) when (StorageAccount.IsMissingResource(ex))
        {
            // The service answered; the table just has not been created yet.
            return true;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
