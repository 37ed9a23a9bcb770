using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using CalWebhookFunctions.Configuration;
using CalWebhookFunctions.Storage;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Operations.Stats;

/// <summary>
/// Hourly counts in <c>CalDeliveries</c>, partition <see cref="PartitionKey"/>, row key <c>yyyyMMddHH_&lt;instance&gt;</c>:
/// one row per instance per hour with that instance's cumulative counts (<c>Counts</c>, JSON) and latency histogram
/// (<c>Latency</c>). Reading the last 24 hours reads at most <see cref="MaxRowsRead"/> rows of one partition.
/// </summary>
public sealed class StatsStore(StorageAccount storage, StatsCollector collector, IOptions<DeliveriesOptions> deliveries, TimeProvider time) : IDisposable
{
    public const string PartitionKey = "stats";

    /// <summary>Rows one read takes at most: 24 hours of 80 instances each.</summary>
    public const int MaxRowsRead = 2000;

    private readonly TableClient _table = storage.Table(StorageNames.DeliveriesTable);
    private readonly SemaphoreSlim _flushing = new(1, 1);

    public void Dispose() => _flushing.Dispose();

    /// <summary>Writes every hour with unwritten counts (one upsert each, usually just the current hour).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _flushing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var dirty = collector.TakeDirty();
            var written = new List<DateTimeOffset>();
            try
            {
                foreach (var hour in dirty)
                {
                    var row = new TableEntity(PartitionKey, RowKey(hour.Hour, StatsCollector.InstanceId))
                    {
                        ["Counts"] = JsonSerializer.Serialize(hour.Counts, OperationsJson.Default.IReadOnlyDictionaryStringInt64),
                        ["Latency"] = LatencyBuckets.Write(hour.Latency),
                        ["ExpiresAt"] = hour.Hour + deliveries.Value.Retention + TimeSpan.FromHours(1),
                    };
                    await MissingResource.CreateAndRetryAsync(
                        () => _table.UpsertEntityAsync(row, TableUpdateMode.Replace, CancellationToken.None),
                        () => _table.CreateIfNotExistsAsync(CancellationToken.None)).ConfigureAwait(false);
                    written.Add(hour.Hour);
                }
            }
            catch
            {
                collector.Unwritten(dirty.Select(d => d.Hour).Except(written));
                throw;
            }
            collector.Forget(written);
        }
        finally
        {
            _flushing.Release();
        }
    }

    /// <summary>The counts of every instance since <paramref name="since"/> (whole hours), merged.</summary>
    public async Task<MergedStats> ReadAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var byHour = new Dictionary<DateTimeOffset, Dictionary<string, long>>();
        var latency = new long[LatencyBuckets.Count];
        var from = StatsCollector.Hour(since).ToString("yyyyMMddHH", CultureInfo.InvariantCulture);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {PartitionKey} and RowKey ge {from}");
        var rows = 0;
        try
        {
            await foreach (var row in _table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, select: ["RowKey", "Counts", "Latency"], cancellationToken: cancellationToken)
                               .ConfigureAwait(false))
            {
                if (++rows > MaxRowsRead)
                {
                    break;
                }
                if (row.GetString("Counts") is { } json
                    && JsonSerializer.Deserialize(json, OperationsJson.Default.IReadOnlyDictionaryStringInt64) is { } hourCounts)
                {
                    var hour = HourOf(row.RowKey);
                    var ofHour = hour is null ? null : byHour.TryGetValue(hour.Value, out var known) ? known : byHour[hour.Value] = new(StringComparer.Ordinal);
                    foreach (var (name, count) in hourCounts)
                    {
                        counts[name] = counts.GetValueOrDefault(name) + count;
                        if (ofHour is not null && name.StartsWith("status:", StringComparison.Ordinal))
                        {
                            ofHour[name] = ofHour.GetValueOrDefault(name) + count;
                        }
                    }
                }
                var buckets = LatencyBuckets.Read(row.GetString("Latency"));
                for (var i = 0; i < buckets.Length; i++)
                {
                    latency[i] += buckets[i];
                }
            }
        }
        catch (RequestFailedException ex) when (StorageAccount.IsMissingResource(ex))
        {
            // Nothing counted yet.
        }
        return new MergedStats(counts, latency, byHour.ToDictionary(h => h.Key, h => (IReadOnlyDictionary<string, long>)h.Value));
    }

    /// <summary>Deletes up to <paramref name="max"/> hourly rows older than the retention.</summary>
    public async Task<int> SweepAsync(int max, CancellationToken cancellationToken)
    {
        var cutoff = StatsCollector.Hour(time.GetUtcNow() - deliveries.Value.Retention).ToString("yyyyMMddHH", CultureInfo.InvariantCulture);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {PartitionKey} and RowKey lt {cutoff}");
        return await TableSweep.DeleteAsync(_table, filter, max, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The hour a row key names, or null when it names none.</summary>
    public static DateTimeOffset? HourOf(string rowKey) =>
        rowKey.Length >= 10 && DateTimeOffset.TryParseExact(rowKey[..10], "yyyyMMddHH", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var hour) ? hour : null;

    public static string RowKey(DateTimeOffset hour, string instance) =>
        hour.ToString("yyyyMMddHH", CultureInfo.InvariantCulture) + "_" + instance;
}

/// <summary>Counts of many rows added up.</summary>
public sealed record MergedStats(IReadOnlyDictionary<string, long> Counts, long[] Latency,
    IReadOnlyDictionary<DateTimeOffset, IReadOnlyDictionary<string, long>> StatusByHour)
{
    public long Get(string name) => Counts.GetValueOrDefault(name);

    /// <summary>A <c>status:</c> count of one hour (0 when nothing was counted then).</summary>
    public long Get(DateTimeOffset hour, string name) =>
        StatusByHour.TryGetValue(hour, out var counts) ? counts.GetValueOrDefault(name) : 0;

    /// <summary>The names of one kind (<c>trigger</c>, <c>refused</c>, …) with their counts, without the prefix.</summary>
    public SortedDictionary<string, long> Of(string kind) =>
        new(Counts.Where(c => c.Key.StartsWith(kind + ":", StringComparison.Ordinal)).ToDictionary(c => c.Key[(kind.Length + 1)..], c => c.Value),
            StringComparer.Ordinal);
}
