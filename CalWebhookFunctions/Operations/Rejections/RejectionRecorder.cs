using CalWebhookFunctions.Operations.Stats;

namespace CalWebhookFunctions.Operations.Rejections;

/// <summary>One refused ingest request as kept: never its body or signature.</summary>
public sealed record RejectionSample(DateTimeOffset At, string Reason, string? ConnectionId, long BodyBytes, string? ContentType);

/// <summary>
/// Refused ingest requests, recorded in memory only (the ingest path makes no storage call for them) and written by
/// <see cref="RejectionStore"/> in the background. Bounded however much unsigned traffic arrives: per minute this
/// instance keeps every count exactly (per reason) but at most <see cref="SamplesPerMinute"/> detailed samples (at most
/// <see cref="SamplesPerReasonPerMinute"/> of one reason), the first ones of the minute; the rest of the minute are one
/// summary per reason holding how many were not sampled. Memory holds at most <see cref="MaxMinutesKept"/> unwritten minutes.
/// </summary>
public sealed class RejectionRecorder(StatsCollector stats, TimeProvider time)
{
    public const int SamplesPerMinute = 20;
    public const int SamplesPerReasonPerMinute = 10;
    public const int MaxContentTypeLength = 100;
    private const int MaxReasons = 32;
    private const int MaxMinutesKept = 120;

    private readonly Lock _lock = new();
    private readonly SortedDictionary<DateTimeOffset, Minute> _minutes = [];

    /// <summary>
    /// Records what ingest answered when it was not an acceptance: the answer's <c>error</c> code is the reason. Accepted
    /// events are not recorded here.
    /// </summary>
    public void Record(Ingest.IngestOutcome outcome, Microsoft.AspNetCore.Http.IResult answer, string? contentType)
    {
        if (outcome.Status != Ingest.IngestStatus.Accepted
            && answer is Microsoft.AspNetCore.Http.IValueHttpResult { Value: Http.ErrorBody error })
        {
            Record(error.Error, outcome.ClaimedConnectionId, outcome.BodyBytes, contentType);
        }
    }

    /// <summary>Counts one refusal; samples it while the minute's sample budget lasts. Never blocks on I/O, never throws.</summary>
    public void Record(string reason, string? claimedConnectionId, long bodyBytes, string? contentType)
    {
        var now = time.GetUtcNow();
        stats.Count("refused", reason);
        lock (_lock)
        {
            var minute = MinuteOf(now);
            if (!_minutes.TryGetValue(minute, out var bucket))
            {
                bucket = new Minute();
                _minutes[minute] = bucket;
                while (_minutes.Count > MaxMinutesKept)
                {
                    _minutes.Remove(_minutes.Keys.First());
                }
            }
            if (!bucket.NotSampled.ContainsKey(reason) && bucket.NotSampled.Count >= MaxReasons)
            {
                reason = "other";
            }
            var sampledOfReason = bucket.Samples.Count(s => s.Reason == reason);
            if (bucket.Samples.Count < SamplesPerMinute && sampledOfReason < SamplesPerReasonPerMinute)
            {
                bucket.Samples.Add(new RejectionSample(now, reason, claimedConnectionId, bodyBytes, Bounded(contentType)));
                bucket.NotSampled.TryAdd(reason, 0);
            }
            else
            {
                bucket.NotSampled[reason] = bucket.NotSampled.GetValueOrDefault(reason) + 1;
            }
        }
    }

    /// <summary>
    /// What is not written yet: new samples, and each reason's not-sampled count where it changed (the whole count of the
    /// minute so far: a summary row is overwritten, never added to).
    /// </summary>
    public Pending TakePending()
    {
        lock (_lock)
        {
            var samples = new List<RejectionSample>();
            var summaries = new List<(DateTimeOffset Minute, string Reason, long NotSampled)>();
            foreach (var (minute, bucket) in _minutes)
            {
                samples.AddRange(bucket.Samples.Skip(bucket.SamplesWritten));
                summaries.AddRange(bucket.NotSampled
                    .Where(r => r.Value > 0 && bucket.SummariesWritten.GetValueOrDefault(r.Key) != r.Value)
                    .Select(r => (minute, r.Key, r.Value)));
            }
            return new Pending(samples, summaries);
        }
    }

    /// <summary>Marks what <paramref name="pending"/> held as written and forgets past minutes that are fully written.</summary>
    public void Written(Pending pending)
    {
        lock (_lock)
        {
            foreach (var group in pending.Samples.GroupBy(s => MinuteOf(s.At)))
            {
                if (_minutes.TryGetValue(group.Key, out var bucket))
                {
                    bucket.SamplesWritten += group.Count();
                }
            }
            foreach (var (minute, reason, notSampled) in pending.Summaries)
            {
                if (_minutes.TryGetValue(minute, out var bucket))
                {
                    bucket.SummariesWritten[reason] = notSampled;
                }
            }
            var current = MinuteOf(time.GetUtcNow());
            foreach (var (minute, bucket) in _minutes.Where(m => m.Key < current).ToList())
            {
                if (bucket.SamplesWritten == bucket.Samples.Count
                    && bucket.NotSampled.All(r => r.Value == 0 || bucket.SummariesWritten.GetValueOrDefault(r.Key) == r.Value))
                {
                    _minutes.Remove(minute);
                }
            }
        }
    }

    public static DateTimeOffset MinuteOf(DateTimeOffset at) => new(at.UtcTicks - (at.UtcTicks % TimeSpan.TicksPerMinute), TimeSpan.Zero);

    /// <summary>A Content-Type as sent, cut to <see cref="MaxContentTypeLength"/> characters, control characters dropped.</summary>
    public static string? Bounded(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return null;
        }
        var clean = new string([.. contentType.Where(c => !char.IsControl(c)).Take(MaxContentTypeLength)]);
        return clean.Length == 0 ? null : clean;
    }

    public sealed record Pending(IReadOnlyList<RejectionSample> Samples, IReadOnlyList<(DateTimeOffset Minute, string Reason, long NotSampled)> Summaries)
    {
        public bool IsEmpty => Samples.Count == 0 && Summaries.Count == 0;
    }

    private sealed class Minute
    {
        public List<RejectionSample> Samples { get; } = [];
        public int SamplesWritten { get; set; }
        public Dictionary<string, long> NotSampled { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, long> SummariesWritten { get; } = new(StringComparer.Ordinal);
    }
}
