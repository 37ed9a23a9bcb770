using System.Runtime.InteropServices;
using Azure;
using Azure.Data.Tables;

namespace CalWebhookFunctions.Storage;

/// <summary>
/// Group commit of the writes to one table, per partition, one writer per partition. <c>CalDeliveries</c> writes through it:
/// the delivery log's outcomes and the ledger's claims, releases and marks share its day partitions
/// (<see cref="Operations.DeliveryLogKeys"/>). With nothing of its partition in flight an outcome goes at once, alone; while
/// one transaction is in flight the next gathers, and goes as ONE entity-group transaction when the first is answered.
/// <list type="bullet">
/// <item>A batch holds at most <see cref="MaxActions"/> actions (a summary's inline body is under 48 KiB: far below the
/// 4 MiB limit) and never two on one row: an outcome touching a row of one before it waits for a later batch, so an
/// event's outcomes are stored in the order given.</item>
/// <item>Each caller's task completes when its own outcome is stored, with the answers to its own actions (their ETags).
/// A batch the service refuses is sent again outcome by outcome, so one bad outcome costs only itself; a batch storage
/// did not answer fails for every caller in it.</item>
/// <item>With <paramref name="bypassAfter"/> (for writes whose order the service decides: the ledger's) a write never waits
/// longer than that behind a transaction in flight, so a hung request delays only its own writes.</item>
/// <item>A riding write (<c>rideWithin</c>: one nobody waits for) starts no transaction: it joins the next one of its
/// partition, or goes when its time is up (the ledger's delivered marks and log entries: many in one transaction).</item>
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
        get { lock (_partitions) { return _partitions.Values.Sum(p => p.Gathering.Count); } }
    }

    /// <summary>
    /// Writes one outcome's actions (all in one partition, no two on one row) with the others of its partition; completes
    /// when they are stored, or fails with the error of the transaction they were in.
    /// With <paramref name="rideWithin"/> (writes nobody waits for: the delivered mark and its log entry) the outcome starts
    /// no transaction of its own: it rides with the next one of its partition, and goes at the latest when that time is up.
    /// </summary>
    public Task<IReadOnlyList<Response>> WriteAsync(IReadOnlyList<TableTransactionAction> actions, TimeSpan? rideWithin = null)
    {
        var partitionKey = actions[0].Entity.PartitionKey;
        var outcome = new Outcome(actions);
        Partition partition;
        lock (_partitions)
        {
            partition = CollectionsMarshal.GetValueRefOrAddDefault(_partitions, partitionKey, out _) ??= new Partition();
            partition.Gathering.Add(outcome);
            if (rideWithin is { } within)
            {
                outcome.Riding = true;
                outcome.Timer = Clock.CreateTimer(_ => Go(partitionKey, partition, outcome), null, within, Timeout.InfiniteTimeSpan);
                return outcome.Stored.Task;
            }
        }
        Go(partitionKey, partition, outcome);
        return outcome.Stored.Task;
    }

    /// <summary>Sends every riding outcome now (before the worker stops, or when a caller waits for them).</summary>
    public void SendRiders()
    {
        List<(string Key, Partition Partition, Outcome Outcome)> riders;
        lock (_partitions)
        {
            riders = [.. _partitions.SelectMany(p => p.Value.Gathering.Where(o => o.Riding).Select(o => (p.Key, p.Value, o)))];
        }
        foreach (var (key, partition, outcome) in riders)
        {
            Go(key, partition, outcome);
        }
    }

    private TimeProvider Clock => time ?? throw new InvalidOperationException("A riding write or a bypass bound needs a TimeProvider.");

    /// <summary>
    /// An outcome gathering for its partition stops riding and is sent: it starts the writer when none runs; else it waits
    /// for the next batch — or, with a bypass bound, goes alone when the transaction in flight is older than the bound, or
    /// when it is still waiting once the bound is up.
    /// </summary>
    private void Go(string partitionKey, Partition partition, Outcome outcome)
    {
        bool start, alone = false;
        lock (_partitions)
        {
            if (!partition.Gathering.Contains(outcome))
            {
                return; // already taken into a batch (or withdrawn)
            }
            outcome.Riding = false;
            outcome.Timer?.Dispose();
            start = !partition.Writing;
            partition.Writing = true;
            if (start)
            {
                partition.InFlightSince = time?.GetUtcNow() ?? default;
            }
            else if (bypassAfter is { } bound)
            {
                // A transaction in flight for longer looks hung: do not wait behind it; else wait at most the bound.
                alone = Clock.GetUtcNow() - partition.InFlightSince >= bound;
                outcome.Timer = alone ? null : Clock.CreateTimer(_ => Withdraw(partition, outcome), null, bound, Timeout.InfiniteTimeSpan);
            }
        }
        if (start)
        {
            _ = WriteAllAsync(partitionKey, partition); // on the caller's thread up to the request: an outcome alone goes out at once
        }
        else if (alone)
        {
            Withdraw(partition, outcome);
        }
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
        outcome.Timer?.Dispose();
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
            if (!partition.Gathering.Exists(o => !o.Riding)) // nothing, or only riders: they wait for the next write, or their time
            {
                partition.Writing = false;
                if (partition.Gathering.Count == 0)
                {
                    _partitions.Remove(partitionKey);
                }
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
                    outcome.Timer?.Dispose();
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
            var answers = await TransactAsync(batch.Count == 1 ? batch[0].Actions : [.. batch.SelectMany(o => o.Actions)])
                .ConfigureAwait(false);
            var first = 0;
            foreach (var outcome in batch)
            {
                outcome.Stored.TrySetResult([.. answers.Skip(first).Take(outcome.Actions.Count)]);
                first += outcome.Actions.Count;
            }
        }
        catch (RequestFailedException ex) when (batch.Count > 1 && ex.Status != 0)
        {
            // The service answered (status 0 is no answer) and refused the batch: each outcome on its own, so only a bad one fails.
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

    /// <summary>
    /// One entity-group transaction, or for a single action the plain request it amounts to (Azurite parses a transaction's
    /// multipart body at about twice a plain write's cost). The table is created when missing (a wiped account heals itself).
    /// </summary>
    private Task<IReadOnlyList<Response>> TransactAsync(IReadOnlyList<TableTransactionAction> actions) =>
        MissingResource.CreateAndRetryAsync<IReadOnlyList<Response>>(
            async () => actions is [var one] ? [await table.SendAsync(one).ConfigureAwait(false)]
                : (await table.SubmitTransactionAsync(actions, CancellationToken.None).ConfigureAwait(false)).Value,
            () => table.CreateIfNotExistsAsync(CancellationToken.None));

    private sealed class Outcome(IReadOnlyList<TableTransactionAction> actions)
    {
        public IReadOnlyList<TableTransactionAction> Actions { get; } = actions;
        public TaskCompletionSource<IReadOnlyList<Response>> Stored { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The end of its ride, or (with a bypass bound) the end of its wait behind a transaction in flight.</summary>
        public ITimer? Timer { get; set; }

        /// <summary>Whether it waits for another outcome's transaction to ride with (<c>rideWithin</c>).</summary>
        public bool Riding { get; set; }
    }

    private sealed class Partition
    {
        /// <summary>The outcomes waiting for the next batch, in the order they came.</summary>
        public List<Outcome> Gathering { get; set; } = [];

        /// <summary>Whether its writer runs (a batch in flight or about to be), and since when that batch is in flight.</summary>
        public bool Writing { get; set; }
        public DateTimeOffset InFlightSince { get; set; }
    }
}
