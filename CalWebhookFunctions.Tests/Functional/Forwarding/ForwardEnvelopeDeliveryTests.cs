using System.Text;
using System.Text.Json;
using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Messages;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Forwarding;

/// <summary>What the app receives: the envelope bytes, matching, the target and the signatures.</summary>
public class ForwardEnvelopeDeliveryTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static byte[] ExpectedEnvelope(string? connectionId, byte[] payload) =>
    [
        .. Encoding.UTF8.GetBytes("{\"from\":\"cal-com-oauth\",\"providerConfigKey\":\"cal-com-oauth\",\"type\":\"forward\","
            + (connectionId is null ? "" : $"\"connectionId\":\"{connectionId}\",") + "\"payload\":"),
        .. payload,
        (byte)'}',
    ];

    [Fact]
    public async Task Matched_connection_gets_its_id_and_the_json_payload_byte_for_byte_including_non_ascii()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        await harness.AddConnectionAsync("customer-42");
        var body = CalDeliveries.BookingCreated();
        Assert.Contains(body, b => b >= 0x80); // "Café ☕ with Zoë" raw UTF-8

        await harness.EnqueueAsync(body, "customer-42");
        await harness.DrainAsync();

        var delivery = Assert.Single(harness.Receiver.Deliveries);
        Assert.Equal(ExpectedEnvelope("customer-42", body), delivery.Body);
        Assert.Equal("application/json", delivery.Header("Content-Type"));
        Assert.Equal("/hooks/cal", delivery.Path);
    }

    [Fact]
    public async Task Unmatched_and_absent_connections_get_the_envelope_without_connectionId()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        var unmatchedBody = CalDeliveries.BookingCreated(bodyConnectionId: "nobody-knows-me");
        var absentBody = CalDeliveries.BookingCreated();

        await harness.EnqueueAsync(unmatchedBody, "nobody-knows-me");
        await harness.EnqueueAsync(absentBody, null);
        await harness.DrainAsync();

        Assert.Equal(2, harness.Receiver.Deliveries.Count);
        var bodies = harness.Receiver.Deliveries.Select(d => d.Body).ToList();
        Assert.Contains(bodies, b => b.SequenceEqual(ExpectedEnvelope(null, unmatchedBody)));
        Assert.Contains(bodies, b => b.SequenceEqual(ExpectedEnvelope(null, absentBody)));
    }

    [Fact]
    public async Task A_connections_forward_url_overrides_the_default_target()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        await harness.AddConnectionAsync("with-override", harness.Receiver.UrlFor("tenant/b/hooks?x=1").ToString());
        await harness.AddConnectionAsync("without-override");

        await harness.EnqueueAsync(CalDeliveries.BookingCreated(bodyConnectionId: "1"), "with-override");
        await harness.EnqueueAsync(CalDeliveries.BookingCreated(bodyConnectionId: "2"), "without-override");
        await harness.DrainAsync();

        var byConnection = harness.Receiver.Deliveries.ToDictionary(
            d => JsonDocument.Parse(d.Body).RootElement.GetProperty("connectionId").GetString()!, d => d.Path);
        Assert.Equal("/tenant/b/hooks", byConnection["with-override"]);
        Assert.Equal("/hooks/cal", byConnection["without-override"]);
    }

    [Fact]
    public async Task A_blob_backed_body_over_64_KiB_is_forwarded_byte_for_byte_and_its_blob_kept_for_the_delivery_log()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        await harness.AddConnectionAsync("big");
        var body = CalDeliveries.BookingCreated(padTo: 200 * 1024);

        var stored = await harness.EnqueueAsync(body, "big");
        Assert.NotNull(stored.BodyBlob);
        Assert.Equal(1, await harness.PayloadBlobCountAsync());
        await harness.DrainAsync();

        var delivery = Assert.Single(harness.Receiver.Deliveries);
        Assert.Equal(ExpectedEnvelope("big", body), delivery.Body);
        Assert.Equal(1, await harness.PayloadBlobCountAsync()); // the log serves the payload until retention removes it
    }

    [Fact]
    public async Task A_non_json_body_is_forwarded_as_a_json_string_of_its_text()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        const string text = "{\"triggerEvent\":\"BOOKING_CREATED\",\"organizer\":[object Object],\"title\":\"Zoë&#x27;s call\"}";

        await harness.EnqueueAsync(Encoding.UTF8.GetBytes(text), null);
        await harness.DrainAsync();

        var delivery = Assert.Single(harness.Receiver.Deliveries);
        using var envelope = JsonDocument.Parse(delivery.Body);
        Assert.Equal(JsonValueKind.String, envelope.RootElement.GetProperty("payload").ValueKind);
        Assert.Equal(text, envelope.RootElement.GetProperty("payload").GetString());
    }

    [Fact]
    public async Task Both_signatures_verify_with_an_independent_verifier_and_cal_headers_pass_through()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        var body = CalDeliveries.BookingCreated();
        var stored = await harness.EnqueueAsync(body, null);

        await harness.DrainAsync();

        var delivery = Assert.Single(harness.Receiver.Deliveries);
        Assert.True(WebhookVerifiers.VerifyStandardWebhooks(TestApp.SigningSecret, delivery.Header("webhook-id"),
            delivery.Header("webhook-timestamp"), delivery.Header("webhook-signature"), delivery.Body));
        Assert.True(WebhookVerifiers.VerifyNango(TestApp.SigningSecret, delivery.Header("X-Nango-Hmac-Sha256"), delivery.Body));
        Assert.StartsWith("v1,", delivery.Header("webhook-signature"), StringComparison.Ordinal);
        Assert.Equal(OutboundSigner.WebhookId(null, body), delivery.Header("webhook-id"));
        Assert.Equal(stored.Headers[KeptHeaders.CalSignature], delivery.Header("X-Cal-Signature-256"));
        Assert.Equal("2021-10-20", delivery.Header("X-Cal-Webhook-Version"));
        // The passed-through Cal.com signature still verifies against the embedded payload: it is byte for byte.
        Assert.Equal(CalDeliveries.Sign(body, TestApp.WebhookSecret), delivery.Header("X-Cal-Signature-256"));
        // A tampered body fails both.
        var tampered = delivery.Body.ToArray();
        tampered[^2] ^= 1;
        Assert.False(WebhookVerifiers.VerifyStandardWebhooks(TestApp.SigningSecret, delivery.Header("webhook-id"),
            delivery.Header("webhook-timestamp"), delivery.Header("webhook-signature"), tampered));
        Assert.False(WebhookVerifiers.VerifyNango(TestApp.SigningSecret, delivery.Header("X-Nango-Hmac-Sha256"), tampered));
    }

    [Fact]
    public async Task During_an_outbound_rotation_each_forward_verifies_with_the_current_and_the_previous_secret()
    {
        const string previous = "whsec_" + "c29tZSBvdGhlciBzZWNyZXQsIDI0IGJ5dGVzIG9yIG1vcmU=";
        await using var harness = await ForwardingHarness.StartAsync(azurite,
            settings: new Dictionary<string, string?> { ["Forwarding:PreviousSigningSecrets"] = previous });

        await harness.EnqueueAsync(CalDeliveries.BookingCreated(), null);
        await harness.DrainAsync();

        var delivery = Assert.Single(harness.Receiver.Deliveries);
        var header = delivery.Header("webhook-signature");
        Assert.Equal(2, header.Split(' ').Length);
        Assert.All(header.Split(' '), entry => Assert.StartsWith("v1,", entry, StringComparison.Ordinal));
        foreach (var secret in new[] { TestApp.SigningSecret, previous })
        {
            Assert.True(WebhookVerifiers.VerifyStandardWebhooks(secret, delivery.Header("webhook-id"), delivery.Header("webhook-timestamp"),
                header, delivery.Body));
        }
        Assert.False(WebhookVerifiers.VerifyStandardWebhooks("whsec_" + Convert.ToBase64String(new byte[32]), delivery.Header("webhook-id"),
            delivery.Header("webhook-timestamp"), header, delivery.Body));
        Assert.True(WebhookVerifiers.VerifyNango(TestApp.SigningSecret, delivery.Header("X-Nango-Hmac-Sha256"), delivery.Body));
        Assert.DoesNotContain(previous, harness.App.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logs_name_ids_and_statuses_but_never_bodies_secrets_or_attendee_data()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite,
            respond: (_, _, before) => Task.FromResult(before == 0 ? 503 : 200));
        await harness.AddConnectionAsync("log-check");
        var body = CalDeliveries.BookingCreated(bodyConnectionId: "log-check");

        var stored = await harness.EnqueueAsync(body, "log-check");
        await harness.DrainAsync();

        Assert.Single(harness.Receiver.Deliveries);
        var logs = harness.App.Logs.AllText;
        Assert.Contains(stored.EventId, logs, StringComparison.Ordinal);
        Assert.Contains(OutboundSigner.WebhookId("log-check", body), logs, StringComparison.Ordinal);
        Assert.Contains("status 503", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(CalDeliveries.AttendeeEmail, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(CalDeliveries.AttendeeName, logs, StringComparison.Ordinal);
        Assert.DoesNotContain("Café", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(TestApp.SigningSecret, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(TestApp.SigningSecret["whsec_".Length..], logs, StringComparison.Ordinal);
        Assert.DoesNotContain(TestApp.WebhookSecret, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(harness.Receiver.Url.ToString(), logs, StringComparison.Ordinal);
    }
}
