using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace CalWebhookFunctions.Tests.Infrastructure;

/// <summary>How the worker answered one invocation: <c>Success</c>, <c>Failure</c> or <c>Cancelled</c>, with the failure's message.</summary>
public sealed record InvocationOutcome(string Status, string? Exception)
{
    public bool Succeeded => Status == "Success";
}

/// <summary>
/// The Functions host's side of the worker's gRPC stream, played in-process against the worker the app built with
/// <c>FunctionsApplication.CreateBuilder</c> (see <see cref="TestApp"/>). Each request is the protobuf message the host
/// sends (function load, invocation, invocation cancel), handed to the worker's own message processor; the worker
/// answers through its own output channel, as it would over the wire. An invocation therefore runs the worker's code
/// path exactly: binding from the trigger metadata, the middleware pipeline (the app's and the worker's), and the
/// invocation's cancellation token, which only an invocation cancel (the host stopping) cancels.
/// The worker's types for this are internal; they are reached by name, and the messages are written as protobuf JSON.
/// </summary>
public sealed class WorkerChannel
{
    private static readonly ConditionalWeakTable<IServiceProvider, WorkerChannel> Channels = [];
    private static readonly Assembly GrpcAssembly = Assembly.Load("Microsoft.Azure.Functions.Worker.Grpc");
    private static readonly MessageDescriptor StreamingMessage = (MessageDescriptor)GrpcAssembly
        .GetType("Microsoft.Azure.Functions.Worker.Grpc.Messages.StreamingMessage", throwOnError: true)!
        .GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    private readonly object _processor;
    private readonly MethodInfo _process;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonNode>> _pending = new();
    private readonly ConcurrentDictionary<string, Task> _loaded = new();

    private WorkerChannel(IServiceProvider services)
    {
        // The worker resolves function assemblies under the directory the host names in this variable.
        Environment.SetEnvironmentVariable("FUNCTIONS_WORKER_DIRECTORY", AppContext.BaseDirectory);
        var workerType = typeof(Microsoft.Azure.Functions.Worker.FunctionContext).Assembly.GetType("Microsoft.Azure.Functions.Worker.IWorker", throwOnError: true)!;
        _processor = services.GetService(workerType) ?? throw new InvalidOperationException("The app has no Functions worker: build it through FunctionsApplication.CreateBuilder.");
        var processorType = GrpcAssembly.GetType("Microsoft.Azure.Functions.Worker.Grpc.IMessageProcessor", throwOnError: true)!;
        _process = processorType.GetMethod("ProcessMessageAsync")!;
        // The worker answers through its client, which writes to the output channel and (once started, which the tests
        // never do) streams that to the host. Give the worker its client without starting it; the answers are read below.
        var clientFactory = services.GetService(GrpcAssembly.GetType("Microsoft.Azure.Functions.Worker.Grpc.IWorkerClientFactory", throwOnError: true)!)!;
        var client = clientFactory.GetType().GetMethod("CreateClient")!.Invoke(clientFactory, [_processor]);
        (_processor.GetType().GetField("_workerClient", BindingFlags.NonPublic | BindingFlags.Instance)
            ?? throw new InvalidOperationException("This worker version keeps its client elsewhere.")).SetValue(_processor, client);
        var hostChannel = services.GetService(GrpcAssembly.GetType("Microsoft.Azure.Functions.Worker.GrpcHostChannel", throwOnError: true)!)!;
        var channel = hostChannel.GetType().GetProperty("Channel")!.GetValue(hostChannel)!;
        var reader = channel.GetType().GetProperty("Reader")!.GetValue(channel)!;
        var readAll = (IAsyncEnumerable<IMessage>)reader.GetType().GetMethod("ReadAllAsync")!.Invoke(reader, [CancellationToken.None])!;
        _ = Task.Run(() => ReadAnswersAsync(readAll));
    }

