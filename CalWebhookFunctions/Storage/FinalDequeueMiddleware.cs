using System.Collections.Frozen;
using Azure.Storage.Queues.Models;
using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Ingest;
using CalWebhookFunctions.Operations.Alerts;
using CalWebhookFunctions.Subscriptions;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Storage;

/// <summary>
/// The Functions host moves a queue message that failed <see cref="HostMaxDequeueCount"/> times to
/// <c>{queue}-poison</c> with the default time-to-live of 7 days, which an isolated worker cannot change — so a dead
/// letter parked that way would vanish after a week. This middleware runs for queue-triggered functions (registered
/// with the worker's <c>UseWhen</c>); when the invocation that the host would park fails, it parks the message itself,
/// never expiring, and lets the invocation end normally so the host deletes the original. If even that write fails,
/// the failure goes to the host as before.
/// </summary>
public sealed partial class FinalDequeueMiddleware(StorageAccount storage, ILogger<FinalDequeueMiddleware> logger) : IFunctionsWorkerMiddleware
{
    /// <summary>host.json's <c>extensions.queues.maxDequeueCount</c> (a test keeps the two equal).</summary>
    public const int HostMaxDequeueCount = 5;

    /// <summary>The queue each queue-triggered function reads, as its trigger attribute names it (a test checks every one against functions.metadata).</summary>
    private static readonly FrozenDictionary<string, string> Queues = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [nameof(ForwardCalWebhook)] = StorageNames.WebhookQueue,
        [nameof(DrainIngestFallback)] = StorageNames.WebhookQueue,
        [nameof(CleanUpSubscription)] = StorageNames.CleanupQueue,
        [nameof(SendAlert)] = StorageNames.AlertsQueue,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var message = await QueueTrigger.MessageAsync(context);
        await RunAsync(context.FunctionDefinition.Name, message, () => next(context));
    }

    /// <summary>Runs one invocation of <paramref name="function"/> on <paramref name="message"/> (null for other triggers).</summary>
    public async Task RunAsync(string function, QueueMessage? message, Func<Task> next)
    {
        ArgumentNullException.ThrowIfNull(next);
        if (QueueNameOf(function) is not { } queueName || message is not { DequeueCount: >= HostMaxDequeueCount })
        {
            await next();
            return;
        }

        try
        {
            await next();
        }
        catch (Exception failure)
        {
            var poison = queueName + DeadLetters.PoisonSuffix;
            try
            {
                await DeadLetters.ParkAsync(storage, queueName, message.Body.ToArray(), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception parkFailure)
            {
                NotParked(logger, parkFailure, function, poison);
                throw;
            }
            Parked(logger, failure, function, HostMaxDequeueCount, poison);
        }
    }

    /// <summary>The queue a function is triggered by, or null for other triggers.</summary>
    public static string? QueueNameOf(string function) => Queues.GetValueOrDefault(function);

    [LoggerMessage(EventId = 6000, Level = LogLevel.Error,
        Message = "{Function} failed on the host's last try ({MaxDequeueCount}); the message was parked in {PoisonQueue}, never expiring")]
    private static partial void Parked(ILogger logger, Exception exception, string function, int maxDequeueCount, string poisonQueue);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Critical,
        Message = "{Function} failed on the host's last try and the message could not be parked in {PoisonQueue}; the host parks it there with a 7-day time-to-live")]
    private static partial void NotParked(ILogger logger, Exception exception, string function, string poisonQueue);
}
