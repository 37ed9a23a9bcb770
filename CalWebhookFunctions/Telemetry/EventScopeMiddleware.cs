using System.Text.Json;
using CalWebhookFunctions.Storage;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Telemetry;

/// <summary>
/// For every queue-triggered invocation whose message carries an <c>eventId</c> (the queued webhook format, and any
/// other message that names its event), opens the event's logging scope around the function, so each log line the
/// function writes carries the id — without the function doing anything. Other invocations pass straight through.
/// </summary>
public sealed class EventScopeMiddleware(ILogger<EventScopeMiddleware> logger) : IFunctionsWorkerMiddleware
{
    private const string QueueTriggerType = "queueTrigger";

    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var isQueueTriggered = context.FunctionDefinition.InputBindings.Values
            .Any(b => string.Equals(b.Type, QueueTriggerType, StringComparison.OrdinalIgnoreCase));
        var eventId = isQueueTriggered ? EventIdOf(context.BindingContext.BindingData) : null;
        if (eventId is null)
        {
            await next(context);
            return;
        }
        using (logger.BeginEventScope(eventId, QueueTriggerData.DequeueCount(context.BindingContext.BindingData)))
        {
            await next(context);
        }
    }

    /// <summary>
    /// The message's <c>eventId</c>: from the trigger metadata the host sends for JSON messages, else read from the
    /// message text itself (<c>QueueTrigger</c>). Null when the message has none, or is not JSON.
    /// </summary>
    public static string? EventIdOf(IReadOnlyDictionary<string, object?> bindingData)
    {
        ArgumentNullException.ThrowIfNull(bindingData);
        if (QueueTriggerData.Text(bindingData, "eventId") is { Length: > 0 } id)
        {
            return Unquote(id);
        }
        // The message text, unquoted when the trigger metadata carries it as a JSON string of its text.
        if (QueueTriggerData.MessageText(bindingData) is not { Length: > 0 } json)
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(json);
            return EventIdProperty(document.RootElement);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? EventIdProperty(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("eventId", out var id) && id.ValueKind == JsonValueKind.String
            ? id.GetString()
            : null;

    private static string Unquote(string value) =>
        value.Length >= 2 && value[0] == '"' && value[^1] == '"' ? value[1..^1] : value;
}
