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

/// <summary>What happened to one delivery; <see cref="EventId"/> is set only when it was accepted.</summary>
public sealed record IngestOutcome(IngestStatus Status, string? EventId = null, string? Detail = null);