    /// <summary>The channel to the worker of an app built through the worker's builder (one per app: the worker has one host).</summary>
    public static WorkerChannel For(IServiceProvider services) => Channels.GetValue(services, s => new WorkerChannel(s));

    /// <summary>
    /// Invokes a queue-triggered function as the host does for one message. A trigger that supports deferred binding
    /// (a <c>QueueMessage</c> parameter: <c>supportsDeferredBinding</c> in functions.metadata) gets the host's
    /// <c>ParameterBindingData</c> — source <c>AzureStorageQueues</c>, <c>application/json</c>, the decoded message
    /// serialized as the host's queue extension does — which the worker's own Storage Queues converter turns into the
    /// <c>QueueMessage</c>; any other trigger gets the decoded text, and then, for a JSON object message, each of its
    /// top-level properties in the trigger metadata. The trigger metadata always carries <c>QueueTrigger</c>,
    /// <c>DequeueCount</c>, <c>Id</c>, <c>PopReceipt</c> and the message's times.
    /// <paramref name="hostStopping"/> sends an invocation cancel, as the host does when it stops.
    /// </summary>
    public async Task<InvocationOutcome> InvokeQueueTriggerAsync(FunctionDefinition function, Azure.Storage.Queues.Models.QueueMessage message,
        string text, CancellationToken hostStopping)
    {
        await LoadAsync(function);
        var invocationId = Guid.NewGuid().ToString();
        var metadata = new JsonObject
        {
            ["QueueTrigger"] = new JsonObject { ["string"] = text },
            ["DequeueCount"] = Json(message.DequeueCount),
            ["Id"] = new JsonObject { ["string"] = message.MessageId },
            ["PopReceipt"] = new JsonObject { ["string"] = message.PopReceipt },
            ["InsertionTime"] = Json(message.InsertedOn),
            ["ExpirationTime"] = Json(message.ExpiresOn),
            ["NextVisibleTime"] = Json(message.NextVisibleOn),
        };
        var deferred = SupportsDeferredBinding(function.Trigger);
        foreach (var (name, value) in deferred ? Enumerable.Empty<(string Name, JsonObject Value)>() : JsonProperties(text))
        {
            metadata.TryAdd(name, value);
        }
        var request = new JsonObject
        {
            ["requestId"] = Guid.NewGuid().ToString(),
            ["invocationRequest"] = new JsonObject
            {
                ["invocationId"] = invocationId,
                ["functionId"] = function.Name,
                ["inputData"] = new JsonArray(new JsonObject
                {
                    ["name"] = function.Trigger.GetProperty("name").GetString(),
                    ["data"] = deferred ? ParameterBindingData(message, text) : new JsonObject { ["string"] = text },
                }),
                ["triggerMetadata"] = metadata,
                ["traceContext"] = new JsonObject
                {
                    ["traceParent"] = $"00-{Guid.NewGuid():N}-{Guid.NewGuid().ToString("N")[..16]}-01",
                    ["traceState"] = "",
                },
            },
        };
        var answer = Expect(invocationId);
        await SendAsync(request);
        using (hostStopping.Register(() => _ = SendAsync(new JsonObject
               {
                   ["requestId"] = Guid.NewGuid().ToString(),
                   ["invocationCancel"] = new JsonObject { ["invocationId"] = invocationId },
               })))
        {
            var response = (await answer)["invocationResponse"]!;
            var result = response["result"]!;
            return new InvocationOutcome(result["status"]!.GetValue<string>(), result["exception"]?["message"]?.GetValue<string>());
        }
    }

