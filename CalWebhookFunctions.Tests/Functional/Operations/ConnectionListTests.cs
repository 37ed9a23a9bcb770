using System.Net;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Tests.Functional.Forwarding;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Operations;

/// <summary><c>GET /api/connections</c> without <c>id</c>: the connections, paged, as <c>GET /api/connections/{id}</c> answers each.</summary>
public class ConnectionListTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task The_list_pages_over_every_connection_as_get_by_id_answers_it_without_tombstones_or_the_change_marker()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        await using var functions = await FunctionsHost.StartAsync(harness.App.Services);
        using var client = functions.CreateClient();
        string[] ids = ["tenant/1", "b#2", "c 3", "d", "e?x=1"];
        foreach (var id in ids)
        {
            await harness.AddConnectionAsync(id, forwardUrl: id == "d" ? "https://app.example.test/d" : null);
        }
        await harness.AddConnectionAsync("gone", state: ConnectionRecord.States.Removed);

        var listed = new List<System.Text.Json.JsonElement>();
        string? continuation = null;
        var pages = 0;
        do
        {
            var (status, body) = await OperationsHttp.GetAsync(client, "api/connections?limit=2" + (continuation is null ? "" : "&continuation=" + continuation));
            Assert.Equal(HttpStatusCode.OK, status);
            listed.AddRange(body.GetProperty("items").EnumerateArray());
            continuation = body.GetProperty("continuation").GetString();
            pages++;
        }
        while (continuation is not null);

        Assert.Equal(3, pages);
        Assert.Equal(ids.Order(StringComparer.Ordinal), listed.Select(c => c.GetProperty("connectionId").GetString()!).Order(StringComparer.Ordinal));
        var (_, one) = await OperationsHttp.GetAsync(client, "api/connections?id=" + Uri.EscapeDataString("d"));
        Assert.Equal(one.GetRawText(), listed.Single(c => c.GetProperty("connectionId").GetString() == "d").GetRawText());
        var (goneStatus, _) = await OperationsHttp.GetAsync(client, "api/connections?id=gone");
        Assert.Equal(HttpStatusCode.NotFound, goneStatus);
    }

    [Fact]
    public async Task An_empty_table_lists_nothing_and_bad_queries_are_400()
    {
        await using var harness = await ForwardingHarness.StartAsync(azurite);
        await using var functions = await FunctionsHost.StartAsync(harness.App.Services);
        using var client = functions.CreateClient();

        var (status, body) = await OperationsHttp.GetAsync(client, "api/connections");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Empty(body.GetProperty("items").EnumerateArray());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, body.GetProperty("continuation").ValueKind);
        var foreign = CalWebhookFunctions.Operations.ContinuationToken.Issue("rejections|since=", new("rej_1", "x"));
        foreach (var query in new[] { "limit=0", "limit=abc", "state=active", "continuation=" + foreign })
        {
            Assert.Equal("invalid_query", OperationsHttp.AssertBadRequest(await OperationsHttp.GetAsync(client, "api/connections?" + query)));
        }
        Assert.Equal("invalid_connection_id", OperationsHttp.AssertBadRequest(await OperationsHttp.GetAsync(client, "api/connections?id=")));
    }
}
