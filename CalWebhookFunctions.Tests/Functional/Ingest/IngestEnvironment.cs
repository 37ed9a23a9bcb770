using CalWebhookFunctions.Messages;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Ingest;

/// <summary>A clean storage account, the app's services over it, and the HTTP functions served on loopback.</summary>
internal sealed class IngestEnvironment : IAsyncDisposable
{
    private IngestEnvironment(AzuriteFixture storage, TestApp app, FunctionsHost host)
    {
        Storage = storage;
        App = app;
        Host = host;
        Client = host.CreateClient();
    }

    public AzuriteFixture Storage { get; }
    public TestApp App { get; }
    public FunctionsHost Host { get; }
    public HttpClient Client { get; }

    public static async Task<IngestEnvironment> StartAsync(AzuriteFixture storage, IDictionary<string, string?>? settings = null)
    {
        await storage.ResetAsync();
        var app = await TestApp.StartAsync(storage.ConnectionString, settings);
        var host = await FunctionsHost.StartAsync(app.Services);
        return new IngestEnvironment(storage, app, host);
    }

    /// <summary>The messages waiting in cal-webhooks, decoded as the host would hand them to ForwardCalWebhook.</summary>
    public async Task<IReadOnlyList<QueuedWebhook>> QueuedAsync() =>
        [.. (await HostQueueMessages.PeekDecodedAsync(Storage.ConnectionString, StorageNames.WebhookQueue)).Select(b => PendingWebhooks.Deserialize(b))];

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Host.DisposeAsync();
        await App.DisposeAsync();
    }
}
