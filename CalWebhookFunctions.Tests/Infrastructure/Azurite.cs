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

    private Process _process;
    private readonly string _workDir;
    private readonly StringBuilder _output;
    private readonly (int Blob, int Queue, int Table) _ports;
    private readonly bool _persistent;

    private Azurite(Process process, string workDir, StringBuilder output, int blobPort, int queuePort, int tablePort, bool persistent)
    {
        _process = process;
        _workDir = workDir;
        _output = output;
        _ports = (blobPort, queuePort, tablePort);
        _persistent = persistent;
        ConnectionString =
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
            $"AccountKey={AccountKey};" +
            $"BlobEndpoint=http://127.0.0.1:{blobPort}/devstoreaccount1;" +
            $"QueueEndpoint=http://127.0.0.1:{queuePort}/devstoreaccount1;" +
            $"TableEndpoint=http://127.0.0.1:{tablePort}/devstoreaccount1;";
    }

    public string ConnectionString { get; }

    /// <param name="persistent">
    /// Keep the account on disk (in its work folder) instead of in memory, so that <see cref="StopAsync"/> and
    /// <see cref="RestartAsync"/> take it down and bring it back, on the same ports, with everything it held.
    /// </param>
    public static async Task<Azurite> StartAsync(bool persistent = false)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryStartAsync(persistent);
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                // A free port was taken between choosing it and Azurite binding it; choose again.
            }
        }
    }

    private static async Task<Azurite> TryStartAsync(bool persistent)
    {
        var (blob, queue, table) = (FreePort(), FreePort(), FreePort());
        var workDir = Directory.CreateTempSubdirectory("azurite-").FullName;
        var output = new StringBuilder();
        var azurite = new Azurite(Launch(workDir, output, blob, queue, table, persistent), workDir, output, blob, queue, table, persistent);
        await azurite.WaitUntilListeningAsync();
        return azurite;
    }

    /// <summary>Stops the process as an operator would (SIGTERM: Azurite saves what it holds and closes its ports).</summary>
    public async Task StopAsync()
    {
        if (!_persistent)
        {
            throw new InvalidOperationException("Only a persistent Azurite can be stopped and started again.");
        }
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        _process.Dispose();
    }

    /// <summary>Starts the stopped account again on the same ports, with what it held when it stopped.</summary>
    public async Task RestartAsync()
    {
        _process = Launch(_workDir, _output, _ports.Blob, _ports.Queue, _ports.Table, _persistent);
        await WaitUntilListeningAsync();
    }

    private static Process Launch(string workDir, StringBuilder output, int blob, int queue, int table, bool persistent)
    {
        var script = RepoPaths.File("node_modules", "azurite", "dist", "src", "azurite.js");
        if (!System.IO.File.Exists(script))
        {
            throw new FileNotFoundException("Azurite is not installed; run 'npm ci' in the repository root (the test build does this).", script);
        }
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // In memory, no --location: Azurite 3.37 refuses it together with --inMemoryPersistence (the process runs in workDir).
        string[] persistence = persistent ? ["--location", workDir] : ["--inMemoryPersistence"];
        // AZURITE_NODE_ARGS: node's own flags for a profiling run (e.g. "--prof --logfile=/tmp/azurite.log"), which node
        // refuses in NODE_OPTIONS.
        var nodeArgs = (Environment.GetEnvironmentVariable("AZURITE_NODE_ARGS") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        foreach (var arg in nodeArgs.Concat(new[]
                 {
                     script, "--skipApiVersionCheck", "--disableTelemetry",
                     "--blobHost", "127.0.0.1", "--blobPort", $"{blob}",
                     "--queueHost", "127.0.0.1", "--queuePort", $"{queue}",
                     "--tableHost", "127.0.0.1", "--tablePort", $"{table}",
                 }).Concat(persistence))
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start node.");
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private async Task WaitUntilListeningAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!(IsListening(_ports.Blob) && IsListening(_ports.Queue) && IsListening(_ports.Table)))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                string log;
                lock (_output) { log = _output.ToString(); }
                await DisposeAsync();
                throw new InvalidOperationException($"Azurite did not start: {log}");
            }
            await Task.Delay(50);
        }
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
