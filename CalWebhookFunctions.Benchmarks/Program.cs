using BenchmarkDotNet.Running;

namespace CalWebhookFunctions.Benchmarks;

public static class Program
{
    // dotnet run -c Release --project CalWebhookFunctions.Benchmarks -- --filter '*'              (full run)
    // dotnet run -c Release --project CalWebhookFunctions.Benchmarks -- --filter '*' --job short   (a few minutes)
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
