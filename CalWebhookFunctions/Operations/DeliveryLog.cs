using Azure;
using Azure.Data.Tables;
using CalWebhookFunctions.Storage;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Operations;

/// <summary>
/// What one outcome of an event writes to the log: its new status and, when something was sent, the attempt.
/// <paramref name="Attempts"/> counts every attempt the event has had (redeliveries and replays included).
/// </summary>
public sealed record LoggedOutcome(
    string Status,
    int Attempts,
    bool Matched,
    Uri? Target,
    int? LastStatus = null,
    string? LastError = null,
    DateTimeOffset? NextAttemptAt = null,
    DateTimeOffset? DeliveredAt = null,
    string? DeadLetterReason = null,
    LoggedAttempt? Attempt = null);

/// <summary>One HTTP attempt as the log keeps it.</summary>
public sealed record LoggedAttempt(int Number, DateTimeOffset At, int? Status, long DurationMs, string? Error, string? Response);

/// <summary>
/// Writes the delivery log (<see cref="DeliveryLogKeys"/>): each outcome is the summary row, the connection index row and
/// the attempt row in the event's day partition, each replaced whole, no read first, and goes out in an entity-group
/// transaction — its own when nothing else of its partition is being written, else shared with the outcomes that came while
/// one was in flight (<see cref="PartitionBatches"/>). The summary carries what the event was received with (headers, and
/// an inline body; a larger body stays in its blob). <see cref="MarkPendingAsync"/> (conditional) is never batched.
/// </summary>
public sealed partial class DeliveryLog(StorageAccount storage, TimeProvider time, ILogger<DeliveryLog> logger)
{
    /// <summary>The log's own group commit (the ledger has another: its small rows need not wait behind the log's).</summary>
    private readonly PartitionBatches _batches = new(storage.Table(StorageNames.DeliveriesTable));

    /// <summary>The group commit the outcomes go through (for tests: how many wait for a batch).</summary>
    internal PartitionBatches Batches => _batches;

    public TableClient Table => _batches.Table;

