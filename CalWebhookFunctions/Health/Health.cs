using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace CalWebhookFunctions.Health;

/// <summary><c>GET /api/health</c>: 200 while storage answers, 503 when it does not.</summary>
public sealed class Health(StorageHealth storage)
{
    [Function(nameof(Health))]
    public async Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var healthy = await storage.IsHealthyAsync(cancellationToken);
        return TypedResults.Json(
            new HealthBody(healthy ? "healthy" : "unhealthy", healthy ? "reachable" : "unreachable"),
            HealthJsonContext.Default.HealthBody,
            statusCode: healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }
}

public sealed record HealthBody(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("storage")] string Storage);

[JsonSerializable(typeof(HealthBody))]
internal sealed partial class HealthJsonContext : JsonSerializerContext;
