using CalWebhookFunctions.Connections;

namespace CalWebhookFunctions.Tests.Unit.Connections;

public class ConnectionIdTests
{
    public static TheoryData<string> HostileButValidIds => new()
    {
        "customer/42",
        "a\\b#c?d%e",
        "with space",
        "ünïcødé-日本-😀",
        "%2F already-escaped",
        "'; DROP TABLE--",
        new string('x', ConnectionId.MaxLength),
    };

    [Theory]
    [MemberData(nameof(HostileButValidIds))]
    public void Hostile_but_reasonable_ids_are_valid_and_make_readable_table_keys(string id)
    {
        Assert.True(ConnectionId.IsValid(id, out var problem), problem);
        var key = ConnectionId.ToTableKey(id);
        Assert.DoesNotContain(key, c => c is '/' or '\\' or '#' or '?' || char.IsControl(c));
        Assert.Equal(id, Uri.UnescapeDataString(key));
    }

    [Fact]
    public void The_longest_ids_of_slashes_get_a_hashed_key_within_the_table_limit()
    {
        var slashes = new string('/', ConnectionId.MaxLength);
        var almost = new string('/', ConnectionId.MaxLength - 1) + "x";
        var key = ConnectionId.ToTableKey(slashes);
        Assert.True(ConnectionId.IsValid(slashes, out _));
        Assert.Equal(65, key.Length);
        Assert.StartsWith("~", key, StringComparison.Ordinal);
        Assert.NotEqual(key, ConnectionId.ToTableKey(almost));
        Assert.All(new[] { "~", "~" + key[1..] }, id => Assert.NotEqual(key, ConnectionId.ToTableKey(id)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("tab\there")]
    [InlineData("new\nline")]
    [InlineData("nul\0")]
    [InlineData("del\u007f")]
    public void Unreasonable_ids_are_invalid(string id)
    {
        Assert.False(ConnectionId.IsValid(id, out var problem));
        Assert.NotEmpty(problem);
    }

    [Fact]
    public void Lone_surrogates_are_invalid()
    {
        // Built in code: theory data would be re-encoded (and repaired) on its way to the test.
        Assert.False(ConnectionId.IsValid("lone-" + '\ud800' + "-high", out _));
        Assert.False(ConnectionId.IsValid("lone-" + '\udc00' + "-low", out _));
        Assert.False(ConnectionId.IsValid("ends-high" + '\ud83d', out _));
    }

    [Fact]
    public void Ids_longer_than_the_limit_are_invalid()
    {
        Assert.False(ConnectionId.IsValid(new string('x', ConnectionId.MaxLength + 1), out var problem));
        Assert.Contains("256", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Different_ids_never_share_a_table_key()
    {
        string[] ids = ["a/b", "a%2Fb", "a%252Fb", "a%2fb"];
        Assert.Equal(ids.Length, ids.Select(ConnectionId.ToTableKey).Distinct(StringComparer.Ordinal).Count());
    }
}
