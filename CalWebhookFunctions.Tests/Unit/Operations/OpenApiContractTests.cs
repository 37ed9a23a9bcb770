using System.Net;
using System.Text;
using CalWebhookFunctions.Tests.Infrastructure;
using Xunit.Sdk;

namespace CalWebhookFunctions.Tests.Unit.Operations;

/// <summary>The contract helper refuses what the document does not allow, so a test that passes through it can fail.</summary>
public class OpenApiContractTests
{
    private static HttpResponseMessage Answer(HttpStatusCode status, string? json, string mediaType = "application/json") => new(status)
    {
        Content = json is null ? new ByteArrayContent([]) : new StringContent(json, Encoding.UTF8, mediaType),
    };

    private static async Task<string> RefusedAsync(HttpResponseMessage response, string method, string path) =>
        (await Assert.ThrowsAnyAsync<XunitException>(() => OpenApiContract.AssertAnswerAsync(response, method, path))).Message;

    [Fact]
    public async Task A_documented_answer_passes()
    {
        using var response = Answer(HttpStatusCode.OK, """{"status":"accepted","id":"0193a1b2c3d47e5f8a9b0c1d2e3f4a5b"}""");
        await OpenApiContract.AssertAnswerAsync(response, "POST", "/api/webhooks/cal");
    }

    [Fact]
    public async Task An_undocumented_status_code_fails()
    {
        using var response = Answer(HttpStatusCode.Conflict, """{"error":"conflict","message":"m"}""");
        Assert.Contains("does not list", await RefusedAsync(response, "POST", "/api/webhooks/cal"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_operation_fails()
    {
        using var response = Answer(HttpStatusCode.OK, "{}");
        Assert.Contains("no operation", await RefusedAsync(response, "PATCH", "/api/webhooks/cal"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_missing_a_required_field_fails_with_the_validators_message()
    {
        using var response = Answer(HttpStatusCode.OK, """{"status":"accepted"}""");
        var message = await RefusedAsync(response, "POST", "/api/webhooks/cal");
        Assert.Contains("required", message, StringComparison.Ordinal);
        Assert.Contains("id", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_error_code_the_answer_does_not_document_fails()
    {
        using var response = Answer(HttpStatusCode.BadRequest, """{"error":"something_else","message":"m"}""");
        Assert.Contains("enum", await RefusedAsync(response, "POST", "/api/webhooks/cal"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_time_that_is_not_a_date_time_fails()
    {
        using var response = Answer(HttpStatusCode.OK, """
            {"connectionId":"c","scope":"user","subscriberUrl":"https://x.test/a","triggers":["BOOKING_CREATED"],"state":"active",
             "createdAt":"yesterday","updatedAt":"2026-12-02T06:31:40.1234567+00:00"}
            """);
        Assert.Contains("/createdAt", await RefusedAsync(response, "GET", "/api/connections/{connectionId}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_where_the_document_has_none_fails_and_none_where_it_has_one_fails()
    {
        using var unexpected = Answer(HttpStatusCode.NoContent, """{"x":1}""");
        Assert.Contains("has none", await RefusedAsync(unexpected, "DELETE", "/api/connections/{connectionId}"), StringComparison.Ordinal);
        using var missing = Answer(HttpStatusCode.OK, null);
        await RefusedAsync(missing, "GET", "/api/connections/{connectionId}");
    }

    [Fact]
    public async Task An_undocumented_media_type_fails()
    {
        using var response = Answer(HttpStatusCode.OK, "<html></html>", "text/html");
        Assert.Contains("lists only", await RefusedAsync(response, "GET", "/api/health"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_documented_required_header_that_is_missing_fails()
    {
        using var response = Answer(HttpStatusCode.Conflict, """{"error":"registration_in_progress","message":"m"}""");
        Assert.Contains("Retry-After", await RefusedAsync(response, "DELETE", "/api/connections/{connectionId}"), StringComparison.Ordinal);
    }
}
