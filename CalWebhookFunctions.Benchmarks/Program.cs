using BenchmarkDotNet.Running;
using CalWebhookFunctions.Benchmarks.Forwarding;
using CalWebhookFunctions.Benchmarks.Load;
using CalWebhookFunctions.Benchmarks.Memory;

namespace CalWebhookFunctions.Benchmarks;

public static class Program
{
    // dotnet run -c Release --project CalWebhookFunctions.Benchmarks -- --filter '*'              (full run)
    // dotnet run -c Release --project CalWebhookFunctions.Benchmarks -- --filter '*' --job short   (a few minutes)
    // dotnet run -c Release --project CalWebhookFunctions.Benchmarks -- memory                     (memory at scale)
    // dotnet run -c Release --project CalWebhookFunctions.Benchmarks -- breakdown                  (one forward, step by step)
    // dotnet run -c Release --project CalWebhookFunctions.Benchmarks -- forward-cpu --concurrency 16 --latency realistic   (app vs Azurite CPU)
    // dotnet run -c Release --project CalWebhookFunctions.Benchmarks -- load --count 2000          (volume run, bounded)
    // dotnet run -c Release --project CalWebhookFunctions.Benchmarks -- azurite-calls              (Azurite's cost per call)
    // dotnet run -c Release --project CalWebhookFunctions.Benchmarks -- azurite-table-calls        (Azurite's cost per table write)
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
        if (args is ["forward-cpu", ..])
        {
            return await ForwardCpu.RunAsync(args);
        }
        if (args is ["load", ..])
        {
            return await LoadRun.RunAsync(args);
        }
        if (args is ["azurite-table-calls", ..])
        {
            return await AzuriteTableCalls.RunAsync(args);
        }
        if (args is ["azurite-calls", ..])
        {
            return await AzuriteCalls.RunAsync(args);
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
