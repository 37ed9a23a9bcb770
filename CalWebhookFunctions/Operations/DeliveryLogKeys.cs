using System.Globalization;
using CalWebhookFunctions.Connections;

namespace CalWebhookFunctions.Operations;

/// <summary>
/// Where the delivery log lives in <c>CalDeliveries</c>, computable from an event id alone. Day partitions
/// <c>log_</c> + inverted day (newest day sorts first), and in each:
/// <list type="bullet">
/// <item>the summary row <c>e_</c> + inverted ms (15 digits) + <c>_</c> + event id: the event's current state;</item>
/// <item>the connection index row <c>c_</c> + table key of the connection + <c>~</c> + inverted ms + <c>_</c> + event id (the
/// summary's fields without the body); <c>~</c> never follows the first character of a connection key, so one connection's
/// prefix never covers another's;</item>
/// <item>one attempt row per attempt, <c>a_</c> + event id + <c>_</c> + ms of the attempt (ascending) + <c>_</c> + attempt number;</item>
/// <item>the delivery ledger's row of a webhook-id, <c>d_</c> + webhook-id (<see cref="Forwarding.DeliveryLedger"/>), in the
/// partition of <see cref="LedgerTime"/>; and, for an event whose body is in a blob, <c>v_</c> + event id once it was
/// delivered.</item>
/// </list>
/// So everything an event leaves in the table goes when its day partition is dropped (<see cref="DeliveryLogRetention"/>):
/// retention finds expired rows by key, without a scan.
/// The received time is the event id's own (a Guid v7 from ingest carries it in its first 48 bits); an id that is not a
/// v7 Guid falls back to the message's received time.
/// </summary>
public static class DeliveryLogKeys
{
    public const string PartitionPrefix = "log_";
    public const string SummaryPrefix = "e_";
    public const string IndexPrefix = "c_";
    public const string AttemptPrefix = "a_";
    public const string LedgerPrefix = "d_";
    public const string DeliveredEventPrefix = "v_";
    public const char ConnectionSeparator = '~';

    /// <summary>Larger than any millisecond time this log meets (year 9999), so the inverted value is never negative.</summary>
    private const long MaxMs = 253_402_300_799_999;
    private const int MaxDay = 99_999;

    /// <summary>The received time an event's keys use: the v7 Guid's, else <paramref name="receivedAt"/>.</summary>
    public static DateTimeOffset KeyTime(string eventId, DateTimeOffset receivedAt) =>
        TryReadV7Time(eventId, out var time) ? time : receivedAt;

    /// <summary>
    /// The day of a webhook-id's ledger row: the body's own <c>createdAt</c> (Cal.com's firing time), so that identical bodies
    /// — an identical redelivery, which has the same webhook-id — always meet at the same row, whatever day each copy was
    /// received; the event's <see cref="KeyTime"/> when the body has none, or one more than a day before it or after it.
    /// </summary>
    public static DateTimeOffset LedgerTime(DateTimeOffset keyTime, DateTimeOffset? createdAt) =>
        createdAt is { } created && created >= keyTime - TimeSpan.FromDays(1) && created <= keyTime + TimeSpan.FromDays(1) ? created : keyTime;

    public static string Ledger(string webhookId) => LedgerPrefix + webhookId;

    public static string DeliveredEvent(string eventId) => DeliveredEventPrefix + eventId;

    /// <summary>Whether <paramref name="eventId"/> is 32 hex digits (an event id as ingest answers it).</summary>
    public static bool IsEventId(string? eventId) =>
        eventId is { Length: 32 } && eventId.All(char.IsAsciiHexDigit);

    /// <summary>The millisecond time in a Guid v7 written in "N" format (its first 48 bits).</summary>
    public static bool TryReadV7Time(string eventId, out DateTimeOffset time)
    {
        time = default;
        if (!IsEventId(eventId) || eventId[12] != '7'
            || !long.TryParse(eventId.AsSpan(0, 12), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var ms)
            || ms > MaxMs)
        {
            return false;
        }
        time = DateTimeOffset.FromUnixTimeMilliseconds(ms);
        return true;
    }

    public static string Partition(DateTimeOffset time) =>
        PartitionPrefix + InvertedDay(time).ToString("D5", CultureInfo.InvariantCulture);

    /// <summary>Days since 1970 subtracted from a constant: a later day sorts first.</summary>
    public static int InvertedDay(DateTimeOffset time) => MaxDay - (int)(time.ToUnixTimeMilliseconds() / 86_400_000);

    public static string InvertedMs(DateTimeOffset time) =>
        (MaxMs - Math.Clamp(time.ToUnixTimeMilliseconds(), 0, MaxMs)).ToString("D15", CultureInfo.InvariantCulture);

    public static string Summary(string eventId, DateTimeOffset keyTime) => SummaryPrefix + InvertedMs(keyTime) + "_" + eventId;

    /// <summary>The prefix of every index row of one connection.</summary>
    public static string IndexPrefixOf(string connectionId) =>
        IndexPrefix + ConnectionId.ToTableKey(connectionId) + ConnectionSeparator;

    public static string Index(string connectionId, string eventId, DateTimeOffset keyTime) =>
        IndexPrefixOf(connectionId) + InvertedMs(keyTime) + "_" + eventId;

    /// <summary>The prefix of every attempt row of one event.</summary>
    public static string AttemptPrefixOf(string eventId) => AttemptPrefix + eventId + "_";

    public static string Attempt(string eventId, DateTimeOffset at, int attempt) =>
        AttemptPrefixOf(eventId) + Math.Max(0, at.ToUnixTimeMilliseconds()).ToString("D15", CultureInfo.InvariantCulture) + "_"
        + attempt.ToString("D4", CultureInfo.InvariantCulture);

    /// <summary>
    /// A key after every key that starts with <paramref name="prefix"/>: every prefix here is followed by digits, and
    /// <c>~</c> sorts after them.
    /// </summary>
    public static string After(string prefix) => prefix + "~";
}
