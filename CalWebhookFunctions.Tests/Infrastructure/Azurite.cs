using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CalWebhookFunctions.Tests.Infrastructure;

/// <summary>
/// A real Azurite (installed from the repository's npm lockfile) on free loopback ports with in-memory
/// persistence. Each instance is a fresh, empty storage account.
/// </summary>
public sealed class Azurite : IAsyncDisposable
{
    /// <summary>Azurite's well-known development account key (public, not a secret).</summary>
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly Process _process;
    private readonly string _workDir;
    private readonly StringBuilder _output;

    private Azurite(Process process, string workDir, StringBuilder output, int blobPort, int queuePort, int tablePort)
    {
        _process = process;
        _workDir = workDir;
        _output = output;
        ConnectionString =
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
            $"AccountKey={AccountKey};" +
            $"BlobEndpoint=http://127.0.0.1:{blobPort}/devstoreaccount1;" +
            $"QueueEndpoint=http://127.0.0.1:{queuePort}/devstoreaccount1;" +
            $"TableEndpoint=http://127.0.0.1:{tablePort}/devstoreaccount1;";
    }

    public string ConnectionString { get; }

    public static async Task<Azurite> StartAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryStartAsync();
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                // A free port was taken between choosing it and Azurite binding it; choose again.
            }
        }
    }

    private static async Task<Azurite> TryStartAsync()
    {
        var script = RepoPaths.File("node_modules", "azurite", "dist", "src", "azurite.js");
        if (!System.IO.File.Exists(script))
        {
            throw new FileNotFoundException("Azurite is not installed; run 'npm ci' in the repository root (the test build does this).", script);
        }
        var (blob, queue, table) = (FreePort(), FreePort(), FreePort());
        var workDir = Directory.CreateTempSubdirectory("azurite-").FullName;
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     // No --location: Azurite 3.37 refuses it together with --inMemoryPersistence (the process runs in workDir).
                     script, "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry",
                     "--blobHost", "127.0.0.1", "--blobPort", $"{blob}",
                     "--queueHost", "127.0.0.1", "--queuePort", $"{queue}",
                     "--tableHost", "127.0.0.1", "--tablePort", $"{table}",
                 })
        {
            start.ArgumentList.Add(arg);
        }
        var output = new StringBuilder();
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start node.");
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var azurite = new Azurite(process, workDir, output, blob, queue, table);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!(IsListening(blob) && IsListening(queue) && IsListening(table)))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                string log;
                lock (output) { log = output.ToString(); }
                await azurite.DisposeAsync();
                throw new InvalidOperationException($"Azurite did not start: {log}");
            }
            await Task.Delay(50);
        }
        return azurite;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_workDir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: it is a temp folder.
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool IsListening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
