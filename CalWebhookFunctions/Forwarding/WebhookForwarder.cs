using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using Azure;
using CalWebhookFunctions.Configuration;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Ingest;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Forwarding;

/// <summary>What became of one queue message.</summary>
public enum ForwardOutcome
{
    Delivered,
    AlreadyDelivered,
    /// <summary>Another attempt was sending the same webhook-id; a copy checks again when its claim runs out.</summary>
    Deferred,
    RetryScheduled,
    DeadLettered,
}

/// <summary>
/// Handles one <c>cal-webhooks</c> message: one HTTP attempt, then exactly one of delivered (recorded under its
/// webhook-id), retry (a copy re-enqueued with the next delay and the attempt count) or dead letter. Never sleeps
/// and never retries in process: the function returns, the host deletes the message, and the copy carries on.
/// It throws only when storage fails (or the host is stopping), and then the host retries the same message.
/// </summary>
public sealed class WebhookForwarder
{
    public const string HttpClientName = "forwarding";

    /// <summary>How long a claim outlives the attempt's own timeout, for the storage calls around the send.</summary>
    private static readonly TimeSpan LeaseMargin = TimeSpan.FromSeconds(30);

    /// <summary>How soon a copy deferred by another attempt's live claim looks again.</summary>
    private static readonly TimeSpan DeferralRecheck = TimeSpan.FromSeconds(5);

    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly IHttpClientFactory _httpClients;
    private readonly ForwardEnvelope _envelope;
    private readonly OutboundSigner _signer;
    private readonly DeliveryPolicy _policy;
    private readonly DeliveryLedger _ledger;
    private readonly DeadLetters _deadLetters;
    private readonly PendingWebhooks _pending;
    private readonly ConnectionStore _connections;
    private readonly TimeProvider _time;
    private readonly WebhookMetrics _metrics;
    private readonly ILogger<WebhookForwarder> _logger;
    private readonly Uri _defaultTarget;
    private readonly TimeSpan _timeout;

    public WebhookForwarder(IHttpClientFactory httpClients, ForwardEnvelope envelope, OutboundSigner signer, DeliveryPolicy policy,
        DeliveryLedger ledger, DeadLetters deadLetters, PendingWebhooks pending, ConnectionStore connections,
        IOptions<ForwardingOptions> options, TimeProvider time, WebhookMetrics metrics, ILogger<WebhookForwarder> logger)
    {
        _httpClients = httpClients;
        _envelope = envelope;
        _signer = signer;
        _policy = policy;
        _ledger = ledger;
        _deadLetters = deadLetters;
        _pending = pending;
        _connections = connections;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _defaultTarget = new Uri(options.Value.Url, UriKind.Absolute);
        _timeout = TimeSpan.FromSeconds(options.Value.TimeoutSeconds);
    }

