using System.Globalization;
using Azure.Data.Tables;
using CalWebhookFunctions.Configuration;
using CalWebhookFunctions.Storage;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Operations.Rejections;

/// <summary>
/// Refused requests in <c>CalDeliveries</c>: partition <c>rej_</c> + the inverted day (so newer days sort first), row key
/// the inverted time in ticks (newest first within a day) + <c>_</c> + instance and sequence for a sample, or + <c>_s_</c> +
/// instance and reason for a minute's summary. A flush writes one batch transaction per day partition (up to 100 rows),
/// so however much is refused, an instance writes at most <see cref="RejectionRecorder.SamplesPerMinute"/> samples and one
/// summary per reason per minute. Rows carry <c>ExpiresAt</c> and whole old days are swept after
/// <c>Deliveries__RetentionDays</c>.
/// </summary>
public sealed class RejectionStore(StorageAccount storage, RejectionRecorder recorder, IOptions<DeliveriesOptions> deliveries, TimeProvider time) : IDisposable
{
    public const string PartitionPrefix = "rej_";

    /// <summary>The first key after every <c>rej_</c> partition (<c>`</c> follows <c>_</c>).</summary>
    private const string PartitionEnd = "rej`";

    private readonly TableClient _table = storage.Table(StorageNames.DeliveriesTable);
    private readonly SemaphoreSlim _flushing = new(1, 1);

    public void Dispose() => _flushing.Dispose();
    private long _sequence;

    public TableClient Table => _table;

    /// <summary>Writes what the recorder holds unwritten; returns the number of storage calls made.</summary>
    public async Task<int> FlushAsync(CancellationToken cancellationToken)
    {
        await _flushing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var pending = recorder.TakePending();
            if (pending.IsEmpty)
            {
                return 0;
            }
            var expires = deliveries.Value.Retention;
            var rows = pending.Samples.Select(s => new TableEntity(PartitionKeyOf(s.At),
                    $"{Inverted(s.At)}_{Stats.StatsCollector.InstanceId}_{Interlocked.Increment(ref _sequence):D10}")
                {
                    ["Kind"] = "sample", ["At"] = s.At, ["Reason"] = s.Reason, ["ConnectionId"] = s.ConnectionId,
                    ["BodyBytes"] = s.BodyBytes, ["ContentType"] = s.ContentType, ["Count"] = 1L, ["ExpiresAt"] = s.At + expires,
                })
                .Concat(pending.Summaries.Select(s => new TableEntity(PartitionKeyOf(s.Minute),
                    $"{Inverted(s.Minute)}_s_{Stats.StatsCollector.InstanceId}_{s.Reason}")
                {
                    ["Kind"] = "summary", ["At"] = s.Minute, ["Reason"] = s.Reason, ["Count"] = s.NotSampled, ["ExpiresAt"] = s.Minute + expires,
                }));
            var calls = 0;
            foreach (var partition in rows.GroupBy(r => r.PartitionKey))
            {
                foreach (var chunk in partition.Chunk(100))
                {
                    var actions = chunk.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r)).ToList();
                    await MissingResource.CreateAndRetryAsync(
                        () => _table.SubmitTransactionAsync(actions, CancellationToken.None),
                        () => _table.CreateIfNotExistsAsync(CancellationToken.None)).ConfigureAwait(false);
                    calls++;
                }
            }
            recorder.Written(pending);
            return calls;
        }
        finally
        {
            _flushing.Release();
        }
    }

    /// <summary>One page, newest first, from <paramref name="after"/> (exclusive), of rows at or after <paramref name="since"/>.</summary>
    public async Task<(IReadOnlyList<TableEntity> Rows, ListPosition? Next)> ListAsync(DateTimeOffset? since, ListPosition? after, int limit,
        CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey ge {PartitionPrefix} and PartitionKey lt {PartitionEnd}");
        if (since is { } from)
        {
            filter += " and " + TableClient.CreateQueryFilter($"PartitionKey le {PartitionKeyOf(from)} and RowKey le {Inverted(from) + "~"}");
        }
        if (after is { PartitionKey: { } p, RowKey: { } r })
        {
            filter += " and " + TableClient.CreateQueryFilter($"(PartitionKey gt {p} or (PartitionKey eq {p} and RowKey gt {r}))");
        }
        return await TablePage.ReadAsync(_table.QueryAsync<TableEntity>(filter, maxPerPage: limit + 1, cancellationToken: cancellationToken), limit,
            last => new ListPosition(last.PartitionKey, last.RowKey)).ConfigureAwait(false);
    }

    /// <summary>Deletes up to <paramref name="max"/> rows of days past the retention.</summary>
    public Task<int> SweepAsync(int max, CancellationToken cancellationToken)
    {
        var cutoff = PartitionKeyOf(time.GetUtcNow() - deliveries.Value.Retention - TimeSpan.FromDays(1));
        var filter = TableClient.CreateQueryFilter($"PartitionKey ge {cutoff} and PartitionKey lt {PartitionEnd}");
        return TableSweep.DeleteAsync(_table, filter, max, cancellationToken);
    }

    public static string PartitionKeyOf(DateTimeOffset at) =>
        PartitionPrefix + (DateOnly.MaxValue.DayNumber - DateOnly.FromDateTime(at.UtcDateTime).DayNumber).ToString("D7", CultureInfo.InvariantCulture);

    private static string Inverted(DateTimeOffset at) => (DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks).ToString("D19", CultureInfo.InvariantCulture);
}
