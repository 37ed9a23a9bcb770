namespace CalWebhookFunctions.Subscriptions;

/// <summary>
/// Cal.com refused a call (<see cref="StatusCode"/> and its error envelope's code and message), or could not be
/// reached within the retries and timeouts (<see cref="StatusCode"/> null). Never carries the credential.
/// </summary>
public sealed class CalComApiException : Exception
{
    public CalComApiException(int? statusCode, string? errorCode, string calMessage, string? requestId, Exception? inner = null)
        : base(Describe(statusCode, errorCode, calMessage), inner)
    {
        StatusCode = statusCode;
        ErrorCode = errorCode;
        CalMessage = calMessage;
        RequestId = requestId;
    }

    public CalComApiException()
        : this(null, null, "Cal.com call failed", null)
    {
    }

    public CalComApiException(string message)
        : this(null, null, message, null)
    {
    }

    public CalComApiException(string message, Exception inner)
        : this(null, null, message, null, inner)
    {
    }

    /// <summary>Cal.com's HTTP status, or null when no usable answer came (network error, timeout, open circuit, garbled answer).</summary>
    public int? StatusCode { get; }

    /// <summary>The <c>error.code</c> of Cal.com's envelope, e.g. <c>ConflictException</c>.</summary>
    public string? ErrorCode { get; }

    /// <summary>The <c>error.message</c> of Cal.com's envelope (or a description of the failure).</summary>
    public string CalMessage { get; }

    /// <summary>Cal.com's <c>X-Request-Id</c>, for a support request.</summary>
    public string? RequestId { get; }

    /// <summary>Worth trying again later: no answer, 408, 429 or a 5xx.</summary>
    public bool IsTransient => StatusCode is null or 408 or 429 or >= 500;

    private static string Describe(int? statusCode, string? errorCode, string message) =>
        statusCode is null
            ? $"Cal.com call failed: {message}"
            : $"Cal.com answered {statusCode}{(errorCode is null ? "" : " " + errorCode)}: {message}";
}