    /// <summary>
    /// Writes the outcome (with the others of its partition in flight, <see cref="PartitionBatches"/>); completes when it
    /// is stored, throws when storage fails it. Cancelling stops the wait, not the write. With <paramref name="via"/> (the
    /// ledger's riders, for a delivered outcome) the rows go through it instead.
    /// </summary>
    public async Task RecordAsync(QueuedWebhook message, string? webhookId, LoggedOutcome outcome, byte[]? body, CancellationToken cancellationToken,
        Func<IReadOnlyList<TableTransactionAction>, Task>? via = null)
    {
        var actions = OutcomeWrites(message, webhookId, outcome, body);
        cancellationToken.ThrowIfCancellationRequested();
        await (via?.Invoke(actions) ?? _batches.WriteAsync(actions)).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The rows an outcome writes, all in the event's day partition: summary, connection index, and the attempt if any.</summary>
    private List<TableTransactionAction> OutcomeWrites(QueuedWebhook message, string? webhookId, LoggedOutcome outcome, byte[]? body)
    {
        var summary = Summary(message, webhookId, outcome, body);
        var actions = Writes(summary, TableTransactionActionType.UpsertReplace);
        if (outcome.Attempt is { } attempt)
        {
            actions.Add(new(TableTransactionActionType.UpsertReplace, new DeliveryAttemptRow
            {
                PartitionKey = summary.PartitionKey,
                RowKey = DeliveryLogKeys.Attempt(message.EventId, attempt.At, attempt.Number),
                EventId = message.EventId,
                Attempt = attempt.Number,
                At = attempt.At,
                Status = attempt.Status,
                DurationMs = attempt.DurationMs,
                Error = attempt.Error,
                Response = attempt.Response,
            }));
        }
        return actions;
    }

    /// <summary>
    /// Writes the outcome; a storage failure is logged and swallowed: the log is the operator's view, and must never cost an
    /// event its delivery (the event's own records — claim, mark, queue messages — are written apart).
    /// </summary>
    public async Task TryRecordAsync(QueuedWebhook message, string? webhookId, LoggedOutcome outcome, byte[]? body,
        Func<IReadOnlyList<TableTransactionAction>, Task>? via = null)
    {
        try
        {
            await RecordAsync(message, webhookId, outcome, body, CancellationToken.None, via).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RequestFailedException or TableTransactionFailedException || StorageAccount.IsUnavailable(ex))
        {
            Log.NotWritten(logger, ex, message.EventId, outcome.Status);
        }
    }

    /// <summary>
    /// Marks an event <c>pending</c> again after it was re-enqueued (redeliver, replay) — only if its log rows are still as
    /// <paramref name="read"/> (read before the enqueue): when the forwarder has written a newer outcome in between, that
    /// one stands. False when it was not written for that reason.
    /// </summary>
    public async Task<bool> MarkPendingAsync(DeliveryLogEntry read, CancellationToken cancellationToken)
    {
        var summary = read.CopyAs(read.RowKey, withBody: true);
        summary.Status = DeliveryStatus.Pending;
        summary.NextAttemptAt = null;
        summary.UpdatedAt = time.GetUtcNow();
        try
        {
            await Table.SubmitTransactionAsync(Writes(summary, TableTransactionActionType.UpdateReplace, read.ETag), cancellationToken)
                .ConfigureAwait(false);
            return true;
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 412 or 404)
        {
            return false;
        }
    }

    /// <summary>
    /// <see cref="MarkPendingAsync"/> for an event just re-enqueued (redeliver, replay), if it has an entry; a storage failure
    /// is swallowed: the event is queued, and its next outcome brings the log up to date.
    /// </summary>
    public async Task TryMarkPendingAsync(DeliveryLogEntry? read)
    {
        if (read is null)
        {
            return;
        }
        try
        {
            await MarkPendingAsync(read, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RequestFailedException || StorageAccount.IsUnavailable(ex))
        {
            // The entry stays as it was until the event's next outcome.
        }
    }

    /// <summary>The summary's write (<paramref name="type"/>), and the connection index row's (a copy without the body) when it has a connection.</summary>
    private static List<TableTransactionAction> Writes(DeliveryLogEntry summary, TableTransactionActionType type, ETag etag = default)
    {
        var actions = new List<TableTransactionAction> { new(type, summary, etag) };
        if (summary.ConnectionId is not null)
        {
            var keyTime = DeliveryLogKeys.KeyTime(summary.EventId, summary.ReceivedAt);
            var index = summary.CopyAs(DeliveryLogKeys.Index(summary.ConnectionId, summary.EventId, keyTime), withBody: false);
            actions.Add(new(TableTransactionActionType.UpsertReplace, index));
        }
        return actions;
    }

    /// <summary>
    /// The copy a replay of a dead letter enqueues: a fresh schedule, whose attempts the log numbers on from the event's
    /// earlier ones. (For ReplayDeadLetters: enqueue this, then <see cref="TryMarkPendingAsync"/> with the entry read before.)
    /// </summary>
    public static QueuedWebhook FreshSchedule(QueuedWebhook deadLetter) => deadLetter with
    {
        PriorAttempts = deadLetter.PriorAttempts + deadLetter.Attempts,
        Attempts = 0,
        StorageRetries = 0,
        DeadLetter = null,
        RedeliverAfter = null,
    };

    /// <summary>The summary row of an event: its keys, its state after <paramref name="outcome"/>, and its received metadata.</summary>
    private DeliveryLogEntry Summary(QueuedWebhook message, string? webhookId, LoggedOutcome outcome, byte[]? body)
    {
        var keyTime = KeyTime(message);
        var (trigger, bookingUid, _) = body is null ? default : CalBody.Read(body);
        return new DeliveryLogEntry
        {
            PartitionKey = DeliveryLogKeys.Partition(keyTime),
            RowKey = DeliveryLogKeys.Summary(message.EventId, keyTime),
            EventId = message.EventId,
            ReceivedAt = message.ReceivedAt,
            ConnectionId = message.ConnectionId,
            Matched = outcome.Matched,
            Trigger = trigger,
            BookingUid = bookingUid,
            WebhookId = webhookId ?? "",
            Status = outcome.Status,
            Attempts = outcome.Attempts,
            LastStatus = outcome.LastStatus,
            LastError = outcome.LastError,
            NextAttemptAt = outcome.NextAttemptAt,
            DeliveredAt = outcome.DeliveredAt,
            DeadLetterReason = outcome.DeadLetterReason,
            Target = outcome.Target is { } target ? TargetOf(target) : null,
            UpdatedAt = time.GetUtcNow(),
            ContentType = Header(message, KeptHeaders.ContentType),
            CalSignature = Header(message, KeptHeaders.CalSignature),
            CalWebhookVersion = Header(message, KeptHeaders.CalWebhookVersion),
            BodyLength = message.BodyLength,
            Body = message.Body,
            BodyBlob = message.BodyBlob,
        };
    }

    /// <summary>Origin and path only: a query (tokens) or user info never reaches the log.</summary>
    public static string TargetOf(Uri target) =>
        target.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);

    public static DateTimeOffset KeyTime(QueuedWebhook message) => DeliveryLogKeys.KeyTime(message.EventId, message.ReceivedAt);

    private static string? Header(QueuedWebhook message, string name)
    {
        foreach (var (key, value) in message.Headers)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }
        return null;
    }


    private static partial class Log
    {
        [LoggerMessage(EventId = 3200, Level = LogLevel.Warning,
            Message = "The delivery log entry of event {EventId} ({Status}) was not written; the event itself is unaffected")]
        public static partial void NotWritten(ILogger logger, Exception exception, string eventId, string status);
    }
}
