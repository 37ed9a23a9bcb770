using System.Text.Json.Serialization;
using CalWebhookFunctions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;

namespace CalWebhookFunctions.Ingest;

/// <summary><c>POST /api/webhooks/cal</c>: Cal.com's deliveries for every connection. The HMAC is the auth.</summary>
public sealed class ReceiveCalWebhook(WebhookIngestor ingestor, Operations.Rejections.RejectionRecorder rejections)
{
    /// <summary>200 accepted; 400 empty or naming an unacceptable connection; 401 unsigned or mis-signed, 413 too large, 503 not stored.</summary>
    [Function(nameof(ReceiveCalWebhook))]
    public async Task<Results<Ok<AcceptedBody>, BadRequest<ErrorBody>, JsonHttpResult<ErrorBody>>> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "webhooks/cal")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var outcome = await ingestor.IngestAsync(request, cancellationToken);
        Results<Ok<AcceptedBody>, BadRequest<ErrorBody>, JsonHttpResult<ErrorBody>> result = outcome.Status switch
        {
            IngestStatus.Accepted => TypedResults.Ok(new AcceptedBody("accepted", outcome.EventId!)),
            IngestStatus.EmptyBody => ApiResults.BadRequest("empty_body", "The request body is empty."),
            IngestStatus.TooLarge => ApiResults.Error(StatusCodes.Status413PayloadTooLarge, "body_too_large",
                "The request body is larger than Ingest__MaxBodyBytes allows."),
            IngestStatus.SignatureMissing => Unauthorized("signature_missing", "The X-Cal-Signature-256 header is missing."),
            IngestStatus.NoSecretProvided => Unauthorized("no_secret_provided",
                "The Cal.com webhook has no secret; set the integration secret on the subscription."),
            IngestStatus.SignatureMalformed => Unauthorized("signature_malformed",
                "X-Cal-Signature-256 must be one value of 64 hexadecimal characters."),
            IngestStatus.SignatureMismatch => Unauthorized("signature_mismatch",
                "X-Cal-Signature-256 does not match the body under any accepted secret."),
            IngestStatus.InvalidConnectionId => ApiResults.BadRequest("invalid_connection_id",
                $"The nangoConnectionId is not acceptable: {outcome.Detail}."),
            _ => ApiResults.StorageUnavailable("The event could not be stored; it was not accepted. Retry later."),
        };
        rejections.Record(outcome, result.Result, request.ContentType); // in memory only: no storage call on this path
        return result;
    }

    private static JsonHttpResult<ErrorBody> Unauthorized(string code, string message) =>
        ApiResults.Error(StatusCodes.Status401Unauthorized, code, message);
}

public sealed record AcceptedBody(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("id")] string Id);

[JsonSerializable(typeof(AcceptedBody))]
internal sealed partial class IngestJson : JsonSerializerContext;
