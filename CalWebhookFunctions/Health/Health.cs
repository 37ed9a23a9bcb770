using System.Text.Json.Serialization;
using Azure.Data.Tables;
using CalWebhookFunctions.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;

namespace CalWebhookFunctions.Health;

/// <summary><c>GET /api/health</c>: 200 while storage answers, 503 (same body) when it does not.</summary>
public sealed class Health(StorageAccount storage)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    [Function(nameof(Health))]
    public async Task<Results<Ok<HealthBody>, JsonHttpResult<HealthBody>>> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request,
        CancellationToken cancellationToken) =>
        await IsHealthyAsync(cancellationToken)
            ? TypedResults.Ok(new HealthBody("healthy", "reachable"))
            : TypedResults.Json(new HealthBody("unhealthy", "unreachable"), HealthJson.Default.HealthBody,
                statusCode: StatusCodes.Status503ServiceUnavailable);

    /// <summary>Whether the storage account answers: one cheap read each of the queue, table and blob services.</summary>
    private async Task<bool> IsHealthyAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            await Task.WhenAll(
                storage.Queue(StorageNames.WebhookQueue).ExistsAsync(timeout.Token),
                storage.Table(StorageNames.ConnectionsTable).GetEntityIfExistsAsync<TableEntity>("health", "probe", cancellationToken: timeout.Token),
                storage.Container(StorageNames.PayloadContainer).ExistsAsync(timeout.Token)).ConfigureAwait(false);
            return true;
        }
        catch (Azure.RequestFailedException ex) when (StorageAccount.IsMissingResource(ex))
        {
            // The service answered; the table just has not been created yet.
            return true;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}

public sealed record HealthBody(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("storage")] string Storage);

[JsonSerializable(typeof(HealthBody))]
internal sealed partial class HealthJson : JsonSerializerContext;
