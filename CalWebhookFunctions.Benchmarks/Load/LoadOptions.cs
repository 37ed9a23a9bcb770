using System.Globalization;

namespace CalWebhookFunctions.Benchmarks.Load;

/// <summary>
/// <c>-- load</c>'s parameters. Defaults reproduce issue 10's run: 10,000 signed deliveries from 32 senders, the
/// receiving app failing 20 % of requests, retries after seconds, everything bounded by <see cref="MaxSeconds"/>.
/// <c>--hold-forwards</c> starts forwarding only once the senders are done: the acks are then timed with storage serving
/// ingest alone, the baseline that says how much the forwards running beside it add to them.
/// </summary>
public sealed record LoadOptions(
    int Count,
    int Senders,
    double FailureRate,
    int BodyBytes,
    int Connections,
    int RejectEvery,
    int SendTimeoutSeconds,
    int MaxSeconds,
    string RetrySchedule,
    bool HoldForwards = false)
{
    public static LoadOptions Parse(string[] args) => new(
        Count: IntArg(args, "--count", 10_000),
        Senders: IntArg(args, "--senders", 32),
        FailureRate: IntArg(args, "--fail-percent", 20) / 100.0,
        BodyBytes: IntArg(args, "--body-bytes", 2 * 1024),
        Connections: IntArg(args, "--connections", 4),
        RejectEvery: IntArg(args, "--reject-every", 10),
        SendTimeoutSeconds: IntArg(args, "--send-timeout", 30),
        MaxSeconds: IntArg(args, "--max-seconds", 900),
        RetrySchedule: StringArg(args, "--retry-schedule", "1s,2s,3s,5s,8s,13s,21s,34s"),
        HoldForwards: args.Contains("--hold-forwards"));

    public static int IntArg(string[] args, string name, int fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }

    public static string StringArg(string[] args, string name, string fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Count:N0} deliveries of {BodyBytes:N0} B from {Senders} senders over {(Connections == 0 ? "an unregistered connection" : $"{Connections} registered connections")}, " +
        $"a bad signature every {RejectEvery} requests, receiver failing {FailureRate:P0}, retry schedule {RetrySchedule}, " +
        $"sender timeout {SendTimeoutSeconds} s, bound {MaxSeconds} s{(HoldForwards ? ", forwards held until the senders are done" : "")}");
}
