using Azure;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Messages;
using CalWebhookFunctions.Operations;
using CalWebhookFunctions.Tests.Functional.Forwarding;
using CalWebhookFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace CalWebhookFunctions.Tests.Functional.Operations;

/// <summary>
/// The delivery log's group commit (<see cref="CalWebhookFunctions.Storage.PartitionBatches"/>), on real Azurite: the first transaction of a day
/// partition is held at the storage pipeline while more outcomes come, so the interleaving is forced; the entity-group
/// transactions are counted request by request (<see cref="DeliveriesHarness.Batches"/>).
/// </summary>
// Never run beside DeliveryLogCostTests (same collection): load from one class widens timing races in the other's request counts.
[Collection("Delivery log request counts")]
public class DeliveryLogBatchTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task An_outcome_alone_is_one_transaction_sent_at_once()
    {
        var gate = new StorageGate(holdAnswer: DeliveriesHarness.IsBatch);
        await using var harness = await DeliveriesHarness.StartAsync(azurite, tablePolicies: [gate]);
        var log = harness.App.Get<DeliveryLog>();

        var (message, write) = Record(harness, DateTimeOffset.UtcNow, "conn-1", DeliveryStatus.Delivered);

        // The request went out on the caller's own call (no timer, no hand-off): counted before anything was awaited.
        Assert.Equal(1, harness.Batches.Count);
        await gate.Held.WaitAsync(Bound);
        Assert.False(write.IsCompleted); // stored, but its answer is held: the caller waits for its own outcome
        Assert.Equal(0, log.Batches.Waiting);
        gate.Release();
        await write.WaitAsync(Bound);

        Assert.Equal(1, harness.Batches.Count);
        Assert.Equal(DeliveryStatus.Delivered, await StatusAsync(harness, message.EventId));
    }

    [Fact]
    public async Task Outcomes_that_come_while_a_transaction_is_in_flight_go_out_together_as_one_transaction()
    {
        await using var held = await HoldFirstAsync();
        var (harness, log, now) = (held.Harness, held.Log, held.Now);

        // 30 outcomes of the same day (10 of them without a connection: two rows, not three): 80 actions, one batch.
        var more = Enumerable.Range(1, 30)
            .Select(i => Record(harness, now - TimeSpan.FromSeconds(i), i % 3 == 0 ? null : $"conn-{i % 4}",
                i % 2 == 0 ? DeliveryStatus.Delivered : DeliveryStatus.Retrying))
            .ToList();
        Assert.Equal(30, log.Batches.Waiting);
        Assert.Equal(1, harness.Batches.Count);
        Assert.False(held.FirstWrite.IsCompleted);
        Assert.DoesNotContain(more, m => m.Write.IsCompleted);

        held.Gate.Release();
        await Task.WhenAll(more.Select(m => m.Write).Append(held.FirstWrite)).WaitAsync(Bound);

        Assert.Equal(2, harness.Batches.Count);
        Assert.Equal(0, log.Batches.Waiting);
        var (_, ids) = await harness.AllPagesAsync("limit=100");
        Assert.Equal(more.Select(m => m.Message.EventId).Append(held.First.EventId).Order(), ids.Order());
        foreach (var (message, _) in more.Where((_, i) => i % 5 == 0))
        {
            using var detail = await harness.GetAsync("deliveries/" + message.EventId);
            var json = await DeliveriesHarness.JsonOf(detail);
            Assert.Equal(message.EventId, json.GetProperty("eventId").GetString());
            Assert.Single(json.GetProperty("attemptLog").EnumerateArray()); // its attempt row came in the same transaction
        }
        var (_, ofConnection) = await harness.AllPagesAsync("connectionId=conn-1&limit=100");
        Assert.Equal(more.Count(m => m.Message.ConnectionId == "conn-1"), ofConnection.Count); // and its index row
    }

    [Fact]
    public async Task Two_outcomes_of_one_event_never_share_a_transaction_and_are_stored_in_the_order_they_came()
    {
        await using var held = await HoldFirstAsync();
        var (harness, log, now) = (held.Harness, held.Log, held.Now);
        var eventId = Guid.CreateVersion7(now - TimeSpan.FromSeconds(1)).ToString("N");

        var retried = Record(harness, now - TimeSpan.FromSeconds(1), "conn-1", DeliveryStatus.Retrying, attempts: 1, eventId: eventId);
        var other = Record(harness, now - TimeSpan.FromSeconds(2), "conn-1", DeliveryStatus.Delivered);
        var delivered = Record(harness, now - TimeSpan.FromSeconds(1), "conn-1", DeliveryStatus.Delivered, attempts: 2, eventId: eventId);
        Assert.Equal(3, log.Batches.Waiting);
        held.Gate.Release();
        await Task.WhenAll(held.FirstWrite, retried.Write, other.Write, delivered.Write).WaitAsync(Bound);

        // The held one; the retry with the other event; the delivered outcome alone after them (it shares the retry's
        // summary and index rows). Had both outcomes of the event shared a batch, the service would have refused it.
        Assert.Equal(3, harness.Batches.Count);
        using var detail = await harness.GetAsync("deliveries/" + eventId);
        var json = await DeliveriesHarness.JsonOf(detail);
        Assert.Equal(DeliveryStatus.Delivered, json.GetProperty("status").GetString());
        Assert.Equal(2, json.GetProperty("attempts").GetInt32());
        Assert.Equal(2, json.GetProperty("attemptLog").GetArrayLength());
        Assert.Equal(DeliveryStatus.Delivered, await StatusAsync(harness, other.Message.EventId));
    }

    [Fact]
    public async Task An_outcome_the_service_refuses_fails_alone_and_the_others_of_its_transaction_are_stored()
    {
        await using var held = await HoldFirstAsync();
        var (harness, now) = (held.Harness, held.Now);

        var before = Record(harness, now - TimeSpan.FromSeconds(1), "conn-1", DeliveryStatus.Delivered);
        // An answer of 40,000 characters: over the 32K characters the table service takes in one property.
        var bad = Record(harness, now - TimeSpan.FromSeconds(2), "conn-1", DeliveryStatus.Retrying, response: new string('x', 40_000));
        var after = Record(harness, now - TimeSpan.FromSeconds(3), null, DeliveryStatus.Retrying);
        held.Gate.Release();
        await held.FirstWrite.WaitAsync(Bound);

        var refused = await Assert.ThrowsAnyAsync<RequestFailedException>(() => bad.Write.WaitAsync(Bound));
        await Task.WhenAll(before.Write, after.Write).WaitAsync(Bound);
        output.WriteLine($"refused: {refused.Status} {refused.ErrorCode}");
        Assert.Equal(400, refused.Status);
        Assert.Equal("PropertyValueTooLarge", refused.ErrorCode);
        // The held one, the batch of three the service refused, then each of the three on its own.
        Assert.Equal(1 + 1 + 3, harness.Batches.Count);
        Assert.Equal(DeliveryStatus.Delivered, await StatusAsync(harness, before.Message.EventId));
        Assert.Equal(DeliveryStatus.Retrying, await StatusAsync(harness, after.Message.EventId));
        using var missing = await harness.GetAsync("deliveries/" + bad.Message.EventId);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task When_storage_does_not_answer_every_outcome_of_the_transaction_fails_with_it_and_is_logged_not_resent()
    {
        var outage = new Outage();
        await using var held = await HoldFirstAsync(outage);
        var (harness, log, now) = (held.Harness, held.Log, held.Now);

        var messages = Enumerable.Range(1, 3).Select(i => Message(harness, now - TimeSpan.FromSeconds(i), "conn-1")).ToList();
        var writes = messages.Select(m => log.TryRecordAsync(m, OutboundSigner.WebhookId(m.ConnectionId, m.Body!), Outcome(DeliveryStatus.Retrying, harness),
            m.Body)).ToList();
        outage.FailNext(1); // the held request has passed the outage: the next one fails
        held.Gate.Release();
        await held.FirstWrite.WaitAsync(Bound);
        await Task.WhenAll(writes).WaitAsync(Bound); // swallowed: the log never costs an event its delivery

        Assert.Equal(1, outage.Failed);
        Assert.Equal(2, harness.Batches.Count); // no answer: nothing sent again one by one
        var notWritten = harness.App.Logs.Entries.Where(e => e.EventId.Id == 3200).ToList();
        Assert.Equal(messages.Select(m => m.EventId).Order(), notWritten.Select(e => (string)e.Properties.Single(p => p.Key == "EventId").Value!).Order());
        Assert.All(notWritten, e => Assert.True(e.Exception is RequestFailedException { Status: 0 }, e.Exception?.ToString()));
    }

    [Fact]
    public async Task Sixteen_concurrent_forwards_log_their_outcomes_riding_together_in_one_transaction()
    {
        // The ride's timer never fires on this clock, so the outcomes wait until the riders are flushed.
        var time = new ManualTime(DateTimeOffset.UtcNow);
        await using var harness = await DeliveriesHarness.StartAsync(azurite, time: time);
        var ledger = harness.App.Get<DeliveryLedger>();
        var events = new List<QueuedWebhook>();
        for (var i = 0; i < 16; i++)
        {
            events.Add(await harness.Forwarding.EnqueueAsync(CalDeliveries.BookingCreated(padTo: 1000 + i), i % 2 == 0 ? null : "conn-1"));
        }
        harness.Tables.Reset();

        await harness.Forwarding.DrainAsync();
        Assert.Equal(16, harness.Receiver.Deliveries.Count);
        Assert.Equal(0, harness.Batches.Count); // no outcome has cost a request yet
        Assert.Equal(2 * 16, ledger.Riders.Waiting); // 16 marks, 16 log entries
        await harness.App.Get<DeliveryMarks>().FlushAsync();

        output.WriteLine($"16 delivered: {harness.Batches.Count} log transactions, {harness.Tables.Count} table requests in all " +
                         $"({(double)harness.Tables.Count / events.Count:0.###} per event)");
        Assert.Equal(1, harness.Batches.Count); // 16 marks and 56 log rows: one transaction
        Assert.Equal(0, ledger.Riders.Waiting);
        var (_, ids) = await harness.AllPagesAsync("status=delivered&limit=100");
        Assert.Equal(events.Select(e => e.EventId).Order(), ids.Order());
    }

    [Fact]
    public async Task A_log_entry_the_service_refuses_does_not_cost_the_delivered_mark_it_rode_with()
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite, time: new ManualTime(DateTimeOffset.UtcNow));
        var ledger = harness.App.Get<DeliveryLedger>();
        var now = DateTimeOffset.UtcNow;
        var key = new LedgerKey(DeliveryLogKeys.Partition(now), "msg_refused");
        var claim = await ledger.TryClaimAsync(key, "e", "conn-1", 1, TimeSpan.FromMinutes(1), CancellationToken.None);
        harness.Tables.Reset();

        var mark = ledger.MarkDeliveredRidingAsync(claim, "e", "conn-1", 200, 1);
        // A row of the same day partition with a property over the 32K characters the table service takes.
        var refused = ledger.RideAsync([new(TableTransactionActionType.UpsertReplace,
            new Azure.Data.Tables.TableEntity(key.PartitionKey, "e_refused") { ["Response"] = new string('x', 40_000) })]);
        Assert.Equal(2, ledger.Riders.Waiting);
        ledger.SendRiders();

        await mark.WaitAsync(Bound);
        var error = await Assert.ThrowsAnyAsync<RequestFailedException>(() => refused.WaitAsync(Bound));
        Assert.Equal(400, error.Status);
        // Together first; refused, so each again on its own: the mark stored, the bad row not.
        Assert.True(harness.Tables.Count == 3, harness.Tables.Seen);
        Assert.Equal(DeliveryRecord.Delivered, Assert.Single(await harness.Forwarding.DeliveryRecordsAsync()).State);
    }

    [Fact]
    public async Task Sixteen_concurrent_forwards_share_log_transactions_as_they_come()
    {
        const int Events = 64;
        await using var harness = await DeliveriesHarness.StartAsync(azurite);
        var events = new List<QueuedWebhook>();
        for (var i = 0; i < Events; i++)
        {
            events.Add(await harness.Forwarding.EnqueueAsync(CalDeliveries.BookingCreated(padTo: 1000 + i), i % 2 == 0 ? null : "conn-1"));
        }
        harness.Tables.Reset();
        harness.Queues.Reset();

        await harness.DrainAsync();

        // Counted, not timed: how many transactions the log took for 64 events run 16 at a time, as the host runs them.
        output.WriteLine($"{Events} delivered, 16 at a time: {harness.Batches.Count} log transactions " +
                         $"({(double)harness.Batches.Count / Events:0.###} per event); table requests {harness.Tables.Count} " +
                         $"({(double)harness.Tables.Count / Events:0.###} per event), queue requests {harness.Queues.Count}");
        Assert.Equal(Events, harness.Receiver.Deliveries.Count);
        Assert.InRange(harness.Batches.Count, 1, Events);
        var (_, ids) = await harness.AllPagesAsync("status=delivered&limit=100");
        Assert.Equal(events.Select(e => e.EventId).Order(), ids.Order());
    }

    /// <summary>
    /// A harness whose first log transaction (a delivered outcome of <c>conn-0</c>, received now) is held before it goes out;
    /// <paramref name="before"/> run ahead of the hold.
    /// </summary>
    private async Task<HeldFirst> HoldFirstAsync(params HttpPipelinePolicy[] before)
    {
        var gate = new StorageGate(hold: DeliveriesHarness.IsBatch);
        var harness = await DeliveriesHarness.StartAsync(azurite, tablePolicies: [.. before, gate]);
        var now = DateTimeOffset.UtcNow;
        var (first, write) = Record(harness, now, "conn-0", DeliveryStatus.Delivered);
        await gate.Held.WaitAsync(Bound);
        return new HeldFirst(harness, gate, first, write, now);
    }

    private sealed record HeldFirst(DeliveriesHarness Harness, StorageGate Gate, QueuedWebhook First, Task FirstWrite, DateTimeOffset Now)
        : IAsyncDisposable
    {
        public DeliveryLog Log => Harness.App.Get<DeliveryLog>();

        public ValueTask DisposeAsync()
        {
            Gate.Release(); // a test that failed while it held nothing stops the app waiting on it
            return Harness.DisposeAsync();
        }
    }

    /// <summary>Starts writing an outcome through the app's <see cref="DeliveryLog"/>; the write joins its batch before this returns.</summary>
    private static (QueuedWebhook Message, Task Write) Record(DeliveriesHarness harness, DateTimeOffset receivedAt, string? connectionId, string status,
        int attempts = 1, string? eventId = null, string response = "ok")
    {
        var message = Message(harness, receivedAt, connectionId, eventId);
        var write = harness.App.Get<DeliveryLog>().RecordAsync(message, OutboundSigner.WebhookId(connectionId, message.Body!),
            Outcome(status, harness, attempts, receivedAt, response), message.Body, CancellationToken.None);
        return (message, write);
    }

    private static QueuedWebhook Message(DeliveriesHarness harness, DateTimeOffset receivedAt, string? connectionId, string? eventId = null) =>
        ForwardingHarness.NewEvent(CalDeliveries.BookingCreated(), connectionId, eventId ?? Guid.CreateVersion7(receivedAt).ToString("N"))
            with { ReceivedAt = receivedAt };

    private static LoggedOutcome Outcome(string status, DeliveriesHarness harness, int attempts = 1, DateTimeOffset? at = null, string response = "ok") =>
        new(status, attempts, true, harness.Receiver.Url, LastStatus: status == DeliveryStatus.Delivered ? 200 : 503,
            DeliveredAt: status == DeliveryStatus.Delivered ? at : null,
            Attempt: new LoggedAttempt(attempts, (at ?? DateTimeOffset.UtcNow) + TimeSpan.FromMilliseconds(attempts), 200, 5, null, response));

    private static async Task<string?> StatusAsync(DeliveriesHarness harness, string eventId)
    {
        using var detail = await harness.GetAsync("deliveries/" + eventId);
        Assert.Equal(System.Net.HttpStatusCode.OK, detail.StatusCode);
        return (await DeliveriesHarness.JsonOf(detail)).GetProperty("status").GetString();
    }
}
