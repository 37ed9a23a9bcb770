using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CalWebhookFunctions.Http;

/// <summary>The JSON body of every error answer: a stable machine-readable code and a sentence for people.</summary>
public sealed record ErrorBody(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("message")] string Message);

/// <summary>
/// The error answers every HTTP function shares, as ASP.NET Core typed results, so a function's signature
/// (<c>Results&lt;Ok&lt;T&gt;, NotFound&lt;ErrorBody&gt;, …&gt;</c>) lists what it can answer. Statuses without a typed
/// result of their own (401, 403, 410, 413, 502, 503) are a <see cref="JsonHttpResult{TValue}"/> of the same body.
/// </summary>
public static class ApiResults
{
    public static BadRequest<ErrorBody> BadRequest(string code, string message) => TypedResults.BadRequest(new ErrorBody(code, message));

    public static NotFound<ErrorBody> NotFound(string code, string message) => TypedResults.NotFound(new ErrorBody(code, message));

    public static Conflict<ErrorBody> Conflict(string code, string message) => TypedResults.Conflict(new ErrorBody(code, message));

    public static JsonHttpResult<ErrorBody> Error(int statusCode, string code, string message) =>
        TypedResults.Json(new ErrorBody(code, message), HttpJsonContext.Default.ErrorBody, statusCode: statusCode);

    public static JsonHttpResult<ErrorBody> StorageUnavailable(string message) =>
        Error(StatusCodes.Status503ServiceUnavailable, "storage_unavailable", message);
}

[JsonSerializable(typeof(ErrorBody))]
internal sealed partial class HttpJsonContext : JsonSerializerContext;
