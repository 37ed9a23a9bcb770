using System.Collections.Immutable;
using Microsoft.Azure.Functions.Worker;
using WorkerFunctionDefinition = Microsoft.Azure.Functions.Worker.FunctionDefinition;

namespace CalWebhookFunctions.Tests.Infrastructure;

/// <summary>A function invocation as a worker middleware sees it: one trigger binding and the trigger's binding data.</summary>
internal sealed class FakeFunctionContext(string triggerType, IReadOnlyDictionary<string, object?> bindingData,
    string entryPoint = "Fake.Run") : FunctionContext
{
    public override string InvocationId => "invocation-1";
    public override string FunctionId => "function-1";
    public override TraceContext TraceContext => null!;
    public override BindingContext BindingContext { get; } = new FakeBindingContext(bindingData);
    public override RetryContext RetryContext => null!;
    public override IServiceProvider InstanceServices { get; set; } = null!;
    public override WorkerFunctionDefinition FunctionDefinition { get; } = new FakeFunctionDefinition(triggerType, entryPoint);
    public override IDictionary<object, object> Items { get; set; } = new Dictionary<object, object>();
    public override IInvocationFeatures Features => null!;

    private sealed class FakeBindingContext(IReadOnlyDictionary<string, object?> data) : BindingContext
    {
        public override IReadOnlyDictionary<string, object?> BindingData => data;
    }

    private sealed class FakeFunctionDefinition(string triggerType, string entryPoint) : WorkerFunctionDefinition
    {
        public override ImmutableArray<FunctionParameter> Parameters => [];
        public override string PathToAssembly => "";
        public override string EntryPoint => entryPoint;
        public override string Id => "function-1";
        public override string Name => "Fake";
        public override IImmutableDictionary<string, BindingMetadata> InputBindings { get; } =
            ImmutableDictionary<string, BindingMetadata>.Empty.Add("trigger", new FakeBinding(triggerType));
        public override IImmutableDictionary<string, BindingMetadata> OutputBindings => ImmutableDictionary<string, BindingMetadata>.Empty;
    }

    private sealed class FakeBinding(string type) : BindingMetadata
    {
        public override string Name => "trigger";
        public override string Type => type;
        public override BindingDirection Direction => BindingDirection.In;
    }
}
