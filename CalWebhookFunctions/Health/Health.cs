using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;

namespace CalWebhookFunctions.Health;

/// <summary><c>GET /api/health</c>: 200 while storage answers, 503 (same body) when it does not.</summary>
public sealed class Health(StorageHealth storage)
{
    [Function(nameof(Health))]
    public async Task<Results<Ok<HealthBody>, JsonHttpResult<HealthBody>>> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request,
        CancellationToken cancellationToken) =>
        await storage.IsHealthyAsync(cancellationToken)
            ? TypedResults.Ok(new HealthBody("healthy", "reachable"))
            : TypedResults.Json(new HealthBody("unhealthy", "unreachable"), HealthJson.Default.HealthBody,
                statusCode: StatusCodes.Status503ServiceUnavailable);
}

public sealed record HealthBody(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("storage")] string Storage);

[JsonSerializable(typeof(HealthBody))]
internal sealed partial class HealthJson : JsonSerializerContext;
