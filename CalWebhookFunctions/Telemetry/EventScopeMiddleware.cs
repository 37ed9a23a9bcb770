using System.Text.Json;
using Azure.Storage.Queues.Models;
using CalWebhookFunctions.Storage;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Telemetry;

/// <summary>
/// For every queue-triggered invocation (registered with the worker's <c>UseWhen</c>) whose message carries an
/// <c>eventId</c> (the queued webhook format, and any other message that names its event), opens the event's logging
/// scope around the function, so each log line the function writes carries the id — without the function doing anything.
/// </summary>
public sealed class EventScopeMiddleware(ILogger<EventScopeMiddleware> logger) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var message = await QueueTrigger.MessageAsync(context);
        await RunAsync(message, () => next(context));
    }

    /// <summary>Runs one invocation on <paramref name="message"/> (null for other triggers) inside the event's scope.</summary>
    public async Task RunAsync(QueueMessage? message, Func<Task> next)
    {
        ArgumentNullException.ThrowIfNull(next);
        using (message is not null && EventIdOf(message.Body) is { } eventId
                   ? logger.BeginEventScope(eventId, (int)message.DequeueCount)
                   : null)
        {
            await next();
        }
    }

    /// <summary>The message's <c>eventId</c>; null when the message has none, or is not JSON.</summary>
    public static string? EventIdOf(BinaryData body)
    {
        ArgumentNullException.ThrowIfNull(body);
        try
        {
            using var document = JsonDocument.Parse(body.ToMemory());
            return document.RootElement.ValueKind == JsonValueKind.Object
                   && document.RootElement.TryGetProperty("eventId", out var id) && id.ValueKind == JsonValueKind.String
                ? id.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
