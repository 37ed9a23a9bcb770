using System.Net;
using CalWebhookFunctions.Tests.Functional.Ingest;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Operations;

/// <summary>Every answer of <c>POST /api/webhooks/cal</c> and <c>GET /api/health</c>, real, validated against the served document.</summary>
public class OpenApiIngestAnswersTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private const string Receive = "/api/webhooks/cal";

    [Fact]
    public async Task Every_answer_of_ReceiveCalWebhook_matches_the_document()
    {
        await using var env = await IngestEnvironment.StartAsync(storage, new Dictionary<string, string?> { ["Ingest:MaxBodyBytes"] = "4096" });
        var body = CalDeliveries.BookingCreated();
        async Task AnswerAsync(HttpRequestMessage request, HttpStatusCode status, string? error = null)
        {
            using (request)
            {
                using var response = await env.Client.SendAsync(request);
                await OpenApiContract.AssertAnswerAsync(response, "POST", Receive, status, error);
            }
        }

        await AnswerAsync(CalDeliveries.Post(body, TestApp.WebhookSecret, "nangoConnectionId=conn-1"), HttpStatusCode.OK);
        await AnswerAsync(CalDeliveries.Post(body, TestApp.WebhookSecret, contentType: "application/x-www-form-urlencoded"), HttpStatusCode.OK);
        await AnswerAsync(CalDeliveries.Post([], TestApp.WebhookSecret), HttpStatusCode.BadRequest, "empty_body");
        await AnswerAsync(CalDeliveries.Post(body, TestApp.WebhookSecret, "nangoConnectionId=a%01b"), HttpStatusCode.BadRequest, "invalid_connection_id");
        await AnswerAsync(CalDeliveries.Post(body, secret: null), HttpStatusCode.Unauthorized, "signature_missing");
        await AnswerAsync(CalDeliveries.Post(body, null, signatureHeader: "no-secret-provided"), HttpStatusCode.Unauthorized, "no_secret_provided");
        await AnswerAsync(CalDeliveries.Post(body, null, signatureHeader: "abc"), HttpStatusCode.Unauthorized, "signature_malformed");
        await AnswerAsync(CalDeliveries.Post(body, "another-secret"), HttpStatusCode.Unauthorized, "signature_mismatch");
        await AnswerAsync(CalDeliveries.Post(CalDeliveries.BookingCreated(padTo: 5000), TestApp.WebhookSecret), HttpStatusCode.RequestEntityTooLarge, "body_too_large");
    }

    [Fact]
    public async Task Storage_unavailable_on_ingest_is_the_documented_503()
    {
        await using var app = await TestApp.StartAsync(ReceiveCalWebhookTests.DeadPort(storage.ConnectionString));
        await using var host = await FunctionsHost.StartAsync(app.Services);
        using var client = host.CreateClient();

        using var response = await client.SendAsync(CalDeliveries.Post(CalDeliveries.BookingCreated(), TestApp.WebhookSecret));

        await OpenApiContract.AssertAnswerAsync(response, "POST", Receive, HttpStatusCode.ServiceUnavailable, "storage_unavailable");
    }

    [Fact]
    public async Task Both_answers_of_Health_match_the_document()
    {
        foreach (var (connectionString, status) in new[]
                 {
                     (storage.ConnectionString, HttpStatusCode.OK),
                     (ReceiveCalWebhookTests.DeadPort(storage.ConnectionString), HttpStatusCode.ServiceUnavailable),
                 })
        {
            await using var app = await TestApp.StartAsync(connectionString);
            await using var host = await FunctionsHost.StartAsync(app.Services);
            using var client = host.CreateClient();
            using var response = await client.GetAsync(new Uri("api/health", UriKind.Relative));
            await OpenApiContract.AssertAnswerAsync(response, "GET", "/api/health", status);
        }
    }
}
