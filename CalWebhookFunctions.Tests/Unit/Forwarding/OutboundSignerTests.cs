using System.Text;
using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Unit.Forwarding;

public class OutboundSignerTests
{
    // The Standard Webhooks project's published test vector ("sign function works" in its reference libraries'
    // test suites, github.com/standard-webhooks/standard-webhooks, libraries/*): key, id, timestamp, payload, signature.
    private const string SpecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string SpecId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    private const long SpecTimestamp = 1614265330;
    private const string SpecPayload = "{\"test\": 2432232314}";
    private const string SpecSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    [Fact]
    public void Standard_signature_matches_the_specs_published_test_vector()
    {
        var signer = new OutboundSigner(SpecSecret);

        Assert.Equal(SpecSignature, signer.StandardSignature(SpecId, SpecTimestamp, Encoding.UTF8.GetBytes(SpecPayload)));
    }

    [Fact]
    public void The_independent_verifier_accepts_the_specs_test_vector_too()
    {
        Assert.True(WebhookVerifiers.VerifyStandardWebhooks(SpecSecret, SpecId, SpecTimestamp.ToString(System.Globalization.CultureInfo.InvariantCulture),
            SpecSignature, Encoding.UTF8.GetBytes(SpecPayload), now: DateTimeOffset.FromUnixTimeSeconds(SpecTimestamp)));
    }

    [Fact]
    public void A_secret_that_is_not_whsec_base64_of_24_bytes_is_refused_rather_than_used_as_text()
    {
        // What the app used to do (the UTF-8 bytes as the key) is what every Standard Webhooks library rejects.
        Assert.Throws<FormatException>(() => new OutboundSigner("plain-text-secret-of-some-length"));
        Assert.Throws<FormatException>(() => new OutboundSigner("whsec_" + Convert.ToBase64String(new byte[16])));
    }

    [Fact]
    public void During_a_rotation_the_header_carries_one_v1_signature_per_secret_current_first()
    {
        var previous = "whsec_" + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var body = Encoding.UTF8.GetBytes(SpecPayload);
        var signer = new OutboundSigner(SpecSecret, previous);

        var header = signer.StandardSignature(SpecId, SpecTimestamp, body);

        var entries = header.Split(' ');
        Assert.Equal(2, entries.Length);
        Assert.Equal(SpecSignature, entries[0]);
        foreach (var secret in new[] { SpecSecret, previous })
        {
            Assert.True(WebhookVerifiers.VerifyStandardWebhooks(secret, SpecId, SpecTimestamp.ToString(System.Globalization.CultureInfo.InvariantCulture),
                header, body, now: DateTimeOffset.FromUnixTimeSeconds(SpecTimestamp)));
        }
        // X-Nango-Hmac-Sha256 stays the current secret's.
        Assert.True(WebhookVerifiers.VerifyNango(SpecSecret, signer.NangoSignature(body), body));
    }

    [Fact]
    public void Nango_signature_is_lowercase_hex_hmac_of_the_body_with_the_whole_secret_as_utf8()
    {
        var body = Encoding.UTF8.GetBytes("{\"from\":\"cal-com-oauth\"}");
        var signature = new OutboundSigner(SpecSecret).NangoSignature(body);

        Assert.Matches("^[0-9a-f]{64}$", signature);
        Assert.True(WebhookVerifiers.VerifyNango(SpecSecret, signature, body));
    }

    [Fact]
    public void Webhook_id_is_stable_for_the_same_connection_and_body_and_differs_otherwise()
    {
        var body = CalDeliveries.BookingCreated();

        var first = OutboundSigner.WebhookId("conn-a", body);

        Assert.Equal(first, OutboundSigner.WebhookId("conn-a", [.. body]));
        Assert.StartsWith("msg_", first, StringComparison.Ordinal);
        Assert.NotEqual(first, OutboundSigner.WebhookId("conn-b", body));
        Assert.NotEqual(first, OutboundSigner.WebhookId(null, body));
        Assert.NotEqual(first, OutboundSigner.WebhookId("conn-a", [.. body, (byte)' ']));
        // Length-prefixed: moving bytes between the id and the body does not collide.
        Assert.NotEqual(OutboundSigner.WebhookId("ab", "c"u8), OutboundSigner.WebhookId("a", "bc"u8));
    }
}
