using System.Globalization;

namespace CalWebhookFunctions.Benchmarks.Load;

/// <summary>
/// CPU time of this process (the app, its Kestrel servers and the harness) and of its child node processes (Azurite),
/// from /proc, to say who is busy during a run. Linux only; elsewhere the children read as zero.
/// </summary>
public sealed record ProcessCpu(double Self, double Azurite)
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux

    public static ProcessCpu Now() => new(
        Environment.ProcessId is var id && File.Exists($"/proc/{id}/stat") ? Seconds(File.ReadAllText($"/proc/{id}/stat")) : 0,
        ChildNodeStats().Sum(Seconds));

    public ProcessCpu Since(ProcessCpu before) => new(Self - before.Self, Azurite - before.Azurite);

    private static IEnumerable<string> ChildNodeStats()
    {
        if (!Directory.Exists("/proc"))
        {
            yield break;
        }
        var self = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }
            var fields = AfterName(stat);
            if (stat.Contains("(node)", StringComparison.Ordinal) && fields.Length > 1 && fields[1] == self)
            {
                yield return stat;
            }
        }
    }

    // /proc/<pid>/stat: "pid (comm) state ppid … utime stime …"; utime and stime are fields 14 and 15.
    private static double Seconds(string stat)
    {
        var fields = AfterName(stat);
        return fields.Length > 12
            ? (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond
            : 0;
    }

    private static string[] AfterName(string stat) => stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
}
