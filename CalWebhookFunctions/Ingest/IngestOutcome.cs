namespace CalWebhookFunctions.Ingest;

public enum IngestStatus
{
    Accepted,
    EmptyBody,
    TooLarge,
    SignatureMissing,
    NoSecretProvided,
    SignatureMalformed,
    SignatureMismatch,
    InvalidConnectionId,
    StorageUnavailable,
}

/// <summary>
/// What happened to one delivery; <see cref="EventId"/> is set only when it was accepted. For a refusal,
/// <see cref="BodyBytes"/> and <see cref="ClaimedConnectionId"/> (the id the request named, only when it is a valid id)
/// go to the refused-requests record.
/// </summary>
public sealed record IngestOutcome(IngestStatus Status, string? EventId = null, string? Detail = null, long BodyBytes = 0,
    string? ClaimedConnectionId = null);
