using System.Collections.Concurrent;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace CalWebhookFunctions.Tests.Infrastructure;

/// <summary>What a <see cref="QueueHost"/> run did.</summary>
public sealed record QueueRunReport(int Invocations, int Failures, int Poisoned, bool Drained, TimeSpan Elapsed)
{
    /// <summary>How often a running invocation's message had its 10-minute visibility renewed.</summary>
    public int Renewals { get; init; }

    /// <summary>How each failed or cancelled invocation ended, as the worker reported it.</summary>
    public IReadOnlyList<InvocationOutcome> FailedOutcomes { get; init; } = [];
}

/// <summary>
/// A stand-in for the Functions host's queue trigger, since Core Tools cannot run here; it does what
/// <c>functions-host.md</c> records of the real host. It reads the queue in Azurite with a raw client, as the host's
/// listener does: takes batches of <c>batchSize</c> with a 10-minute visibility (<see cref="Lease"/>), fetches the
/// next batch when no more than <c>newBatchThreshold</c> are in flight, and base64-decodes each message (per
/// host.json). A message already handed over more than <c>maxDequeueCount</c> times, or not base64, is copied to
/// <c>{queue}-poison</c> before anything runs. Every other message is invoked through the app's real worker
/// (<see cref="WorkerChannel"/>: its binding, its middleware pipeline, the invocation's cancellation token), while
/// its visibility is renewed to 10 minutes every 5 (on <see cref="Time"/>).
/// Success → the message is deleted. Failure → it is hidden for host.json's <c>visibilityTimeout</c> and handed over
/// again; when its dequeue count has reached <c>maxDequeueCount</c> the original text is copied to
/// <c>{queue}-poison</c> with the storage SDK's default time-to-live (7 days), and deleted.
/// A run stops by itself when the queue is empty (invisible messages included) with nothing in flight; it stops as the
/// host does — cancelling every running invocation — at its time limit or when <c>stopping</c> is cancelled.
/// </summary>
public sealed class QueueHost
{
    /// <summary>The visibility the host fetches messages with and renews while they run.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(10);

    private readonly WorkerChannel _worker;
    private readonly QueueServiceClient _queues;

