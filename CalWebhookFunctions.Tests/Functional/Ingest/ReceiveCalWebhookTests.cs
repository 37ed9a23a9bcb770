using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Messages;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Ingest;

/// <summary>
/// POST /api/webhooks/cal over real HTTP on loopback, with real Azurite behind it: every answer is checked for
/// its status, its JSON body and what was (or was not) stored in cal-webhooks.
/// </summary>
public class ReceiveCalWebhookTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(IngestEnvironment env, HttpRequestMessage request)
    {
        using var response = await env.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static async Task AssertRejectedAsync(IngestEnvironment env, HttpRequestMessage request, HttpStatusCode status, string code)
    {
        var (actual, body) = await SendAsync(env, request);
        Assert.Equal(status, actual);
        Assert.Equal(code, body.GetProperty("error").GetString());
        Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("message").GetString()));
        Assert.Empty(await env.QueuedAsync());
    }

    private static async Task<QueuedWebhook> AssertAcceptedAsync(IngestEnvironment env, HttpRequestMessage request)
    {
        var (status, body) = await SendAsync(env, request);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("accepted", body.GetProperty("status").GetString());
        var queued = Assert.Single(await env.QueuedAsync());
        Assert.Equal(body.GetProperty("id").GetString(), queued.EventId);
        return queued;
    }

    [Fact]
    public async Task Signed_delivery_is_answered_200_with_the_id_of_the_message_stored_byte_for_byte()
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        var body = CalDeliveries.BookingCreated();

        var queued = await AssertAcceptedAsync(env, CalDeliveries.Post(body, TestApp.WebhookSecret, "nangoConnectionId=conn-1"));

        Assert.Equal(body, queued.Body);
        Assert.Equal(body.Length, queued.BodyLength);
        Assert.Null(queued.BodyBlob);
        Assert.Equal("conn-1", queued.ConnectionId);
        Assert.Equal(CalDeliveries.Sign(body, TestApp.WebhookSecret), queued.Headers["X-Cal-Signature-256"]);
        Assert.Equal("2021-10-20", queued.Headers["X-Cal-Webhook-Version"]);
        Assert.Equal("application/json", queued.Headers["Content-Type"]);
        Assert.InRange(queued.ReceivedAt, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1));
    }

    [Fact]
    public async Task Two_identical_deliveries_get_two_event_ids()
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        var body = CalDeliveries.BookingCreated();
        var (_, first) = await SendAsync(env, CalDeliveries.Post(body, TestApp.WebhookSecret));
        var (_, second) = await SendAsync(env, CalDeliveries.Post(body, TestApp.WebhookSecret));

        Assert.NotEqual(first.GetProperty("id").GetString(), second.GetProperty("id").GetString());
        Assert.Equal(2, (await env.QueuedAsync()).Count);
    }

    [Fact]
    public async Task Missing_signature_is_401_and_nothing_is_stored()
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        await AssertRejectedAsync(env, CalDeliveries.Post(CalDeliveries.BookingCreated(), secret: null),
            HttpStatusCode.Unauthorized, "signature_missing");
    }

    [Fact]
    public async Task No_secret_provided_is_401_and_nothing_is_stored()
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        await AssertRejectedAsync(env, CalDeliveries.Post(CalDeliveries.BookingCreated(), null, signatureHeader: "no-secret-provided"),
            HttpStatusCode.Unauthorized, "no_secret_provided");
    }

    [Theory]
    [InlineData(63)]
    [InlineData(65)]
    public async Task Signature_of_wrong_length_is_401_malformed(int length)
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        var body = CalDeliveries.BookingCreated();
        var signature = (CalDeliveries.Sign(body, TestApp.WebhookSecret) + "00")[..length];
        await AssertRejectedAsync(env, CalDeliveries.Post(body, null, signatureHeader: signature),
            HttpStatusCode.Unauthorized, "signature_malformed");
    }

    [Fact]
    public async Task Non_hex_signature_is_401_malformed()
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        var body = CalDeliveries.BookingCreated();
        var signature = "zz" + CalDeliveries.Sign(body, TestApp.WebhookSecret)[2..];
        await AssertRejectedAsync(env, CalDeliveries.Post(body, null, signatureHeader: signature),
            HttpStatusCode.Unauthorized, "signature_malformed");
    }

    [Fact]
    public async Task Two_signature_headers_are_401_malformed()
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        var body = CalDeliveries.BookingCreated();
        var request = CalDeliveries.Post(body, TestApp.WebhookSecret);
        request.Headers.TryAddWithoutValidation("X-Cal-Signature-256", CalDeliveries.Sign(body, "other"));
        await AssertRejectedAsync(env, request, HttpStatusCode.Unauthorized, "signature_malformed");
    }

    [Fact]
    public async Task Signature_made_with_another_secret_is_401_mismatch()
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        await AssertRejectedAsync(env, CalDeliveries.Post(CalDeliveries.BookingCreated(), "not-our-secret"),
            HttpStatusCode.Unauthorized, "signature_mismatch");
    }

    [Fact]
    public async Task Signature_over_other_bytes_is_401_mismatch()
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        var body = CalDeliveries.BookingCreated();
        var reserialised = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(JsonDocument.Parse(body).RootElement));
        await AssertRejectedAsync(env, CalDeliveries.Post(reserialised, null, signatureHeader: CalDeliveries.Sign(body, TestApp.WebhookSecret)),
            HttpStatusCode.Unauthorized, "signature_mismatch");
    }

    [Fact]
    public async Task Uppercase_hex_signature_is_accepted()
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        var body = CalDeliveries.BookingCreated();
        await AssertAcceptedAsync(env, CalDeliveries.Post(body, null, signatureHeader: CalDeliveries.Sign(body, TestApp.WebhookSecret).ToUpperInvariant()));
    }

    [Fact]
    public async Task Previous_secret_is_accepted_during_rotation()
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        await AssertAcceptedAsync(env, CalDeliveries.Post(CalDeliveries.BookingCreated(), TestApp.PreviousSecret));
    }

    [Fact]
    public async Task Previous_secret_is_refused_once_removed_from_the_setting()
    {
        await using var env = await IngestEnvironment.StartAsync(storage, new Dictionary<string, string?> { ["CalCom:PreviousWebhookSecrets"] = null });
        await AssertRejectedAsync(env, CalDeliveries.Post(CalDeliveries.BookingCreated(), TestApp.PreviousSecret),
            HttpStatusCode.Unauthorized, "signature_mismatch");
    }

    [Fact]
    public async Task Empty_body_is_400()
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        await AssertRejectedAsync(env, CalDeliveries.Post([], TestApp.WebhookSecret), HttpStatusCode.BadRequest, "empty_body");
    }

    [Fact]
    public async Task Body_over_the_limit_with_content_length_is_413()
    {
        await using var env = await IngestEnvironment.StartAsync(storage, new Dictionary<string, string?> { ["Ingest:MaxBodyBytes"] = "4096" });
        var body = CalDeliveries.BookingCreated(padTo: 4097);
        Assert.Equal(4097, body.Length);
        await AssertRejectedAsync(env, CalDeliveries.Post(body, TestApp.WebhookSecret), HttpStatusCode.RequestEntityTooLarge, "body_too_large");
    }

    [Fact]
    public async Task Chunked_body_over_the_limit_is_413()
    {
        await using var env = await IngestEnvironment.StartAsync(storage, new Dictionary<string, string?> { ["Ingest:MaxBodyBytes"] = "4096" });
        var body = CalDeliveries.BookingCreated(padTo: 64 * 1024);
        var request = CalDeliveries.Post(body, TestApp.WebhookSecret);
        request.Content = new StreamContent(new MemoryStream(body)); // no Content-Length: sent chunked
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        await AssertRejectedAsync(env, request, HttpStatusCode.RequestEntityTooLarge, "body_too_large");
    }

    [Fact]
    public async Task Body_exactly_at_the_limit_is_accepted_also_when_chunked()
    {
        await using var env = await IngestEnvironment.StartAsync(storage, new Dictionary<string, string?> { ["Ingest:MaxBodyBytes"] = "40000" });
        var body = CalDeliveries.BookingCreated(padTo: 40000);
        var request = CalDeliveries.Post(body, TestApp.WebhookSecret);
        request.Content = new StreamContent(new MemoryStream(body));
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var queued = await AssertAcceptedAsync(env, request);
        Assert.Equal(body, await env.App.Get<PendingWebhooks>().ReadBodyAsync(queued));
    }

    [Fact]
    public async Task Form_urlencoded_label_is_read_as_raw_bytes_and_scanned_for_the_connection()
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        // A template with {{organizer}} renders [object Object]; Cal.com labels the non-JSON result as a form.
        var body = Encoding.UTF8.GetBytes("{\"triggerEvent\":\"BOOKING_CREATED\",\"nangoConnectionId\":\"tmpl-7\",\"organizer\":[object Object],\"q\":\"a=1&b=%20\"}");
        var queued = await AssertAcceptedAsync(env, CalDeliveries.Post(body, TestApp.WebhookSecret, contentType: "application/x-www-form-urlencoded"));

        Assert.Equal(body, queued.Body);
        Assert.Equal("tmpl-7", queued.ConnectionId);
        Assert.Equal("application/x-www-form-urlencoded", queued.Headers["Content-Type"]);
    }

    [Fact]
    public async Task Form_shaped_body_is_not_form_decoded()
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        var body = "nangoConnectionId=form-1&title=Caf%C3%A9+time"u8.ToArray();
        var queued = await AssertAcceptedAsync(env, CalDeliveries.Post(body, TestApp.WebhookSecret, contentType: "application/x-www-form-urlencoded"));
        Assert.Equal(body, queued.Body);
        Assert.Null(queued.ConnectionId);
    }

    [Fact]
    public async Task Non_utf8_bytes_are_stored_exactly()
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        byte[] body = [.. "{\"title\":\""u8, 0xC3, 0x28, 0xFF, 0xFE, 0x00, .. "\"}"u8];
        var queued = await AssertAcceptedAsync(env, CalDeliveries.Post(body, TestApp.WebhookSecret, contentType: "text/plain; charset=latin1"));
        Assert.Equal(body, queued.Body);
    }

    [Fact]
    public async Task Query_connection_id_takes_precedence_over_the_body_field()
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        var body = CalDeliveries.BookingCreated(bodyConnectionId: "from-body");
        var queued = await AssertAcceptedAsync(env, CalDeliveries.Post(body, TestApp.WebhookSecret, "nangoConnectionId=from-query"));
        Assert.Equal("from-query", queued.ConnectionId);
    }

    [Fact]
    public async Task Body_field_is_used_without_a_query()
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        var queued = await AssertAcceptedAsync(env, CalDeliveries.Post(CalDeliveries.BookingCreated(bodyConnectionId: "from-body"), TestApp.WebhookSecret));
        Assert.Equal("from-body", queued.ConnectionId);
    }

    [Fact]
    public async Task Delivery_naming_no_connection_is_accepted_without_one()
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        var queued = await AssertAcceptedAsync(env, CalDeliveries.Post(CalDeliveries.BookingCreated(), TestApp.WebhookSecret));
        Assert.Null(queued.ConnectionId);
    }

    public static TheoryData<string> HostileIds => new()
    {
        "customer/42",
        "a#b?c&d=e",
        "with spaces and + plus",
        "日本語-😀-ü",
        "%2F-literally",
        "back\\slash",
        new string('z', 256),
    };

    [Theory]
    [MemberData(nameof(HostileIds))]
    public async Task Hostile_but_reasonable_connection_ids_arrive_intact(string id)
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        var queued = await AssertAcceptedAsync(env,
            CalDeliveries.Post(CalDeliveries.BookingCreated(), TestApp.WebhookSecret, "nangoConnectionId=" + Uri.EscapeDataString(id)));
        Assert.Equal(id, queued.ConnectionId);
    }

    [Theory]
    [InlineData("%0A")]
    [InlineData("a%00b")]
    [InlineData("tab%09")]
    public async Task Connection_id_with_control_characters_is_400(string encodedId)
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        await AssertRejectedAsync(env, CalDeliveries.Post(CalDeliveries.BookingCreated(), TestApp.WebhookSecret, "nangoConnectionId=" + encodedId),
            HttpStatusCode.BadRequest, "invalid_connection_id");
    }

    [Fact]
    public async Task Connection_id_over_256_characters_is_400()
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        await AssertRejectedAsync(env, CalDeliveries.Post(CalDeliveries.BookingCreated(), TestApp.WebhookSecret, "nangoConnectionId=" + new string('z', 257)),
            HttpStatusCode.BadRequest, "invalid_connection_id");
    }

    [Fact]
    public async Task Body_connection_id_with_control_characters_is_400()
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        await AssertRejectedAsync(env, CalDeliveries.Post(CalDeliveries.BookingCreated(bodyConnectionId: "bad\nid"), TestApp.WebhookSecret),
            HttpStatusCode.BadRequest, "invalid_connection_id");
    }

    [Fact]
    public async Task Connection_id_given_twice_in_the_query_is_400()
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        await AssertRejectedAsync(env, CalDeliveries.Post(CalDeliveries.BookingCreated(), TestApp.WebhookSecret, "nangoConnectionId=a&nangoConnectionId=b"),
            HttpStatusCode.BadRequest, "invalid_connection_id");
    }

    [Fact]
    public async Task Unsigned_delivery_with_a_bad_connection_id_learns_only_401()
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        await AssertRejectedAsync(env, CalDeliveries.Post(CalDeliveries.BookingCreated(), "wrong", "nangoConnectionId=%0A"),
            HttpStatusCode.Unauthorized, "signature_mismatch");
    }

    [Fact]
    public async Task Body_over_64_KiB_goes_through_blob_storage_and_reads_back_byte_for_byte()
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        var body = CalDeliveries.BookingCreated(padTo: 200 * 1024);

        var queued = await AssertAcceptedAsync(env, CalDeliveries.Post(body, TestApp.WebhookSecret, "nangoConnectionId=big"));

        Assert.Null(queued.Body);
        Assert.NotNull(queued.BodyBlob);
        Assert.Equal(body.Length, queued.BodyLength);
        var blob = new Azure.Storage.Blobs.BlobContainerClient(storage.ConnectionString, StorageNames.PayloadContainer).GetBlobClient(queued.BodyBlob);
        Assert.Equal(body, (await blob.DownloadContentAsync()).Value.Content.ToArray());
        Assert.Equal(body, await env.App.Get<PendingWebhooks>().ReadBodyAsync(queued));
    }

    [Fact]
    public async Task Storage_unavailable_is_503_and_the_event_is_not_acknowledged()
    {
        await storage.ResetAsync();
        // The storage account on a loopback port where nothing listens.
        await using var app = await TestApp.StartAsync(DeadPort(storage.ConnectionString));
        await using var host = await FunctionsHost.StartAsync(app.Services);
        using var client = host.CreateClient();

        using var response = await client.SendAsync(CalDeliveries.Post(CalDeliveries.BookingCreated(), TestApp.WebhookSecret));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("storage_unavailable", body.GetProperty("error").GetString());
        Assert.False(body.TryGetProperty("id", out _));
        Assert.Empty(await HostQueueMessages.PeekDecodedAsync(storage.ConnectionString, StorageNames.WebhookQueue));
    }

    [Fact]
    public async Task Logs_carry_ids_and_outcomes_but_never_bodies_secrets_or_attendee_data()
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        var body = CalDeliveries.BookingCreated();
        var (_, accepted) = await SendAsync(env, CalDeliveries.Post(body, TestApp.WebhookSecret, "nangoConnectionId=conn-log"));
        await SendAsync(env, CalDeliveries.Post(body, TestApp.PreviousSecret + "x"));
        await SendAsync(env, CalDeliveries.Post(CalDeliveries.BookingCreated(padTo: 100_000), TestApp.WebhookSecret));

        var logs = env.App.Logs.AllText;
        Assert.Contains(accepted.GetProperty("id").GetString()!, logs, StringComparison.Ordinal);
        Assert.Contains("conn-log", logs, StringComparison.Ordinal);
        Assert.Contains("BOOKING_CREATED", logs, StringComparison.Ordinal);
        Assert.Contains("SignatureMismatch", logs, StringComparison.Ordinal);
        foreach (var forbidden in new[]
                 {
                     CalDeliveries.AttendeeEmail, CalDeliveries.AttendeeName, "Café", TestApp.WebhookSecret, TestApp.PreviousSecret,
                     TestApp.SigningSecret, CalDeliveries.Sign(body, TestApp.WebhookSecret), Convert.ToBase64String(body)[..40],
                 })
        {
            Assert.DoesNotContain(forbidden, logs, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Connection_bound_secrets_require_the_connections_derived_secret()
    {
        await using var env = await IngestEnvironment.StartAsync(storage, new Dictionary<string, string?> { ["CalCom:ConnectionBoundSecrets"] = "true" });
        var body = CalDeliveries.BookingCreated();
        var derived = WebhookSecrets.Derive(TestApp.WebhookSecret, "customer/42");
        var derivedFromPrevious = WebhookSecrets.Derive(TestApp.PreviousSecret, "customer/42");
        const string Query = "nangoConnectionId=customer%2F42";

        await AssertRejectedAsync(env, CalDeliveries.Post(body, TestApp.WebhookSecret, Query), HttpStatusCode.Unauthorized, "signature_mismatch");
        await AssertRejectedAsync(env, CalDeliveries.Post(body, WebhookSecrets.Derive(TestApp.WebhookSecret, "customer/43"), Query),
            HttpStatusCode.Unauthorized, "signature_mismatch");
        var queued = await AssertAcceptedAsync(env, CalDeliveries.Post(body, derived, Query));
        Assert.Equal("customer/42", queued.ConnectionId);

        await storage.ResetAsync();
        await AssertAcceptedAsync(env, CalDeliveries.Post(body, derivedFromPrevious, Query));
    }

    [Fact]
    public async Task Connection_bound_secrets_still_accept_the_shared_secret_when_no_connection_is_named()
    {
        await using var env = await IngestEnvironment.StartAsync(storage, new Dictionary<string, string?> { ["CalCom:ConnectionBoundSecrets"] = "true" });
        var queued = await AssertAcceptedAsync(env, CalDeliveries.Post(CalDeliveries.BookingCreated(), TestApp.WebhookSecret));
        Assert.Null(queued.ConnectionId);
    }

    [Fact]
    public async Task Get_on_the_webhook_route_is_not_served()
    {
        await using var env = await IngestEnvironment.StartAsync(storage);
        using var response = await env.Client.GetAsync("api/webhooks/cal");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    /// <summary>The same account with every endpoint moved to a port where nothing listens.</summary>
    internal static string DeadPort(string connectionString)
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return System.Text.RegularExpressions.Regex.Replace(connectionString, @"127\.0\.0\.1:\d+", $"127.0.0.1:{port}");
    }
}
