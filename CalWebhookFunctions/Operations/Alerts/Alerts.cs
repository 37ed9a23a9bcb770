using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using CalWebhookFunctions.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Operations.Alerts;

/// <summary>The alert types of the product contract.</summary>
public static class AlertTypes
{
    public const string DeliveryDeadLettered = "delivery.dead_lettered";
    public const string EndpointFailing = "endpoint.failing";
    public const string EndpointRecovered = "endpoint.recovered";
    public const string SubscriptionOrphaned = "subscription.orphaned";
}

/// <summary>
/// An alert waiting in <c>cal-alerts</c>: <see cref="Id"/> becomes the stable <c>webhook-id</c> of every attempt. (Not named
/// <c>id</c> in the JSON: the worker turns a queue message's JSON properties into binding data, where <c>Id</c> is the message id.)
/// </summary>
public sealed record AlertMessage(
    [property: JsonPropertyName("alertId")] string Id,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("data")] JsonObject Data);

/// <summary>
/// Raises operational alerts. <see cref="Raise"/> returns at once and never throws: the alert is written to the
/// <c>cal-alerts</c> queue in the background (and SendAlert POSTs it, retried by the host until the app takes it — at least
/// once from the moment it is queued; writes still running are awaited when the worker stops). Rate limit, per instance:
/// the first alert of a type and target goes out; others of the same type and target within
/// <c>Alerts__RateLimitSeconds</c> (default 300) are only counted, and the next one after the window carries
/// <c>data.suppressed</c> = how many were held back. Off (a no-op) when <c>Alerts__Url</c> is empty.
/// </summary>
public sealed partial class Alerts(StorageAccount storage, IOptions<AlertsOptions> options, TimeProvider time, ILogger<Alerts> logger) : IHostedService
{
    /// <summary>Type+target pairs remembered at most; past that the oldest window is forgotten (that pair may alert again early).</summary>
    private const int MaxTracked = 10_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<(string Type, string Target), Window> _windows = [];
    private readonly ConcurrentDictionary<Task, byte> _pending = new();

    public void Raise(string type, string target, JsonObject data)
    {
        try
        {
            if (!options.Value.Enabled)
            {
                return;
            }
            var now = time.GetUtcNow();
            var suppressed = Admit(type, target, now);
            if (suppressed is null)
            {
                return;
            }
            if (suppressed > 0)
            {
                data["suppressed"] = suppressed.Value;
            }
            var message = new AlertMessage(Guid.CreateVersion7(now).ToString("N"), type, now, data);
            var write = WriteAsync(message);
            _pending.TryAdd(write, 0);
            write.ContinueWith(done => _pending.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
        catch (Exception ex)
        {
            NotQueued(logger, ex, type);
        }
    }

    /// <summary>Completes once every alert raised so far is queued (or its failure logged).</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default) => Task.WhenAll(_pending.Keys).WaitAsync(cancellationToken);

    /// <summary>Null: held back by the rate limit. Otherwise how many were held back since the last one that went.</summary>
    private long? Admit(string type, string target, DateTimeOffset now)
    {
        var limit = TimeSpan.FromSeconds(options.Value.RateLimitSeconds);
        lock (_lock)
        {
            var key = (type, target);
            if (_windows.TryGetValue(key, out var window) && now < window.Until)
            {
                window.Suppressed++;
                return null;
            }
            if (_windows.Count >= MaxTracked && window is null)
            {
                _windows.Remove(_windows.MinBy(w => w.Value.Until).Key);
            }
            var suppressed = window?.Suppressed ?? 0;
            _windows[key] = new Window { Until = now + limit };
            return suppressed;
        }
    }

    private async Task WriteAsync(AlertMessage message)
    {
        await Task.Yield(); // Raise returns before any I/O starts.
        try
        {
            var json = JsonSerializer.SerializeToUtf8Bytes(message, OperationsJson.Default.AlertMessage);
            await PendingWebhooks.SendAsync(storage.Queue(StorageNames.AlertsQueue), json, null, CancellationToken.None).ConfigureAwait(false);
            Queued(logger, message.Type, message.Id);
        }
        catch (Exception ex)
        {
            NotQueued(logger, ex, message.Type);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping for good.
        }
    }

    private sealed class Window
    {
        public DateTimeOffset Until { get; init; }
        public long Suppressed { get; set; }
    }

    [LoggerMessage(EventId = 7101, Level = LogLevel.Information, Message = "Alert {AlertType} queued as {AlertId}")]
    private static partial void Queued(ILogger logger, string alertType, string alertId);

    [LoggerMessage(EventId = 7102, Level = LogLevel.Error, Message = "Alert {AlertType} could not be queued; it is lost")]
    private static partial void NotQueued(ILogger logger, Exception exception, string alertType);
}
