using System.Reflection;

namespace CalWebhookFunctions.Tests.Infrastructure;

/// <summary>Where the repository's files are, for tests that read what the real host reads.</summary>
public static class RepoPaths
{
    public static string Root { get; } = typeof(RepoPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "RepoRoot").Value!;

    public static string File(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>The functions.metadata the Functions SDK generated for the app (copied next to the tests by the build).</summary>
    public static string FunctionsMetadata => Path.Combine(AppContext.BaseDirectory, "functions.metadata");
}
