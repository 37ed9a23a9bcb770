using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Benchmarks.Load;

/// <summary>
/// The app's log during a load run: off unless <c>LOAD_LOG</c> names a minimum level (e.g. <c>LOAD_LOG=Debug</c>), then
/// written to standard error, one line each — to see what the forwards did when a run goes wrong.
/// </summary>
public static class LoadLog
{
    public static void Configure(ILoggingBuilder logging)
    {
        if (Enum.TryParse<LogLevel>(Environment.GetEnvironmentVariable("LOAD_LOG"), ignoreCase: true, out var level))
        {
            // To standard error: the run's figures go to standard output.
            logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
                .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; })
                .AddFilter("CalWebhookFunctions", level)
                .AddFilter("Azure", LogLevel.Warning);
        }
    }
}
