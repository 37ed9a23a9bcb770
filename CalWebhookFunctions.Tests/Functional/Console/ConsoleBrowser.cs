using System.Diagnostics;
using System.Text.Json;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Console;

/// <summary>What a run of console-browser.mjs printed and how it exited.</summary>
public sealed record ConsoleRun(int ExitCode, string Output)
{
    /// <summary>Asserts the scenario passed, showing everything it printed when it did not.</summary>
    public void AssertPassed()
    {
        Assert.True(ExitCode == 0, $"The browser scenario failed (exit {ExitCode}):\n{Output}");
        Assert.DoesNotContain("FAIL:", Output, StringComparison.Ordinal);
    }
}

/// <summary>
/// Runs a scenario of <c>console-browser.mjs</c> (playwright-core driving Debian's Chromium) with <c>node</c>. Chromium
/// missing is a failure that says how to install it, never a skip.
/// </summary>
public static class ConsoleBrowser
{
    /// <summary>Debian's Chromium, or the browser <c>CONSOLE_CHROMIUM</c> names (the Azure pipeline's hosted Ubuntu has Google Chrome).</summary>
    public static string Chromium => Environment.GetEnvironmentVariable("CONSOLE_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public static string Script => RepoPaths.File("CalWebhookFunctions.Tests", "Functional", "Console", "console-browser.mjs");

    /// <summary>Fails, saying how to install it, when there is no browser at <paramref name="path"/>.</summary>
    public static void RequireChromium(string path) =>
        Assert.True(File.Exists(path),
            $"Chromium is not installed at {path}: the console's browser tests need Debian's package (apt-get update && apt-get install -y chromium; .ci/run installs it), or CONSOLE_CHROMIUM naming another Chromium-based browser.");

    public static Task<ConsoleRun> RunAsync(string scenario, Uri pageUrl, string functionKey, object? data = null,
        IDictionary<string, string>? environment = null)
    {
        RequireChromium(Chromium);
        return RunScriptAsync(scenario, pageUrl, functionKey, data, environment);
    }

    /// <summary>Runs the script without checking for the browser first (the script checks too).</summary>
    public static async Task<ConsoleRun> RunScriptAsync(string scenario, Uri pageUrl, string functionKey, object? data = null,
        IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoPaths.Root };
        start.ArgumentList.Add(Script);
        start.ArgumentList.Add(scenario);
        start.Environment["CONSOLE_URL"] = pageUrl.ToString();
        start.Environment["CONSOLE_KEY"] = functionKey;
        start.Environment["CONSOLE_DATA"] = JsonSerializer.Serialize(data ?? new { });
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return new ConsoleRun(process.ExitCode, await output + await errors);
    }
}
