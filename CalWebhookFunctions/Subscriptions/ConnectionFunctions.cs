using Azure;
using CalWebhookFunctions.Configuration;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Http;
using CalWebhookFunctions.Ingest;
using CalWebhookFunctions.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Subscriptions;

/// <summary><c>PUT /api/connections/{connectionId}</c>: registers (or updates) the connection's Cal.com subscription.</summary>
public sealed class PostConnectionCreation(ConnectionLifecycle lifecycle, IOptions<CalComOptions> options)
{
    /// <summary>The largest PUT body read; the documented fields need a few hundred bytes.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    [Function(nameof(PostConnectionCreation))]
    public async Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "put", Route = "connections/{connectionId}")] HttpRequest request,
        string connectionId,
        CancellationToken cancellationToken)
    {
        if (!ConnectionResults.TryResolveId(request, connectionId, out var id, out var invalid))
        {
            return invalid;
        }
        var body = await BodyReader.ReadAsync(request, MaxBodyBytes, cancellationToken);
        if (body is null)
        {
            return ApiResults.Error(StatusCodes.Status413PayloadTooLarge, "body_too_large", $"The body is larger than {MaxBodyBytes} bytes.");
        }
        var parsed = ConnectionRequestParser.Parse(body, options.Value);
        if (parsed.Request is null)
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, parsed.ErrorCode!, parsed.Error!);
        }
        if (!ConnectionResults.TryGetCredential(request, options.Value, out var credential, out var credentialError))
        {
            return credentialError;
        }
        if (credential is null)
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, "missing_credential",
                $"No Cal.com credential: send {ConnectionResults.AccessTokenHeader} (API key or OAuth access token) or set CalCom__ApiKey.");
        }

        try
        {
            var outcome = await lifecycle.RegisterAsync(id, parsed.Request, credential, cancellationToken);
            return ConnectionResults.Record(outcome.Record,
                outcome.Status == RegistrationStatus.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
        }
        catch (CalComApiException ex)
        {
            return ConnectionResults.CalComFailure(ex, "The connection is stored as pending; retry the PUT once the cause is fixed.");
        }
        catch (ConnectionBusyException ex)
        {
            return ConnectionResults.Busy(ex);
        }
        catch (ConnectionRemovedException)
        {
            return ApiResults.Error(StatusCodes.Status409Conflict, "connection_removed", "The connection was deleted while it was being registered.");
        }
        catch (Exception ex) when (StorageAccount.IsUnavailable(ex))
        {
            return ConnectionResults.StorageUnavailable();
        }
    }
}

/// <summary><c>DELETE /api/connections/{connectionId}</c>: removes the Cal.com subscription and the connection.</summary>
public sealed class PreConnectionDeletion(ConnectionLifecycle lifecycle, IOptions<CalComOptions> options)
{
    [Function(nameof(PreConnectionDeletion))]
    public async Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = "connections/{connectionId}")] HttpRequest request,
        string connectionId,
        CancellationToken cancellationToken)
    {
        if (!ConnectionResults.TryResolveId(request, connectionId, out var id, out var invalid))
        {
            return invalid;
        }
        if (!ConnectionResults.TryGetCredential(request, options.Value, out var credential, out var credentialError))
        {
            return credentialError;
        }
        try
        {
            var outcome = await lifecycle.RemoveAsync(id, credential, cancellationToken);
            return outcome.Status switch
            {
                RemovalStatus.NotFound => ConnectionResults.NotFound(),
                RemovalStatus.Removed => TypedResults.NoContent(),
                _ => TypedResults.Json(
                    new CleanupPendingBody("cleanup_pending", id, outcome.CalWebhookId,
                        $"The connection was removed. Its Cal.com subscription could not be deleted yet ({outcome.Reason}); " +
                        "CleanUpSubscription keeps trying with CalCom__ApiKey and logs what to delete by hand if it cannot."),
                    SubscriptionsJsonContext.Default.CleanupPendingBody, statusCode: StatusCodes.Status202Accepted),
            };
        }
        catch (ConnectionBusyException ex)
        {
            return ConnectionResults.Busy(ex);
        }
        catch (Exception ex) when (StorageAccount.IsUnavailable(ex))
        {
            return ConnectionResults.StorageUnavailable();
        }
    }
}

/// <summary><c>GET /api/connections/{connectionId}</c>: the stored connection (no secrets).</summary>
public sealed class GetConnection(ConnectionStore store)
{
    [Function(nameof(GetConnection))]
    public async Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "connections/{connectionId}")] HttpRequest request,
        string connectionId,
        CancellationToken cancellationToken)
    {
        if (!ConnectionResults.TryResolveId(request, connectionId, out var id, out var invalid))
        {
            return invalid;
        }
        try
        {
            var record = await store.FindAsync(id, cancellationToken);
            return record is null ? ConnectionResults.NotFound() : ConnectionResults.Record(record, StatusCodes.Status200OK);
        }
        catch (Exception ex) when (StorageAccount.IsUnavailable(ex))
        {
            return ConnectionResults.StorageUnavailable();
        }
    }
}

