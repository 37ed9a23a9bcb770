using Azure;
using Azure.Data.Tables;
using CalWebhookFunctions.Storage;

namespace CalWebhookFunctions.Operations;

/// <summary>The filters of <c>GET /api/deliveries</c>, normalised. <see cref="Since"/> is inclusive, <see cref="Until"/> exclusive.</summary>
public sealed record DeliveryFilter(string? ConnectionId, string? Status, string? Trigger, DateTimeOffset? Since, DateTimeOffset? Until)
{
    /// <summary>What a continuation token is bound to: the list and these filters.</summary>
    public string Scope => string.Join('\n', "deliveries", ConnectionId ?? "-", Status ?? "-", Trigger ?? "-",
        Since?.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-",
        Until?.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-");
}

/// <summary>One page of the log: the items and where the next page starts (null at the end).</summary>
public sealed record DeliveryLogPage(IReadOnlyList<DeliveryLogEntry> Items, ListPosition? Next);

/// <summary>
/// Reads the delivery log. An event is found from its id alone (two calls: its summary, its attempts). A list is one range
/// query over the day partitions in [since, until] — on the summary rows, or on one connection's index rows — newest first,
/// with status and trigger filtered by the table service; it stops after <see cref="MaxCallsPerPage"/> calls however sparse
/// the matches, and then answers what it has with a continuation.
/// </summary>
public sealed class DeliveryLogReader(StorageAccount storage)
{
    /// <summary>The most table calls one list request makes.</summary>
    public const int MaxCallsPerPage = 5;

    private readonly TableClient _table = storage.Table(StorageNames.DeliveriesTable);

    /// <summary>The summary row of an event (null when the log has none, or the id is not one the log can place).</summary>
    public async Task<DeliveryLogEntry?> FindAsync(string eventId, bool withBody, CancellationToken cancellationToken)
    {
        if (!DeliveryLogKeys.TryReadV7Time(eventId, out var keyTime))
        {
            return null;
        }
        try
        {
            var row = await _table.GetEntityIfExistsAsync<DeliveryLogEntry>(DeliveryLogKeys.Partition(keyTime),
                DeliveryLogKeys.Summary(eventId, keyTime), withBody ? null : DeliveryLogEntry.ColumnsWithoutBody, cancellationToken)
                .ConfigureAwait(false);
            return row.HasValue ? row.Value : null;
        }
        catch (RequestFailedException ex) when (StorageAccount.IsMissingResource(ex))
        {
            return null;
        }
    }

    /// <summary>The attempt rows of an event, oldest first.</summary>
    public async Task<IReadOnlyList<DeliveryAttemptRow>> AttemptsAsync(DeliveryLogEntry entry, CancellationToken cancellationToken)
    {
        var prefix = DeliveryLogKeys.AttemptPrefixOf(entry.EventId);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {entry.PartitionKey} and RowKey ge {prefix} and RowKey lt {DeliveryLogKeys.After(prefix)}");
        return await _table.QueryAsync<DeliveryAttemptRow>(filter, maxPerPage: 1000, cancellationToken: cancellationToken)
            .ToListAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<DeliveryLogPage> ListAsync(DeliveryFilter filter, ListPosition? from, int limit, CancellationToken cancellationToken)
    {
        var query = Filter(filter);
        var items = new List<DeliveryLogEntry>(limit);
        var token = from is null ? null : from.RowKey is null ? from.PartitionKey : from.PartitionKey + " " + from.RowKey;
        var calls = 0;
        try
        {
            do
            {
                // Each round asks for exactly what is still missing, so a page never overshoots and its token is the resume point.
                calls++;
                var pages = _table.QueryAsync<DeliveryLogEntry>(query, maxPerPage: limit - items.Count, select: DeliveryLogEntry.ColumnsWithoutBody,
                    cancellationToken: cancellationToken).AsPages(token, limit - items.Count);
                await using var enumerator = pages.GetAsyncEnumerator(cancellationToken);
                if (!await enumerator.MoveNextAsync().ConfigureAwait(false))
                {
                    token = null;
                    break;
                }
                items.AddRange(enumerator.Current.Values);
                token = enumerator.Current.ContinuationToken;
            }
            while (token is not null && items.Count < limit && calls < MaxCallsPerPage);
        }
        catch (RequestFailedException ex) when (StorageAccount.IsMissingResource(ex))
        {
            token = null; // Nothing was ever logged.
        }
        return new DeliveryLogPage(items, PositionOf(token));
    }

    private static ListPosition? PositionOf(string? token) =>
        token?.Split(' ', 2) is { } keys ? new ListPosition(keys[0], keys.Length > 1 ? keys[1] : null) : null;

    /// <summary>
    /// The range of day partitions and of row keys (summary rows, or one connection's index rows) the filter covers, plus the
    /// status and trigger conditions.
    /// </summary>
    private static string Filter(DeliveryFilter filter)
    {
        var prefix = filter.ConnectionId is null ? DeliveryLogKeys.SummaryPrefix : DeliveryLogKeys.IndexPrefixOf(filter.ConnectionId);
        // Newest first: the newest day's partition and the newest time's row key sort lowest.
        var lowPartition = filter.Until is { } until ? DeliveryLogKeys.Partition(until) : DeliveryLogKeys.PartitionPrefix;
        var highPartition = filter.Since is { } since ? DeliveryLogKeys.Partition(since) : DeliveryLogKeys.After(DeliveryLogKeys.PartitionPrefix);
        // Received before until: an inverted time above until's; at or after since: an inverted time at most since's.
        var lowRow = filter.Until is { } before ? prefix + DeliveryLogKeys.InvertedMs(before) + "~" : prefix;
        var highRow = filter.Since is { } after ? prefix + DeliveryLogKeys.InvertedMs(after) + "~" : DeliveryLogKeys.After(prefix);
        var text = TableClient.CreateQueryFilter(
            $"PartitionKey ge {lowPartition} and PartitionKey le {highPartition} and RowKey ge {lowRow} and RowKey lt {highRow}");
        if (filter.Status is not null)
        {
            text += " and " + TableClient.CreateQueryFilter($"Status eq {filter.Status}");
        }
        if (filter.Trigger is not null)
        {
            text += " and " + TableClient.CreateQueryFilter($"Trigger eq {filter.Trigger}");
        }
        return text;
    }
}
