using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using CalWebhookFunctions.Benchmarks.Infrastructure;

namespace CalWebhookFunctions.Benchmarks.Load;

/// <summary>
/// A queue trigger that behaves like the Functions host's listener under host.json's settings (see
/// ../shared/functions-host.md and docs/PERFORMANCE.md): fetches up to <see cref="BatchSize"/> messages with a
/// 10-minute visibility timeout whenever fewer than <see cref="NewBatchThreshold"/> are in flight (so up to 24 run at
/// once), base64-decodes each and invokes the function, deletes the message when it returns, makes it visible again
/// after <see cref="FailureVisibility"/> when it throws, and parks a message handed over more than
/// <see cref="MaxDequeueCount"/> times in <c>{queue}-poison</c>. An empty queue is polled with an exponential back-off
/// up to <see cref="MaxPollingInterval"/>. Runs until <see cref="StopAsync"/>.
/// </summary>
public sealed class HostQueueListener(QueueClient rawQueue, QueueClient rawPoisonQueue, Func<QueueMessage, Task> function)
{
    public const int BatchSize = 16;
    public const int NewBatchThreshold = 8;
    public const int MaxDequeueCount = 5;
    public static readonly TimeSpan FailureVisibility = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxPollingInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan MinPollingInterval = TimeSpan.FromMilliseconds(100);

    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _slotFreed = new(0);
    private int _inFlight;
    private int _invocations;
    private int _failures;
    private int _poisoned;
    private int _failedPolls;
    private Task _loop = Task.CompletedTask;

    public int Invocations => Volatile.Read(ref _invocations);

    public int Failures => Volatile.Read(ref _failures);

    public int Poisoned => Volatile.Read(ref _poisoned);

    /// <summary>Receives that failed (storage errors or timeouts), after the SDK's own retries.</summary>
    public int FailedPolls => Volatile.Read(ref _failedPolls);

    public void Start() => _loop = Task.Run(RunAsync);

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        while (Volatile.Read(ref _inFlight) > 0)
        {
            await Task.Delay(50);
        }
    }

    private async Task RunAsync()
    {
        var delay = MinPollingInterval;
        while (!_stop.IsCancellationRequested)
        {
            if (Volatile.Read(ref _inFlight) > NewBatchThreshold)
            {
                await _slotFreed.WaitAsync(TimeSpan.FromMilliseconds(200));
                continue;
            }
            QueueMessage[] batch;
            try
            {
                batch = (await rawQueue.ReceiveMessagesAsync(BatchSize, TimeSpan.FromMinutes(10), _stop.Token)).Value;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                // The host logs a failed poll and polls again after its back-off; so does this listener.
                Interlocked.Increment(ref _failedPolls);
                await Sleep(delay);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxPollingInterval.Ticks));
                continue;
            }
            if (batch.Length == 0)
            {
                await Sleep(delay);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxPollingInterval.Ticks));
                continue;
            }
            delay = MinPollingInterval;
            foreach (var message in batch)
            {
                Interlocked.Increment(ref _inFlight);
                _ = Task.Run(() => HandleAsync(message));
            }
        }
    }

    private async Task Sleep(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _stop.Token);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private async Task HandleAsync(QueueMessage message)
    {
        try
        {
            if (message.DequeueCount > MaxDequeueCount)
            {
                await rawPoisonQueue.SendMessageAsync(message.MessageText);
                await rawQueue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                Interlocked.Increment(ref _poisoned);
                return;
            }
            Interlocked.Increment(ref _invocations);
            try
            {
                await function(QueueTriggerLoop.Decoded(message));
            }
            catch (Exception)
            {
                Interlocked.Increment(ref _failures);
                await rawQueue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: FailureVisibility);
                return;
            }
            await rawQueue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
        }
        catch (Exception)
        {
            // A failed delete or update: the message reappears when its visibility runs out, as on the host.
            Interlocked.Increment(ref _failures);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
            _slotFreed.Release();
        }
    }
}
