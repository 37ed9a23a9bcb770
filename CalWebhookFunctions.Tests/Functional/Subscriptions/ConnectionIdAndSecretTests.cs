using System.Net;
using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace CalWebhookFunctions.Tests.Functional.Subscriptions;

/// <summary>Hostile connection ids end to end through the served functions, and connection-bound secrets.</summary>
public sealed class ConnectionIdAndSecretTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>, IAsyncLifetime
{
    public static TheoryData<string> HostileIds => new()
    {
        "tenant/42",
        "a/b/c",
        "100%",
        "50%2F",
        "%252F",
        "x#y",
        "q?r=1&s=2",
        "with space",
        "plus+sign",
        "back\\slash",
        "Zoë ☕ 日本",
        "emoji 🎉",
        "semi;colon,comma='quote'\"",
        new string('z', ConnectionId.MaxLength),
        new string('/', ConnectionId.MaxLength),
        "~tilde",
    };

    public Task InitializeAsync() => storage.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [MemberData(nameof(HostileIds))]
    public async Task A_hostile_connection_id_survives_PUT_GET_the_table_the_subscriber_url_and_DELETE(string id)
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);

        var put = await life.PutAsync(id);

        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(id, (await Lifecycle.JsonAsync(put)).GetProperty("connectionId").GetString());
        var subscriberUrl = new Uri(life.Cal.RequestsTo("POST", "/v2/").Single().Json["subscriberUrl"]!.GetValue<string>());
        Assert.Equal(id, QueryHelpers.ParseQuery(subscriberUrl.Query)["nangoConnectionId"].Single());
        var get = await life.GetAsync(id);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(id, (await Lifecycle.JsonAsync(get)).GetProperty("connectionId").GetString());
        // Connection rows only: the table also holds the snapshots' change marker (ConnectionChanges), never a connection.
        var row = Assert.Single(new TableClient(storage.ConnectionString, StorageNames.ConnectionsTable)
            .Query<TableEntity>(filter: $"RowKey eq '{ConnectionRecord.RowKeyValue}'"));
        Assert.Equal(ConnectionId.ToTableKey(id), row.PartitionKey);
        Assert.Equal(id, row.GetString("ConnectionId"));

        Assert.Equal(HttpStatusCode.NoContent, (await life.DeleteAsync(id)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await life.GetAsync(id)).StatusCode);
        Assert.Empty(life.Cal.Webhooks);
    }

    /// <summary>
    /// Through the host's proxy hop (FunctionsHost), the id <c>a/b</c> sent as <c>a%2Fb</c> and the literal id
    /// <c>a%2Fb</c> sent as <c>a%252Fb</c> reach the worker identical: in the path neither may name a connection; in
    /// the query they are two.
    /// </summary>
    [Fact]
    public async Task An_id_with_a_slash_and_one_with_a_literal_percent_2F_are_two_connections()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);

        foreach (var path in new[] { "api/connections/a%2Fb", "api/connections/a%252Fb" })
        {
            var request = new HttpRequestMessage(HttpMethod.Put, new Uri(path, UriKind.Relative));
            request.Headers.Add("X-Cal-Access-Token", Lifecycle.Token);
            var ambiguous = await life.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.BadRequest, ambiguous.StatusCode);
            var error = await Lifecycle.JsonAsync(ambiguous);
            Assert.Equal("ambiguous_connection_id", error.GetProperty("error").GetString());
            Assert.Contains("/api/connections?id=", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
        Assert.Empty(life.Cal.Requests);
        Assert.Null(await life.RowAsync("a/b"));
        Assert.Null(await life.RowAsync("a%2Fb"));

        Assert.Equal(HttpStatusCode.Created, (await life.PutAsync("a/b")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await life.PutAsync("a%2Fb")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await life.Client.GetAsync(new Uri("api/connections/a%2Fb", UriKind.Relative))).StatusCode);

        Assert.Equal(2, life.Cal.Webhooks.Count);
        Assert.Equal("a/b", (await life.RowAsync("a/b"))!.ConnectionId);
        Assert.Equal("a%2Fb", (await life.RowAsync("a%2Fb"))!.ConnectionId);
        Assert.NotEqual((await life.RowAsync("a/b"))!.CalWebhookId, (await life.RowAsync("a%2Fb"))!.CalWebhookId);
        Assert.Equal("a%2Fb", (await Lifecycle.JsonAsync(await life.GetAsync("a%2Fb"))).GetProperty("connectionId").GetString());
    }

    [Theory]
    [InlineData("api/connections/%01")]
    [InlineData("api/connections/tab%09")]
    [InlineData("api/connections?id=%ED%A0%80")]
    [InlineData("api/connections?id=%C3")]
    [InlineData("api/connections?id=")]
    [InlineData("api/connections?id=a&id=b")]
    public async Task Unacceptable_ids_get_400(string relative)
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        var request = new HttpRequestMessage(HttpMethod.Put, new Uri(relative, UriKind.Relative));
        request.Headers.Add("X-Cal-Access-Token", Lifecycle.Token);

        var response = await life.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_connection_id", (await Lifecycle.JsonAsync(response)).GetProperty("error").GetString());
        Assert.Empty(life.Cal.Requests);
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("DELETE")] // GET without an id is the connections list (DESIGN.md "Operations API"): ConnectionListTests
    public async Task The_query_form_without_an_id_gets_400_naming_the_query_form(string method)
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        var request = new HttpRequestMessage(new HttpMethod(method), new Uri("api/connections", UriKind.Relative));
        request.Headers.Add("X-Cal-Access-Token", Lifecycle.Token);

        var response = await life.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await Lifecycle.JsonAsync(response);
        Assert.Equal("missing_connection_id", error.GetProperty("error").GetString());
        Assert.Contains("/api/connections?id=", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_id_longer_than_256_characters_gets_400()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);

        var response = await life.PutAsync(new string('z', ConnectionId.MaxLength + 1));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(life.Cal.Requests);
    }

    [Fact]
    public async Task With_connection_bound_secrets_the_derived_secret_is_registered_and_only_it_verifies_that_connection()
    {
        const string Id = "tenant/7 ☕";
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString,
            new Dictionary<string, string?> { ["CalCom:ConnectionBoundSecrets"] = "true" });

        Assert.Equal(HttpStatusCode.Created, (await life.PutAsync(Id)).StatusCode);

        // The README's derivation, computed here independently of the app's code.
        var derived = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(TestApp.WebhookSecret),
            Encoding.UTF8.GetBytes("calwebhookfunctions/connection-secret/v1:" + Id)));
        var create = life.Cal.RequestsTo("POST", "/v2/").Single().Json;
        Assert.Equal(derived, create["secret"]!.GetValue<string>());
        var webhook = Assert.Single(life.Cal.Webhooks);
        Assert.Equal(derived, webhook.Secret);

        // Deliver as Cal.com would: to the registered subscriber URL's query, signed with the subscription's secret.
        var query = new Uri(webhook.SubscriberUrl).Query.TrimStart('?');
        var body = CalDeliveries.BookingCreated();
        var accepted = await life.Client.SendAsync(CalDeliveries.Post(body, webhook.Secret, query));
        var refused = await life.Client.SendAsync(CalDeliveries.Post(body, TestApp.WebhookSecret, query));

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("signature_mismatch", (await Lifecycle.JsonAsync(refused)).GetProperty("error").GetString());
        Assert.DoesNotContain(derived, life.App.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(derived, await life.RawTableTextAsync(), StringComparison.Ordinal);
    }
}
