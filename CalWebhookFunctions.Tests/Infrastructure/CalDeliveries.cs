using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace CalWebhookFunctions.Tests.Infrastructure;

/// <summary>Cal.com-shaped deliveries, signed the way Cal.com signs them (computed here with the BCL, not the app's code).</summary>
public static class CalDeliveries
{
    public const string AttendeeEmail = "ada.lovelace@example.org";
    public const string AttendeeName = "Ada Lovelace";

    public static string Sign(ReadOnlySpan<byte> body, string secret) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>A compact BOOKING_CREATED body as Cal.com's default (no template) sends it, non-ASCII raw.</summary>
    public static byte[] BookingCreated(string? bodyConnectionId = null, int padTo = 0)
    {
        var connectionField = bodyConnectionId is null ? "" : $"\"nangoConnectionId\":{System.Text.Json.JsonSerializer.Serialize(bodyConnectionId)},";
        var json = "{" + connectionField +
                   "\"triggerEvent\":\"BOOKING_CREATED\",\"createdAt\":\"2026-11-26T10:00:00.000Z\",\"payload\":{" +
                   "\"type\":\"30min\",\"title\":\"Café ☕ with Zoë\",\"startTime\":\"2026-12-01T09:00:00Z\"," +
                   $"\"attendees\":[{{\"name\":\"{AttendeeName}\",\"email\":\"{AttendeeEmail}\",\"timeZone\":\"Europe/London\"}}]," +
                   "\"uid\":\"bk_9f8e7d\",\"notes\":\"";
        var tail = "\"}}";
        var padding = Math.Max(0, padTo - Encoding.UTF8.GetByteCount(json + tail));
        return Encoding.UTF8.GetBytes(json + new string('x', padding) + tail);
    }

    /// <summary>A POST to the receiver with the body signed by <paramref name="secret"/> (or the given raw signature header).</summary>
    public static HttpRequestMessage Post(byte[] body, string? secret, string? query = null,
        string contentType = "application/json", string? signatureHeader = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "api/webhooks/cal" + (query is null ? "" : "?" + query))
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        var signature = signatureHeader ?? (secret is null ? null : Sign(body, secret));
        if (signature is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Cal-Signature-256", signature);
        }
        request.Headers.TryAddWithoutValidation("X-Cal-Webhook-Version", "2021-10-20");
        return request;
    }
}
