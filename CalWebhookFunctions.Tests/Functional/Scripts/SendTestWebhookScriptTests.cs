using System.Diagnostics;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Scripts;

/// <summary>
/// The README's "see it work" step: scripts/send-test-webhook.mjs against the running functions, signing with the
/// connection's derived secret when connection-bound secrets are on (the default) and with the shared one when off.
/// </summary>
public class SendTestWebhookScriptTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private static async Task<(int ExitCode, string Output)> RunScriptAsync(params string[] args)
    {
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoPaths.Root };
        start.ArgumentList.Add(RepoPaths.File("scripts", "send-test-webhook.mjs"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Script_delivery_is_signed_correctly_and_accepted_for_its_connection(bool connectionBoundSecrets)
    {
        await storage.ResetAsync();
        await using var app = await TestApp.StartAsync(storage.ConnectionString,
            new Dictionary<string, string?> { [TestApp.SharedSecretsKey] = connectionBoundSecrets ? "true" : "false" });
        await using var host = await FunctionsHost.StartAsync(app.Services);

        var (exitCode, output) = await RunScriptAsync("--url", new Uri(host.BaseAddress, "api/webhooks/cal").ToString(),
            "--secret", TestApp.WebhookSecret, "--connection", "script/conn 1", "--bound", connectionBoundSecrets ? "true" : "false");

        Assert.True(exitCode == 0, output);
        Assert.Contains("-> 200", output, StringComparison.Ordinal);
        var queued = PendingWebhooks.Deserialize(Assert.Single(await HostQueueMessages.PeekDecodedAsync(storage.ConnectionString, StorageNames.WebhookQueue)));
        Assert.Equal("script/conn 1", queued.ConnectionId);
        Assert.Contains(queued.EventId, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Script_with_the_wrong_secret_is_refused_and_exits_non_zero()
    {
        await storage.ResetAsync();
        await using var app = await TestApp.StartAsync(storage.ConnectionString);
        await using var host = await FunctionsHost.StartAsync(app.Services);

        var (exitCode, output) = await RunScriptAsync("--url", new Uri(host.BaseAddress, "api/webhooks/cal").ToString(), "--secret", "wrong");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("-> 401", output, StringComparison.Ordinal);
        Assert.Empty(await HostQueueMessages.PeekDecodedAsync(storage.ConnectionString, StorageNames.WebhookQueue));
    }
}
