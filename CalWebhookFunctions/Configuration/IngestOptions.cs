using System.ComponentModel.DataAnnotations;

namespace CalWebhookFunctions.Configuration;

/// <summary>Settings under <c>Ingest__*</c>.</summary>
public sealed class IngestOptions
{
    public const string Section = "Ingest";

    public const long DefaultMaxBodyBytes = 1024 * 1024;

    /// <summary>Hard upper bound a setting may ask for: the Functions host itself refuses bodies past 100 MB.</summary>
    public const long UpperMaxBodyBytes = 100L * 1024 * 1024;

    /// <summary>Larger bodies are refused with 413 before they are read.</summary>
    [Range(1L, UpperMaxBodyBytes, ErrorMessage = "{0} must be between {1} and {2}.")]
    public long MaxBodyBytes { get; set; } = DefaultMaxBodyBytes;
}
