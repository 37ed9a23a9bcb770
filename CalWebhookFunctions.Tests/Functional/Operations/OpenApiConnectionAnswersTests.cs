using System.Net;
using System.Text;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Tests.Functional.Subscriptions;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Tests.Functional.Operations;

/// <summary>
/// Every answer of the connection routes (path and <c>?id=</c> forms), real, through the host stand-in with Azurite and a
/// fake Cal.com, validated against the served document.
/// </summary>
public class OpenApiConnectionAnswersTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private const string ByPath = "/api/connections/{connectionId}";
    private const string ByQuery = "/api/connections";

    private static async Task<HttpResponseMessage> SendAsync(Lifecycle life, HttpMethod method, string uri, string? json = null,
        params string[] tokens)
    {
        using var request = new HttpRequestMessage(method, new Uri(uri, UriKind.Relative));
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        foreach (var token in tokens)
        {
            request.Headers.Add("X-Cal-Access-Token", token);
        }
        return await life.Client.SendAsync(request);
    }

    private static async Task AnswerAsync(Lifecycle life, HttpMethod method, string uri, HttpStatusCode status, string? error = null,
        string? json = null, params string[] tokens)
    {
        using var response = await SendAsync(life, method, uri, json, tokens.Length == 0 ? [Lifecycle.Token] : tokens);
        await OpenApiContract.AssertAnswerAsync(response, method.Method, uri.StartsWith("api/connections/", StringComparison.Ordinal) ? ByPath : ByQuery, status, error);
    }

    [Fact]
    public async Task Register_read_and_remove_answer_as_documented_in_both_forms()
    {
        await storage.ResetAsync();
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        const string withSlash = "tenant/42 ü";
        var query = Lifecycle.QueryPathFor(withSlash);
        var body = """{"scope":"eventType","eventTypeId":7,"triggers":["BOOKING_CREATED"],"forwardUrl":"https://app.example.test/hooks"}""";

        await AnswerAsync(life, HttpMethod.Put, "api/connections/plain-1", HttpStatusCode.Created, json: body);
        await AnswerAsync(life, HttpMethod.Put, "api/connections/plain-1", HttpStatusCode.OK, json: body);
        await AnswerAsync(life, HttpMethod.Put, "api/connections/plain-2", HttpStatusCode.Created);
        await AnswerAsync(life, HttpMethod.Put, query, HttpStatusCode.Created, json: "{}");
        await AnswerAsync(life, HttpMethod.Get, "api/connections/plain-1", HttpStatusCode.OK);
        await AnswerAsync(life, HttpMethod.Get, query, HttpStatusCode.OK);
        await AnswerAsync(life, HttpMethod.Delete, "api/connections/plain-1", HttpStatusCode.NoContent);
        await AnswerAsync(life, HttpMethod.Delete, query, HttpStatusCode.NoContent);
        await AnswerAsync(life, HttpMethod.Get, "api/connections/plain-1", HttpStatusCode.NotFound, "connection_not_found");
        await AnswerAsync(life, HttpMethod.Get, query, HttpStatusCode.NotFound, "connection_not_found");
        await AnswerAsync(life, HttpMethod.Delete, "api/connections/plain-1", HttpStatusCode.NotFound, "connection_not_found");

        life.Cal.Inject(new CalInjection { Status = 500, Times = 50, When = r => r.Method == "DELETE" });
        await AnswerAsync(life, HttpMethod.Delete, "api/connections/plain-2", HttpStatusCode.Accepted);
    }

    [Fact]
    public async Task Every_refused_request_is_a_documented_400()
    {
        await storage.ResetAsync();
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        (HttpMethod Method, string Uri, string? Json, string Error)[] cases =
        [
            (HttpMethod.Get, "api/connections/a%252Fb", null, "ambiguous_connection_id"),
            (HttpMethod.Get, "api/connections/a%01b", null, "invalid_connection_id"),
            (HttpMethod.Delete, "api/connections", null, "missing_connection_id"),
            (HttpMethod.Get, "api/connections?id=", null, "invalid_connection_id"),
            (HttpMethod.Delete, "api/connections?id=a&id=b", null, "invalid_connection_id"),
            (HttpMethod.Put, "api/connections", null, "missing_connection_id"),
            (HttpMethod.Put, "api/connections/c1", "{", "invalid_json"),
            (HttpMethod.Put, "api/connections/c1", """{"colour":"blue"}""", "unknown_field"),
            (HttpMethod.Put, "api/connections/c1", """{"scope":"galaxy"}""", "invalid_scope"),
            (HttpMethod.Put, "api/connections/c1", """{"scope":"eventType","eventTypeId":-1}""", "invalid_id"),
            (HttpMethod.Put, "api/connections/c1", """{"scope":"eventType"}""", "missing_id"),
            (HttpMethod.Put, "api/connections/c1", """{"triggers":[]}""", "invalid_triggers"),
            (HttpMethod.Put, "api/connections/c1", """{"forwardUrl":"ftp://x"}""", "invalid_forward_url"),
        ];
        foreach (var (method, uri, json, error) in cases)
        {
            await AnswerAsync(life, method, uri, HttpStatusCode.BadRequest, error, json);
        }
        using (var noCredential = await SendAsync(life, HttpMethod.Put, "api/connections/c1"))
        {
            await OpenApiContract.AssertAnswerAsync(noCredential, "PUT", ByPath, HttpStatusCode.BadRequest, "missing_credential");
        }
        using (var tooLarge = await SendAsync(life, HttpMethod.Put, "api/connections/c1", new string(' ', 70_000), Lifecycle.Token))
        {
            await OpenApiContract.AssertAnswerAsync(tooLarge, "PUT", ByPath, HttpStatusCode.RequestEntityTooLarge, "body_too_large");
        }
    }

    [Theory]
    [InlineData(400, HttpStatusCode.BadRequest, "calcom_bad_request")]
    [InlineData(401, HttpStatusCode.Forbidden, "calcom_unauthorized")]
    [InlineData(403, HttpStatusCode.Forbidden, "calcom_forbidden")]
    [InlineData(404, HttpStatusCode.NotFound, "calcom_not_found")]
    [InlineData(422, HttpStatusCode.BadGateway, "calcom_rejected")]
    [InlineData(500, HttpStatusCode.BadGateway, "calcom_unavailable")]
    public async Task Cal_com_refusals_are_the_documented_answers(int calStatus, HttpStatusCode status, string error)
    {
        await storage.ResetAsync();
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        life.Cal.Inject(new CalInjection { Status = calStatus, Times = 50 });

        await AnswerAsync(life, HttpMethod.Put, "api/connections/refused", status, error);
    }

    [Fact]
    public async Task A_busy_connection_is_the_documented_409_with_Retry_After_on_put_and_delete()
    {
        await storage.ResetAsync();
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString,
            services: s => s.AddSingleton<TimeProvider>(new RacingTime(TimeSpan.FromSeconds(5))));
        await life.App.Get<ConnectionStore>().TryInsertAsync(new ConnectionRecord
        {
            ConnectionId = "held",
            SubscriberUrl = life.SubscriberUrlFor("held"),
            ClaimId = "someone-else",
            ClaimedUntil = DateTimeOffset.UtcNow.AddDays(1),
        });

        await AnswerAsync(life, HttpMethod.Put, "api/connections/held", HttpStatusCode.Conflict, "registration_in_progress");
        await AnswerAsync(life, HttpMethod.Delete, "api/connections/held", HttpStatusCode.Conflict, "registration_in_progress");
    }

    [Fact]
    public async Task A_connection_removed_while_it_registers_is_the_documented_409()
    {
        await storage.ResetAsync();
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        var store = life.App.Get<ConnectionStore>();
        // While Cal.com creates the subscription, a DELETE (whose wait for the claim had lapsed) tombstones the row.
        life.Cal.OnRequest = async r =>
        {
            var row = r.Method == "POST" ? await store.FindAsync("vanishing") : null;
            if (row is not null)
            {
                (row.State, row.RemovedAt, row.ClaimId) = (ConnectionRecord.States.Removed, DateTimeOffset.UtcNow, null);
                Assert.True(await store.TryReplaceAsync(row));
            }
        };

        await AnswerAsync(life, HttpMethod.Put, "api/connections/vanishing", HttpStatusCode.Conflict, "connection_removed");
    }

    [Fact]
    public async Task Storage_down_is_the_documented_503_on_every_connection_route()
    {
        await storage.ResetAsync();
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString,
            services: s => s.AddSingleton(StorageFaults.Everything(storage.ConnectionString)));

        foreach (var method in new[] { HttpMethod.Put, HttpMethod.Get, HttpMethod.Delete })
        {
            await AnswerAsync(life, method, "api/connections/c1", HttpStatusCode.ServiceUnavailable, "storage_unavailable");
            await AnswerAsync(life, method, "api/connections?id=c1", HttpStatusCode.ServiceUnavailable, "storage_unavailable");
        }
    }

    [Fact]
    public async Task Without_the_function_key_every_function_route_is_the_documented_401()
    {
        await storage.ResetAsync();
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        using var anonymous = life.Host.CreateClient();
        var checkedRoutes = 0;
        foreach (var (method, path, operation) in OpenApiContract.Operations())
        {
            if (operation.TryGetProperty("security", out var security) && security.GetArrayLength() == 0)
            {
                continue;
            }
            var uri = path.Replace("{connectionId}", "c1", StringComparison.Ordinal).Replace("{eventId}", new string('0', 32), StringComparison.Ordinal);
            using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(uri.TrimStart('/'), UriKind.Relative));
            using var response = await anonymous.SendAsync(request);
            await OpenApiContract.AssertAnswerAsync(response, method, path, HttpStatusCode.Unauthorized);
            checkedRoutes++;
        }
        Assert.True(checkedRoutes >= 7, $"only {checkedRoutes} function-key operations");
    }
}
