using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// Writes the delivered mark of an inline-body event after the forward has returned, so the invocation (and the host's
/// delete of the message) does not wait for it: one storage round trip fewer on the critical path. The mark and the event's
/// delivery log entry gather with the other delivered outcomes of their day partition for at most
/// <see cref="DeliveryLedger.MarkRide"/> and go with them as one transaction: a fraction of a request each while events flow.
/// Guarantees kept: until the mark lands, the webhook-id's claim is live (at least <c>RecordAllowance</c> of its lease is
/// left when the POST ends), so any copy of the same webhook-id is deferred, never sent; once it lands the copy finds it
/// delivered. A crash between the 2xx and the mark leaves the claim to lapse — exactly as a crash between the 2xx and the
/// synchronous mark did — and then only an identical redelivery (a new message, since the host deleted this one) could be
/// sent again: at-least-once, never at-most-once, in that window only. Pending marks are written before the worker stops.
/// Events whose body is in a blob keep the synchronous mark: their blob may only go once the mark is stored.
/// </summary>
public sealed class DeliveryMarks(DeliveryLedger ledger, ILogger<DeliveryMarks> logger) : IHostedService
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Task, byte> _pending = new();

    /// <summary>
    /// Starts writing the mark as a rider (<see cref="DeliveryLedger.MarkDeliveredRidingAsync"/>), and
    /// <paramref name="alongside"/> (the delivery log entry, riding too) at the same time; returns at once. Failures are
    /// logged (the claim then lapses on its own).
    /// </summary>
    public void Record(Sent sent, QueuedWebhook message, string webhookId, int attempt, Func<Task>? alongside = null)
    {
        var write = alongside is null ? WriteAsync(sent, message, webhookId, attempt) : Task.WhenAll(WriteAsync(sent, message, webhookId, attempt), alongside());
        _pending.TryAdd(write, 0);
        write.ContinueWith(done => _pending.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Sends the marks still riding and completes once every mark started so far is written (or has failed and been logged).</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        ledger.SendRiders();
        return Task.WhenAll(_pending.Keys).WaitAsync(cancellationToken);
    }

    private async Task WriteAsync(Sent sent, QueuedWebhook message, string webhookId, int attempt)
    {
        try
        {
            await ledger.MarkDeliveredRidingAsync(sent.Claim, message.EventId, message.ConnectionId, sent.Result.Status!.Value, attempt)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (StorageRetryPolicy.IsStorageFailure(ex, CancellationToken.None))
        {
            ForwardingLog.MarkNotWritten(logger, ex, message.EventId, webhookId, sent.Claim.LeaseUntil);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping for good: what is still unwritten lapses with its claim.
        }
    }
}
