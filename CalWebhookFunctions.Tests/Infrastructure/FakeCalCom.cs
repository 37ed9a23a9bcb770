using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Tests.Infrastructure;

/// <summary>One request the fake Cal.com received, as it arrived.</summary>
public sealed record CalRequest(string Method, string Path, string Query, string? Authorization, string Body, DateTimeOffset ReceivedAt)
{
    public JsonObject Json => JsonNode.Parse(Body)!.AsObject();
}

/// <summary>A webhook subscription held by the fake Cal.com.</summary>
public sealed record CalStoredWebhook(string Id, string Owner, string SubscriberUrl, IReadOnlyList<string> Triggers, bool Active, string? Secret,
    DateTimeOffset CreatedAt);

/// <summary>What the fake does to matching requests instead of (or after) answering them.</summary>
public sealed class CalInjection
{
    /// <summary>Answer with this status (and Cal.com's error envelope) instead of handling the request.</summary>
    public int? Status { get; init; }

    /// <summary>With <see cref="Status"/>: the Retry-After header, in seconds.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>Drop the connection without answering, before handling the request.</summary>
    public bool DropBefore { get; init; }

    /// <summary>Handle the request (its effect happens) and then drop the connection instead of answering.</summary>
    public bool DropAfter { get; init; }

    /// <summary>Which requests it applies to (all when null).</summary>
    public Func<CalRequest, bool>? When { get; init; }

    /// <summary>How many matching requests it applies to.</summary>
    public int Times { get; set; } = 1;
}

