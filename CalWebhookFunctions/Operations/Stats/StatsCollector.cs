namespace CalWebhookFunctions.Operations.Stats;

/// <summary>
/// This instance's counts of the current hour (and of earlier hours not yet flushed), kept in memory: incrementing is a
/// lock and a dictionary update, never a storage call. <see cref="StatsStore"/> writes each hour as one row per instance
/// (cumulative, so a repeated flush overwrites rather than adds). Names: <c>status:accepted</c>, <c>status:delivered</c>,
/// <c>status:retried</c>, <c>status:dead_lettered</c>, <c>trigger:&lt;TRIGGER&gt;</c>, <c>deadLetter:&lt;reason&gt;</c>,
/// <c>refused:&lt;error code&gt;</c>; plus the forward latency histogram (<see cref="LatencyBuckets"/>).
/// </summary>
public sealed class StatsCollector(TimeProvider time)
{
    /// <summary>Distinct counter names one hour holds at most; more fold into <c>&lt;kind&gt;:(other)</c> (bounds row size).</summary>
    public const int MaxNamesPerHour = 200;

    /// <summary>Hours kept in memory while storage is unreachable; older ones are dropped (the OTel counters still have them).</summary>
    private const int MaxHoursKept = 48;

    /// <summary>An id for this process: each instance writes its own row per hour, so instances never contend.</summary>
    public static readonly string InstanceId = Guid.NewGuid().ToString("N")[..12];

    private readonly Lock _lock = new();
    private readonly SortedDictionary<DateTimeOffset, HourCounts> _hours = [];

    public void Count(string kind, string name)
    {
        lock (_lock)
        {
            var hour = Current();
            var key = hour.Counts.Count < MaxNamesPerHour || hour.Counts.ContainsKey($"{kind}:{name}") ? $"{kind}:{name}" : $"{kind}:(other)";
            hour.Counts[key] = hour.Counts.GetValueOrDefault(key) + 1;
            hour.Dirty = true;
        }
    }

    /// <summary>A delivery: counted as <c>status:delivered</c>, its received → delivered time in the histogram.</summary>
    public void Delivered(TimeSpan latency)
    {
        lock (_lock)
        {
            var hour = Current();
            hour.Counts["status:delivered"] = hour.Counts.GetValueOrDefault("status:delivered") + 1;
            hour.Latency[LatencyBuckets.IndexOf(latency)]++;
            hour.Dirty = true;
        }
    }

    /// <summary>The hours with unwritten changes, copied; each is marked clean (call <see cref="Unwritten"/> if writing fails).</summary>
    public IReadOnlyList<HourSnapshot> TakeDirty()
    {
        lock (_lock)
        {
            var now = Hour(time.GetUtcNow());
            var dirty = _hours.Where(h => h.Value.Dirty)
                .Select(h => new HourSnapshot(h.Key, new Dictionary<string, long>(h.Value.Counts), (long[])h.Value.Latency.Clone()))
                .ToList();
            foreach (var hour in _hours.Values)
            {
                hour.Dirty = false;
            }
            // Past hours that are written need no memory any more: their row holds everything this instance counted.
            foreach (var past in _hours.Keys.Where(hour => hour < now && !dirty.Any(d => d.Hour == hour)).ToList())
            {
                _hours.Remove(past);
            }
            return dirty;
        }
    }

    /// <summary>Marks hours dirty again after their write failed (the next flush writes them).</summary>
    public void Unwritten(IEnumerable<DateTimeOffset> hours)
    {
        lock (_lock)
        {
            foreach (var hour in hours)
            {
                if (_hours.TryGetValue(hour, out var counts))
                {
                    counts.Dirty = true;
                }
            }
        }
    }

    /// <summary>Drops past hours that are written (after a successful flush).</summary>
    public void Forget(IEnumerable<DateTimeOffset> written)
    {
        lock (_lock)
        {
            var now = Hour(time.GetUtcNow());
            foreach (var hour in written)
            {
                if (hour < now && _hours.TryGetValue(hour, out var counts) && !counts.Dirty)
                {
                    _hours.Remove(hour);
                }
            }
        }
    }

    public static DateTimeOffset Hour(DateTimeOffset at) => new(at.UtcTicks - (at.UtcTicks % TimeSpan.TicksPerHour), TimeSpan.Zero);

    private HourCounts Current()
    {
        var hour = Hour(time.GetUtcNow());
        if (!_hours.TryGetValue(hour, out var counts))
        {
            counts = new HourCounts();
            _hours[hour] = counts;
            while (_hours.Count > MaxHoursKept)
            {
                _hours.Remove(_hours.Keys.First());
            }
        }
        return counts;
    }

    private sealed class HourCounts
    {
        public Dictionary<string, long> Counts { get; } = new(StringComparer.Ordinal);
        public long[] Latency { get; } = new long[LatencyBuckets.Count];
        public bool Dirty { get; set; }
    }
}

/// <summary>One hour of one instance's counts, as written to storage.</summary>
public sealed record HourSnapshot(DateTimeOffset Hour, IReadOnlyDictionary<string, long> Counts, long[] Latency);

/// <summary>
/// The forward latency histogram: bucket <c>i</c> holds latencies up to 10 ms × 2^(i/4) (each bound 19 % above the one
/// before), from 10 ms to about 12 days. Percentiles read from it are the bucket's upper bound: at most 19 % high.
/// </summary>
public static class LatencyBuckets
{
    public const int Count = 112;

    public static double UpperBoundMs(int index) => 10 * Math.Pow(2, index / 4.0);

    public static int IndexOf(TimeSpan latency)
    {
        var ms = Math.Max(latency.TotalMilliseconds, 0);
        var index = ms <= 10 ? 0 : (int)Math.Ceiling(4 * Math.Log2(ms / 10));
        return Math.Clamp(index, 0, Count - 1);
    }

    /// <summary>The upper bound (ms) of the bucket holding the <paramref name="quantile"/>, or null when empty.</summary>
    public static double? Percentile(long[] buckets, double quantile)
    {
        var total = buckets.Sum();
        if (total == 0)
        {
            return null;
        }
        var rank = Math.Max(1, (long)Math.Ceiling(quantile * total));
        long seen = 0;
        for (var i = 0; i < buckets.Length; i++)
        {
            seen += buckets[i];
            if (seen >= rank)
            {
                return Math.Round(UpperBoundMs(i));
            }
        }
        return Math.Round(UpperBoundMs(buckets.Length - 1));
    }

    public static string Write(long[] buckets)
    {
        var last = Array.FindLastIndex(buckets, b => b != 0);
        return string.Join(',', buckets.Take(last + 1));
    }

    public static long[] Read(string? text)
    {
        var buckets = new long[Count];
        var parts = (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < Math.Min(parts.Length, Count); i++)
        {
            buckets[i] = long.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0;
        }
        return buckets;
    }
}
