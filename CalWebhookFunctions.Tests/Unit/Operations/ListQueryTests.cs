using CalWebhookFunctions.Http;
using CalWebhookFunctions.Operations;
using Microsoft.AspNetCore.Http;

namespace CalWebhookFunctions.Tests.Unit.Operations;

/// <summary>The query string every list route shares.</summary>
public class ListQueryTests
{
    private static readonly System.Text.Json.JsonSerializerOptions LeaveOutNulls =
        new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    private static ListQuery Read(string query, params string[] known)
    {
        var context = new DefaultHttpContext();
        context.Request.QueryString = new QueryString(query);
        return ListQuery.Read(context.Request, known);
    }

    private static string? Problem(ListQuery query) => query.Problems.Count == 0 ? null : query.Problems[0];

    [Fact]
    public void No_query_gives_the_defaults_and_no_error()
    {
        var query = Read("", "limit", "since");

        Assert.Equal(ListQuery.DefaultLimit, query.Limit());
        Assert.Null(query.Time("since"));
        Assert.Null(query.Continuation("x"));
        Assert.Null(query.Error());
    }

    [Theory]
    [InlineData("?limit=1", 1)]
    [InlineData("?limit=200", 200)]
    [InlineData("?limit=50", 50)]
    public void Limit_takes_whole_numbers_from_1_to_200(string query, int expected)
    {
        var list = Read(query, "limit");
        Assert.Equal(expected, list.Limit());
        Assert.Null(list.Error());
    }

    [Theory]
    [InlineData("?limit=0")]
    [InlineData("?limit=201")]
    [InlineData("?limit=-1")]
    [InlineData("?limit=+5")]
    [InlineData("?limit=5.0")]
    [InlineData("?limit=ten")]
    public void Limit_out_of_range_or_not_a_number_is_a_problem(string query)
    {
        var list = Read(query, "limit");
        Assert.Equal(ListQuery.DefaultLimit, list.Limit());
        Assert.Contains("limit", Problem(list), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2026-12-01T10:00:00Z", "2026-12-01T10:00:00Z")]
    [InlineData("2026-12-01T10:00Z", "2026-12-01T10:00:00Z")]
    [InlineData("2026-12-01T12:00:00.5%2B02:00", "2026-12-01T10:00:00.5Z")]
    [InlineData("2026-12-01T10:00:00", "2026-12-01T10:00:00Z")] // no offset: UTC
    public void Times_are_ISO_8601_and_read_as_UTC(string value, string expected)
    {
        var list = Read("?since=" + value, "since");

        var time = list.Time("since");

        Assert.Null(list.Error());
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), time);
        Assert.Equal(TimeSpan.Zero, time!.Value.Offset);
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("2026-12-01")]
    [InlineData("12/01/2026 10:00")]
    [InlineData("Tue,%2001%20Dec%202026%2010:00:00%20GMT")] // RFC 1123: has a 'T', parses, but is not ISO 8601
    [InlineData("Tuesday,%2001%20December%202026%2010:00:00")]
    [InlineData("2026-13-01T10:00:00Z")]
    public void Anything_else_is_a_problem(string value)
    {
        var list = Read("?since=" + value, "since");
        Assert.Null(list.Time("since"));
        Assert.Contains("ISO 8601", Problem(list), StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_and_repeated_parameters_are_problems_but_the_function_key_is_not()
    {
        Assert.Contains("Unknown parameter 'status'", Problem(Read("?status=x", "limit")), StringComparison.Ordinal);
        Assert.Contains("more than once", Problem(Read("?limit=1&limit=2", "limit")), StringComparison.Ordinal);
        Assert.Null(Read("?code=secret-key&limit=3", "limit").Error());
    }

    [Fact]
    public void OneOf_accepts_only_the_listed_values()
    {
        var good = Read("?status=delivered", "status");
        Assert.Equal("delivered", good.OneOf("status", ["pending", "delivered"]));
        var bad = Read("?status=lost", "status");
        Assert.Null(bad.OneOf("status", ["pending", "delivered"]));
        Assert.Contains("one of pending, delivered", Problem(bad), StringComparison.Ordinal);
    }

    [Fact]
    public void A_continuation_token_resumes_only_the_list_and_filters_it_was_issued_for()
    {
        var token = ContinuationToken.Issue("deliveries|status=delivered", new ListPosition("p1", "r1"))!;

        var same = Read("?continuation=" + token, "continuation");
        Assert.Equal(new ListPosition("p1", "r1"), same.Continuation("deliveries|status=delivered"));
        Assert.Null(same.Error());

        foreach (var (query, scope) in new[]
                 {
                     ("?continuation=" + token, "deliveries|status=pending"), // other filters
                     ("?continuation=" + token, "rejections|since="), // another list
                     ("?continuation=bm90IGEgdG9rZW4", "deliveries|status=delivered"), // base64url, not ours
                     ("?continuation=%25%25%25", "deliveries|status=delivered"), // not base64url
                     ("?continuation=" + new string('A', 3000), "deliveries|status=delivered"), // too long
                 })
        {
            var list = Read(query, "continuation");
            Assert.Null(list.Continuation(scope));
            Assert.Contains("continuation", Problem(list), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void No_next_position_means_no_token_and_a_token_needs_a_position()
    {
        Assert.Null(ContinuationToken.Issue("x", null));
        var empty = System.Buffers.Text.Base64Url.EncodeToString("{\"s\":\"00\",\"p\":null,\"r\":null}"u8);
        Assert.False(ContinuationToken.TryOpen(empty, "x", out _));
    }

    [Fact]
    public void The_error_is_a_400_invalid_query_naming_the_first_problem()
    {
        var list = Read("?limit=0&since=never", "limit", "since");
        list.Limit();
        list.Time("since");

        var error = list.Error();

        Assert.Equal(StatusCodes.Status400BadRequest, Assert.IsAssignableFrom<IStatusCodeHttpResult>(error).StatusCode);
        var body = Assert.IsType<ErrorBody>(Assert.IsAssignableFrom<IValueHttpResult>(error).Value);
        Assert.Equal("invalid_query", body.Error);
        Assert.Contains("limit", body.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_page_always_writes_its_continuation_even_as_null()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(new ListPage<int>([1], null), LeaveOutNulls);
        Assert.Equal("{\"items\":[1],\"continuation\":null}", json);
    }
}
