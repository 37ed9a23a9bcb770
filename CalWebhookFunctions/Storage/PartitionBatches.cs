using Azure;
using Azure.Data.Tables;

namespace CalWebhookFunctions.Storage;

/// <summary>
/// Group commit of the writes to one table, per partition: one writer per partition, no timer. <c>CalDeliveries</c> writes
/// through it: the delivery log's outcomes and the ledger's claims, releases and marks, which live in the same day partitions
/// (<see cref="Operations.DeliveryLogKeys"/>). An outcome joins the batch being gathered for its partition; while one batch of that partition is in flight
/// the next one gathers, and goes out as ONE entity-group transaction as soon as the one in flight is answered. With nothing
/// in flight an outcome is sent at once, alone: exactly the single transaction it always was.
/// <list type="bullet">
/// <item>A batch holds at most <see cref="MaxActions"/> actions and never two actions on the same row: an outcome that
/// touches a row of one before it (another outcome of the same event) waits for a later batch, so an event's outcomes are
/// stored in the order they were given. (Its size is bounded too: a summary's inline body is under 48 KiB, so 100
/// actions stay far below the 4 MiB a transaction may carry.)</item>
/// <item>Each caller's task completes when its own outcome is stored, with the answers to its own actions (their ETags).</item>
/// <item>When the table service refuses a batch of several outcomes (any answer that is an error: one entity it will not
/// take fails the whole transaction), each outcome is sent again as its own transaction, and each caller gets its own
/// transaction's result — one bad outcome costs only itself. When storage does not answer at all (a connection failure)
/// every caller in the batch gets that error: the others would fail the same way.</item>
/// <item>With <paramref name="bypassAfter"/> (for writes that are all conditional, whose order the service decides: the
/// ledger's), a write never waits longer than that behind a transaction in flight: one that finds the transaction in
/// flight for longer, or is still waiting when the time is up, goes out alone at once. A hung storage request then
/// delays only its own writes.</item>
/// </list>
/// </summary>
public sealed class PartitionBatches(TableClient table, TimeProvider? time = null, TimeSpan? bypassAfter = null)
{
    /// <summary>The most actions one entity-group transaction may carry.</summary>
    public const int MaxActions = 100;

    private readonly Dictionary<string, Partition> _partitions = new(StringComparer.Ordinal);

    public TableClient Table => table;

    /// <summary>How many outcomes wait for a batch of their partition to be answered (for tests).</summary>
    internal int Waiting
    {
        get
        {
            lock (_partitions)
            {
                return _partitions.Values.Sum(p => p.Gathering.Count);
            }
        }
    }

    /// <summary>
    /// Writes one outcome's actions (all in one partition, no two on one row) with the others of its partition; completes
    /// when they are stored, or fails with the error of the transaction they were in.
    /// </summary>
    public Task<IReadOnlyList<Response>> WriteAsync(IReadOnlyList<TableTransactionAction> actions)
    {
        var partitionKey = actions[0].Entity.PartitionKey;
        var outcome = new Outcome(actions);
        Partition? start = null;
        var alone = false;
        lock (_partitions)
        {
            if (!_partitions.TryGetValue(partitionKey, out var partition))
            {
                partition = new Partition();
                _partitions.Add(partitionKey, partition);
            }
            if (!partition.Writing)
            {
                partition.Gathering.Add(outcome);
                partition.Writing = true;
                partition.InFlightSince = time?.GetUtcNow() ?? default;
                start = partition;
            }
            else if (bypassAfter is { } bound && time!.GetUtcNow() - partition.InFlightSince >= bound)
            {
                alone = true; // the transaction in flight looks hung: do not wait behind it
            }
            else
            {
                partition.Gathering.Add(outcome);
                if (bypassAfter is { } wait)
                {
                    outcome.Bypass = time!.CreateTimer(_ => Withdraw(partition, outcome), null, wait, Timeout.InfiniteTimeSpan);
                }
            }
        }
        if (start is not null)
        {
            // Runs on the caller's thread up to the request: an outcome alone goes out at once.
            _ = WriteAllAsync(partitionKey, start);
        }
        else if (alone)
        {
            _ = SubmitAsync([outcome]);
        }
        return outcome.Stored.Task;
    }

