using CalWebhookFunctions.Configuration;
using CalWebhookFunctions.Http;
using CalWebhookFunctions.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Subscriptions;

/// <summary>
/// <c>PUT /api/connections/{connectionId}</c> and <c>PUT /api/connections?id=…</c>: registers (or updates) the
/// connection's Cal.com subscription. Each route form is a thin function over one handler.
/// </summary>
public sealed class PostConnectionCreation(ConnectionLifecycle lifecycle, IOptions<CalComOptions> options, TimeProvider time)
{
    /// <summary>The largest PUT body read; the documented fields need a few hundred bytes.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    [Function(nameof(PostConnectionCreation))]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "put", Route = "connections/{connectionId}")] HttpRequest request,
        string connectionId,
        CancellationToken cancellationToken) =>
        HandleAsync(request, ConnectionRoute.FromPath(request, connectionId), cancellationToken);

    [Function(nameof(PostConnectionCreation) + "ByQuery")]
    public Task<IResult> RunByQuery(
        [HttpTrigger(AuthorizationLevel.Function, "put", Route = "connections")] HttpRequest request,
        CancellationToken cancellationToken) =>
        HandleAsync(request, ConnectionRoute.FromQuery(request), cancellationToken);

    private async Task<IResult> HandleAsync(HttpRequest request, ConnectionIdResult named, CancellationToken cancellationToken)
    {
        if (named.Id is not { } id)
        {
            return named.Error!;
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
            return outcome.Status switch
            {
                RegistrationStatus.Created => ConnectionResults.Record(outcome.Record!, StatusCodes.Status201Created),
                RegistrationStatus.Updated or RegistrationStatus.Unchanged => ConnectionResults.Record(outcome.Record!, StatusCodes.Status200OK),
                RegistrationStatus.Busy => ConnectionResults.Busy(outcome.BusyUntil, time.GetUtcNow()),
                RegistrationStatus.RemovedMeanwhile => ApiResults.Error(StatusCodes.Status409Conflict, "connection_removed",
                    "The connection was deleted while it was being registered; what this request made at Cal.com is being removed."),
                _ => ConnectionResults.CalComFailure(outcome.CalComError!,
                    "Nothing was changed for forwarding; the request is stored as pending. Retry the PUT once the cause is fixed."),
            };
        }
        catch (Exception ex) when (StorageAccount.IsUnavailable(ex))
        {
            return ConnectionResults.StorageUnavailable();
        }
    }
}

/// <summary><c>DELETE /api/connections/{connectionId}</c> and <c>?id=…</c>: removes the Cal.com subscription and tombstones the connection.</summary>
public sealed class PreConnectionDeletion(ConnectionLifecycle lifecycle, IOptions<CalComOptions> options, TimeProvider time)
{
    [Function(nameof(PreConnectionDeletion))]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = "connections/{connectionId}")] HttpRequest request,
        string connectionId,
        CancellationToken cancellationToken) =>
        HandleAsync(request, ConnectionRoute.FromPath(request, connectionId), cancellationToken);

    [Function(nameof(PreConnectionDeletion) + "ByQuery")]
    public Task<IResult> RunByQuery(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = "connections")] HttpRequest request,
        CancellationToken cancellationToken) =>
        HandleAsync(request, ConnectionRoute.FromQuery(request), cancellationToken);

    private async Task<IResult> HandleAsync(HttpRequest request, ConnectionIdResult named, CancellationToken cancellationToken)
    {
        if (named.Id is not { } id)
        {
            return named.Error!;
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
                RemovalStatus.Busy => ConnectionResults.Busy(outcome.BusyUntil, time.GetUtcNow()),
                _ => TypedResults.Json(
                    new CleanupPendingBody("cleanup_pending", id, outcome.CalWebhookId,
                        $"The connection was removed. Its Cal.com subscription could not be deleted yet ({LoggedUrl.RedactIn(outcome.Reason)}); " +
                        "CleanUpSubscription keeps trying with CalCom__ApiKey and logs what to delete by hand if it cannot."),
                    SubscriptionsJsonContext.Default.CleanupPendingBody, statusCode: StatusCodes.Status202Accepted),
            };
        }
        catch (Exception ex) when (StorageAccount.IsUnavailable(ex))
        {
            return ConnectionResults.StorageUnavailable();
        }
    }
}

/// <summary><c>GET /api/connections/{connectionId}</c> and <c>?id=…</c>: the stored connection (no secrets); 404 once removed.</summary>
public sealed class GetConnection(Connections.ConnectionStore store, Operations.ConnectionList list)
{
    [Function(nameof(GetConnection))]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "connections/{connectionId}")] HttpRequest request,
        string connectionId,
        CancellationToken cancellationToken) =>
        HandleAsync(ConnectionRoute.FromPath(request, connectionId), cancellationToken);

    /// <summary><c>GET /api/connections?id=…</c>; without <c>id</c> it is the list (<see cref="Operations.ConnectionList"/>).</summary>
    [Function(nameof(GetConnection) + "ByQuery")]
    public Task<IResult> RunByQuery(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "connections")] HttpRequest request,
        CancellationToken cancellationToken) =>
        Operations.ConnectionList.IsListRequest(request) ? list.ListAsync(request, cancellationToken) : HandleAsync(ConnectionRoute.FromQuery(request), cancellationToken);

    private async Task<IResult> HandleAsync(ConnectionIdResult named, CancellationToken cancellationToken)
    {
        if (named.Id is not { } id)
        {
            return named.Error!;
        }
        try
        {
            var record = await store.FindAsync(id, cancellationToken);
            return record is null || record.IsRemoved
                ? ConnectionResults.NotFound()
                : ConnectionResults.Record(record, StatusCodes.Status200OK);
        }
        catch (Exception ex) when (StorageAccount.IsUnavailable(ex))
        {
            return ConnectionResults.StorageUnavailable();
        }
    }
}
