using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace CalWebhookFunctions.Http;

/// <summary>The JSON body of every error answer: a stable machine-readable code and a sentence for people.</summary>
public sealed record ErrorBody(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("message")] string Message);

/// <summary>HTTP results shared by every HTTP function.</summary>
public static class ApiResults
{
    public static IResult Error(int statusCode, string code, string message) =>
        TypedResults.Json(new ErrorBody(code, message), HttpJsonContext.Default.ErrorBody, statusCode: statusCode);
}

[JsonSerializable(typeof(ErrorBody))]
internal sealed partial class HttpJsonContext : JsonSerializerContext;
