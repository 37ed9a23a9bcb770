using CalWebhookFunctions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace CalWebhookFunctions.Ingest;

/// <summary><c>POST /api/webhooks/cal</c>: Cal.com's deliveries for every connection. The HMAC is the auth.</summary>
public sealed class ReceiveCalWebhook(WebhookIngestor ingestor, Operations.Rejections.RejectionRecorder rejections)
{
    [Function(nameof(ReceiveCalWebhook))]
    public async Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "webhooks/cal")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var outcome = await ingestor.IngestAsync(request, cancellationToken);
        var result = outcome.Status switch
        {
            IngestStatus.Accepted => TypedResults.Json(new AcceptedBody("accepted", outcome.EventId!), IngestJsonContext.Default.AcceptedBody),
            IngestStatus.EmptyBody => ApiResults.Error(StatusCodes.Status400BadRequest, "empty_body", "The request body is empty."),
            IngestStatus.TooLarge => ApiResults.Error(StatusCodes.Status413PayloadTooLarge, "body_too_large",
                "The request body is larger than Ingest__MaxBodyBytes allows."),
            IngestStatus.SignatureMissing => ApiResults.Error(StatusCodes.Status401Unauthorized, "signature_missing",
                "The X-Cal-Signature-256 header is missing."),
            IngestStatus.NoSecretProvided => ApiResults.Error(StatusCodes.Status401Unauthorized, "no_secret_provided",
                "The Cal.com webhook has no secret; set the integration secret on the subscription."),
            IngestStatus.SignatureMalformed => ApiResults.Error(StatusCodes.Status401Unauthorized, "signature_malformed",
                "X-Cal-Signature-256 must be one value of 64 hexadecimal characters."),
            IngestStatus.SignatureMismatch => ApiResults.Error(StatusCodes.Status401Unauthorized, "signature_mismatch",
                "X-Cal-Signature-256 does not match the body under any accepted secret."),
            IngestStatus.InvalidConnectionId => ApiResults.Error(StatusCodes.Status400BadRequest, "invalid_connection_id",
                $"The nangoConnectionId is not acceptable: {outcome.Detail}."),
            _ => ApiResults.Error(StatusCodes.Status503ServiceUnavailable, "storage_unavailable",
                "The event could not be stored; it was not accepted. Retry later."),
        };
        rejections.Record(outcome, result, request.ContentType); // in memory only: no storage call on this path
        return result;
    }
}

public sealed record AcceptedBody(
    [property: System.Text.Json.Serialization.JsonPropertyName("status")] string Status,
    [property: System.Text.Json.Serialization.JsonPropertyName("id")] string Id);

[System.Text.Json.Serialization.JsonSerializable(typeof(AcceptedBody))]
internal sealed partial class IngestJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
