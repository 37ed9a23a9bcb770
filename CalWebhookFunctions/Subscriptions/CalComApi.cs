using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace CalWebhookFunctions.Subscriptions;

/// <summary>One Cal.com webhook subscription as the API describes it (its secret is deliberately not kept).</summary>
public sealed record CalWebhook(string Id, string SubscriberUrl, IReadOnlyList<string> Triggers, bool Active);

/// <summary>What a subscription should look like: the body of a create, and of a PATCH that brings one in line.</summary>
public sealed record WebhookSettings(string SubscriberUrl, IReadOnlyList<string> Triggers, string Secret,
    [property: JsonPropertyOrder(-1)] bool Active = true);

/// <summary>
/// Cal.com API v2 webhook routes for the four scopes, over the named client <see cref="HttpClientName"/> (base
/// address <c>CalCom__ApiBaseUrl</c>, standard resilience: retries on 408, 429 honouring <c>Retry-After</c>, 5xx and
/// network errors with exponential backoff, per-attempt and total timeouts; other 4xx are answers, not retried).
/// The credential is passed to each call as a bearer token and kept nowhere.
/// </summary>
public sealed class CalComApi(IHttpClientFactory httpClientFactory)
{
    public const string HttpClientName = "CalComApi";

    /// <summary>The largest page Cal.com's list routes serve.</summary>
    public const int MaxPageSize = 250;

    /// <summary>A bound on paging, so a misbehaving server cannot keep a request going forever (250 × 200 webhooks).</summary>
    private const int MaxPages = 200;

    private const int MaxErrorBodyBytes = 64 * 1024;

    public async Task<CalWebhook> CreateAsync(SubscriptionScope scope, CalCredential credential, WebhookSettings settings,
        CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Post, scope.CollectionPath(), credential, SettingsBody(settings));
        return Webhook(await SendAsync(request, Json.CalEnvelopeCalWebhookData, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>One page of the scope's webhooks (<paramref name="take"/> 1–250, <paramref name="skip"/> ≥ 0).</summary>
    public async Task<IReadOnlyList<CalWebhook>> ListAsync(SubscriptionScope scope, CalCredential credential, int take, int skip,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(take, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(take, MaxPageSize);
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        var path = string.Create(CultureInfo.InvariantCulture, $"{scope.CollectionPath()}?take={take}&skip={skip}");
        using var request = Request(HttpMethod.Get, path, credential, null);
        var list = await SendAsync(request, Json.CalEnvelopeIReadOnlyListCalWebhookData, cancellationToken).ConfigureAwait(false);
        return [.. (list?.Data ?? throw Unexpected("the list's data is not an array")).Select(w => Webhook(w))];
    }

    /// <summary>
    /// Every webhook of the scope whose subscriber URL is one of <paramref name="subscriberUrls"/>, paging through the
    /// whole list (Cal.com gives no page metadata: a short page is the last).
    /// </summary>
    public async Task<IReadOnlyList<CalWebhook>> FindBySubscriberUrlAsync(SubscriptionScope scope, CalCredential credential,
        IReadOnlyCollection<string> subscriberUrls, CancellationToken cancellationToken)
    {
        var found = new List<CalWebhook>();
        for (var page = 0; page < MaxPages; page++)
        {
            var webhooks = await ListAsync(scope, credential, MaxPageSize, page * MaxPageSize, cancellationToken).ConfigureAwait(false);
            found.AddRange(webhooks.Where(w => subscriberUrls.Contains(w.SubscriberUrl, StringComparer.Ordinal)));
            if (webhooks.Count < MaxPageSize)
            {
                return found;
            }
        }
        throw Unexpected($"the webhook list did not end within {MaxPages} pages");
    }

    /// <summary>The webhook, or null when Cal.com does not know it (404).</summary>
    public async Task<CalWebhook?> GetAsync(SubscriptionScope scope, CalCredential credential, string webhookId,
        CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Get, scope.ItemPath(webhookId), credential, null);
        var answer = await SendAsync(request, Json.CalEnvelopeCalWebhookData, cancellationToken, notFoundIsNull: true).ConfigureAwait(false);
        return answer is null ? null : Webhook(answer);
    }

    /// <summary>Brings the webhook in line with <paramref name="settings"/> (PATCH); null when Cal.com does not know it (404).</summary>
    public async Task<CalWebhook?> UpdateAsync(SubscriptionScope scope, CalCredential credential, string webhookId,
        WebhookSettings settings, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Patch, scope.ItemPath(webhookId), credential, SettingsBody(settings));
        var answer = await SendAsync(request, Json.CalEnvelopeCalWebhookData, cancellationToken, notFoundIsNull: true).ConfigureAwait(false);
        return answer is null ? null : Webhook(answer);
    }

    /// <summary>Deletes the webhook: true when Cal.com deleted it, false when it was already gone (404).</summary>
    public async Task<bool> DeleteAsync(SubscriptionScope scope, CalCredential credential, string webhookId,
        CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Delete, scope.ItemPath(webhookId), credential, null);
        // Any JSON answer will do; 404 (nothing read) means it was already gone.
        var answer = await SendAsync(request, Json.JsonElement, cancellationToken, notFoundIsNull: true).ConfigureAwait(false);
        return answer.ValueKind != JsonValueKind.Undefined;
    }

