using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Functional.Forwarding;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace CalWebhookFunctions.Tests.Functional.Connections;

/// <summary>
/// The forwarder's per-instance copy of CalConnections: lookups cost no storage call, a change (a tombstone above all) is
/// seen within <see cref="ConnectionSnapshot.CheckInterval"/>, and a change whose marker bump was lost within
/// <see cref="ConnectionSnapshot.MaxAge"/>. Time is a fake clock; storage is Azurite, with its requests counted.
/// </summary>
public class ConnectionSnapshotTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private sealed class RequestLog : HttpPipelinePolicy
    {
        private readonly List<string> _requests = [];

        public List<string> Take()
        {
            lock (_requests)
            {
                var taken = _requests.ToList();
                _requests.Clear();
                return taken;
            }
        }

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException();

        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            lock (_requests)
            {
                _requests.Add(message.Request.Method.Method + " " + message.Request.Uri.Path);
            }
            return ProcessNextAsync(message, pipeline);
        }
    }

    /// <summary>The snapshot of one instance; <c>Store</c> is another instance's store (its writes reach this one only through storage).</summary>
    private async Task<(ConnectionStore Store, ConnectionSnapshot Snapshot, FakeTimeProvider Clock, RequestLog Log)> StartAsync()
    {
        await azurite.ResetAsync();
        var log = new RequestLog();
        var local = new ConnectionStore(StorageFaults.Account(azurite.ConnectionString, tables: log));
        var other = new ConnectionStore(StorageAccount.FromConnectionString(azurite.ConnectionString));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        Assert.True(await other.TryInsertAsync(Connection("conn-1")));
        return (other, new ConnectionSnapshot(local, clock), clock, log);
    }

    private static ConnectionRecord Connection(string id) => new()
    {
        ConnectionId = id,
        State = ConnectionRecord.States.Active,
        SubscriberUrl = TestApp.PublicUrl + "?nangoConnectionId=" + id,
    };

    [Fact]
    public async Task A_removed_connection_stops_matching_within_the_check_interval_and_lookups_in_between_cost_no_storage_call()
    {
        var (store, snapshot, clock, log) = await StartAsync();
        Assert.True((await snapshot.FindAsync("conn-1"))!.IsMatched);
        var row = (await store.FindAsync("conn-1"))!;
        row.State = ConnectionRecord.States.Removed;
        row.RemovedAt = clock.GetUtcNow();
        Assert.True(await store.TryReplaceAsync(row)); // as DELETE leaves it: a tombstone
        log.Take();

        clock.Advance(ConnectionSnapshot.CheckInterval);
        Assert.True((await snapshot.FindAsync("conn-1"))!.IsMatched); // still within the bound: served from memory
        Assert.Null(await snapshot.FindAsync("conn-2"));
        Assert.Empty(log.Take());

        clock.Advance(TimeSpan.FromTicks(1));
        var seen = await snapshot.FindAsync("conn-1");
        Assert.True(seen!.IsRemoved);
        Assert.False(seen.IsMatched);
    }

    [Fact]
    public async Task A_tombstone_in_the_snapshot_is_confirmed_by_a_point_read_so_a_connection_registered_again_matches_at_once()
    {
        var (store, snapshot, _, log) = await StartAsync();
        var row = (await store.FindAsync("conn-1"))!;
        row.State = ConnectionRecord.States.Removed;
        Assert.True(await store.TryReplaceAsync(row));
        Assert.True((await snapshot.FindAsync("conn-1"))!.IsRemoved);

        row.State = ConnectionRecord.States.Active; // registered again, within the check interval
        Assert.True(await store.TryReplaceAsync(row));
        log.Take();

        Assert.True((await snapshot.FindAsync("conn-1"))!.IsMatched);
        Assert.Contains(StorageNames.ConnectionsTable + "(PartitionKey=", Assert.Single(log.Take()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_write_through_this_instances_store_is_seen_by_its_next_lookup()
    {
        await azurite.ResetAsync();
        var store = new ConnectionStore(StorageAccount.FromConnectionString(azurite.ConnectionString));
        var snapshot = new ConnectionSnapshot(store, new FakeTimeProvider(DateTimeOffset.UtcNow));
        Assert.True(await store.TryInsertAsync(Connection("conn-1")));
        Assert.True((await snapshot.FindAsync("conn-1"))!.IsMatched);

        var row = (await store.FindAsync("conn-1"))!;
        Assert.True(await store.TryDeleteAsync(row)); // the clock does not move

        Assert.Null(await snapshot.FindAsync("conn-1"));
    }

    [Fact]
    public async Task When_nothing_changed_the_check_is_one_point_read_of_the_change_marker()
    {
        var (_, snapshot, clock, log) = await StartAsync();
        Assert.NotNull(await snapshot.FindAsync("conn-1"));
        log.Take();

        clock.Advance(ConnectionSnapshot.CheckInterval + TimeSpan.FromSeconds(1));
        Assert.NotNull(await snapshot.FindAsync("conn-1"));

        var request = Assert.Single(log.Take());
        Assert.StartsWith("GET ", request, StringComparison.Ordinal);
        Assert.Contains(StorageNames.ConnectionsTable + "(PartitionKey='" + Uri.EscapeDataString(ConnectionChanges.PartitionKey), request, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_write_through_the_store_moves_the_change_marker_including_deletes()
    {
        var (store, _, _, _) = await StartAsync();
        var before = await store.Changes.ReadAsync();
        var row = (await store.FindAsync("conn-1"))!;
        Assert.True(await store.TryReplaceAsync(row));
        var afterReplace = await store.Changes.ReadAsync();
        Assert.True(await store.TryDeleteAsync(row));
        var afterDelete = await store.Changes.ReadAsync();
        Assert.True(await store.TryInsertAsync(Connection("conn-2")));
        var afterInsert = await store.Changes.ReadAsync();

        Assert.Equal(4, new[] { before, afterReplace, afterDelete, afterInsert }.Distinct().Count());
    }

    [Fact]
    public async Task A_change_whose_marker_bump_was_lost_is_seen_after_the_snapshot_max_age()
    {
        var (store, snapshot, clock, _) = await StartAsync();
        Assert.True((await snapshot.FindAsync("conn-1"))!.IsMatched);
        var row = (await store.FindAsync("conn-1"))!;
        row.State = ConnectionRecord.States.Removed;
        await store.Table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace); // written, but no bump (a crash in between)

        clock.Advance(ConnectionSnapshot.CheckInterval + TimeSpan.FromSeconds(1));
        Assert.True((await snapshot.FindAsync("conn-1"))!.IsMatched); // the marker did not move

        clock.Advance(ConnectionSnapshot.MaxAge);
        Assert.True((await snapshot.FindAsync("conn-1"))!.IsRemoved);
    }
}