    public QueueHost(IServiceProvider appServices, string storageConnectionString, QueueSettings? settings = null)
    {
        _worker = WorkerChannel.For(appServices);
        // No message encoding: the host reads the raw text and decodes it itself.
        _queues = new QueueServiceClient(storageConnectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });
        Settings = settings ?? QueueSettings.FromHostJson();
    }

    public QueueSettings Settings { get; }

    /// <summary>Polls how the host would, but no slower than this (tests cannot wait for the production interval).</summary>
    public TimeSpan PollingInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// The function to run when more than one queue trigger listens on the queue's name (each on its own account's
    /// connection); by default the one on <c>AzureWebJobsStorage</c>.
    /// </summary>
    public string? FunctionName { get; init; }

    /// <summary>The clock the lease renewal runs on (a test moves it to make a renewal due).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Called after each renewal of a running invocation's visibility, with the new pop receipt.</summary>
    public Action<QueueMessage, UpdateReceipt>? Renewed { get; init; }

    /// <summary>Runs the trigger of <paramref name="queueName"/> until the queue is drained or <paramref name="timeLimit"/> passes.</summary>
    public Task<QueueRunReport> RunUntilDrainedAsync(string queueName, TimeSpan timeLimit) =>
        RunAsync(queueName, timeLimit, CancellationToken.None);

    /// <summary>As <see cref="RunUntilDrainedAsync"/>, and stops (cancelling running invocations) when <paramref name="stopping"/> is cancelled.</summary>
    public async Task<QueueRunReport> RunAsync(string queueName, TimeSpan timeLimit, CancellationToken stopping)
    {
        var function = FunctionsMetadata.Load().Single(f => f.TriggerType == "queueTrigger" && f.QueueName == queueName
            && (FunctionName is null ? f.Connection is null or CalWebhookFunctions.Storage.StorageNames.Connection : f.Name == FunctionName));
        var queue = _queues.GetQueueClient(queueName);
        var poison = _queues.GetQueueClient(queueName + "-poison");
        await queue.CreateIfNotExistsAsync(cancellationToken: CancellationToken.None);

        var started = TimeProvider.System.GetTimestamp();
        var inFlight = new List<Task>();
        var counts = new Counts();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        stop.CancelAfter(timeLimit);
        var polling = TimeSpan.FromTicks(Math.Min(PollingInterval.Ticks, Settings.MaxPollingInterval.Ticks));

        async Task HandleAsync(QueueMessage message)
        {
            // Checked before invoking: a message already past the count is poisoned without running the function.
            if (message.DequeueCount > Settings.MaxDequeueCount || !Settings.TryDecode(message.MessageText, out var text))
            {
                await MoveToPoisonAsync(queue, poison, message, message.PopReceipt);
                Interlocked.Increment(ref counts.Poisoned);
                return;
            }
            Interlocked.Increment(ref counts.Invocations);
            InvocationOutcome outcome;
            string popReceipt;
            await using (var renewal = new LeaseRenewal(queue, message, Time, Renewed))
            {
                outcome = await _worker.InvokeQueueTriggerAsync(function, message, text, stop.Token);
                popReceipt = await renewal.StopAsync();
                Interlocked.Add(ref counts.Renewals, renewal.Count);
            }
            if (outcome.Succeeded)
            {
                await queue.DeleteMessageAsync(message.MessageId, popReceipt, CancellationToken.None);
                return;
            }
            Interlocked.Increment(ref counts.Failures);
            counts.Outcomes.Enqueue(outcome);
            if (message.DequeueCount >= Settings.MaxDequeueCount)
            {
                await MoveToPoisonAsync(queue, poison, message, popReceipt);
                Interlocked.Increment(ref counts.Poisoned);
            }
            else
            {
                await queue.UpdateMessageAsync(message.MessageId, popReceipt, visibilityTimeout: Settings.VisibilityTimeout,
                    cancellationToken: CancellationToken.None);
            }
        }

        var drained = false;
        while (!stop.IsCancellationRequested)
        {
            if (inFlight.Find(t => t.IsFaulted) is { } broken)
            {
                await broken; // the stand-in's own failure (storage, or a worker that did not answer): surface it now
            }
            inFlight.RemoveAll(t => t.IsCompleted);
            if (inFlight.Count > Settings.NewBatchThreshold)
            {
                await Task.WhenAny(inFlight);
                continue;
            }
            var batch = (await queue.ReceiveMessagesAsync(Math.Min(Settings.BatchSize, 32), Lease, CancellationToken.None)).Value;
            foreach (var message in batch)
            {
                inFlight.Add(Task.Run(() => HandleAsync(message), CancellationToken.None));
            }
            if (batch.Length > 0)
            {
                continue;
            }
            if (inFlight.Count == 0 && (await queue.GetPropertiesAsync(CancellationToken.None)).Value.ApproximateMessagesCount == 0)
            {
                drained = true;
                break;
            }
            try
            {
                await Task.Delay(polling, stop.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        await Task.WhenAll(inFlight); // surfaces the stand-in's own storage failures
        return new QueueRunReport(counts.Invocations, counts.Failures, counts.Poisoned, drained, TimeProvider.System.GetElapsedTime(started))
        {
            Renewals = counts.Renewals,
            FailedOutcomes = [.. counts.Outcomes],
        };
    }

    /// <summary>
    /// As the host does: copies the original message text, unchanged, to the poison queue with the storage SDK's default
    /// time-to-live (no time-to-live given: 7 days), then deletes the original.
    /// </summary>
    private static async Task MoveToPoisonAsync(QueueClient queue, QueueClient poison, QueueMessage message, string popReceipt)
    {
        await poison.CreateIfNotExistsAsync();
        await poison.SendMessageAsync(message.MessageText);
        await queue.DeleteMessageAsync(message.MessageId, popReceipt);
    }

    private sealed class Counts
    {
        public int Invocations;
        public int Failures;
        public int Poisoned;
        public int Renewals;
        public readonly ConcurrentQueue<InvocationOutcome> Outcomes = new();
    }
}
