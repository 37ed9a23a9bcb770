using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Azure.Storage.Queues.Models;
using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Storage;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Operations.Alerts;

/// <summary>What the alerts endpoint receives: <c>{"type","at","data"}</c>.</summary>
public sealed record AlertBody(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("data")] JsonObject Data);

/// <summary>
/// Queue <c>cal-alerts</c>: POSTs one alert to <c>Alerts__Url</c>, signed as Standard Webhooks with
/// <c>Alerts__SigningSecret</c> (<c>webhook-id</c> = <c>msg_</c> + the alert id, the same on every attempt, so the
/// receiver can drop repeats). Throws on anything but a 2xx, so the host retries it (up to <c>maxDequeueCount</c>, then
/// <c>cal-alerts-poison</c>). A message that is not an alert, or alerts switched off meanwhile, is dropped with a log line.
/// </summary>
public sealed partial class SendAlert(IHttpClientFactory clients, IOptions<AlertsOptions> options, TimeProvider time, ILogger<SendAlert> logger)
{
    public const string HttpClientName = "alerts";

    [Function(nameof(SendAlert))]
    public async Task Run(
        [QueueTrigger(StorageNames.AlertsQueue, Connection = StorageNames.Connection)] QueueMessage message,
        CancellationToken cancellationToken)
    {
        AlertMessage? alert;
        try
        {
            alert = JsonSerializer.Deserialize(message.Body.ToMemory().Span, OperationsJson.Default.AlertMessage);
        }
        catch (JsonException)
        {
            alert = null;
        }
        if (alert is null || !options.Value.Enabled)
        {
            Dropped(logger, alert?.Type ?? "(unreadable)");
            return;
        }
        var body = JsonSerializer.SerializeToUtf8Bytes(new AlertBody(alert.Type, alert.At, alert.Data), OperationsJson.Default.AlertBody);
        var webhookId = OutboundSigner.WebhookIdPrefix + alert.Id;
        using var request = new OutboundSigner(options.Value.SigningSecret).SignedPost(new Uri(options.Value.Url), body, webhookId, time.GetUtcNow());
        using var response = await clients.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"The alerts endpoint answered {(int)response.StatusCode}; the host retries the alert.", null, response.StatusCode);
        }
        Sent(logger, alert.Type, alert.Id, (int)response.StatusCode);
    }

    [LoggerMessage(EventId = 7103, Level = LogLevel.Information, Message = "Alert {AlertType} {AlertId} delivered ({Status})")]
    private static partial void Sent(ILogger logger, string alertType, string alertId, int status);

    [LoggerMessage(EventId = 7104, Level = LogLevel.Warning, Message = "Alert {AlertType} dropped: not readable, or alerts are off")]
    private static partial void Dropped(ILogger logger, string alertType);
}