    /// <summary>The JSON body of a create or PATCH: the fields Cal.com's CreateWebhookInputDto names.</summary>
    public static byte[] SettingsBody(WebhookSettings settings) => JsonSerializer.SerializeToUtf8Bytes(settings, Json.WebhookSettings);

    private static HttpRequestMessage Request(HttpMethod method, string path, CalCredential credential, byte[]? body)
    {
        var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", credential.BearerToken);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }
        return request;
    }

    private static SubscriptionsJsonContext Json => SubscriptionsJsonContext.Default;

    /// <summary>Cal.com's answer read as <typeparamref name="T"/>; default when it answered 404 and <paramref name="notFoundIsNull"/>.</summary>
    private async Task<T?> SendAsync<T>(HttpRequestMessage request, JsonTypeInfo<T> answer, CancellationToken cancellationToken,
        bool notFoundIsNull = false)
    {
        var client = httpClientFactory.CreateClient(HttpClientName);
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested
                                   && ex is HttpRequestException or TimeoutRejectedException or BrokenCircuitException or TaskCanceledException)
        {
            throw new CalComApiException(null, null, ex switch
            {
                TimeoutRejectedException or TaskCanceledException => "the call timed out",
                BrokenCircuitException => "calls are paused after repeated failures",
                _ => "the connection failed",
            }, null, ex);
        }

        using (response)
        {
            var requestId = response.Headers.TryGetValues("X-Request-Id", out var ids) ? ids.FirstOrDefault() : null;
            if (response.StatusCode == HttpStatusCode.NotFound && notFoundIsNull)
            {
                return default;
            }
            byte[] body;
            try
            {
                body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new CalComApiException(null, null, "the answer was cut off", requestId, ex);
            }
            if (!response.IsSuccessStatusCode)
            {
                var (code, message) = ParseError(body, response.StatusCode);
                throw new CalComApiException((int)response.StatusCode, code, message, requestId);
            }
            try
            {
                return JsonSerializer.Deserialize(body, answer);
            }
            catch (JsonException ex) when (ex.InnerException is JsonException)
            {
                // The reader's own error (wrapped with the path): the answer is not JSON at all.
                throw new CalComApiException((int)response.StatusCode, null, "the answer is not JSON", requestId, ex);
            }
            catch (JsonException ex)
            {
                throw Unexpected($"the answer does not have Cal.com's shape at {ex.Path}");
            }
        }
    }

    /// <summary>The webhook in a success envelope's <c>data</c>; its id is a UUID string (older builds and the OpenAPI file say number: both are read).</summary>
    private static CalWebhook Webhook(CalEnvelope<CalWebhookData>? answer) => Webhook(answer?.Data ?? throw Unexpected("the answer has no data"));

    private static CalWebhook Webhook(CalWebhookData? data) =>
        (data ?? throw Unexpected("a webhook is not an object")).ToWebhook() ?? throw Unexpected("a webhook has no id");

    /// <summary>Code and message of Cal.com's error envelope, or a description when the body is something else.</summary>
    public static (string? Code, string Message) ParseError(ReadOnlySpan<byte> body, HttpStatusCode status)
    {
        var fallback = $"HTTP {(int)status} {status}";
        if (body.IsEmpty || body.Length > MaxErrorBodyBytes)
        {
            return (null, fallback);
        }
        try
        {
            return JsonSerializer.Deserialize(body, Json.CalErrorEnvelope) switch
            {
                { Error: { } error } => (error.Code, Trim(error.Message) ?? fallback),
                { Message: { } message } => (null, Trim(message) ?? fallback),
                _ => (null, fallback),
            };
        }
        catch (JsonException)
        {
            // Not an envelope (a proxy's HTML page, say): say what the status was.
            return (null, fallback);
        }
    }

    private static string? Trim(string? message)
    {
        if (string.IsNullOrWhiteSpace(message))
        {
            return null;
        }
        var clean = new StringBuilder(Math.Min(message.Length, 500));
        foreach (var c in message.Take(500))
        {
            clean.Append(char.IsControl(c) ? ' ' : c);
        }
        return clean.ToString();
    }

    private static CalComApiException Unexpected(string what) => new(null, null, $"unexpected answer: {what}", null);
}
