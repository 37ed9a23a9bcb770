using System.Reflection;
using System.Text;
using System.Text.Json;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using CalWebhookFunctions.Ingest;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Tests.Infrastructure;

/// <summary>The <c>extensions.queues</c> settings of host.json that the queue trigger obeys.</summary>
public sealed record QueueSettings(int BatchSize, int NewBatchThreshold, int MaxDequeueCount, TimeSpan VisibilityTimeout,
    TimeSpan MaxPollingInterval, string MessageEncoding)
{
    /// <summary>The values in the repository's host.json (the Functions host's defaults where it says nothing).</summary>
    public static QueueSettings FromHostJson()
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(RepoPaths.File("host.json")));
        var queues = document.RootElement.GetProperty("extensions").GetProperty("queues");
        int Int(string name, int fallback) => queues.TryGetProperty(name, out var v) ? v.GetInt32() : fallback;
        TimeSpan Time(string name, TimeSpan fallback) => queues.TryGetProperty(name, out var v) ? TimeSpan.Parse(v.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : fallback;
        var batchSize = Int("batchSize", 16);
        return new QueueSettings(
            batchSize,
            Int("newBatchThreshold", batchSize / 2),
            Int("maxDequeueCount", 5),
            Time("visibilityTimeout", TimeSpan.Zero),
            Time("maxPollingInterval", TimeSpan.FromMinutes(1)),
            queues.TryGetProperty("messageEncoding", out var e) ? e.GetString()! : "base64");
    }

    /// <summary>The message text a queue-triggered function is handed, decoded as <see cref="MessageEncoding"/> says.</summary>
    public bool TryDecode(string messageText, out string text)
    {
        text = messageText;
        if (!string.Equals(MessageEncoding, "base64", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        var buffer = new byte[messageText.Length];
        if (!Convert.TryFromBase64String(messageText, buffer, out var written))
        {
            return false;
        }
        text = Encoding.UTF8.GetString(buffer, 0, written);
        return true;
    }
}

/// <summary>What a <see cref="QueueHost"/> run did.</summary>
public sealed record QueueRunReport(int Invocations, int Failures, int Poisoned, bool Drained, TimeSpan Elapsed);

/// <summary>
/// A stand-in for the Functions host's queue trigger, since Core Tools cannot run here. Reads the queue in Azurite with
/// a raw client, as the host's listener does: takes batches of <c>batchSize</c> with a 10-minute lease, fetches the
/// next batch when no more than <c>newBatchThreshold</c> are in flight, base64-decodes each message (per host.json;
/// one that is not base64 goes straight to <c>{queue}-poison</c>, as in the host), and invokes the queue-triggered
/// function found in functions.metadata with the message text, exactly as the host hands it to the worker.
/// Success → the message is deleted. Exception → it is hidden for <c>visibilityTimeout</c> and handed over again; when
/// its dequeue count reaches <c>maxDequeueCount</c> the original text is copied to <c>{queue}-poison</c> and deleted.
/// A run stops by itself: when the queue is empty (invisible messages included) with nothing in flight, or at its
/// time limit.
/// </summary>
public sealed class QueueHost
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(10);

    private readonly IServiceProvider _appServices;
    private readonly QueueServiceClient _queues;
    private readonly QueueSettings _settings;

    public QueueHost(IServiceProvider appServices, string storageConnectionString, QueueSettings? settings = null)
    {
        _appServices = appServices;
        // No message encoding: the host reads the raw text and decodes it itself.
        _queues = new QueueServiceClient(storageConnectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });
        _settings = settings ?? QueueSettings.FromHostJson();
    }

    public QueueSettings Settings => _settings;

    /// <summary>Polls how the host would, but no slower than this (tests cannot wait for the production interval).</summary>
    public TimeSpan PollingInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Runs the trigger of <paramref name="queueName"/> until the queue is drained or <paramref name="timeLimit"/> passes.</summary>
    public async Task<QueueRunReport> RunUntilDrainedAsync(string queueName, TimeSpan timeLimit)
    {
        var function = FunctionsMetadata.Load().Single(f => f.TriggerType == "queueTrigger" && f.QueueName == queueName);
        var method = FunctionsMetadata.ResolveEntryPoint(function.EntryPoint);
        var triggerName = function.Trigger.GetProperty("name").GetString()!;
        var queue = _queues.GetQueueClient(queueName);
        var poison = _queues.GetQueueClient(queueName + "-poison");
        await queue.CreateIfNotExistsAsync();

        var started = DateTime.UtcNow;
        var inFlight = new List<Task>();
        var invocations = 0;
        var failures = 0;
        var poisoned = 0;
        using var stop = new CancellationTokenSource(timeLimit);
        var polling = TimeSpan.FromTicks(Math.Min(PollingInterval.Ticks, _settings.MaxPollingInterval.Ticks));

        async Task HandleAsync(QueueMessage message)
        {
            if (message.DequeueCount > _settings.MaxDequeueCount || !_settings.TryDecode(message.MessageText, out var text))
            {
                await MoveToPoisonAsync(queue, poison, message);
                Interlocked.Increment(ref poisoned);
                return;
            }
            Interlocked.Increment(ref invocations);
            try
            {
                await InvokeAsync(method, triggerName, text, stop.Token);
            }
            catch (Exception)
            {
                Interlocked.Increment(ref failures);
                if (message.DequeueCount >= _settings.MaxDequeueCount)
                {
                    await MoveToPoisonAsync(queue, poison, message);
                    Interlocked.Increment(ref poisoned);
                }
                else
                {
                    await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: _settings.VisibilityTimeout);
                }
                return;
            }
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
        }

        var drained = false;
        while (!stop.IsCancellationRequested)
        {
            inFlight.RemoveAll(t => t.IsCompleted);
            if (inFlight.Count > _settings.NewBatchThreshold)
            {
                await Task.WhenAny(inFlight);
                continue;
            }
            var batch = (await queue.ReceiveMessagesAsync(Math.Min(_settings.BatchSize, 32), Lease)).Value;
            foreach (var message in batch)
            {
                inFlight.Add(Task.Run(() => HandleAsync(message)));
            }
            if (batch.Length > 0)
            {
                continue;
            }
            if (inFlight.Count == 0 && (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount == 0)
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
        await Task.WhenAll(inFlight);
        foreach (var task in inFlight)
        {
            await task; // surface infrastructure failures
        }
        return new QueueRunReport(invocations, failures, poisoned, drained, DateTime.UtcNow - started);
    }

    private static async Task MoveToPoisonAsync(QueueClient queue, QueueClient poison, QueueMessage message)
    {
        // The host copies the original message text, unchanged, and then deletes the original.
        await poison.CreateIfNotExistsAsync();
        await poison.SendMessageAsync(message.MessageText, timeToLive: TimeSpan.FromSeconds(-1));
        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
    }

    private async Task InvokeAsync(MethodInfo method, string triggerName, string text, CancellationToken cancellationToken)
    {
        await using var scope = _appServices.CreateAsyncScope();
        var instance = ActivatorUtilities.CreateInstance(scope.ServiceProvider, method.DeclaringType!);
        var arguments = method.GetParameters().Select(p =>
            p.ParameterType == typeof(CancellationToken) ? cancellationToken
            : p.Name == triggerName && p.ParameterType == typeof(string) ? (object)text
            : throw new InvalidOperationException($"The test queue host cannot bind parameter '{p.Name}' of type {p.ParameterType}.")).ToArray();
        try
        {
            var returned = method.Invoke(instance, arguments);
            if (returned is Task task)
            {
                await task;
            }
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex.InnerException);
        }
    }

}
