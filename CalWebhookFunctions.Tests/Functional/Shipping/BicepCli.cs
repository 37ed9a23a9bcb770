using System.Diagnostics;
using System.Reflection;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Shipping;

/// <summary>
/// The Bicep CLI from the <c>Azure.Bicep.CommandLine.linux-x64</c> NuGet package the test project restores (its path
/// is embedded at build time), run as a local process: build and lint need no network or Azure subscription.
/// </summary>
public static class BicepCli
{
    public static string Path { get; } = typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "BicepPath").Value!;

    public sealed record Result(int ExitCode, string StandardOutput, string StandardError)
    {
        public string Diagnostics => (StandardOutput + StandardError).Trim();
    }

    public static async Task<Result> RunAsync(IReadOnlyDictionary<string, string>? environment = null, params string[] arguments)
    {
        EnsureExecutable();
        var start = new ProcessStartInfo(Path)
        {
            WorkingDirectory = RepoPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Path}.");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>NuGet does not always keep the execute bit when it extracts a package; restore it.</summary>
    private static void EnsureExecutable()
    {
        if (!File.Exists(Path))
        {
            throw new FileNotFoundException("The Bicep CLI is missing: restore the test project (dotnet restore).", Path);
        }
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var mode = File.GetUnixFileMode(Path);
        if (!mode.HasFlag(UnixFileMode.UserExecute))
        {
            File.SetUnixFileMode(Path, mode | UnixFileMode.UserExecute);
        }
    }
}