    private Task LoadAsync(FunctionDefinition function) => _loaded.GetOrAdd(function.Name, async _ =>
    {
        var bindings = new JsonObject();
        foreach (var binding in function.Bindings)
        {
            bindings[binding.GetProperty("name").GetString()!] = new JsonObject
            {
                ["type"] = binding.GetProperty("type").GetString(),
                ["direction"] = binding.GetProperty("direction").GetString()!.ToLowerInvariant(),
                ["dataType"] = binding.TryGetProperty("dataType", out var dataType) ? dataType.GetString()!.ToLowerInvariant() : "undefined",
            };
        }
        var answer = Expect(function.Name);
        await SendAsync(new JsonObject
        {
            ["requestId"] = Guid.NewGuid().ToString(),
            ["functionLoadRequest"] = new JsonObject
            {
                ["functionId"] = function.Name,
                ["metadata"] = new JsonObject
                {
                    ["name"] = function.Name,
                    ["directory"] = AppContext.BaseDirectory,
                    ["scriptFile"] = function.ScriptFile,
                    ["entryPoint"] = function.EntryPoint,
                    ["bindings"] = bindings,
                },
            },
        });
        var result = (await answer)["functionLoadResponse"]!["result"]!;
        if (result["status"]!.GetValue<string>() != "Success")
        {
            throw new InvalidOperationException($"The worker did not load {function.Name}: {result["exception"]}");
        }
    });

    /// <summary>The worker's answer to a request; a bound that only a worker that never answers reaches.</summary>
    private Task<JsonNode> Expect(string id) =>
        _pending.GetOrAdd(id, _ => new TaskCompletionSource<JsonNode>(TaskCreationOptions.RunContinuationsAsynchronously)).Task
            .WaitAsync(TimeSpan.FromMinutes(2));

    private Task SendAsync(JsonObject message) =>
        (Task)_process.Invoke(_processor, [JsonParser.Default.Parse(message.ToJsonString(), StreamingMessage)])!;

    private async Task ReadAnswersAsync(IAsyncEnumerable<IMessage> answers)
    {
        await foreach (var message in answers)
        {
            var json = JsonNode.Parse(Formatter.Format(message))!;
            var id = json["invocationResponse"]?["invocationId"] ?? json["functionLoadResponse"]?["functionId"];
            if (id is not null && _pending.TryRemove(id.GetValue<string>(), out var answer))
            {
                answer.TrySetResult(json);
            }
        }
    }

    private static bool SupportsDeferredBinding(JsonElement trigger) =>
        trigger.TryGetProperty("properties", out var properties)
        && properties.TryGetProperty("supportsDeferredBinding", out var deferred)
        && string.Equals(deferred.GetString(), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// What the host's queue extension hands a deferred-binding trigger: the message as its queue client received it
    /// (body base64-decoded per host.json), serialized to JSON (<c>new BinaryData(message)</c>), as model binding data.
    /// </summary>
    private static JsonObject ParameterBindingData(Azure.Storage.Queues.Models.QueueMessage message, string text)
    {
        var decoded = Azure.Storage.Queues.Models.QueuesModelFactory.QueueMessage(message.MessageId, message.PopReceipt,
            BinaryData.FromString(text), message.DequeueCount, message.NextVisibleOn, message.InsertedOn, message.ExpiresOn);
        return new JsonObject
        {
            ["modelBindingData"] = new JsonObject
            {
                ["version"] = "1.0",
                ["source"] = "AzureStorageQueues",
                ["contentType"] = "application/json",
                ["content"] = Convert.ToBase64String(new BinaryData(decoded).ToArray()),
            },
        };
    }

    private static JsonObject Json<T>(T value) => new() { ["json"] = JsonSerializer.Serialize(value) };

    /// <summary>The top-level properties of a JSON object message, as the host adds them to the binding data.</summary>
    private static IEnumerable<(string Name, JsonObject Value)> JsonProperties(string text)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            yield break;
        }
        if (node is not JsonObject json)
        {
            yield break;
        }
        foreach (var (name, value) in json)
        {
            yield return (name, value is JsonValue v && v.TryGetValue<string>(out var s)
                ? new JsonObject { ["string"] = s }
                : new JsonObject { ["json"] = value?.ToJsonString() ?? "null" });
        }
    }
}
