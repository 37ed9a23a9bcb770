using System.Reflection;
using System.Text.Json;
using CalWebhookFunctions.Ingest;

namespace CalWebhookFunctions.Tests.Infrastructure;

/// <summary>One function as the Functions host learns it from the generated functions.metadata.</summary>
public sealed record FunctionDefinition(string Name, string EntryPoint, IReadOnlyList<JsonElement> Bindings)
{
    public JsonElement Trigger => Bindings.Single(b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal));

    public string TriggerType => Trigger.GetProperty("type").GetString()!;

    public string? Route => Trigger.TryGetProperty("route", out var r) ? r.GetString() : null;

    public string? AuthLevel => Trigger.TryGetProperty("authLevel", out var a) ? a.GetString() : null;

    public IReadOnlyList<string> Methods => Trigger.TryGetProperty("methods", out var m)
        ? [.. m.EnumerateArray().Select(x => x.GetString()!.ToUpperInvariant())]
        : [];

    public string? QueueName => Trigger.TryGetProperty("queueName", out var q) ? q.GetString() : null;

    public string? Connection => Trigger.TryGetProperty("connection", out var c) ? c.GetString() : null;

    /// <summary>The assembly the worker loads the function from, relative to the app's directory.</summary>
    public string ScriptFile { get; init; } = "CalWebhookFunctions.dll";
}

public static class FunctionsMetadata
{
    public static IReadOnlyList<FunctionDefinition> Load()
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(RepoPaths.FunctionsMetadata));
        return [.. document.RootElement.EnumerateArray().Select(f => new FunctionDefinition(
            f.GetProperty("name").GetString()!,
            f.GetProperty("entryPoint").GetString()!,
            [.. f.GetProperty("bindings").EnumerateArray().Select(b => b.Clone())])
        {
            ScriptFile = f.GetProperty("scriptFile").GetString()!,
        })];
    }

    public static FunctionDefinition Get(string name) => Load().Single(f => f.Name == name);

    /// <summary>The method an <c>entryPoint</c> (<c>Namespace.Type.Method</c>) names in the function app's assembly.</summary>
    public static MethodInfo ResolveEntryPoint(string entryPoint)
    {
        var split = entryPoint.LastIndexOf('.');
        var type = typeof(ReceiveCalWebhook).Assembly.GetType(entryPoint[..split], throwOnError: true)!;
        return type.GetMethod(entryPoint[(split + 1)..], BindingFlags.Public | BindingFlags.Instance)
               ?? throw new InvalidOperationException($"No method for entry point {entryPoint}.");
    }
}
