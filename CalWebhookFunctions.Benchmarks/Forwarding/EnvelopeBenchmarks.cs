using BenchmarkDotNet.Attributes;
using CalWebhookFunctions.Benchmarks.Payloads;
using CalWebhookFunctions.Forwarding;

namespace CalWebhookFunctions.Benchmarks.Forwarding;

/// <summary>
/// Writing Nango's forward envelope around a realistic Cal.com JSON body (non-ASCII, escapes; see
/// <see cref="CalPayloads"/>) against its floor: copying the payload bytes once into a new array of their size,
/// which any envelope has to do at least. Goal: at most 1.5× the floor's time, and allocations at most 1.1× the
/// payload size.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(EnvelopeConfig))]
public class EnvelopeBenchmarks
{
    /// <summary>A connection id as owners write them: an ASCII tenant path.</summary>
    public const string ConnectionId = "tenant-7f3a9c2e/prod";

    private readonly ForwardEnvelope _envelope = new("cal-com-oauth");
    private byte[] _payload = [];

    [Params(2 * 1024, 1024 * 1024)]
    public int PayloadBytes { get; set; }

    [GlobalSetup]
    public void Setup() => _payload = CalPayloads.BookingCreated(PayloadBytes);

    [Benchmark(Baseline = true, Description = "floor: copy the payload once")]
    public byte[] Floor()
    {
        var copy = GC.AllocateUninitializedArray<byte>(_payload.Length);
        _payload.AsSpan().CopyTo(copy);
        return copy;
    }

    [Benchmark(Description = "ForwardEnvelope.Write")]
    public byte[] Write() => _envelope.Write(ConnectionId, _payload, payloadIsJson: true);
}
