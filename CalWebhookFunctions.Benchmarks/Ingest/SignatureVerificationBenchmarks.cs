using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using CalWebhookFunctions.Ingest;

namespace CalWebhookFunctions.Benchmarks.Ingest;

/// <summary>
/// Verifying X-Cal-Signature-256 against its floor: one HMAC-SHA256 over the same bytes with the same key.
/// Goal: at most 1.10× the floor's time and nothing allocated per verification.
/// </summary>
[MemoryDiagnoser]
public class SignatureVerificationBenchmarks
{
    private byte[] _body = [];
    private byte[][] _keys = [];
    private string _header = "";
    private readonly byte[] _mac = new byte[HMACSHA256.HashSizeInBytes];

    [Params(1024, 16 * 1024, 1024 * 1024)]
    public int BodyBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _body = new byte[BodyBytes];
        new Random(42).NextBytes(_body);
        _keys = [Encoding.UTF8.GetBytes("benchmark-integration-secret-0123456789")];
        _header = Convert.ToHexStringLower(HMACSHA256.HashData(_keys[0], _body));
    }

    [Benchmark(Baseline = true, Description = "floor: HMACSHA256.HashData")]
    public int Floor() => HMACSHA256.HashData(_keys[0], _body, _mac);

    [Benchmark(Description = "CalSignature.Verify")]
    public SignatureCheck Verify() => CalSignature.Verify(_body, _header, _keys);
}
