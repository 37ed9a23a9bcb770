using System.Net;
using System.Net.Sockets;
using CalWebhookFunctions.Ingest;
using CalWebhookFunctions.Telemetry;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Tests.Functional.Telemetry;

public sealed class StorageFailureTelemetryTests
{
    [Fact]
    public async Task Storage_failure_line_carries_the_id_of_the_event_that_could_not_be_stored()
    {
        // Storage on a loopback port nothing listens on.
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        var connection = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
            "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
            $"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{port}/devstoreaccount1;" +
            $"TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";
        await using var app = await TestApp.StartAsync(connection);
        await using var host = await FunctionsHost.StartAsync(app.Services);
        using var client = host.CreateClient();

        var response = await client.SendAsync(CalDeliveries.Post(CalDeliveries.BookingCreated(), TestApp.WebhookSecret));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var line = Assert.Single(app.Logs.Entries, e => e.Category == typeof(WebhookIngestor).FullName && e.Level == LogLevel.Error);
        Assert.Matches("^[0-9a-f]{32}$", Assert.IsType<string>(line.Scope(EventLogScope.EventIdProperty)));
    }
}
