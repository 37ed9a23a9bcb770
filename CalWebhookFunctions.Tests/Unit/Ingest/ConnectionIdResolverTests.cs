using System.Text;
using CalWebhookFunctions.Connections;

namespace CalWebhookFunctions.Tests.Unit.Ingest;

public class ConnectionIdResolverTests
{
    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public void Query_wins_over_the_body_field()
    {
        var resolved = ConnectionIdResolver.Resolve("from-query", Utf8("{\"nangoConnectionId\":\"from-body\"}"));
        Assert.Equal(("from-query", ConnectionIdSource.Query), (resolved.ConnectionId, resolved.Source));
    }

    [Fact]
    public void Top_level_json_field_is_used_without_a_query()
    {
        var resolved = ConnectionIdResolver.Resolve(null, Utf8("{\"triggerEvent\":\"BOOKING_CREATED\",\"nangoConnectionId\":\"conn-1\"}"));
        Assert.Equal(("conn-1", ConnectionIdSource.JsonBody), (resolved.ConnectionId, resolved.Source));
        Assert.Equal("BOOKING_CREATED", resolved.TriggerEvent);
        Assert.True(resolved.IsJson);
    }

    [Fact]
    public void Empty_query_value_counts_as_absent()
    {
        var resolved = ConnectionIdResolver.Resolve("", Utf8("{\"nangoConnectionId\":\"conn-1\"}"));
        Assert.Equal(("conn-1", ConnectionIdSource.JsonBody), (resolved.ConnectionId, resolved.Source));
    }

    [Fact]
    public void Json_escapes_in_the_field_are_decoded()
    {
        var resolved = ConnectionIdResolver.Resolve(null, Utf8("{\"nangoConnectionId\":\"a\\/b \\u00fc\\\"q\\\"\"}"));
        Assert.Equal("a/b ü\"q\"", resolved.ConnectionId);
    }

    [Fact]
    public void Nested_field_in_valid_json_is_not_a_connection_id()
    {
        var resolved = ConnectionIdResolver.Resolve(null, Utf8("{\"payload\":{\"nangoConnectionId\":\"nested\"}}"));
        Assert.Equal((null, ConnectionIdSource.None), (resolved.ConnectionId, resolved.Source));
    }

    [Fact]
    public void Non_string_field_in_valid_json_is_not_a_connection_id()
    {
        var resolved = ConnectionIdResolver.Resolve(null, Utf8("{\"nangoConnectionId\":42,\"x\":{\"nangoConnectionId\":\"no\"}}"));
        Assert.Null(resolved.ConnectionId);
    }

    [Fact]
    public void Valid_json_that_is_not_an_object_has_no_id()
    {
        var resolved = ConnectionIdResolver.Resolve(null, Utf8("[\"nangoConnectionId\",\"x\"]"));
        Assert.Equal((null, true), (resolved.ConnectionId, resolved.IsJson));
    }

    [Fact]
    public void Object_object_template_output_is_scanned_leniently()
    {
        // What Cal.com sends for a template such as {"nangoConnectionId":"c-7","organizer":{{organizer}}}.
        var body = Utf8("{\"triggerEvent\":\"BOOKING_CREATED\",\"nangoConnectionId\" : \"c-7\",\"organizer\":[object Object]}");
        var resolved = ConnectionIdResolver.Resolve(null, body);
        Assert.Equal(("c-7", ConnectionIdSource.LenientScan, false), (resolved.ConnectionId, resolved.Source, resolved.IsJson));
        Assert.Equal("BOOKING_CREATED", resolved.TriggerEvent);
    }

    [Fact]
    public void Lenient_scan_skips_a_mention_not_followed_by_a_string_value()
    {
        var body = Utf8("note \"nangoConnectionId\" is below; {\"nangoConnectionId\":\"real\", broken");
        Assert.Equal("real", ConnectionIdResolver.Resolve(null, body).ConnectionId);
    }

    [Fact]
    public void Lenient_scan_with_an_unterminated_value_finds_nothing()
    {
        Assert.Null(ConnectionIdResolver.Resolve(null, Utf8("{\"nangoConnectionId\":\"never-closed")).ConnectionId);
    }

    [Fact]
    public void Plain_text_without_the_field_has_no_id()
    {
        var resolved = ConnectionIdResolver.Resolve(null, Utf8("Booking created for Ada"));
        Assert.Equal((null, ConnectionIdSource.None, false), (resolved.ConnectionId, resolved.Source, resolved.IsJson));
    }

    [Fact]
    public void Non_utf8_body_is_not_json_and_is_scanned_leniently()
    {
        byte[] body = [.. Utf8("{\"nangoConnectionId\":\"latin\",\"name\":\""), 0xE9, 0xFF, .. Utf8("\"}")];
        var resolved = ConnectionIdResolver.Resolve(null, body);
        Assert.Equal(("latin", ConnectionIdSource.LenientScan, false), (resolved.ConnectionId, resolved.Source, resolved.IsJson));
    }

    [Fact]
    public void Literal_false_body_is_json_without_an_id()
    {
        // Cal.com sends the literal `false` when a JSON template renders to invalid JSON.
        var resolved = ConnectionIdResolver.Resolve(null, Utf8("false"));
        Assert.Equal((null, true), (resolved.ConnectionId, resolved.IsJson));
    }

    [Fact]
    public void Trailing_garbage_after_json_makes_it_not_json()
    {
        var resolved = ConnectionIdResolver.Resolve(null, Utf8("{\"nangoConnectionId\":\"a\"} trailing"));
        Assert.Equal(("a", ConnectionIdSource.LenientScan, false), (resolved.ConnectionId, resolved.Source, resolved.IsJson));
    }
}
