using System.Net;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Tests.Functional.Subscriptions;

/// <summary>PUT /api/connections/{id}: registration against a fake Cal.com, over real Azurite.</summary>
public sealed class RegistrationTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>, IAsyncLifetime
{
    private const string AllBooking =
        "[\"BOOKING_CREATED\",\"BOOKING_PAYMENT_INITIATED\",\"BOOKING_PAID\",\"BOOKING_RESCHEDULED\",\"BOOKING_REQUESTED\"," +
        "\"BOOKING_CANCELLED\",\"BOOKING_REJECTED\",\"BOOKING_NO_SHOW_UPDATED\"]";

    public Task InitializeAsync() => storage.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [InlineData("{\"scope\":\"user\"}", "/v2/webhooks")]
    [InlineData("{\"orgId\":41}", "/v2/organizations/41/webhooks")]
    [InlineData("{\"scope\":\"eventType\",\"eventTypeId\":7}", "/v2/event-types/7/webhooks")]
    [InlineData("{\"scope\":\"teamEventType\",\"teamId\":5,\"eventTypeId\":9}", "/v2/teams/5/event-types/9/webhooks")]
    public async Task Put_creates_the_subscription_with_the_exact_body_Cal_com_expects_for_each_scope(string json, string collection)
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);

        var response = await life.PutAsync("customer-42", json);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var create = Assert.Single(life.Cal.RequestsTo("POST", "/v2/"));
        Assert.Equal(collection, create.Path);
        Assert.Equal("Bearer " + Lifecycle.Token, create.Authorization);
        Assert.Equal(
            "{\"active\":true,\"subscriberUrl\":\"https://relay.example.test/api/webhooks/cal?nangoConnectionId=customer-42\"," +
            $"\"triggers\":{AllBooking},\"secret\":\"{TestApp.WebhookSecret}\"}}",
            create.Body);
        var webhook = Assert.Single(life.Cal.Webhooks);
        var body = await Lifecycle.JsonAsync(response);
        Assert.Equal(webhook.Id, body.GetProperty("calWebhookId").GetString());
        Assert.Equal("customer-42", body.GetProperty("connectionId").GetString());
        Assert.Equal("active", body.GetProperty("state").GetString());
        Assert.Equal(webhook.SubscriberUrl, body.GetProperty("subscriberUrl").GetString());
        Assert.DoesNotContain(TestApp.WebhookSecret, body.GetRawText(), StringComparison.Ordinal);
        var row = await life.RowAsync("customer-42");
        Assert.Equal(("active", webhook.Id), (row!.State, row.CalWebhookId));
    }

    [Fact]
    public async Task Put_returns_the_stored_record_and_Get_returns_it_too_without_secrets()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);

        var put = await life.PutAsync("acct-1",
            "{\"scope\":\"eventType\",\"eventTypeId\":12,\"triggers\":[\"BOOKING_CREATED\",\"SOMETHING_NEWER\"],\"forwardUrl\":\"https://app.example.test/hooks/cal\"}");
        var get = await life.GetAsync("acct-1");

        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        var stored = await Lifecycle.JsonAsync(get);
        Assert.Equal((await Lifecycle.JsonAsync(put)).GetRawText(), stored.GetRawText());
        Assert.Equal("eventType", stored.GetProperty("scope").GetString());
        Assert.Equal(12, stored.GetProperty("eventTypeId").GetInt64());
        Assert.Equal(["BOOKING_CREATED", "SOMETHING_NEWER"], stored.GetProperty("triggers").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("https://app.example.test/hooks/cal", stored.GetProperty("forwardUrl").GetString());
        Assert.Equal("[\"BOOKING_CREATED\",\"SOMETHING_NEWER\"]", life.Cal.RequestsTo("POST", "/v2/").Single().Json["triggers"]!.ToJsonString());
        Assert.DoesNotContain("secret", stored.GetRawText(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("https://app.example.test/hooks/cal", (await life.App.Get<ConnectionStore>().FindAsync("acct-1"))!.ForwardUrl);
    }

    [Fact]
    public async Task Get_of_an_unknown_connection_is_404_with_a_JSON_error()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);

        var response = await life.GetAsync("nobody");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("connection_not_found", (await Lifecycle.JsonAsync(response)).GetProperty("error").GetString());
    }

    [Fact]
    public async Task An_identical_repeat_answers_200_without_calling_Cal_com()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        const string Json = "{\"triggers\":[\"BOOKING_CREATED\"],\"forwardUrl\":\"https://app.example.test/x\"}";
        Assert.Equal(HttpStatusCode.Created, (await life.PutAsync("c-1", Json)).StatusCode);
        var calls = life.Cal.Requests.Count;

        var repeat = await life.PutAsync("c-1", Json);

        Assert.Equal(HttpStatusCode.OK, repeat.StatusCode);
        Assert.Equal(calls, life.Cal.Requests.Count);
        Assert.Single(life.Cal.Webhooks);
        Assert.Equal("active", (await Lifecycle.JsonAsync(repeat)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Changed_triggers_patch_the_same_subscription_instead_of_creating_another()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        await life.PutAsync("c-2", "{\"triggers\":[\"BOOKING_CREATED\"]}");
        var id = Assert.Single(life.Cal.Webhooks).Id;

        var update = await life.PutAsync("c-2", "{\"triggers\":[\"BOOKING_CREATED\",\"MEETING_ENDED\"]}");

        Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        Assert.Single(life.Cal.RequestsTo("POST", "/v2/"));
        var patch = Assert.Single(life.Cal.RequestsTo("PATCH", "/v2/"));
        Assert.Equal("/v2/webhooks/" + id, patch.Path);
        Assert.Equal("[\"BOOKING_CREATED\",\"MEETING_ENDED\"]", patch.Json["triggers"]!.ToJsonString());
        var webhook = Assert.Single(life.Cal.Webhooks);
        Assert.Equal(id, webhook.Id);
        Assert.Equal(["BOOKING_CREATED", "MEETING_ENDED"], webhook.Triggers);
        Assert.Equal("BOOKING_CREATED,MEETING_ENDED", (await life.RowAsync("c-2"))!.Triggers);
    }

    [Fact]
    public async Task A_changed_forward_url_updates_the_row_and_patches_the_same_subscription()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        await life.PutAsync("c-3", "{\"forwardUrl\":\"https://one.example.test/\"}");

        var update = await life.PutAsync("c-3", "{\"forwardUrl\":\"https://two.example.test/\"}");

        Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        Assert.Single(life.Cal.RequestsTo("POST", "/v2/"));
        Assert.Single(life.Cal.RequestsTo("PATCH", "/v2/"));
        Assert.Single(life.Cal.Webhooks);
        Assert.Equal("https://two.example.test/", (await life.RowAsync("c-3"))!.ForwardUrl);
    }

    [Fact]
    public async Task Concurrent_puts_for_one_connection_make_one_subscription()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        // Slow Cal.com down so the requests overlap.
        life.Cal.OnRequest = _ => Task.Delay(100);

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => life.PutAsync("busy", "{\"scope\":\"eventType\",\"eventTypeId\":3}")));

        Assert.All(responses, r => Assert.True(r.IsSuccessStatusCode, r.StatusCode.ToString()));
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.Single(life.Cal.RequestsTo("POST", "/v2/"));
        var webhook = Assert.Single(life.Cal.Webhooks);
        Assert.Equal(webhook.Id, (await life.RowAsync("busy"))!.CalWebhookId);
    }

    [Fact]
    public async Task A_storage_failure_after_Cal_com_created_the_subscription_then_a_retry_ends_with_one_subscription()
    {
        var fault = new FailingConnectionWrites { Once = true };
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString,
            services: s => s.AddSingleton(fault.Account(storage.ConnectionString)));
        // The row write that follows Cal.com's create fails: the subscription exists, the row does not say so.
        life.Cal.OnRequest = r =>
        {
            fault.Armed |= r.Method == "POST";
            return Task.CompletedTask;
        };

        var failed = await life.PutAsync("fragile", "{\"scope\":\"eventType\",\"eventTypeId\":8}");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.Equal(1, fault.Failures);
        Assert.Single(life.Cal.Webhooks);
        Assert.Equal("pending", (await life.RowAsync("fragile"))!.State);

        var retry = await life.PutAsync("fragile", "{\"scope\":\"eventType\",\"eventTypeId\":8}");

        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        var webhook = Assert.Single(life.Cal.Webhooks);
        Assert.Single(life.Cal.RequestsTo("POST", "/v2/"));
        var row = await life.RowAsync("fragile");
        Assert.Equal(("active", webhook.Id), (row!.State, row.CalWebhookId));
    }

    [Fact]
    public async Task A_crash_after_Cal_com_created_the_subscription_then_a_retry_after_the_claim_lapsed_adopts_it()
    {
        await using var cal = await FakeCalCom.StartAsync();
        var crash = new FailingConnectionWrites();
        await using (var crashing = await Lifecycle.StartAsync(storage.ConnectionString, cal: cal,
                         services: s => s.AddSingleton(crash.Account(storage.ConnectionString))))
        {
            // From Cal.com's create on, nothing more reaches the table: as if the process died there.
            cal.OnRequest = r =>
            {
                crash.Armed |= r.Method == "POST";
                return Task.CompletedTask;
            };
            var failed = await crashing.PutAsync("phoenix", "{\"scope\":\"eventType\",\"eventTypeId\":4}");
            Assert.False(failed.IsSuccessStatusCode);
            cal.OnRequest = null;
        }
        Assert.Single(cal.Webhooks);
        var stranded = await new ConnectionStore(StorageAccount.FromConnectionString(storage.ConnectionString)).FindAsync("phoenix");
        Assert.Equal(("pending", null), (stranded!.State, stranded.CalWebhookId));

        // The caller retries on a fresh instance once the crashed request's claim has lapsed.
        await using var restarted = await Lifecycle.StartAsync(storage.ConnectionString, cal: cal,
            services: s => s.AddSingleton<TimeProvider>(new ShiftedTime(TimeSpan.FromMinutes(3))));
        var retry = await restarted.PutAsync("phoenix", "{\"scope\":\"eventType\",\"eventTypeId\":4}");

        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        var webhook = Assert.Single(cal.Webhooks);
        Assert.Single(cal.RequestsTo("POST", "/v2/"));
        Assert.Equal(webhook.Id, (await restarted.RowAsync("phoenix"))!.CalWebhookId);
        Assert.Contains("adopted existing Cal.com subscription", restarted.App.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dropped_answer_to_the_create_is_retried_and_the_409_adopts_the_subscription()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        life.Cal.Inject(new CalInjection { DropAfter = true, When = r => r.Method == "POST" });

        var response = await life.PutAsync("lossy");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(2, life.Cal.RequestsTo("POST", "/v2/").Count);
        var webhook = Assert.Single(life.Cal.Webhooks);
        Assert.Equal(webhook.Id, (await Lifecycle.JsonAsync(response)).GetProperty("calWebhookId").GetString());
    }

    [Fact]
    public async Task An_existing_subscription_with_the_subscriber_url_is_found_by_paging_and_adopted()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        var owner = life.Cal.UserOwner(Lifecycle.Token);
        for (var i = 0; i < 300; i++)
        {
            life.Cal.Seed(owner, $"https://elsewhere.example.test/hook/{i}");
        }
        var existing = life.Cal.Seed(owner, life.SubscriberUrlFor("old-timer"), ["BOOKING_CREATED"], "some-old-secret");

        var response = await life.PutAsync("old-timer");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Empty(life.Cal.RequestsTo("POST", "/v2/"));
        Assert.Equal(["?take=250&skip=0", "?take=250&skip=250"], life.Cal.RequestsTo("GET", "/v2/webhooks").Select(r => r.Query));
        var adopted = life.Cal.Webhooks.Single(w => w.Id == existing.Id);
        Assert.Equal((TestApp.WebhookSecret, 8), (adopted.Secret, adopted.Triggers.Count));
        Assert.Equal(existing.Id, (await life.RowAsync("old-timer"))!.CalWebhookId);
        Assert.Equal(301, life.Cal.Webhooks.Count);
    }

    [Fact]
    public async Task Rate_limits_and_server_errors_are_retried_honouring_Retry_After()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        life.Cal.Inject(new CalInjection { Status = 429, RetryAfterSeconds = 1, When = r => r.Method == "POST" });
        life.Cal.Inject(new CalInjection { Status = 500, When = r => r.Method == "POST" });
        life.Cal.Inject(new CalInjection { DropBefore = true, When = r => r.Method == "POST" });

        var response = await life.PutAsync("patient");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var posts = life.Cal.RequestsTo("POST", "/v2/");
        Assert.Equal(4, posts.Count);
        Assert.True(posts[1].ReceivedAt - posts[0].ReceivedAt >= TimeSpan.FromMilliseconds(950),
            $"The retry after 429 came {(posts[1].ReceivedAt - posts[0].ReceivedAt).TotalMilliseconds} ms later, before Retry-After.");
        Assert.Single(life.Cal.Webhooks);
    }

    [Fact]
    public async Task Cal_com_refusals_reach_the_caller_with_Cal_com_s_message_and_are_not_retried()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        life.Cal.UnknownEventTypes[77] = true;
        life.Cal.ForbiddenTokens["cal_not_an_admin"] = true;

        var notFound = await life.PutAsync("a", "{\"scope\":\"eventType\",\"eventTypeId\":77}");
        var forbidden = await life.PutAsync("b", "{\"orgId\":3}", token: "cal_not_an_admin");

        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        var notFoundBody = await Lifecycle.JsonAsync(notFound);
        Assert.Equal("calcom_not_found", notFoundBody.GetProperty("error").GetString());
        Assert.Contains("Event type with id 77 not found", notFoundBody.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        var forbiddenBody = await Lifecycle.JsonAsync(forbidden);
        Assert.Equal("calcom_forbidden", forbiddenBody.GetProperty("error").GetString());
        Assert.Contains("Forbidden resource", forbiddenBody.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, life.Cal.Requests.Count);
        Assert.Empty(life.Cal.Webhooks);
    }

    [Fact]
    public async Task A_Cal_com_that_keeps_failing_gives_502_and_leaves_a_pending_row_a_retry_completes()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        life.Cal.Inject(new CalInjection { Status = 503, Times = 100 });

        var failed = await life.PutAsync("later");

        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        Assert.Equal("calcom_unavailable", (await Lifecycle.JsonAsync(failed)).GetProperty("error").GetString());
        Assert.Equal(5, life.Cal.Requests.Count);
        Assert.Equal("pending", (await life.RowAsync("later"))!.State);

        life.Cal.ClearInjections();
        var retry = await life.PutAsync("later");

        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.Single(life.Cal.Webhooks);
        Assert.Equal("active", (await life.RowAsync("later"))!.State);
    }

    [Theory]
    [InlineData("{\"scope\":", "invalid_json")]
    [InlineData("[1,2]", "invalid_json")]
    [InlineData("{\"scope\":\"team\"}", "invalid_scope")]
    [InlineData("{\"scope\":\"organization\"}", "missing_id")]
    [InlineData("{\"scope\":\"eventType\"}", "missing_id")]
    [InlineData("{\"scope\":\"teamEventType\",\"eventTypeId\":3}", "missing_id")]
    [InlineData("{\"orgId\":-4}", "invalid_id")]
    [InlineData("{\"orgId\":\"4\"}", "invalid_id")]
    [InlineData("{\"triggers\":\"BOOKING_CREATED\"}", "invalid_triggers")]
    [InlineData("{\"triggers\":[1]}", "invalid_triggers")]
    [InlineData("{\"triggers\":[]}", "invalid_triggers")]
    [InlineData("{\"forwardUrl\":\"/relative\"}", "invalid_forward_url")]
    [InlineData("{\"forwardUrl\":\"ftp://x.example.test/\"}", "invalid_forward_url")]
    [InlineData("{\"forwardUrl\":\"https://user:pw@x.example.test/\"}", "invalid_forward_url")]
    [InlineData("{\"trigger\":[\"BOOKING_CREATED\"]}", "unknown_field")]
    [InlineData("{\"scope\":\"user\",\"scope\":\"user\"}", "invalid_json")]
    public async Task Invalid_bodies_get_400_with_a_JSON_error_and_nothing_happens(string json, string code)
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);

        var response = await life.PutAsync("c", json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(code, (await Lifecycle.JsonAsync(response)).GetProperty("error").GetString());
        Assert.Empty(life.Cal.Requests);
        Assert.Null(await life.RowAsync("c"));
    }

    [Fact]
    public async Task Without_a_credential_header_or_CalCom_ApiKey_the_answer_is_400()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);

        var response = await life.PutAsync("c", token: null);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("missing_credential", (await Lifecycle.JsonAsync(response)).GetProperty("error").GetString());
        Assert.Empty(life.Cal.Requests);
        Assert.Null(await life.RowAsync("c"));
    }

    [Fact]
    public async Task Without_the_function_key_the_lifecycle_routes_answer_401()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        using var anonymous = life.Host.CreateClient();

        var put = await anonymous.PutAsync(new Uri("api/connections/c", UriKind.Relative), null);
        var get = await anonymous.GetAsync(new Uri("api/connections/c", UriKind.Relative));
        var delete = await anonymous.DeleteAsync(new Uri("api/connections/c", UriKind.Relative));

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized],
            [put.StatusCode, get.StatusCode, delete.StatusCode]);
        Assert.Empty(life.Cal.Requests);
    }

    [Fact]
    public async Task CalCom_ApiKey_and_OrganizationId_are_the_defaults()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString, new Dictionary<string, string?>
        {
            ["CalCom:ApiKey"] = "cal_configured_key_0b1c",
            ["CalCom:OrganizationId"] = "314",
            ["CalCom:DefaultTriggers"] = "BOOKING_CREATED, BOOKING_CANCELLED",
        });

        var response = await life.PutAsync("org-member", token: null);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var create = Assert.Single(life.Cal.RequestsTo("POST", "/v2/"));
        Assert.Equal(("/v2/organizations/314/webhooks", "Bearer cal_configured_key_0b1c"), (create.Path, create.Authorization));
        Assert.Equal("[\"BOOKING_CREATED\",\"BOOKING_CANCELLED\"]", create.Json["triggers"]!.ToJsonString());
    }

    [Fact]
    public async Task A_public_url_with_a_query_gets_the_connection_id_appended_with_an_ampersand()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString,
            new Dictionary<string, string?> { ["Webhook:PublicUrl"] = "https://relay.example.test/api/webhooks/cal?code=abc" });

        await life.PutAsync("q&a = yes");

        Assert.Equal("https://relay.example.test/api/webhooks/cal?code=abc&nangoConnectionId=q%26a%20%3D%20yes",
            life.Cal.RequestsTo("POST", "/v2/").Single().Json["subscriberUrl"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_credential_is_never_stored_in_the_table_nor_logged()
    {
        const string Credential = "cal_live_SUPERSECRET_9d8c7b6a";
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        life.Cal.Inject(new CalInjection { Status = 500, When = r => r.Method == "POST" });

        Assert.Equal(HttpStatusCode.Created, (await life.PutAsync("c", "{\"triggers\":[\"BOOKING_CREATED\"]}", Credential)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await life.PutAsync("c", "{\"triggers\":[\"BOOKING_PAID\"]}", Credential)).StatusCode);
        life.Cal.ForbiddenTokens[Credential] = true;
        Assert.Equal(HttpStatusCode.Forbidden, (await life.PutAsync("c", "{\"triggers\":[\"BOOKING_REJECTED\"]}", Credential)).StatusCode);

        Assert.All(life.Cal.Requests, r => Assert.Equal("Bearer " + Credential, r.Authorization));
        var table = await life.RawTableTextAsync();
        Assert.Contains("CalWebhookId=", table, StringComparison.Ordinal);
        Assert.DoesNotContain(Credential, table, StringComparison.Ordinal);
        Assert.DoesNotContain(TestApp.WebhookSecret, table, StringComparison.Ordinal);
        var logs = life.App.Logs.AllText;
        Assert.Contains("Sending HTTP request", logs, StringComparison.Ordinal);
        Assert.Contains("Authorization: *", logs, StringComparison.Ordinal); // headers are logged at Trace, redacted
        Assert.DoesNotContain(Credential, logs, StringComparison.Ordinal);
        Assert.DoesNotContain("SUPERSECRET", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(TestApp.WebhookSecret, logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_a_secret_rotation_a_repeat_put_patches_the_new_secret_onto_the_subscription()
    {
        await using var cal = await FakeCalCom.StartAsync();
        await using (var before = await Lifecycle.StartAsync(storage.ConnectionString, cal: cal))
        {
            Assert.Equal(HttpStatusCode.Created, (await before.PutAsync("rotating")).StatusCode);
        }
        await using var after = await Lifecycle.StartAsync(storage.ConnectionString, cal: cal, settings: new Dictionary<string, string?>
        {
            ["CalCom:WebhookSecret"] = "the-new-integration-secret",
            ["CalCom:PreviousWebhookSecrets"] = TestApp.WebhookSecret,
        });

        var repeat = await after.PutAsync("rotating");

        Assert.Equal(HttpStatusCode.OK, repeat.StatusCode);
        Assert.Equal("the-new-integration-secret", Assert.Single(cal.RequestsTo("PATCH", "/v2/")).Json["secret"]!.GetValue<string>());
        Assert.Equal("the-new-integration-secret", Assert.Single(cal.Webhooks).Secret);
        Assert.Equal(HttpStatusCode.OK, (await after.PutAsync("rotating")).StatusCode);
        Assert.Single(cal.RequestsTo("PATCH", "/v2/"));
        Assert.DoesNotContain("the-new-integration-secret", await after.RawTableTextAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_registration_whose_row_changed_under_it_decides_again_and_ends_with_one_subscription()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        var store = life.App.Get<ConnectionStore>();
        // While Cal.com creates the subscription, another writer (a request that took over a lapsed claim) changes the row.
        life.Cal.OnRequest = async r =>
        {
            if (r.Method == "POST")
            {
                var row = (await store.FindAsync("contested"))!;
                row.ClaimId = "another-request";
                row.ClaimedUntil = DateTimeOffset.UtcNow.AddSeconds(-1);
                Assert.True(await store.TryReplaceAsync(row));
            }
        };

        var response = await life.PutAsync("contested");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var webhook = Assert.Single(life.Cal.Webhooks);
        Assert.Single(life.Cal.RequestsTo("POST", "/v2/"));
        Assert.Single(life.Cal.RequestsTo("PATCH", "/v2/")); // its second pass found and adopted what the first created
        var stored = await life.RowAsync("contested");
        Assert.Equal(("active", webhook.Id, null), (stored!.State, stored.CalWebhookId, stored.ClaimId));
    }

    [Fact]
    public async Task A_new_scope_moves_the_subscription_deleting_the_old_one_first()
    {
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString);
        await life.PutAsync("mover", "{\"scope\":\"eventType\",\"eventTypeId\":1}");
        var old = Assert.Single(life.Cal.Webhooks);

        var moved = await life.PutAsync("mover", "{\"scope\":\"teamEventType\",\"teamId\":4,\"eventTypeId\":2}");

        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        Assert.Equal("/v2/event-types/1/webhooks/" + old.Id, Assert.Single(life.Cal.RequestsTo("DELETE", "/v2/")).Path);
        var current = Assert.Single(life.Cal.Webhooks);
        Assert.Equal("team:4:eventType:2", current.Owner);
        var row = await life.RowAsync("mover");
        Assert.Equal(("teamEventType", 4L, 2L, current.Id, "active"), (row!.Scope, row.TeamId!.Value, row.EventTypeId!.Value, row.CalWebhookId, row.State));
    }

    [Fact]
    public async Task A_put_while_another_request_holds_the_connection_waits_then_answers_409_with_Retry_After()
    {
        // A clock that runs fast, so the bounded wait for the other request's claim ends at once.
        await using var life = await Lifecycle.StartAsync(storage.ConnectionString,
            services: s => s.AddSingleton<TimeProvider>(new RacingTime(TimeSpan.FromSeconds(5))));
        var store = life.App.Get<ConnectionStore>();
        await store.TryInsertAsync(new ConnectionRecord
        {
            ConnectionId = "held",
            SubscriberUrl = life.SubscriberUrlFor("held"),
            ClaimId = "someone-else",
            ClaimedUntil = DateTimeOffset.UtcNow.AddDays(1),
        });

        var response = await life.PutAsync("held");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("registration_in_progress", (await Lifecycle.JsonAsync(response)).GetProperty("error").GetString());
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Empty(life.Cal.Requests);
    }
}

/// <summary>A clock that moves on by <paramref name="step"/> every time it is read.</summary>
public sealed class RacingTime(TimeSpan step) : TimeProvider
{
    private long _reads;

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + (step * Interlocked.Increment(ref _reads));
}
