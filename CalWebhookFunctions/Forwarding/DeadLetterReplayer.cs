using Azure;
using CalWebhookFunctions.Operations;
using CalWebhookFunctions.Storage;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Forwarding;

/// <summary>What a replay did. <see cref="Failed"/>: storage failed midway (nothing lost; call again).</summary>
public sealed record ReplayResult(int Moved, int Unreadable, bool More, bool Failed = false);

/// <summary>
/// Which dead letters a replay takes: every condition given must hold. <see cref="Since"/> and <see cref="Until"/> bound
/// the event's <c>receivedAt</c> (when ingest accepted it; inclusive both ends), not when it was dead-lettered.
/// <see cref="Reason"/> is a dead-letter reason, or <see cref="HostPoison"/> for a message the Functions host parked
/// itself (it carries no reason).
/// </summary>
public sealed record ReplayFilter(string? EventId = null, string? ConnectionId = null, DateTimeOffset? Since = null, DateTimeOffset? Until = null,
    string? Reason = null)
{
    public const string HostPoison = "host_poison";

    public static readonly IReadOnlyList<string> Reasons =
        ["rejected", "retries_exhausted", "connection_removed", "invalid_forward_url", "body_missing", HostPoison];

    public static readonly ReplayFilter All = new();

    public bool Matches(QueuedWebhook message) =>
        (EventId is null || string.Equals(message.EventId, EventId, StringComparison.Ordinal))
        && (ConnectionId is null || string.Equals(message.ConnectionId, ConnectionId, StringComparison.Ordinal))
        && (Since is null || message.ReceivedAt >= Since)
        && (Until is null || message.ReceivedAt <= Until)
        && (Reason is null || string.Equals(message.DeadLetter?.Reason ?? HostPoison, Reason, StringComparison.Ordinal));
}

