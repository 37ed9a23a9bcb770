using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace CalWebhookFunctions.Tests.Infrastructure;

/// <summary>
/// The host's visibility renewal for a message whose invocation is running: every half <see cref="QueueHost.Lease"/>
/// (5 minutes) its visibility is set to a fresh 10 minutes, which changes its pop receipt. <see cref="StopAsync"/>
/// ends the renewal and gives the pop receipt to finish the message with.
/// </summary>
internal sealed class LeaseRenewal : IAsyncDisposable
{
    private readonly QueueClient _queue;
    private readonly QueueMessage _message;
    private readonly Action<QueueMessage, UpdateReceipt>? _renewed;
    private readonly Lock _lock = new();
    private readonly ITimer _timer;
    private Task _renewing = Task.CompletedTask;
    private string _popReceipt;
    private bool _stopped;

    public LeaseRenewal(QueueClient queue, QueueMessage message, TimeProvider time, Action<QueueMessage, UpdateReceipt>? renewed)
    {
        _queue = queue;
        _message = message;
        _renewed = renewed;
        _popReceipt = message.PopReceipt;
        var interval = QueueHost.Lease / 2;
        _timer = time.CreateTimer(_ => Renew(), null, interval, interval);
    }

    public int Count { get; private set; }

    private void Renew()
    {
        lock (_lock)
        {
            if (!_stopped)
            {
                _renewing = RenewAfterAsync(_renewing);
            }
        }
    }

    private async Task RenewAfterAsync(Task previous)
    {
        await previous;
        var receipt = (await _queue.UpdateMessageAsync(_message.MessageId, _popReceipt, visibilityTimeout: QueueHost.Lease)).Value;
        _popReceipt = receipt.PopReceipt;
        Count++;
        _renewed?.Invoke(_message, receipt);
    }

    /// <summary>Stops renewing (waiting for a renewal under way) and returns the current pop receipt.</summary>
    public async Task<string> StopAsync()
    {
        Task renewing;
        lock (_lock)
        {
            _stopped = true;
            renewing = _renewing;
        }
        await renewing;
        return _popReceipt;
    }

    public async ValueTask DisposeAsync()
    {
        await _timer.DisposeAsync();
        await StopAsync();
    }
}
