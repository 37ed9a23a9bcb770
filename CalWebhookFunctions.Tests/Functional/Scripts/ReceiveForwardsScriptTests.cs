using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using CalWebhookFunctions.Tests.Functional.Forwarding;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Scripts;

/// <summary>scripts/receive-forwards.mjs, the local stand-in for the owner's app, receiving the real forwarder's output.</summary>
public class ReceiveForwardsScriptTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private sealed class Script : IDisposable
    {
        private readonly Process _process;

        public Script(int port, string secret)
        {
            var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoPaths.Root };
            foreach (var arg in new[] { RepoPaths.File("scripts", "receive-forwards.mjs"), "--port", $"{port}", "--secret", secret })
            {
                start.ArgumentList.Add(arg);
            }
            _process = Process.Start(start)!;
            _process.OutputDataReceived += (_, e) => { if (e.Data is not null) { Lines.Enqueue(e.Data); } };
            _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Lines.Enqueue(e.Data); } };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public ConcurrentQueue<string> Lines { get; } = new();

        public async Task WaitForAsync(string text)
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (!Lines.Any(l => l.Contains(text, StringComparison.Ordinal)))
            {
                Assert.True(DateTime.UtcNow < deadline, $"The script never printed '{text}': {string.Join('\n', Lines)}");
                await Task.Delay(25);
            }
        }

        public void Dispose()
        {
            _process.Kill(entireProcessTree: true);
            _process.Dispose();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Theory]
    [InlineData(TestApp.SigningSecret, "verified")]
    [InlineData("whsec_" + "c29tZSBvdGhlciBzZWNyZXQsIDI0IGJ5dGVzIG9yIG1vcmU=", "REJECTED")]
    public async Task Script_verifies_the_forwarders_signature(string scriptSecret, string expected)
    {
        var port = FreePort();
        using var script = new Script(port, scriptSecret);
        await script.WaitForAsync("Listening");
        await using var harness = await ForwardingHarness.StartAsync(storage,
            settings: new Dictionary<string, string?> { ["Forwarding:Url"] = $"http://127.0.0.1:{port}/webhooks/cal" });
        await harness.AddConnectionAsync("conn-7");

        await harness.EnqueueAsync(CalDeliveries.BookingCreated(), "conn-7");
        await harness.DrainAsync();

        await script.WaitForAsync(expected);
        var line = Assert.Single(script.Lines, l => l.Contains("msg_", StringComparison.Ordinal));
        Assert.StartsWith(expected, line, StringComparison.Ordinal);
        Assert.Contains("type=forward connectionId=conn-7 trigger=BOOKING_CREATED", line, StringComparison.Ordinal);
    }
}
