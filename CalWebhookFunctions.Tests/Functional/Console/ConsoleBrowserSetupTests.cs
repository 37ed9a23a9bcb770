using Xunit.Sdk;

namespace CalWebhookFunctions.Tests.Functional.Console;

/// <summary>Without Chromium the browser tests fail and say how to install it; they never pass or skip silently.</summary>
public sealed class ConsoleBrowserSetupTests
{
    private const string Missing = "/nonexistent/chromium";

    [Fact]
    public void The_test_side_refuses_a_missing_browser_naming_the_apt_package()
    {
        var failure = Assert.Throws<TrueException>(() => ConsoleBrowser.RequireChromium(Missing));

        Assert.Contains("apt-get install -y chromium", failure.Message, StringComparison.Ordinal);
        Assert.Contains(Missing, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_browser_script_exits_non_zero_naming_the_apt_package_when_the_browser_is_missing()
    {
        var run = await ConsoleBrowser.RunScriptAsync("sign-in", new Uri("http://127.0.0.1:9/api/console"), "unused",
            environment: new Dictionary<string, string> { ["CONSOLE_CHROMIUM"] = Missing });

        Assert.Equal(3, run.ExitCode);
        Assert.Contains($"FAIL: Chromium is not installed at {Missing}", run.Output, StringComparison.Ordinal);
        Assert.Contains("apt-get install -y chromium", run.Output, StringComparison.Ordinal);
    }
}
