using CalWebhookFunctions.Configuration;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// One signed POST of an envelope to the app, bounded by <c>Forwarding__TimeoutSeconds</c>: the Standard Webhooks
/// headers, Nango's signature, and the received Cal.com headers passed through. Never throws for the app's failures:
/// they come back as an <see cref="AttemptResult"/>.
/// </summary>
public sealed class ForwardSender(IHttpClientFactory httpClients, OutboundSigner signer, IOptions<ForwardingOptions> options, TimeProvider time)
{
    public TimeSpan Timeout { get; } = TimeSpan.FromSeconds(options.Value.TimeoutSeconds);

    public async Task<AttemptResult> SendAsync(Uri target, byte[] envelope, string webhookId, IReadOnlyDictionary<string, string> received,
        CancellationToken cancellationToken)
    {
        using var request = signer.SignedPost(target, envelope, webhookId, time.GetUtcNow());
        request.Headers.Add(OutboundSigner.NangoSignatureHeader, signer.NangoSignature(envelope));
        foreach (var name in (ReadOnlySpan<string>)[KeptHeaders.CalSignature, KeptHeaders.CalWebhookVersion])
        {
            if (ReceivedHeader(received, name) is { } value)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        using var timeout = new CancellationTokenSource(Timeout, time);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await httpClients.CreateClient(WebhookForwarder.HttpClientName)
                .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attempt.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            TimeSpan? retryAfter = null;
            if (DeliveryPolicy.HonoursRetryAfter(status) && response.Headers.TryGetValues("Retry-After", out var values))
            {
                retryAfter = DeliveryPolicy.ParseRetryAfter(values.FirstOrDefault(), time.GetUtcNow());
            }
            return AttemptResult.Answered(status, retryAfter, await ResponseStartAsync(response, attempt.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return AttemptResult.Failed($"timeout after {Timeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException ex)
        {
            // The error kind only: exception messages can carry the target URL (and any token in its query).
            return AttemptResult.Failed($"network: {ex.HttpRequestError}");
        }
    }

    /// <summary>
    /// The first <see cref="Operations.DeliveryAttemptRow.MaxResponseBytes"/> of the app's answer as text (invalid UTF-8
    /// replaced), for the delivery log; null when it is empty. Within the attempt's timeout; an answer that stalls or breaks
    /// off keeps what arrived.
    /// </summary>
    private static async Task<string?> ResponseStartAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var buffer = new byte[Operations.DeliveryAttemptRow.MaxResponseBytes];
        var read = 0;
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            int n;
            while (read < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken).ConfigureAwait(false)) > 0)
            {
                read += n;
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            // The status stands; keep what was read.
        }
        return read == 0 ? null : System.Text.Encoding.UTF8.GetString(buffer, 0, read);
    }

    /// <summary>A kept header by its canonical name (any case), when it is a plain one-line value.</summary>
    private static string? ReceivedHeader(IReadOnlyDictionary<string, string> received, string name)
    {
        foreach (var (key, value) in received)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase) && !string.IsNullOrEmpty(value) && !value.Any(char.IsControl))
            {
                return value;
            }
        }
        return null;
    }
}
