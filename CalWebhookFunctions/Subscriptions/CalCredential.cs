namespace CalWebhookFunctions.Subscriptions;

/// <summary>
/// A Cal.com API credential (API key or OAuth access token) held only for the calls of one request. Its
/// <see cref="ToString"/> never reveals it, so it cannot reach a log line by accident; it is never stored.
/// </summary>
public sealed class CalCredential
{
    private readonly string _token;

    public CalCredential(string token)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(token);
        _token = token.Trim();
    }

    /// <summary>Where the credential came from, for logs: <c>header</c> or <c>CalCom__ApiKey</c>.</summary>
    public required string Source { get; init; }

    internal string BearerToken => _token;

    public override string ToString() => $"(Cal.com credential from {Source})";
}
