using System.Text;
using CalWebhookFunctions.Operations;

namespace CalWebhookFunctions.Tests.Unit.Operations;

/// <summary>The delivery log's keys: computable from the event id, newest first, and one connection's prefix covers only it.</summary>
public class DeliveryLogKeysTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 23, 59, 59, 999, TimeSpan.Zero);

    [Fact]
    public void A_v7_event_id_carries_its_received_millisecond()
    {
        var id = Guid.CreateVersion7(At).ToString("N");

        Assert.True(DeliveryLogKeys.TryReadV7Time(id, out var time));
        Assert.Equal(At, time);
        Assert.Equal(At, DeliveryLogKeys.KeyTime(id, At.AddDays(-3)));
    }

    [Fact]
    public void A_non_v7_id_falls_back_to_the_received_time()
    {
        var id = Guid.NewGuid().ToString("N"); // v4

        Assert.False(DeliveryLogKeys.TryReadV7Time(id, out _));
        Assert.Equal(At, DeliveryLogKeys.KeyTime(id, At));
    }

    [Fact]
    public void Later_days_and_later_times_sort_first()
    {
        var later = At.AddMilliseconds(1); // the next day
        var id = Guid.CreateVersion7(At).ToString("N");

        Assert.True(string.CompareOrdinal(DeliveryLogKeys.Partition(later), DeliveryLogKeys.Partition(At)) < 0);
        Assert.Equal(DeliveryLogKeys.Partition(At), DeliveryLogKeys.Partition(At.AddHours(-23)));
        Assert.True(string.CompareOrdinal(DeliveryLogKeys.Summary(id, later), DeliveryLogKeys.Summary(id, At)) < 0);
        Assert.True(string.CompareOrdinal(DeliveryLogKeys.Index("c", id, later), DeliveryLogKeys.Index("c", id, At)) < 0);
        Assert.True(string.CompareOrdinal(DeliveryLogKeys.Attempt(id, At, 1), DeliveryLogKeys.Attempt(id, later, 2)) < 0);
    }

    [Theory]
    [InlineData("tenant", "tenant-2")]
    [InlineData("a", "a~b")]
    [InlineData("tenant/42", "tenant%2F42")]
    public void One_connections_index_prefix_never_covers_another_connections_rows(string connection, string other)
    {
        var prefix = DeliveryLogKeys.IndexPrefixOf(connection);
        var otherRow = DeliveryLogKeys.Index(other, Guid.CreateVersion7(At).ToString("N"), At);

        Assert.False(otherRow.StartsWith(prefix, StringComparison.Ordinal));
        Assert.True(string.CompareOrdinal(otherRow, prefix) < 0 || string.CompareOrdinal(otherRow, DeliveryLogKeys.After(prefix)) >= 0);
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789ABCDEF", true)]
    [InlineData("0123456789abcdef0123456789abcde", false)]
    [InlineData("0123456789abcdef0123456789abcdeg", false)]
    [InlineData("0123456789abcdef-123456789abcdef", false)]
    [InlineData("", false)]
    public void Event_ids_are_32_hex_digits(string value, bool valid) => Assert.Equal(valid, DeliveryLogKeys.IsEventId(value));

    [Theory]
    [InlineData("{\"triggerEvent\":\"BOOKING_CREATED\",\"payload\":{\"attendees\":[{\"uid\":\"no\"}],\"uid\":\"bk_1\"}}", "BOOKING_CREATED", "bk_1")]
    [InlineData("{\"payload\":{\"nested\":{\"uid\":\"no\"}},\"triggerEvent\":\"MEETING_ENDED\"}", "MEETING_ENDED", null)]
    [InlineData("{\"uid\":\"top\",\"payload\":\"text\"}", null, null)]
    [InlineData("triggerEvent=BOOKING_CREATED&uid=x", null, null)]
    [InlineData("{\"triggerEvent\":\"BOOKING_CREATED\",\"payload\":{\"uid\":\"bk_2\"", "BOOKING_CREATED", "bk_2")]
    public void Trigger_and_booking_uid_are_read_from_the_body(string body, string? trigger, string? uid)
    {
        var (readTrigger, readUid, _) = CalBody.Read(Encoding.UTF8.GetBytes(body));
        Assert.Equal((trigger, uid), (readTrigger, readUid));
    }

    [Fact]
    public void Identical_bodies_received_either_side_of_midnight_meet_at_one_ledger_row()
    {
        var body = Encoding.UTF8.GetBytes("{\"triggerEvent\":\"BOOKING_CREATED\",\"createdAt\":\"2026-12-01T23:59:59.500Z\",\"payload\":{}}");
        var createdAt = CalBody.Read(body).CreatedAt;
        var before = At; // 23:59:59.999 on 1 December
        var after = At.AddMilliseconds(2); // 00:00:00.001 on 2 December: another day partition of the log

        Assert.Equal(new DateTimeOffset(2026, 12, 1, 23, 59, 59, 500, TimeSpan.Zero), createdAt);
        Assert.NotEqual(DeliveryLogKeys.Partition(before), DeliveryLogKeys.Partition(after));
        Assert.Equal(DeliveryLogKeys.Partition(DeliveryLogKeys.LedgerTime(before, createdAt)),
            DeliveryLogKeys.Partition(DeliveryLogKeys.LedgerTime(after, createdAt)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(-2.0)]
    [InlineData(2.0)]
    public void Without_a_plausible_createdAt_the_ledger_row_is_in_the_events_own_day(double? createdDaysFromReceipt)
    {
        DateTimeOffset? createdAt = createdDaysFromReceipt is { } days ? At.AddDays(days) : null;

        Assert.Equal(At, DeliveryLogKeys.LedgerTime(At, createdAt));
    }

    [Fact]
    public void A_target_keeps_origin_and_path_only()
    {
        Assert.Equal("https://app.example.test:8443/hooks/cal",
            DeliveryLog.TargetOf(new Uri("https://user:secret@app.example.test:8443/hooks/cal?token=abc#frag")));
    }
}
