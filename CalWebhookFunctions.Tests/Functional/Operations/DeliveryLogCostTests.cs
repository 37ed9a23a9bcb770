using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Messages;
using CalWebhookFunctions.Operations;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Operations;

/// <summary>
/// The log's storage cost, counted request by request through the SDK pipelines: one table call per attempt on the forward
/// path, and a retention run bounded by its budget however much is kept.
/// </summary>
// Never run beside DeliveryLogBatchTests (same collection): load from one class widens timing races in the other's request counts.
[Collection("Delivery log request counts")]
public class DeliveryLogCostTests(AzuriteFixture azurite, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private static readonly Dictionary<string, string?> ThirtyDays = new() { ["Deliveries:RetentionDays"] = "30" };

    [Fact]
    public async Task A_delivered_event_alone_costs_its_claim_and_one_transaction_for_its_mark_and_log_entry()
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite);
        await harness.ForwardAsync(CalDeliveries.BookingCreated()); // the table and queues exist from here on
        harness.Tables.Reset();
        harness.Batches.Reset();
        harness.Queues.Reset();

        var message = await harness.ForwardAsync(CalDeliveries.BookingCreated(padTo: 3000));

        // Claim (a transaction of its own: nothing to ride with), then the delivered mark and the log entry together, sent
        // when the harness flushes the riders; the ingest-side enqueue is the harness's.
        Assert.Equal(2, harness.Tables.Count);
        Assert.Equal(1, harness.Batches.Count);
        Assert.Equal(1, harness.Queues.Count);
        using var detail = await harness.GetAsync("deliveries/" + message.EventId);
        Assert.Equal("delivered", (await DeliveriesHarness.JsonOf(detail)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Delivered_events_one_after_another_cost_one_table_call_each_and_their_marks_and_log_entries_go_together()
    {
        // The clock moves only when the test says so: the riders wait until their time is up.
        var time = new ManualTime(DateTimeOffset.UtcNow);
        await using var harness = await DeliveriesHarness.StartAsync(azurite, time: time);
        var warmUp = await harness.ForwardAsync(CalDeliveries.BookingCreated(), "conn-1"); // the table exists, the connections are read
        harness.Tables.Reset();
        harness.Batches.Reset();
        var ledger = harness.App.Get<DeliveryLedger>();

        var events = new List<QueuedWebhook>();
        for (var i = 0; i < 3; i++)
        {
            events.Add(await harness.Forwarding.EnqueueAsync(CalDeliveries.BookingCreated(padTo: 1000 + i), "conn-1"));
            await harness.Forwarding.DrainAsync(); // forwarded; its mark and log entry wait
            Assert.Equal(2 * (i + 1), ledger.Riders.Waiting); // its mark and its log entry
        }
        // Three claims, each a small transaction of its own: no claim carried a mark or a log row.
        Assert.True(harness.Tables.Count == 3, harness.Tables.Seen);
        Assert.Equal(0, harness.Batches.Count);

        time.Advance(DeliveryLedger.MarkRide);
        await harness.App.Get<DeliveryMarks>().FlushAsync();

        Assert.True(harness.Tables.Count == 3 + 1, harness.Tables.Seen); // the three outcomes in one transaction
        Assert.Equal(1, harness.Batches.Count);
        Assert.Equal(0, ledger.Riders.Waiting);
        var (_, ids) = await harness.AllPagesAsync("status=delivered&connectionId=conn-1&limit=10");
        Assert.Equal(events.Select(e => e.EventId).Append(warmUp.EventId).Order(), ids.Order());
    }

    [Fact]
    public async Task A_retried_attempt_costs_one_table_call_more_than_the_claim_and_its_release()
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite, (_, _, before) => Task.FromResult(before == 0 ? 503 : 200));
        await harness.LogAsync(DateTimeOffset.UtcNow, null, DeliveryStatus.Delivered); // the table exists
        harness.Tables.Reset();

        await harness.ForwardAsync(CalDeliveries.BookingCreated());

        // Attempt 1: claim, release, log. Attempt 2: claim, then its mark and log entry in one transaction. The target's
        // breaker: its row read once (the first forward to the target); the failure and the success that ends its run are
        // counted in memory, nothing written.
        Assert.Equal(5 + 1, harness.Tables.Count);
    }

    [Fact]
    public async Task Retention_drops_old_day_partitions_and_payload_blobs_within_a_bounded_number_of_calls()
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite, settings: ThirtyDays);
        var now = DateTimeOffset.UtcNow;
        var old = new List<string>();
        await Parallel.ForAsync(0, 300, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            var logged = await harness.LogAsync(now - TimeSpan.FromDays(i % 2 == 0 ? 40 : 35) - TimeSpan.FromSeconds(i), $"conn-{i % 5}",
                DeliveryStatus.Delivered);
            lock (old)
            {
                old.Add(logged.EventId);
            }
        });
        var kept = await harness.LogAsync(now - TimeSpan.FromDays(29), "conn-1", DeliveryStatus.Delivered);
        var container = harness.App.Get<StorageAccount>().Container(StorageNames.PayloadContainer);
        await container.CreateIfNotExistsAsync();
        foreach (var day in new[] { 40, 35, 31, 1 })
        {
            await container.UploadBlobAsync($"{now.AddDays(-day).UtcDateTime:yyyy/MM/dd}/{Guid.CreateVersion7():N}", BinaryData.FromString("x"));
        }
        harness.Tables.Reset();
        harness.Blobs.Reset();

        var run = await harness.App.Get<DeliveryLogRetention>().SweepAsync(maxCalls: 100, CancellationToken.None);

        // 300 events × 3 rows (summary, index, attempt) in 2 partitions of 450: 10 batches of ≤ 100 rows, 1 page of keys and
        // the empty page that ends it; blobs: a listing, 3 deletes, the listing that ends it.
        output.WriteLine($"retention: {run.Rows} rows, {run.Blobs} blobs, {harness.Tables.Count} table calls, {harness.Blobs.Count} blob calls");
        Assert.Equal(900, run.Rows);
        Assert.Equal(3, run.Blobs);
        Assert.True(harness.Tables.Count <= 2 + 10, $"{harness.Tables.Count} table calls");
        Assert.Equal(5, harness.Blobs.Count);
        Assert.Equal(harness.Tables.Count + harness.Blobs.Count, run.Calls);
        Assert.False(run.More);
        var (_, ids) = await harness.AllPagesAsync("limit=200");
        Assert.Equal([kept.EventId], ids);
        using var gone = await harness.GetAsync("deliveries/" + old[0]);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.StatusCode);
        var blobsLeft = new List<string>();
        await foreach (var blob in container.GetBlobsAsync())
        {
            blobsLeft.Add(blob.Name);
        }
        Assert.Single(blobsLeft);
    }

    [Fact]
    public async Task A_retention_run_stops_at_its_call_budget_and_the_next_runs_finish()
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite, settings: ThirtyDays);
        var now = DateTimeOffset.UtcNow;
        await Parallel.ForAsync(0, 200, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
            await harness.LogAsync(now - TimeSpan.FromDays(31 + i % 3) - TimeSpan.FromSeconds(i), "conn", DeliveryStatus.Delivered));
        var retention = harness.App.Get<DeliveryLogRetention>();
        harness.Tables.Reset();
        harness.Blobs.Reset();

        var first = await retention.SweepAsync(maxCalls: 3, CancellationToken.None);

        Assert.True(first.More);
        Assert.True(harness.Tables.Count + harness.Blobs.Count <= 3, $"{harness.Tables.Count + harness.Blobs.Count} calls");
        var runs = 1;
        var removed = first.Rows;
        for (var run = first; run.More && runs < 20; runs++)
        {
            run = await retention.SweepAsync(maxCalls: 3, CancellationToken.None);
            removed += run.Rows;
        }
        Assert.Equal(600, removed);
        Assert.Empty((await harness.AllPagesAsync("limit=10")).EventIds);
    }

    [Fact]
    public async Task A_webhook_ids_ledger_row_goes_with_its_day_partition_found_by_key_without_a_scan()
    {
        var scans = new StorageCalls(m => Uri.UnescapeDataString(m.Request.Uri.Query).Contains("ExpiresAt", StringComparison.Ordinal));
        await using var harness = await DeliveriesHarness.StartAsync(azurite, settings: ThirtyDays, tablePolicies: [scans]);
        var ledger = harness.App.Get<DeliveryLedger>();
        var now = DateTimeOffset.UtcNow;
        var old = new LedgerKey(DeliveryLogKeys.Partition(now - TimeSpan.FromDays(31)), "msg_old");
        var recent = new LedgerKey(DeliveryLogKeys.Partition(now), "msg_recent");
        foreach (var key in new[] { old, recent })
        {
            var claim = await ledger.TryClaimAsync(key, "e", null, 1, TimeSpan.FromMinutes(1), CancellationToken.None);
            await ledger.MarkDeliveredAsync(claim, "e", null, 200, 1, blobEvent: null, CancellationToken.None);
        }

        var run = await harness.App.Get<DeliveryLogRetention>().SweepAsync(maxCalls: 100, CancellationToken.None);

        Assert.Equal(1, run.Rows);
        Assert.Equal(recent.RowKey, Assert.Single(await harness.Forwarding.DeliveryRecordsAsync()).RowKey);
        Assert.Equal(0, scans.Count); // no query filtered on ExpiresAt: the partition's key found the row
    }

    [Fact]
    public async Task Dedup_records_are_kept_for_Deliveries_RetentionDays()
    {
        await using var harness = await DeliveriesHarness.StartAsync(azurite, settings: new Dictionary<string, string?> { ["Deliveries:RetentionDays"] = "3" });

        await harness.ForwardAsync(CalDeliveries.BookingCreated());

        var record = Assert.Single(await harness.Forwarding.DeliveryRecordsAsync());
        Assert.InRange(record.ExpiresAt, DateTimeOffset.UtcNow.AddDays(3).AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(3));
    }
}
