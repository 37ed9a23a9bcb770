using CalWebhookFunctions.Configuration;
using CalWebhookFunctions.Http;
using CalWebhookFunctions.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Subscriptions;

using DeleteAnswer = Results<NoContent, Accepted<CleanupPendingBody>, NotFound<ErrorBody>, BadRequest<ErrorBody>, ConnectionBusy, JsonHttpResult<ErrorBody>>;
using GetAnswer = Results<Ok<ConnectionBody>, NotFound<ErrorBody>, BadRequest<ErrorBody>, JsonHttpResult<ErrorBody>>;
using ListAnswer = Results<Ok<Operations.ListPage<ConnectionBody>>, BadRequest<ErrorBody>, JsonHttpResult<ErrorBody>>;
using PutAnswer = Results<Ok<ConnectionBody>, Created<ConnectionBody>, BadRequest<ErrorBody>, Conflict<ErrorBody>, ConnectionBusy, JsonHttpResult<ErrorBody>>;

/// <summary>
/// <c>PUT /api/connections/{connectionId}</c> and <c>PUT /api/connections?id=…</c>: registers (or updates) the
/// connection's Cal.com subscription. Each route form is a thin function over one handler. Answers: 201 created, 200
/// updated or unchanged, 400 (the id, the body, the credential, or Cal.com's 400), 409 deleted meanwhile, 409 with
/// <c>Retry-After</c> while another request holds it, 403/404/502 from Cal.com, 413 body too large, 503 storage.
/// </summary>
public sealed class PostConnectionCreation(ConnectionLifecycle lifecycle, IOptions<CalComOptions> options, TimeProvider time)
{
    /// <summary>The largest PUT body read; the documented fields need a few hundred bytes.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    [Function(nameof(PostConnectionCreation))]
    public Task<PutAnswer> Run(
        [HttpTrigger(AuthorizationLevel.Function, "put", Route = "connections/{connectionId}")] HttpRequest request,
        string connectionId, CancellationToken cancellationToken) =>
        HandleAsync(request, ConnectionRoute.FromPath(request, connectionId), cancellationToken);

    [Function(nameof(PostConnectionCreation) + "ByQuery")]
    public Task<PutAnswer> RunByQuery(
        [HttpTrigger(AuthorizationLevel.Function, "put", Route = "connections")] HttpRequest request,
        CancellationToken cancellationToken) =>
        HandleAsync(request, ConnectionRoute.FromQuery(request), cancellationToken);

    private async Task<PutAnswer> HandleAsync(HttpRequest request, ConnectionIdResult named, CancellationToken cancellationToken)
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
            return ApiResults.BadRequest(parsed.ErrorCode!, parsed.Error!);
        }
        if (!ConnectionResults.TryGetCredential(request, options.Value, out var credential, out var credentialError))
        {
            return credentialError;
        }
        if (credential is null)
        {
            return ApiResults.BadRequest("missing_credential",
                $"No Cal.com credential: send {ConnectionResults.AccessTokenHeader} (API key or OAuth access token) or set CalCom__ApiKey.");
        }
        try
        {
            var outcome = await lifecycle.RegisterAsync(id, parsed.Request, credential, cancellationToken);
            return outcome.Status switch
            {
                RegistrationStatus.Created => ConnectionResults.Created(outcome.Record!),
                RegistrationStatus.Updated or RegistrationStatus.Unchanged => ConnectionResults.Ok(outcome.Record!),
                RegistrationStatus.Busy => ConnectionResults.Busy(outcome.BusyUntil, time.GetUtcNow()),
                RegistrationStatus.RemovedMeanwhile => ApiResults.Conflict("connection_removed",
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
    public Task<DeleteAnswer> Run(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = "connections/{connectionId}")] HttpRequest request,
        string connectionId, CancellationToken cancellationToken) =>
        HandleAsync(request, ConnectionRoute.FromPath(request, connectionId), cancellationToken);

    [Function(nameof(PreConnectionDeletion) + "ByQuery")]
    public Task<DeleteAnswer> RunByQuery(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = "connections")] HttpRequest request,
        CancellationToken cancellationToken) =>
        HandleAsync(request, ConnectionRoute.FromQuery(request), cancellationToken);

    private async Task<DeleteAnswer> HandleAsync(HttpRequest request, ConnectionIdResult named, CancellationToken cancellationToken)
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
                _ => TypedResults.Accepted((string?)null,
                    new CleanupPendingBody("cleanup_pending", id, outcome.CalWebhookId,
                        $"The connection was removed. Its Cal.com subscription could not be deleted yet ({LoggedUrl.RedactIn(outcome.Reason)}); " +
                        "CleanUpSubscription keeps trying with CalCom__ApiKey and logs what to delete by hand if it cannot.")),
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
    public Task<GetAnswer> Run(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "connections/{connectionId}")] HttpRequest request,
        string connectionId, CancellationToken cancellationToken) =>
        HandleAsync(ConnectionRoute.FromPath(request, connectionId), cancellationToken);

    /// <summary><c>GET /api/connections?id=…</c>; without <c>id</c> it is the list (<see cref="Operations.ConnectionList"/>).</summary>
    [Function(nameof(GetConnection) + "ByQuery")]
    public async Task<Results<GetAnswer, ListAnswer>> RunByQuery(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "connections")] HttpRequest request,
        CancellationToken cancellationToken) =>
        Operations.ConnectionList.IsListRequest(request)
            ? await list.ListAsync(request, cancellationToken)
            : await HandleAsync(ConnectionRoute.FromQuery(request), cancellationToken);

    private async Task<GetAnswer> HandleAsync(ConnectionIdResult named, CancellationToken cancellationToken)
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
                : ConnectionResults.Ok(record);
        }
        catch (Exception ex) when (StorageAccount.IsUnavailable(ex))
        {
            return ConnectionResults.StorageUnavailable();
        }
    }
}
