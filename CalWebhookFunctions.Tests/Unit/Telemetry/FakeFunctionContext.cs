using System.Collections.Immutable;
using Microsoft.Azure.Functions.Worker;

namespace CalWebhookFunctions.Tests.Unit.Telemetry;

/// <summary>A function invocation as a worker middleware sees it: one trigger binding and the trigger's binding data.</summary>
internal sealed class FakeFunctionContext(string triggerType, IReadOnlyDictionary<string, object?> bindingData) : FunctionContext
{
    public override string InvocationId => "invocation-1";
    public override string FunctionId => "function-1";
    public override TraceContext TraceContext => null!;
    public override BindingContext BindingContext { get; } = new FakeBindingContext(bindingData);
    public override RetryContext RetryContext => null!;
    public override IServiceProvider InstanceServices { get; set; } = null!;
    public override FunctionDefinition FunctionDefinition { get; } = new FakeFunctionDefinition(triggerType);
    public override IDictionary<object, object> Items { get; set; } = new Dictionary<object, object>();
    public override IInvocationFeatures Features => null!;

    private sealed class FakeBindingContext(IReadOnlyDictionary<string, object?> data) : BindingContext
    {
        public override IReadOnlyDictionary<string, object?> BindingData => data;
    }

    private sealed class FakeFunctionDefinition(string triggerType) : FunctionDefinition
    {
        public override ImmutableArray<FunctionParameter> Parameters => [];
        public override string PathToAssembly => "";
        public override string EntryPoint => "Fake.Run";
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