/// <summary>
/// Moves dead letters back to <c>cal-webhooks</c> with a fresh schedule (attempts 0, dead-letter reason cleared): those
/// a <see cref="ReplayFilter"/> matches; or, as a dry run, only counts them. Each message is enqueued first and only
/// then deleted from the poison queue, so a failure midway loses nothing (at worst an event is queued twice, and the
/// webhook-id ledger keeps it from being delivered twice). Messages that cannot be read as events, and those the filter
/// does not match, are left where they are (every message looked at is made visible again at the end, dry run or not).
/// One call works for at most <see cref="TimeBudget"/> and says when more remain. A replay never picks up what was
/// dead-lettered after it started (an event the app rejects again during the replay stays dead-lettered instead of
/// looping, and is counted once).
/// </summary>
public sealed partial class DeadLetterReplayer(DeadLetters deadLetters, PendingWebhooks pending, DeliveryLogReader logReader, DeliveryLog log,
    TimeProvider time, ILogger<DeadLetterReplayer> logger)
{
    /// <summary>Well inside the 230 s an HTTP request may take on Azure's front ends.</summary>
    public static readonly TimeSpan TimeBudget = TimeSpan.FromSeconds(60);

    /// <summary>How long a message stays hidden while this call handles it (it reappears if the call dies).</summary>
    private static readonly TimeSpan Hold = TimeSpan.FromMinutes(5);

    /// <summary>With <paramref name="dryRun"/>, <see cref="ReplayResult.Moved"/> is how many would have moved; nothing is.</summary>
    public async Task<ReplayResult> ReplayAsync(ReplayFilter filter, bool dryRun, CancellationToken cancellationToken)
    {
        var queue = deadLetters.RawQueue;
        var started = time.GetUtcNow();
        var startedTimestamp = time.GetTimestamp();
        var movedEvents = new HashSet<string>(StringComparer.Ordinal);
        var moved = 0;
        var unreadable = 0;
        var putBack = new List<(string Id, string PopReceipt)>();
        var more = false;
        try
        {
            while (true)
            {
                if (time.GetElapsedTime(startedTimestamp) > TimeBudget || cancellationToken.IsCancellationRequested)
                {
                    more = true;
                    break;
                }
                Azure.Storage.Queues.Models.QueueMessage[] batch;
                try
                {
                    batch = (await queue.ReceiveMessagesAsync(32, Hold, cancellationToken).ConfigureAwait(false)).Value;
                }
                catch (RequestFailedException ex) when (StorageAccount.IsMissingResource(ex))
                {
                    break; // No dead letter was ever written.
                }
                if (batch.Length == 0)
                {
                    break;
                }
                foreach (var message in batch)
                {
                    putBack.Add((message.MessageId, message.PopReceipt));
                    var parsed = TryParse(message.MessageText);
                    if (parsed is null)
                    {
                        unreadable++;
                        Log.Unreadable(logger, message.MessageId);
                        continue;
                    }
                    // Dead-lettered after the replay started (by the forwarder's own record of when, else, for a message the
                    // host parked, by when storage inserted it) stays; an event this replay moved that comes back is caught by its id.
                    if (!filter.Matches(parsed) || movedEvents.Contains(parsed.EventId)
                        || (parsed.DeadLetter?.DeadLetteredAt ?? message.InsertedOn) > started)
                    {
                        continue;
                    }
                    if (!dryRun)
                    {
                        // Enqueue first, delete second: never a moment when the event is in neither queue. Should either
                        // step fail, the dead letter is made visible again below, so it stays where it was.
                        var logged = await ReadLogAsync(parsed).ConfigureAwait(false);
                        await pending.EnqueueAsync(DeliveryLog.FreshSchedule(parsed), cancellationToken: CancellationToken.None).ConfigureAwait(false);
                        await log.TryMarkPendingAsync(logged).ConfigureAwait(false);
                        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None).ConfigureAwait(false);
                        putBack.RemoveAt(putBack.Count - 1);
                        Log.Replayed(logger, parsed.EventId, parsed.ConnectionId, parsed.DeadLetter?.Reason ?? ReplayFilter.HostPoison);
                    }
                    moved++;
                    movedEvents.Add(parsed.EventId);
                }
            }
        }
        catch (Exception ex) when (StorageAccount.IsUnavailable(ex))
        {
            Log.Failed(logger, ex, moved);
            return new ReplayResult(moved, unreadable, More: true, Failed: true);
        }
        finally
        {
            foreach (var (id, popReceipt) in putBack)
            {
                try
                {
                    await queue.UpdateMessageAsync(id, popReceipt, visibilityTimeout: TimeSpan.Zero, cancellationToken: CancellationToken.None)
                        .ConfigureAwait(false);
                }
                catch (RequestFailedException)
                {
                    // It reappears by itself when the hold ends.
                }
            }
        }
        return new ReplayResult(moved, unreadable, more);
    }

    /// <summary>
    /// The event's delivery log entry as it is before the enqueue (null when it has none, or storage failed: the log must
    /// not stop a replay, and the forwarder's own writes bring the entry up to date).
    /// </summary>
    private async Task<DeliveryLogEntry?> ReadLogAsync(QueuedWebhook replayed)
    {
        try
        {
            return await logReader.FindAsync(replayed.EventId, withBody: true, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RequestFailedException || StorageAccount.IsUnavailable(ex))
        {
            return null;
        }
    }

    /// <summary>The event in a dead letter's text (base64 of the message JSON), or null when it is none.</summary>
    private static QueuedWebhook? TryParse(string messageText)
    {
        var json = new byte[messageText.Length];
        if (!Convert.TryFromBase64String(messageText, json, out var length))
        {
            return null;
        }
        return PendingWebhooks.TryDeserialize(json.AsSpan(0, length), out var message, out _) ? message : null;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3100, Level = LogLevel.Information,
            Message = "Replayed dead-lettered event {EventId} (connection {ConnectionId}, was {DeadLetterReason}) with a fresh schedule")]
        public static partial void Replayed(ILogger logger, string eventId, string? connectionId, string deadLetterReason);

        [LoggerMessage(EventId = 3102, Level = LogLevel.Error,
            Message = "Replay stopped by a storage failure after moving {Moved} dead letter(s); the rest stay in cal-webhooks-poison")]
        public static partial void Failed(ILogger logger, Exception exception, int moved);

        [LoggerMessage(EventId = 3101, Level = LogLevel.Warning,
            Message = "Dead letter {MessageId} is not a readable event; left in cal-webhooks-poison for inspection")]
        public static partial void Unreadable(ILogger logger, string messageId);
    }
}
