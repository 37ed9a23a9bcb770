using BenchmarkDotNet.Running;
using CalWebhookFunctions.Benchmarks.Forwarding;
using CalWebhookFunctions.Benchmarks.Memory;

namespace CalWebhookFunctions.Benchmarks;

public static class Program
{
    // dotnet run -c Release --project CalWebhookFunctions.Benchmarks -- --filter '*'              (full run)
    // dotnet run -c Release --project CalWebhookFunctions.Benchmarks -- --filter '*' --job short   (a few minutes)
    // dotnet run -c Release --project CalWebhookFunctions.Benchmarks -- memory                     (memory at scale)
    // dotnet run -c Release --project CalWebhookFunctions.Benchmarks -- breakdown                  (one forward, step by step)
    public static async Task<int> Main(string[] args)
    {
        if (args is ["memory", ..])
        {
            return await MemoryAtScale.RunAsync();
        }
        if (args is ["breakdown", ..])
        {
            return await ForwardBreakdown.RunAsync();
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
