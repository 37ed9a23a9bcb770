using System.Net;
using System.Text;
using Azure.Storage.Blobs;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Tests.Functional.Operations;

/// <summary>
/// Every answer of the delivery log routes and of stats, real (events forwarded by the queue host to a receiving app
/// that accepts, fails retryably or rejects), validated against the served document.
/// </summary>
public class OpenApiDeliveriesAnswersTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string List = "/api/deliveries";
    private const string Detail = "/api/deliveries/{eventId}";
    private const string Payload = "/api/deliveries/{eventId}/payload";
    private const string Redeliver = "/api/deliveries/{eventId}/redeliver";
    private static readonly string Unknown = new('0', 32);

    /// <summary>The app rejects bodies holding "reject", fails retryably on "retry", and takes the rest.</summary>
    private static Task<int> Respond(HttpContext context, byte[] body, int before)
    {
        var text = Encoding.UTF8.GetString(body);
        return Task.FromResult(text.Contains("reject", StringComparison.Ordinal) ? 400 : text.Contains("retry", StringComparison.Ordinal) ? 503 : 200);
    }

    [Fact]
    public async Task Every_answer_of_the_delivery_log_and_stats_matches_the_document()
    {
        await azurite.ResetAsync();
        await using var harness = await DeliveriesHarness.StartAsync(azurite, Respond,
            new Dictionary<string, string?> { ["Forwarding:RetrySchedule"] = "1h" });
        await harness.Forwarding.AddConnectionAsync("customer-42");
        var delivered = await harness.ForwardAsync(CalDeliveries.BookingCreated(), "customer-42");
        var form = await harness.ForwardAsync(Encoding.UTF8.GetBytes("name=Ada&email=a%40example.org"), "customer-42", "application/x-www-form-urlencoded");
        var rejected = await harness.ForwardAsync(Encoding.UTF8.GetBytes("""{"triggerEvent":"BOOKING_CANCELLED","note":"reject"}"""));
        var large = await harness.ForwardAsync(CalDeliveries.BookingCreated(padTo: 80 * 1024), "customer-42");
        // Last: its next attempt waits an hour in the queue.
        var retrying = await harness.ForwardAsync(Encoding.UTF8.GetBytes("""{"triggerEvent":"BOOKING_CREATED","note":"retry"}"""), "never-registered");

        await OpenApiContract.AnswerAsync(harness.GetAsync("deliveries"), "GET", List, HttpStatusCode.OK);
        await OpenApiContract.AnswerAsync(harness.GetAsync("deliveries?status=dead_lettered&trigger=BOOKING_CANCELLED"), "GET", List, HttpStatusCode.OK);
        using (var page = await harness.GetAsync("deliveries?connectionId=customer-42&limit=1&since=2020-01-01T00:00:00Z"))
        {
            var json = await OpenApiContract.AssertAnswerAsync(page, "GET", List, HttpStatusCode.OK);
            var next = json.GetProperty("continuation").GetString();
            Assert.NotNull(next);
            await OpenApiContract.AnswerAsync(harness.GetAsync($"deliveries?connectionId=customer-42&limit=1&since=2020-01-01T00:00:00Z&continuation={Uri.EscapeDataString(next)}"),
                "GET", List, HttpStatusCode.OK);
        }
        await OpenApiContract.AnswerAsync(harness.GetAsync("deliveries?limit=0"), "GET", List, HttpStatusCode.BadRequest, "invalid_query");
        await OpenApiContract.AnswerAsync(harness.GetAsync("deliveries?status=lost"), "GET", List, HttpStatusCode.BadRequest, "invalid_query");

        foreach (var (message, status) in new[] { (delivered, "delivered"), (form, "delivered"), (retrying, "retrying"), (rejected, "dead_lettered") })
        {
            using var detail = await harness.GetAsync("deliveries/" + message.EventId);
            var json = await OpenApiContract.AssertAnswerAsync(detail, "GET", Detail, HttpStatusCode.OK);
            Assert.Equal(status, json.GetProperty("status").GetString());
        }
        await OpenApiContract.AnswerAsync(harness.GetAsync("deliveries/not-an-event"), "GET", Detail, HttpStatusCode.BadRequest, "invalid_event_id");
        await OpenApiContract.AnswerAsync(harness.GetAsync("deliveries/" + Unknown), "GET", Detail, HttpStatusCode.NotFound, "delivery_not_found");

        await OpenApiContract.AnswerAsync(harness.GetAsync($"deliveries/{delivered.EventId}/payload"), "GET", Payload, HttpStatusCode.OK);
        await OpenApiContract.AnswerAsync(harness.GetAsync($"deliveries/{form.EventId}/payload"), "GET", Payload, HttpStatusCode.OK);
        await OpenApiContract.AnswerAsync(harness.GetAsync("deliveries/not-an-event/payload"), "GET", Payload, HttpStatusCode.BadRequest, "invalid_event_id");
        await OpenApiContract.AnswerAsync(harness.GetAsync($"deliveries/{Unknown}/payload"), "GET", Payload, HttpStatusCode.NotFound, "delivery_not_found");

        await OpenApiContract.AnswerAsync(harness.PostAsync($"deliveries/{delivered.EventId}/redeliver"), "POST", Redeliver, HttpStatusCode.Accepted);
        await OpenApiContract.AnswerAsync(harness.PostAsync("deliveries/not-an-event/redeliver"), "POST", Redeliver, HttpStatusCode.BadRequest, "invalid_event_id");
        await OpenApiContract.AnswerAsync(harness.PostAsync($"deliveries/{Unknown}/redeliver"), "POST", Redeliver, HttpStatusCode.NotFound, "delivery_not_found");

        // The large body lives in a blob; once it is gone, the payload is no longer retained.
        var container = new BlobContainerClient(azurite.ConnectionString, StorageNames.PayloadContainer);
        await foreach (var blob in container.GetBlobsAsync())
        {
            await container.DeleteBlobAsync(blob.Name);
        }
        await OpenApiContract.AnswerAsync(harness.GetAsync($"deliveries/{large.EventId}/payload"), "GET", Payload, HttpStatusCode.Gone, "payload_expired");
        await OpenApiContract.AnswerAsync(harness.PostAsync($"deliveries/{large.EventId}/redeliver"), "POST", Redeliver, HttpStatusCode.Gone, "payload_expired");

        await OpenApiContract.AnswerAsync(harness.GetAsync("stats"), "GET", "/api/stats", HttpStatusCode.OK);
        await OpenApiContract.AnswerAsync(harness.GetAsync("stats?window=7d"), "GET", "/api/stats", HttpStatusCode.BadRequest, "invalid_query");
    }

    [Fact]
    public async Task Stats_of_an_app_that_has_seen_nothing_match_the_document()
    {
        await azurite.ResetAsync();
        await using var app = await TestApp.StartAsync(azurite.ConnectionString);
        await using var host = await FunctionsHost.StartAsync(app.Services);
        using var client = host.CreateClient();
        client.DefaultRequestHeaders.Add("x-functions-key", FunctionsHost.FunctionKey);

        await OpenApiContract.AnswerAsync(client.GetAsync(new Uri("api/stats", UriKind.Relative)), "GET", "/api/stats", HttpStatusCode.OK);
    }

    [Fact]
    public async Task Storage_down_is_the_documented_503_on_every_log_route_and_stats()
    {
        await azurite.ResetAsync();
        await using var app = await TestApp.StartAsync(azurite.ConnectionString,
            configureServices: s => s.AddSingleton(StorageFaults.Everything(azurite.ConnectionString)));
        await using var host = await FunctionsHost.StartAsync(app.Services);
        using var client = host.CreateClient();
        client.DefaultRequestHeaders.Add("x-functions-key", FunctionsHost.FunctionKey);
        var id = Guid.CreateVersion7().ToString("N");

        await OpenApiContract.AnswerAsync(client.GetAsync(new Uri("api/deliveries", UriKind.Relative)), "GET", List, HttpStatusCode.ServiceUnavailable, "storage_unavailable");
        await OpenApiContract.AnswerAsync(client.GetAsync(new Uri("api/deliveries/" + id, UriKind.Relative)), "GET", Detail, HttpStatusCode.ServiceUnavailable, "storage_unavailable");
        await OpenApiContract.AnswerAsync(client.GetAsync(new Uri($"api/deliveries/{id}/payload", UriKind.Relative)), "GET", Payload, HttpStatusCode.ServiceUnavailable, "storage_unavailable");
        await OpenApiContract.AnswerAsync(client.PostAsync(new Uri($"api/deliveries/{id}/redeliver", UriKind.Relative), null), "POST", Redeliver, HttpStatusCode.ServiceUnavailable, "storage_unavailable");
        await OpenApiContract.AnswerAsync(client.GetAsync(new Uri("api/stats", UriKind.Relative)), "GET", "/api/stats", HttpStatusCode.ServiceUnavailable, "storage_unavailable");
    }
}
