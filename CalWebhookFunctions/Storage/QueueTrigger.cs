using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;

namespace CalWebhookFunctions.Storage;

/// <summary>The queue trigger of an invocation, as the worker binds it (its Storage Queues converter makes the <see cref="QueueMessage"/>).</summary>
public static class QueueTrigger
{
    public const string BindingType = "queueTrigger";

    /// <summary>Whether the invocation's function is queue-triggered (the condition the queue middleware is used under).</summary>
    public static bool IsQueueTriggered(FunctionContext context) => Binding(context) is not null;

    /// <summary>
    /// The invocation's queue message, bound by the worker as for the function's own <see cref="QueueMessage"/> parameter
    /// (the worker caches the result, so the function gets the same instance); null for other triggers.
    /// </summary>
    public static async ValueTask<QueueMessage?> MessageAsync(FunctionContext context) =>
        Binding(context) is { } trigger ? (await context.BindInputAsync<QueueMessage>(trigger)).Value : null;

    private static BindingMetadata? Binding(FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.FunctionDefinition.InputBindings.Values
            .FirstOrDefault(b => string.Equals(b.Type, BindingType, StringComparison.OrdinalIgnoreCase));
    }
}
