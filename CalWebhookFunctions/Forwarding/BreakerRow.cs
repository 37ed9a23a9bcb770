using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;

namespace CalWebhookFunctions.Forwarding;

/// <summary>What the breaker lets one event do: go on, go on as the target's probe, or be held.</summary>
public enum Admission
{
    Go,
    Probe,
    Hold,
}

/// <summary>A target's breaker as stored: <c>closed</c>, or <c>open</c> (failing; <see cref="Failures"/> is the run that opened it).</summary>
public sealed class BreakerRow : ITableEntity
{
    public const string Partition = "breaker";
    public const string Closed = "closed";
    public const string Open = "open";

    public string PartitionKey { get; set; } = Partition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    /// <summary>The target's origin and path (<see cref="TargetSlots.Key"/>): never its query, which may carry a token.</summary>
    public string Target { get; set; } = "";
    public string State { get; set; } = Closed;
    public int Failures { get; set; }
    public DateTimeOffset? OpenedAt { get; set; }

    /// <summary>When it last closed: a run of failures on an instance that began before this does not open it.</summary>
    public DateTimeOffset? ClosedAt { get; set; }

    /// <summary>While open: when the next probe may go (taken by moving it on, conditionally on the ETag).</summary>
    public DateTimeOffset? NextProbeAt { get; set; }

    public bool IsOpen => State == Open;

    public BreakerRow Copy() => (BreakerRow)MemberwiseClone();

    /// <summary>The row key for a target: a hash of its origin and path (any URL is safe, and none is spelled out in a key).</summary>
    public static string KeyFor(Uri target) =>
        "t_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(TargetSlots.Key(target))))[..40];
}