/// <summary>
/// A fake Cal.com API v2 on 127.0.0.1, written from <c>calcom/README.md</c> §3 and the OpenAPI file: the webhook routes of
/// the four scopes (create, list with take/skip, get, PATCH, delete), bearer auth (401 envelope without it), 201 with UUID
/// string ids, 409 on a duplicate subscriber URL per owner, the error envelope with X-Request-Id, and switches that inject
/// 429 with Retry-After, 5xx and dropped connections. It records every request it receives.
/// </summary>
public sealed class FakeCalCom : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly List<CalStoredWebhook> _webhooks = [];
    private readonly ConcurrentQueue<CalRequest> _requests = new();
    private readonly List<CalInjection> _injections = [];
    private readonly ConcurrentDictionary<string, int> _users = new(StringComparer.Ordinal);
    private LoopbackServer? _server;

    private FakeCalCom()
    {
    }

    /// <summary>The API base URL to give the app as <c>CalCom__ApiBaseUrl</c>.</summary>
    public string ApiBaseUrl => _server!.BaseAddress.ToString().TrimEnd('/');

    public IReadOnlyList<CalRequest> Requests => [.. _requests];

    public IReadOnlyList<CalStoredWebhook> Webhooks
    {
        get
        {
            lock (_gate)
            {
                return [.. _webhooks];
            }
        }
    }

    /// <summary>Tokens answered with 403 ForbiddenException (an org route without org admin rights, say).</summary>
    public ConcurrentDictionary<string, bool> ForbiddenTokens { get; } = new(StringComparer.Ordinal);

    /// <summary>Event type ids Cal.com does not know (404 on their routes).</summary>
    public ConcurrentDictionary<long, bool> UnknownEventTypes { get; } = new();

    /// <summary>Called with each request after it is recorded and before it is handled (e.g. to act at an exact moment).</summary>
    public Func<CalRequest, Task>? OnRequest { get; set; }

    public static async Task<FakeCalCom> StartAsync()
    {
        var fake = new FakeCalCom();
        fake._server = await LoopbackServer.StartAsync(app =>
        {
            fake.Map(app, "/v2/webhooks", _ => null);
            fake.Map(app, "/v2/organizations/{orgId}/webhooks", r => "org:" + r["orgId"]);
            fake.Map(app, "/v2/event-types/{eventTypeId}/webhooks", r => "eventType:" + r["eventTypeId"]);
            fake.Map(app, "/v2/teams/{teamId}/event-types/{eventTypeId}/webhooks", r => $"team:{r["teamId"]}:eventType:{r["eventTypeId"]}");
        }, services => services.AddRouting());
        return fake;
    }

    public void Inject(CalInjection injection)
    {
        lock (_gate)
        {
            _injections.Add(injection);
        }
    }

    public void ClearInjections()
    {
        lock (_gate)
        {
            _injections.Clear();
        }
    }

    /// <summary>The owner key user-scoped webhooks of <paramref name="token"/> are filed under.</summary>
    public string UserOwner(string token) => "user:" + UserId(token).ToString(CultureInfo.InvariantCulture);

    /// <summary>Adds a webhook directly (as if made earlier by hand or by another app).</summary>
    public CalStoredWebhook Seed(string owner, string subscriberUrl, IReadOnlyList<string>? triggers = null, string? secret = null)
    {
        var webhook = new CalStoredWebhook(Guid.NewGuid().ToString(), owner, subscriberUrl, triggers ?? ["BOOKING_CREATED"], true, secret,
            DateTimeOffset.UtcNow);
        lock (_gate)
        {
            _webhooks.Add(webhook);
        }
        return webhook;
    }

    public IReadOnlyList<CalStoredWebhook> WebhooksWithUrl(string subscriberUrl) =>
        [.. Webhooks.Where(w => w.SubscriberUrl == subscriberUrl)];

    public IReadOnlyList<CalRequest> RequestsTo(string method, string pathPrefix) =>
        [.. Requests.Where(r => r.Method == method && r.Path.StartsWith(pathPrefix, StringComparison.Ordinal))];

    private int UserId(string token) => _users.GetOrAdd(token, _ => 1000 + _users.Count);

    private void Map(WebApplication app, string collection, Func<RouteValueDictionary, string?> ownerOf)
    {
        app.MapMethods(collection, ["GET", "POST"], context => HandleAsync(context, ownerOf, collection: true));
        app.MapMethods(collection + "/{webhookId}", ["GET", "PATCH", "DELETE"], context => HandleAsync(context, ownerOf, collection: false));
    }

    private async Task HandleAsync(HttpContext context, Func<RouteValueDictionary, string?> ownerOf, bool collection)
    {
        var request = context.Request;
        string body;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync();
        }
        var raw = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var received = new CalRequest(request.Method, request.Path.Value ?? "", request.QueryString.Value ?? "",
            request.Headers.Authorization.Count > 0 ? request.Headers.Authorization.ToString() : null, body, DateTimeOffset.UtcNow);
        _requests.Enqueue(received);
        context.Response.Headers["X-Request-Id"] = Guid.NewGuid().ToString();
        if (OnRequest is { } hook)
        {
            await hook(received);
        }

        var injection = TakeInjection(received);
        if (injection is { DropBefore: true })
        {
            context.Abort();
            return;
        }
        if (injection is { Status: { } injected })
        {
            if (injection.RetryAfterSeconds is { } seconds)
            {
                context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            }
            await ErrorAsync(context, raw, injected, injected == 429 ? "ThrottlerException" : "InternalServerErrorException",
                injected == 429 ? "Too many requests" : "Internal server error");
            return;
        }

        var auth = request.Headers.Authorization.ToString();
        if (!auth.StartsWith("Bearer ", StringComparison.Ordinal) || auth.Length <= "Bearer ".Length)
        {
            await ErrorAsync(context, raw, 401, "UnauthorizedException", "No authorization token provided");
            return;
        }
        var token = auth["Bearer ".Length..];
        if (ForbiddenTokens.ContainsKey(token))
        {
            await ErrorAsync(context, raw, 403, "ForbiddenException", "Forbidden resource");
            return;
        }
        var routeValues = context.GetRouteData().Values;
        if (routeValues.TryGetValue("eventTypeId", out var eventType) && long.TryParse(eventType as string, CultureInfo.InvariantCulture, out var eventTypeId)
            && UnknownEventTypes.ContainsKey(eventTypeId))
        {
            await ErrorAsync(context, raw, 404, "NotFoundException", $"Event type with id {eventTypeId} not found");
            return;
        }
        var owner = ownerOf(routeValues) ?? UserOwner(token);

        var (status, payload) = collection
            ? request.Method == "POST" ? Create(owner, body) : List(owner, request.Query)
            : One(owner, request.Method, (string)routeValues["webhookId"]!, body);

        if (injection is { DropAfter: true })
        {
            context.Abort();
            return;
        }
        if (status >= 400)
        {
            var error = payload!.AsObject();
            await ErrorAsync(context, raw, status, (string)error["code"]!, (string)error["message"]!);
            return;
        }
        context.Response.StatusCode = status;
        await context.Response.WriteAsJsonAsync(new JsonObject { ["status"] = "success", ["data"] = payload });
    }

    private CalInjection? TakeInjection(CalRequest request)
    {
        lock (_gate)
        {
            var injection = _injections.FirstOrDefault(i => i.Times > 0 && (i.When?.Invoke(request) ?? true));
            if (injection is not null)
            {
                injection.Times--;
            }
            return injection;
        }
    }

    private (int, JsonNode?) Create(string owner, string body)
    {
        if (!TryReadSettings(body, requireAll: true, out var active, out var url, out var triggers, out var secret, out var problem))
        {
            return Error(400, "BadRequestException", problem);
        }
        lock (_gate)
        {
            if (_webhooks.Any(w => w.Owner == owner && w.SubscriberUrl == url))
            {
                return Error(409, "ConflictException", "Webhook with this subscriber url already exists for this user");
            }
            var webhook = new CalStoredWebhook(Guid.NewGuid().ToString(), owner, url!, triggers!, active!.Value, secret, DateTimeOffset.UtcNow);
            _webhooks.Add(webhook);
            return (201, ToJson(webhook));
        }
    }

    private (int, JsonNode?) List(string owner, IQueryCollection query)
    {
        var take = 250;
        var skip = 0;
        if (query.TryGetValue("take", out var takeValue) && (!int.TryParse(takeValue, CultureInfo.InvariantCulture, out take) || take is < 1 or > 250))
        {
            return Error(400, "BadRequestException", "take must not be greater than 250; take must not be less than 1");
        }
        if (query.TryGetValue("skip", out var skipValue) && (!int.TryParse(skipValue, CultureInfo.InvariantCulture, out skip) || skip < 0))
        {
            return Error(400, "BadRequestException", "skip must not be less than 0");
        }
        lock (_gate)
        {
            return (200, new JsonArray([.. _webhooks.Where(w => w.Owner == owner).Skip(skip).Take(take).Select(w => (JsonNode)ToJson(w))]));
        }
    }

    private (int, JsonNode?) One(string owner, string method, string id, string body)
    {
        lock (_gate)
        {
            var index = _webhooks.FindIndex(w => w.Id == id && w.Owner == owner);
            if (index < 0)
            {
                return Error(404, "NotFoundException", $"Webhook ({id}) not found");
            }
            var webhook = _webhooks[index];
            switch (method)
            {
                case "GET":
                    return (200, ToJson(webhook));
                case "DELETE":
                    _webhooks.RemoveAt(index);
                    return (200, ToJson(webhook));
                default:
                    if (!TryReadSettings(body, requireAll: false, out var active, out var url, out var triggers, out var secret, out var problem))
                    {
                        return Error(400, "BadRequestException", problem);
                    }
                    webhook = webhook with
                    {
                        Active = active ?? webhook.Active,
                        SubscriberUrl = url ?? webhook.SubscriberUrl,
                        Triggers = triggers ?? webhook.Triggers,
                        Secret = secret ?? webhook.Secret,
                    };
                    _webhooks[index] = webhook;
                    return (200, ToJson(webhook));
            }
        }
    }

    private static bool TryReadSettings(string body, bool requireAll, out bool? active, out string? url, out IReadOnlyList<string>? triggers,
        out string? secret, out string problem)
    {
        active = null;
        url = null;
        triggers = null;
        secret = null;
        problem = "";
        JsonObject json;
        try
        {
            json = JsonNode.Parse(body)?.AsObject() ?? throw new InvalidOperationException();
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException)
        {
            problem = "Invalid JSON body";
            return false;
        }
        if (json["active"] is JsonValue a && a.TryGetValue<bool>(out var activeValue))
        {
            active = activeValue;
        }
        if (json["subscriberUrl"] is JsonValue u && u.TryGetValue<string>(out var urlValue))
        {
            url = urlValue;
        }
        if (json["triggers"] is JsonArray t)
        {
            triggers = [.. t.Select(x => (string)x!)];
        }
        if (json["secret"] is JsonValue s && s.TryGetValue<string>(out var secretValue))
        {
            secret = secretValue;
        }
        if (requireAll && (active is null || url is null || triggers is null))
        {
            problem = "active must be a boolean value; subscriberUrl must be a string; triggers must be an array";
            return false;
        }
        return true;
    }

    private static JsonObject ToJson(CalStoredWebhook webhook)
    {
        var json = new JsonObject
        {
            ["id"] = webhook.Id,
            ["subscriberUrl"] = webhook.SubscriberUrl,
            ["triggers"] = new JsonArray([.. webhook.Triggers.Select(t => (JsonNode)t)]),
            ["active"] = webhook.Active,
            ["payloadTemplate"] = null,
            ["secret"] = webhook.Secret,
        };
        var parts = webhook.Owner.Split(':');
        switch (parts[0])
        {
            case "user":
                json["userId"] = int.Parse(parts[1], CultureInfo.InvariantCulture);
                break;
            case "org":
                json["teamId"] = int.Parse(parts[1], CultureInfo.InvariantCulture);
                break;
            case "eventType":
                json["eventTypeId"] = int.Parse(parts[1], CultureInfo.InvariantCulture);
                break;
            default:
                json["teamId"] = int.Parse(parts[1], CultureInfo.InvariantCulture);
                json["eventTypeId"] = int.Parse(parts[3], CultureInfo.InvariantCulture);
                break;
        }
        return json;
    }

    private static (int, JsonNode?) Error(int status, string code, string message) =>
        (status, new JsonObject { ["code"] = code, ["message"] = message });

    private static Task ErrorAsync(HttpContext context, string path, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new JsonObject
        {
            ["status"] = "error",
            ["timestamp"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            ["path"] = path,
            ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["details"] = new JsonObject() },
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
