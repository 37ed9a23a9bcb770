using System.Text;
using System.Text.Json;
using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Unit.Forwarding;

public class ForwardEnvelopeTests
{
    private static readonly ForwardEnvelope Envelope = new("cal-com-oauth");

    [Fact]
    public void Json_payload_is_embedded_byte_for_byte_after_the_fixed_fields()
    {
        var body = Encoding.UTF8.GetBytes("{ \"b\" : 2,\n \"a\":\"Zoë ☕ \\u00e9\", \"n\":1.10 }");

        var envelope = Envelope.Write("conn-1", body, payloadIsJson: true);

        var expected = Encoding.UTF8.GetBytes(
                "{\"from\":\"cal-com-oauth\",\"providerConfigKey\":\"cal-com-oauth\",\"type\":\"forward\",\"connectionId\":\"conn-1\",\"payload\":")
            .Concat(body).Append((byte)'}').ToArray();
        Assert.Equal(expected, envelope);
    }

    [Fact]
    public void Without_a_connection_the_field_is_absent()
    {
        var envelope = Envelope.Write(null, "false"u8, payloadIsJson: true);

        Assert.Equal("{\"from\":\"cal-com-oauth\",\"providerConfigKey\":\"cal-com-oauth\",\"type\":\"forward\",\"payload\":false}",
            Encoding.UTF8.GetString(envelope));
    }

    [Fact]
    public void Non_json_payload_becomes_a_json_string_of_its_text()
    {
        var text = "{\"organizer\":[object Object],\"q\":\"a\\b\"}\r\n\ttab\u0001\u001f é ☕ 🙂";

        var envelope = Envelope.Write("c", Encoding.UTF8.GetBytes(text), payloadIsJson: false);

        using var document = JsonDocument.Parse(envelope);
        Assert.Equal(text, document.RootElement.GetProperty("payload").GetString());
        Assert.Equal("c", document.RootElement.GetProperty("connectionId").GetString());
    }

    [Fact]
    public void Invalid_utf8_in_a_non_json_payload_becomes_replacement_characters()
    {
        byte[] body = [(byte)'o', (byte)'k', 0xC3, 0x28, 0xFF, (byte)'!'];

        var envelope = Envelope.Write(null, body, payloadIsJson: false);

        using var document = JsonDocument.Parse(envelope);
        Assert.Equal("ok\uFFFD(\uFFFD!", document.RootElement.GetProperty("payload").GetString());
    }

    [Fact]
    public void Connection_id_and_provider_key_are_escaped_as_json_strings()
    {
        var envelope = new ForwardEnvelope("key \"x\"\\").Write("a/b \"q\" ü", "{}"u8, payloadIsJson: true);

        using var document = JsonDocument.Parse(envelope);
        Assert.Equal("key \"x\"\\", document.RootElement.GetProperty("from").GetString());
        Assert.Equal("key \"x\"\\", document.RootElement.GetProperty("providerConfigKey").GetString());
        Assert.Equal("forward", document.RootElement.GetProperty("type").GetString());
        Assert.Equal("a/b \"q\" ü", document.RootElement.GetProperty("connectionId").GetString());
    }

    [Fact]
    public void The_envelope_is_one_exact_size_array_for_a_large_json_payload()
    {
        var body = CalDeliveries.BookingCreated(padTo: 200_000);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var envelope = Envelope.Write("conn-1", body, payloadIsJson: true);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < body.Length * 1.1, $"allocated {allocated} bytes for a {body.Length}-byte payload");
        Assert.Equal(body, envelope.AsSpan(envelope.Length - body.Length - 1, body.Length).ToArray());
    }
}
