using System.Collections.Concurrent;
using System.Reflection;
using System.Text;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Storage;

/// <summary>
/// The Functions host moves a queue message that failed <see cref="HostMaxDequeueCount"/> times to
/// <c>{queue}-poison</c> with the default time-to-live of 7 days, which an isolated worker cannot change — so a dead
/// letter parked that way would vanish after a week. This middleware runs every queue-triggered function; when the
/// invocation that the host would park fails, it parks the message itself, never expiring, and lets the invocation
/// end normally so the host deletes the original. If even that write fails, the failure goes to the host as before.
/// </summary>
public sealed partial class FinalDequeueMiddleware(StorageAccount storage, ILogger<FinalDequeueMiddleware> logger) : IFunctionsWorkerMiddleware
{
    /// <summary>host.json's <c>extensions.queues.maxDequeueCount</c> (a test keeps the two equal).</summary>
    public const int HostMaxDequeueCount = 5;

    public const string PoisonSuffix = "-poison";

    private static readonly ConcurrentDictionary<string, string?> QueueNames = new(StringComparer.Ordinal);

    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var queueName = QueueNameOf(context.FunctionDefinition.EntryPoint);
        var bindingData = context.BindingContext.BindingData;
        if (queueName is null || QueueTriggerData.DequeueCount(bindingData) is not >= HostMaxDequeueCount)
        {
            await next(context);
            return;
        }

        try
        {
            await next(context);
        }
        catch (Exception failure) when (QueueTriggerData.MessageText(bindingData) is { } message)
        {
            var poison = queueName + PoisonSuffix;
            try
            {
                await PendingWebhooks.SendAsync(storage.Queue(poison), Encoding.UTF8.GetBytes(message), null, CancellationToken.None)
                    .ConfigureAwait(false);
            }
            catch (Exception parkFailure)
            {
                NotParked(logger, parkFailure, context.FunctionDefinition.Name, poison);
                throw;
            }
            Parked(logger, failure, context.FunctionDefinition.Name, HostMaxDequeueCount, poison);
        }
    }

    /// <summary>The queue a function's <see cref="QueueTriggerAttribute"/> names, or null for other triggers.</summary>
    public static string? QueueNameOf(string entryPoint) => QueueNames.GetOrAdd(entryPoint, static entry =>
    {
        var split = entry.LastIndexOf('.');
        var method = split < 0
            ? null
            : typeof(FinalDequeueMiddleware).Assembly.GetType(entry[..split])?.GetMethod(entry[(split + 1)..], BindingFlags.Public | BindingFlags.Instance);
        return method?.GetParameters()
            .Select(p => p.GetCustomAttribute<QueueTriggerAttribute>()?.QueueName)
            .FirstOrDefault(name => name is not null);
    });

    [LoggerMessage(EventId = 6000, Level = LogLevel.Error,
        Message = "{Function} failed on the host's last try ({MaxDequeueCount}); the message was parked in {PoisonQueue}, never expiring")]
    private static partial void Parked(ILogger logger, Exception exception, string function, int maxDequeueCount, string poisonQueue);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Critical,
        Message = "{Function} failed on the host's last try and the message could not be parked in {PoisonQueue}; the host parks it there with a 7-day time-to-live")]
    private static partial void NotParked(ILogger logger, Exception exception, string function, string poisonQueue);
}
