namespace CalWebhookFunctions.Tests.Infrastructure;

/// <summary>
/// Two storage accounts, each a real Azurite kept on disk so a test can stop it and start it again with what it held:
/// the primary (<c>AzureWebJobsStorage</c>) and the ingest fallback (<c>Ingest__FallbackStorage</c>).
/// </summary>
public sealed class TwoAccountsFixture : IAsyncLifetime
{
    public Azurite Primary { get; private set; } = null!;

    public Azurite Fallback { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var started = await Task.WhenAll(Azurite.StartAsync(persistent: true), Azurite.StartAsync(persistent: true));
        (Primary, Fallback) = (started[0], started[1]);
    }

    public async Task DisposeAsync()
    {
        await Primary.DisposeAsync();
        await Fallback.DisposeAsync();
    }

    /// <summary>Both accounts empty (each test starts from nothing).</summary>
    public Task ResetAsync() => Task.WhenAll(AzuriteFixture.ResetAsync(Primary.ConnectionString), AzuriteFixture.ResetAsync(Fallback.ConnectionString));
}