    /// <summary>Processes a message as the host hands it over (base64 already decoded, per host.json).</summary>
    public async Task<ForwardOutcome> ProcessAsync(byte[] rawMessage, CancellationToken cancellationToken)
    {
        QueuedWebhook message;
        try
        {
            message = PendingWebhooks.Deserialize(rawMessage);
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException or NotSupportedException)
        {
            return await DeadLetterRawAsync(rawMessage, "not a queued webhook", cancellationToken).ConfigureAwait(false);
        }
        if (!IsWellFormed(message))
        {
            return await DeadLetterRawAsync(rawMessage, "missing or invalid fields", cancellationToken).ConfigureAwait(false);
        }

        byte[] body;
        try
        {
            body = await _pending.ReadBodyAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return await BodyMissingAsync(message, cancellationToken).ConfigureAwait(false);
        }

        var webhookId = OutboundSigner.WebhookId(message.ConnectionId, body);
        var attempt = message.Attempts + 1;
        // The connection is read while the claim is taken: neither depends on the other, so an attempt waits for one
        // storage round trip where it waited for two. The row is used only once the claim is this attempt's.
        var connectionLookup = message.ConnectionId is null
            ? Task.FromResult<ConnectionRecord?>(null)
            : _connections.FindAsync(message.ConnectionId, cancellationToken);
        DeliveryClaim claim;
        try
        {
            claim = await _ledger.TryClaimAsync(webhookId, message.EventId, message.ConnectionId, attempt, _timeout + LeaseMargin,
                cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await IgnoreOutcomeAsync(connectionLookup).ConfigureAwait(false);
            throw;
        }
        if (claim.Status != ClaimStatus.Claimed)
        {
            await IgnoreOutcomeAsync(connectionLookup).ConfigureAwait(false);
        }
        switch (claim.Status)
        {
            case ClaimStatus.AlreadyDelivered:
                ForwardingLog.AlreadyDelivered(_logger, message.EventId, webhookId, message.ConnectionId);
                await RemoveBodyAsync(message).ConfigureAwait(false);
                return ForwardOutcome.AlreadyDelivered;
            case ClaimStatus.InFlight:
                // Look again soon (the other attempt usually finishes in well under its timeout), at the latest just
                // after its claim runs out, when an abandoned claim can be taken over.
                var remaining = (claim.LeaseUntil ?? _time.GetUtcNow()) - _time.GetUtcNow() + TimeSpan.FromSeconds(1);
                var delay = TimeSpan.FromTicks(Math.Clamp(remaining.Ticks, TimeSpan.FromSeconds(1).Ticks, DeferralRecheck.Ticks));
                await _pending.EnqueueAsync(message, delay, cancellationToken).ConfigureAwait(false);
                ForwardingLog.Deferred(_logger, message.EventId, webhookId, claim.LeaseUntil, delay);
                return ForwardOutcome.Deferred;
        }

        var progress = new AttemptProgress();
        try
        {
            return await AttemptAsync(message, body, webhookId, attempt, claim, connectionLookup, progress, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Storage failed or the host is stopping: the host will hand the same message over again. Before a 2xx the
            // claim is released for that retry; after one it is kept, so no other copy sends again while it lasts.
            if (!progress.Answered2xx)
            {
                await _ledger.ReleaseAsync(claim).ConfigureAwait(false);
            }
            throw;
        }
    }

    private sealed class AttemptProgress
    {
        public bool Answered2xx { get; set; }
    }

    /// <summary>Waits for a task whose result is no longer wanted, without throwing what it may have thrown.</summary>
    private static async Task IgnoreOutcomeAsync(Task task) =>
        await task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

    private async Task<ForwardOutcome> AttemptAsync(QueuedWebhook message, byte[] body, string webhookId, int attempt, DeliveryClaim claim,
        Task<ConnectionRecord?> connectionLookup, AttemptProgress progress, CancellationToken cancellationToken)
    {
        // A lookup that failed throws here, inside the attempt: the claim is released and the host retries the message.
        var connection = await connectionLookup.ConfigureAwait(false);
        // Only applied settings count: a row whose first registration never succeeded (or a tombstone) is not matched.
        var matched = connection is { IsMatched: true };
        Uri target = _defaultTarget;
        if (matched && !string.IsNullOrWhiteSpace(connection!.ForwardUrl))
        {
            if (!Http.HttpUrl.TryParseAbsolute(connection.ForwardUrl, out var overrideTarget))
            {
                // Never guess another destination for a connection's events: keep it until the record is fixed.
                return await DeadLetterAsync(message, webhookId, message.Attempts, claim,
                    new DeliveryDecision(DecisionKind.DeadLetter, "invalid_forward_url"), default).ConfigureAwait(false);
            }
            target = overrideTarget;
        }

        var isJson = ConnectionIdResolver.TryReadJsonFields(body, out _, out _);
        var envelope = _envelope.Write(matched ? message.ConnectionId : null, body, isJson);
        var started = Stopwatch.GetTimestamp();
        var result = await SendAsync(target, envelope, webhookId, message.Headers, cancellationToken).ConfigureAwait(false);
        var elapsedMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var decision = _policy.Decide(attempt, result);

        switch (decision.Kind)
        {
            case DecisionKind.Delivered:
                progress.Answered2xx = true;
                await _ledger.MarkDeliveredAsync(claim, message.EventId, message.ConnectionId, result.Status!.Value, attempt,
                    message.BodyBlob is not null, CancellationToken.None).ConfigureAwait(false);
                _metrics.Forwarded();
                ForwardingLog.Delivered(_logger, message.EventId, webhookId, message.ConnectionId, matched, result.Status.Value, attempt,
                    elapsedMs);
                await RemoveBodyAsync(message).ConfigureAwait(false);
                return ForwardOutcome.Delivered;

            case DecisionKind.Retry:
                // Release first so the copy never finds its own claim; then the copy: once it is stored, returning
                // lets the host delete this message with nothing lost (if storing fails, the host retries this one).
                await _ledger.ReleaseAsync(claim).ConfigureAwait(false);
                await _pending.EnqueueAsync(message with { Attempts = attempt }, decision.Delay, CancellationToken.None).ConfigureAwait(false);
                _metrics.Retried(decision.Reason);
                ForwardingLog.RetryScheduled(_logger, attempt, message.EventId, webhookId, message.ConnectionId, result.Status, result.Error,
                    decision.Delay);
                return ForwardOutcome.RetryScheduled;

            default:
                return await DeadLetterAsync(message, webhookId, attempt, claim, decision, result).ConfigureAwait(false);
        }
    }

    private async Task<AttemptResult> SendAsync(Uri target, byte[] envelope, string webhookId, IReadOnlyDictionary<string, string> received,
        CancellationToken cancellationToken)
    {
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ByteArrayContent(envelope) };
        request.Content.Headers.ContentType = Json;
        request.Headers.Add(OutboundSigner.WebhookIdHeader, webhookId);
        request.Headers.Add(OutboundSigner.WebhookTimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(OutboundSigner.WebhookSignatureHeader, _signer.StandardSignature(webhookId, timestamp, envelope));
        request.Headers.Add(OutboundSigner.NangoSignatureHeader, _signer.NangoSignature(envelope));
        foreach (var name in (ReadOnlySpan<string>)[KeptHeaders.CalSignature, KeptHeaders.CalWebhookVersion])
        {
            if (ReceivedHeader(received, name) is { } value)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(_timeout);
        try
        {
            using var response = await _httpClients.CreateClient(HttpClientName)
                .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attempt.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            TimeSpan? retryAfter = null;
            if (DeliveryPolicy.HonoursRetryAfter(status) && response.Headers.TryGetValues("Retry-After", out var values))
            {
                retryAfter = DeliveryPolicy.ParseRetryAfter(values.FirstOrDefault(), _time.GetUtcNow());
            }
            return AttemptResult.Answered(status, retryAfter);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return AttemptResult.Failed($"timeout after {_timeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException ex)
        {
            // The error kind only: exception messages can carry the target URL (and any token in its query).
            return AttemptResult.Failed($"network: {ex.HttpRequestError}");
        }
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

    private async Task<ForwardOutcome> DeadLetterAsync(QueuedWebhook message, string webhookId, int attempts, DeliveryClaim claim,
        DeliveryDecision decision, AttemptResult result)
    {
        var info = new DeadLetterInfo
        {
            Reason = decision.Reason,
            LastStatus = result.Status,
            LastError = result.Error,
            DeadLetteredAt = _time.GetUtcNow(),
        };
        await _deadLetters.WriteAsync(message with { Attempts = attempts, DeadLetter = info }, CancellationToken.None).ConfigureAwait(false);
        await _ledger.ReleaseAsync(claim).ConfigureAwait(false);
        _metrics.DeadLettered(decision.Reason);
        ForwardingLog.DeadLettered(_logger, message.EventId, webhookId, message.ConnectionId, attempts, decision.Reason, result.Status, result.Error);
        return ForwardOutcome.DeadLettered;
    }

    private async Task<ForwardOutcome> DeadLetterRawAsync(byte[] rawMessage, string problem, CancellationToken cancellationToken)
    {
        await _deadLetters.WriteRawAsync(rawMessage, cancellationToken).ConfigureAwait(false);
        _metrics.DeadLettered("unreadable");
        ForwardingLog.Unreadable(_logger, rawMessage.Length, problem);
        return ForwardOutcome.DeadLettered;
    }

    private async Task<ForwardOutcome> BodyMissingAsync(QueuedWebhook message, CancellationToken cancellationToken)
    {
        if (await _ledger.IsEventDeliveredAsync(message.EventId, cancellationToken).ConfigureAwait(false))
        {
            // Delivered, recorded and its blob removed, but the host never got to delete this message.
            ForwardingLog.EventAlreadyDelivered(_logger, message.EventId);
            return ForwardOutcome.AlreadyDelivered;
        }
        var info = new DeadLetterInfo { Reason = "body_missing", DeadLetteredAt = _time.GetUtcNow() };
        await _deadLetters.WriteAsync(message with { DeadLetter = info }, cancellationToken).ConfigureAwait(false);
        _metrics.DeadLettered(info.Reason);
        ForwardingLog.BodyMissing(_logger, message.EventId);
        return ForwardOutcome.DeadLettered;
    }

    private async Task RemoveBodyAsync(QueuedWebhook message)
    {
        try
        {
            await _pending.DeleteBodyAsync(message, CancellationToken.None).ConfigureAwait(false);
        }
        catch (RequestFailedException ex)
        {
            ForwardingLog.BlobNotRemoved(_logger, ex, message.EventId);
        }
    }

    /// <summary>
    /// A message the forwarder can act on: a supported version, an event id that is safe as a table key, and exactly
    /// one of an inline body and a body blob.
    /// </summary>
    public static bool IsWellFormed(QueuedWebhook message) =>
        message.Version == QueuedWebhook.CurrentVersion
        && QueuedWebhook.IsEventId(message.EventId)
        && (message.Body is null) != (message.BodyBlob is null)
        && message.Headers is not null
        && message.Attempts >= 0
        && (message.ConnectionId is null || ConnectionId.IsValid(message.ConnectionId, out _));
}
