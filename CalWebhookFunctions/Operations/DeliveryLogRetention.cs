using System.Globalization;
using Azure;
using Azure.Data.Tables;
using CalWebhookFunctions.Configuration;
using CalWebhookFunctions.Storage;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Operations;

/// <summary>What one retention run removed, and the storage calls it made.</summary>
public sealed record RetentionRun(int Rows, int Blobs, int Calls, bool More);

/// <summary>
/// <c>Deliveries__RetentionDays</c> for the delivery log and the payload blobs: drops whole day partitions older than the
/// retention (a page of their keys, then entity-group deletes of up to 100 rows each), and the blobs of
/// <c>cal-webhook-payloads</c> under those days (blob names start with the received day). Each run makes at most
/// <c>maxCalls</c> storage calls whatever is stored, and says when more is left for the next run.
/// </summary>
public sealed class DeliveryLogRetention(StorageAccount storage, IOptions<DeliveriesOptions> options, TimeProvider time)
{
    private const int BatchSize = 100;
    private const int PageSize = 1000;

    private readonly TableClient _table = storage.Table(StorageNames.DeliveriesTable);

    /// <summary>The first instant still kept: the start of the oldest day inside the retention.</summary>
    public DateTimeOffset KeptFrom
    {
        get
        {
            var cutoff = time.GetUtcNow() - options.Value.Retention;
            return new DateTimeOffset(cutoff.UtcDateTime.Date, TimeSpan.Zero);
        }
    }

    public async Task<RetentionRun> SweepAsync(int maxCalls, CancellationToken cancellationToken)
    {
        var calls = 0;
        var rows = 0;
        var more = false;
        // Partitions of days before KeptFrom: inverted days above the kept day's.
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey gt {DeliveryLogKeys.Partition(KeptFrom)} and PartitionKey lt {DeliveryLogKeys.After(DeliveryLogKeys.PartitionPrefix)}");
        try
        {
            while (calls < maxCalls)
            {
                var (page, pageCalls) = await FirstPageAsync(filter, maxCalls - calls, cancellationToken).ConfigureAwait(false);
                calls += pageCalls;
                if (page.Count == 0)
                {
                    break;
                }
                foreach (var partition in page.GroupBy(r => r.PartitionKey))
                {
                    foreach (var batch in partition.Chunk(BatchSize))
                    {
                        if (calls >= maxCalls)
                        {
                            return new RetentionRun(rows, 0, calls, More: true);
                        }
                        calls++;
                        await DeleteAsync(batch, cancellationToken).ConfigureAwait(false);
                        rows += batch.Length;
                    }
                }
                more = page.Count == PageSize;
            }
        }
        catch (RequestFailedException ex) when (StorageAccount.IsMissingResource(ex))
        {
            // Nothing was ever logged.
        }
        var left = Math.Max(0, maxCalls - calls);
        var blobs = await SweepBlobsAsync(left, cancellationToken).ConfigureAwait(false);
        return new RetentionRun(rows, blobs.Deleted, calls + blobs.Calls, more || blobs.More || calls >= maxCalls);
    }

    /// <summary>The first non-empty page of expired keys (the service may answer empty pages first), within <paramref name="maxCalls"/>.</summary>
    private async Task<(List<TableEntity> Rows, int Calls)> FirstPageAsync(string filter, int maxCalls, CancellationToken cancellationToken)
    {
        var calls = 0;
        await foreach (var page in _table.QueryAsync<TableEntity>(filter, PageSize, ["PartitionKey", "RowKey"], cancellationToken)
                           .AsPages(pageSizeHint: PageSize).ConfigureAwait(false))
        {
            calls++;
            if (page.Values.Count > 0 || page.ContinuationToken is null || calls >= maxCalls)
            {
                return ([.. page.Values], calls);
            }
        }
        return ([], calls);
    }

    private async Task DeleteAsync(TableEntity[] batch, CancellationToken cancellationToken)
    {
        try
        {
            await _table.SubmitTransactionAsync(batch.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, r, ETag.All)),
                cancellationToken).ConfigureAwait(false);
        }
        catch (TableTransactionFailedException ex) when (ex.Status == 404)
        {
            // Another instance removed a row of the batch first: the rest goes one by one.
            foreach (var row in batch)
            {
                await _table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<(int Deleted, int Calls, bool More)> SweepBlobsAsync(int maxCalls, CancellationToken cancellationToken)
    {
        var container = storage.Container(StorageNames.PayloadContainer);
        // Blob names are yyyy/MM/dd/<event id>: in name order, the oldest day first.
        var keptFrom = KeptFrom.UtcDateTime.ToString("yyyy/MM/dd", CultureInfo.InvariantCulture);
        int deleted = 0, calls = 0;
        try
        {
            while (calls < maxCalls)
            {
                calls++;
                var expired = new List<string>();
                await foreach (var page in container.GetBlobsAsync(cancellationToken: cancellationToken).AsPages(pageSizeHint: PageSize)
                                   .ConfigureAwait(false))
                {
                    expired.AddRange(page.Values.Select(b => b.Name).TakeWhile(n => string.CompareOrdinal(n, keptFrom) < 0));
                    break;
                }
                if (expired.Count == 0)
                {
                    return (deleted, calls, false);
                }
                foreach (var name in expired)
                {
                    if (calls >= maxCalls)
                    {
                        return (deleted, calls, true);
                    }
                    calls++;
                    await container.DeleteBlobIfExistsAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false);
                    deleted++;
                }
            }
        }
        catch (RequestFailedException ex) when (StorageAccount.IsMissingResource(ex))
        {
            // No payload was ever stored in a blob.
        }
        return (deleted, calls, calls >= maxCalls);
    }
}