/// <summary>The answers the connection functions share.</summary>
public static class ConnectionResults
{
    public const string AccessTokenHeader = "X-Cal-Access-Token";

    public static ConnectionBody BodyOf(ConnectionRecord record) => new(
        record.ConnectionId, record.Scope, record.OrgId, record.TeamId, record.EventTypeId, record.CalWebhookId, record.SubscriberUrl,
        [.. SettingLists.Split(record.Triggers)], record.ForwardUrl, record.State, record.CreatedAt, record.UpdatedAt);

    public static IResult Record(ConnectionRecord record, int statusCode) =>
        TypedResults.Json(BodyOf(record), SubscriptionsJsonContext.Default.ConnectionBody, statusCode: statusCode);

    /// <summary>
    /// The credential for this request: <see cref="AccessTokenHeader"/>, else <c>CalCom__ApiKey</c>, else null. False
    /// (with the answer to give) when the header is given more than once.
    /// </summary>
    public static bool TryGetCredential(HttpRequest request, CalComOptions options, out CalCredential? credential, out IResult error)
    {
        credential = null;
        error = TypedResults.Ok();
        var header = request.Headers[AccessTokenHeader];
        if (header.Count > 1)
        {
            error = ApiResults.Error(StatusCodes.Status400BadRequest, "invalid_credential", $"{AccessTokenHeader} must be given once.");
            return false;
        }
        if (header.Count == 1 && !string.IsNullOrWhiteSpace(header[0]))
        {
            credential = new CalCredential(header[0]!) { Source = AccessTokenHeader };
        }
        else if (!string.IsNullOrWhiteSpace(options.ApiKey))
        {
            credential = new CalCredential(options.ApiKey) { Source = "CalCom__ApiKey" };
        }
        return true;
    }

    /// <summary>
    /// Cal.com's refusal, named: 400, 401/403 (as 403: the credential, not this API's key, was refused) and 404 pass
    /// through; other refusals and an unreachable or failing Cal.com (after retries) are 502.
    /// </summary>
    public static IResult CalComFailure(CalComApiException ex, string advice)
    {
        var (status, code) = ex.StatusCode switch
        {
            400 => (StatusCodes.Status400BadRequest, "calcom_bad_request"),
            401 => (StatusCodes.Status403Forbidden, "calcom_unauthorized"),
            403 => (StatusCodes.Status403Forbidden, "calcom_forbidden"),
            404 => (StatusCodes.Status404NotFound, "calcom_not_found"),
            { } other when !ex.IsTransient && other is >= 400 and < 500 => (StatusCodes.Status502BadGateway, "calcom_rejected"),
            _ => (StatusCodes.Status502BadGateway, "calcom_unavailable"),
        };
        var requestId = ex.RequestId is null ? "" : $" (Cal.com request id {ex.RequestId})";
        return ApiResults.Error(status, code, $"{ex.Message}{requestId}. {advice}");
    }

    public static IResult Busy(ConnectionBusyException ex) => new BusyResult(ex.ClaimedUntil);

    /// <summary>The valid connection id the request names, or false with the 400 to answer.</summary>
    public static bool TryResolveId(HttpRequest request, string routeValue, out string id, out IResult invalid)
    {
        var resolved = ConnectionRoute.Resolve(request, routeValue);
        var problem = "its percent-escapes are not valid UTF-8";
        if (resolved is not null && ConnectionId.IsValid(resolved, out problem))
        {
            id = resolved;
            invalid = TypedResults.Ok();
            return true;
        }
        id = "";
        invalid = InvalidId(problem);
        return false;
    }

    public static IResult InvalidId(string problem) =>
        ApiResults.Error(StatusCodes.Status400BadRequest, "invalid_connection_id", $"The connection id is not acceptable: {problem}.");

    public static IResult NotFound() =>
        ApiResults.Error(StatusCodes.Status404NotFound, "connection_not_found", "No connection with this id is stored.");

    public static IResult StorageUnavailable() =>
        ApiResults.Error(StatusCodes.Status503ServiceUnavailable, "storage_unavailable", "Table storage did not answer; retry later.");

    /// <summary>409 with <c>Retry-After</c>: another request holds the connection.</summary>
    private sealed class BusyResult(DateTimeOffset claimedUntil) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            var seconds = Math.Clamp((int)Math.Ceiling((claimedUntil - DateTimeOffset.UtcNow).TotalSeconds), 1, 300);
            httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return ApiResults.Error(StatusCodes.Status409Conflict, "registration_in_progress",
                "Another request is changing this connection's Cal.com subscription; retry after the Retry-After seconds.").ExecuteAsync(httpContext);
        }
    }
}
