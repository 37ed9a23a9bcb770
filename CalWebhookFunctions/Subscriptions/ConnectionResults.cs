using System.Diagnostics.CodeAnalysis;
using CalWebhookFunctions.Configuration;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CalWebhookFunctions.Subscriptions;

/// <summary>The answers the connection functions share.</summary>
public static class ConnectionResults
{
    public const string AccessTokenHeader = "X-Cal-Access-Token";

    public static ConnectionBody BodyOf(ConnectionRecord record) => new(
        record.ConnectionId, record.Scope, record.OrgId, record.TeamId, record.EventTypeId, record.CalWebhookId, record.SubscriberUrl,
        [.. SettingLists.Split(record.Triggers)], record.ForwardUrl, record.State, record.CreatedAt, record.UpdatedAt, record.Paused);

    public static Ok<ConnectionBody> Ok(ConnectionRecord record) => TypedResults.Ok(BodyOf(record));

    /// <summary>201 with the connection, without a <c>Location</c> (the caller named it).</summary>
    public static Created<ConnectionBody> Created(ConnectionRecord record) => TypedResults.Created((string?)null, BodyOf(record));

    /// <summary>
    /// The credential for this request: <see cref="AccessTokenHeader"/>, else <c>CalCom__ApiKey</c>, else null. False
    /// (with the answer to give) when the header is given more than once.
    /// </summary>
    public static bool TryGetCredential(HttpRequest request, CalComOptions options, out CalCredential? credential,
        [NotNullWhen(false)] out BadRequest<ErrorBody>? error)
    {
        credential = null;
        error = null;
        var header = request.Headers[AccessTokenHeader];
        if (header.Count > 1)
        {
            error = ApiResults.BadRequest("invalid_credential", $"{AccessTokenHeader} must be given once.");
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
    public static JsonHttpResult<ErrorBody> CalComFailure(CalComApiException ex, string advice)
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

    /// <summary>409 with <c>Retry-After</c> (1–300 s, from <paramref name="now"/> to <paramref name="claimedUntil"/>): another request holds the connection.</summary>
    public static ConnectionBusy Busy(DateTimeOffset? claimedUntil, DateTimeOffset now) =>
        new(Math.Clamp((int)Math.Ceiling(((claimedUntil ?? now) - now).TotalSeconds), 1, 300));

    public static NotFound<ErrorBody> NotFound() => ApiResults.NotFound("connection_not_found", "No connection with this id is stored.");

    public static JsonHttpResult<ErrorBody> StorageUnavailable() => ApiResults.StorageUnavailable("Table storage did not answer; retry later.");
}

/// <summary>409 <c>registration_in_progress</c> with <c>Retry-After</c> (seconds): another request holds the connection.</summary>
public sealed class ConnectionBusy(int seconds) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return ApiResults.Conflict("registration_in_progress",
            "Another request is changing this connection's Cal.com subscription; retry after the Retry-After seconds.").ExecuteAsync(httpContext);
    }
}