    /// <summary>An outcome still gathering when its wait is up goes out alone.</summary>
    private void Withdraw(Partition partition, Outcome outcome)
    {
        lock (_partitions)
        {
            if (!partition.Gathering.Remove(outcome))
            {
                return; // already taken into a batch
            }
        }
        outcome.Bypass?.Dispose();
        _ = SubmitAsync([outcome]);
    }

    /// <summary>The partition's writer: one batch at a time until nothing is gathering.</summary>
    private async Task WriteAllAsync(string partitionKey, Partition partition)
    {
        while (Take(partitionKey, partition) is { } batch)
        {
            await SubmitAsync(batch).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The next batch, in the order the outcomes came: each that fits and touches no row of an outcome looked at before it
    /// (taken or left). Null, and the partition forgotten, when nothing is gathering.
    /// </summary>
    private List<Outcome>? Take(string partitionKey, Partition partition)
    {
        lock (_partitions)
        {
            if (partition.Gathering.Count == 0)
            {
                partition.Writing = false;
                _partitions.Remove(partitionKey);
                return null;
            }
            partition.InFlightSince = time?.GetUtcNow() ?? default;
            var batch = new List<Outcome>();
            var left = new List<Outcome>();
            var rows = new HashSet<string>(StringComparer.Ordinal);
            var actions = 0;
            foreach (var outcome in partition.Gathering)
            {
                var free = true;
                foreach (var action in outcome.Actions)
                {
                    free &= rows.Add(action.Entity.RowKey);
                }
                if (free && actions + outcome.Actions.Count <= MaxActions)
                {
                    outcome.Bypass?.Dispose();
                    batch.Add(outcome);
                    actions += outcome.Actions.Count;
                }
                else
                {
                    left.Add(outcome);
                }
            }
            partition.Gathering = left;
            return batch;
        }
    }

    private async Task SubmitAsync(List<Outcome> batch)
    {
        try
        {
            var answers = (await TransactAsync(batch.Count == 1 ? batch[0].Actions : [.. batch.SelectMany(o => o.Actions)])
                .ConfigureAwait(false)).Value;
            var first = 0;
            foreach (var outcome in batch)
            {
                outcome.Stored.TrySetResult([.. answers.Skip(first).Take(outcome.Actions.Count)]);
                first += outcome.Actions.Count;
            }
        }
        catch (RequestFailedException ex) when (batch.Count > 1 && ex.Status != 0)
        {
            // The service answered and refused the batch (status 0 is no answer): each outcome on its own, so only one it
            // refuses fails.
            await Task.WhenAll(batch.Select(outcome => SubmitAsync([outcome]))).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            foreach (var outcome in batch)
            {
                outcome.Stored.TrySetException(ex);
            }
        }
    }

    /// <summary>One entity-group transaction; the table is created when it is missing (a wiped account heals itself).</summary>
    private Task<Response<IReadOnlyList<Response>>> TransactAsync(IReadOnlyList<TableTransactionAction> actions) =>
        MissingResource.CreateAndRetryAsync(
            () => table.SubmitTransactionAsync(actions, CancellationToken.None),
            () => table.CreateIfNotExistsAsync(CancellationToken.None));

    private sealed class Outcome(IReadOnlyList<TableTransactionAction> actions)
    {
        public IReadOnlyList<TableTransactionAction> Actions { get; } = actions;

        public TaskCompletionSource<IReadOnlyList<Response>> Stored { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The timer that sends it alone when it waits too long (with a bypass bound).</summary>
        public ITimer? Bypass { get; set; }
    }

    private sealed class Partition
    {
        /// <summary>The outcomes waiting for the next batch, in the order they came.</summary>
        public List<Outcome> Gathering { get; set; } = [];

        /// <summary>Whether the partition's writer runs (a batch of it is in flight or about to be).</summary>
        public bool Writing { get; set; }

        /// <summary>When the batch in flight was sent.</summary>
        public DateTimeOffset InFlightSince { get; set; }
    }
}
