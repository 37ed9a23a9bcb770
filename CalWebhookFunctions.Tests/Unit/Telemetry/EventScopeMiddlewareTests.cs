using System.Text;
using Azure.Storage.Queues.Models;
using CalWebhookFunctions.Messages;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Telemetry;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Tests.Unit.Telemetry;

/// <summary>
/// The worker middleware puts a queued event's id on every log line a queue-triggered function writes — for any
/// function, without the function doing anything — and leaves other invocations alone.
/// </summary>
public sealed partial class EventScopeMiddlewareTests : IDisposable
{
    private readonly LogCapture _logs = new();
    private readonly ILoggerFactory _factory;
    private readonly ILogger _functionLogger;
    private readonly EventScopeMiddleware _middleware;

    public EventScopeMiddlewareTests()
    {
        _factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs));
        _functionLogger = _factory.CreateLogger("Function.ForwardCalWebhook");
        _middleware = new EventScopeMiddleware(_factory.CreateLogger<EventScopeMiddleware>());
    }

    public void Dispose() => _factory.Dispose();

    private static string QueuedMessageText(string eventId) => Encoding.UTF8.GetString(PendingWebhooks.Serialize(new QueuedWebhook
    {
        EventId = eventId,
        ReceivedAt = DateTimeOffset.Parse("2026-11-26T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture),
        Headers = new Dictionary<string, string> { ["Content-Type"] = "application/json" },
        BodyLength = 2,
        Body = "{}"u8.ToArray(),
    }));

    /// <summary>A queue message as the worker's converter binds it (null: an invocation of another trigger).</summary>
    private static QueueMessage? Delivery(string triggerType, string text, long dequeueCount = 1) => triggerType == "queueTrigger"
        ? QueuesModelFactory.QueueMessage("message-1", "receipt-1", BinaryData.FromString(text), dequeueCount)
        : null;

    private async Task InvokeAsync(QueueMessage? message)
    {
        await _middleware.RunAsync(message, () =>
        {
            Delivering(_functionLogger);
            Retrying(_functionLogger);
            return Task.CompletedTask;
        });
        After(_functionLogger);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivering")]
    private static partial void Delivering(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery failed, retrying")]
    private static partial void Retrying(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "After the invocation")]
    private static partial void After(ILogger logger);

    [Fact]
    public async Task Every_line_of_a_queue_triggered_invocation_carries_the_event_id_of_the_queued_webhook()
    {
        await InvokeAsync(Delivery("queueTrigger", QueuedMessageText("0197aaaabbbbccccddddeeeeffff0000"), dequeueCount: 3));

        var during = _logs.Entries.Where(e => e.Message != "After the invocation").ToList();
        Assert.Equal(2, during.Count);
        Assert.All(during, e => Assert.Equal("0197aaaabbbbccccddddeeeeffff0000", e.Scope(EventLogScope.EventIdProperty)));
        Assert.All(during, e => Assert.Equal(3, e.Scope("DequeueCount")));
    }

    [Fact]
    public async Task Scope_closes_when_the_invocation_ends()
    {
        await InvokeAsync(Delivery("queueTrigger", QueuedMessageText("0197ffff")));

        Assert.Null(_logs.Entries.Single(e => e.Message == "After the invocation").Scope(EventLogScope.EventIdProperty));
    }

    [Theory]
    [InlineData("queueTrigger", "not json at all")]
    [InlineData("queueTrigger", "{\"id\":\"no event id here\"}")]
    [InlineData("httpTrigger", "{\"eventId\":\"0197http\"}")]
    public async Task Invocations_without_a_queued_event_run_without_a_scope(string triggerType, string message)
    {
        await InvokeAsync(Delivery(triggerType, message));

        Assert.Equal(3, _logs.Entries.Count);
        Assert.All(_logs.Entries, e => Assert.Null(e.Scope(EventLogScope.EventIdProperty)));
    }
}
