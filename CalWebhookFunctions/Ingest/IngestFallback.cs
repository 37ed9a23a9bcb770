using CalWebhookFunctions.Storage;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;

namespace CalWebhookFunctions.Ingest;

/// <summary>
/// The optional second storage account of <c>Ingest__FallbackStorage</c> (DESIGN.md "Ingest availability"): a connection
/// string, or the identity-based <c>Ingest__FallbackStorage__accountName</c> / <c>__queueServiceUri</c>… form read exactly
/// as <c>AzureWebJobsStorage</c> is (<see cref="StorageAccount.FromConfiguration"/>), so the host's trigger on it
/// (<see cref="DrainIngestFallback"/>) and the app's writes reach the same account. <see cref="Account"/> is null when
/// the setting is absent or blank: ingest then works as without it.
/// </summary>
public sealed class IngestFallback(StorageAccount? account)
{
    /// <summary>The app setting as an operator writes it.</summary>
    public const string Setting = "Ingest__FallbackStorage";

    /// <summary>
    /// The trigger's connection name: the configuration path the Functions host resolves (environment variable
    /// <c>Ingest__FallbackStorage</c>, or its <c>__*</c> children, both arrive as <c>Ingest:FallbackStorage</c>).
    /// </summary>
    public const string Connection = "Ingest:FallbackStorage";

    public StorageAccount? Account => account;

    /// <summary>Whether the setting, or one of its <c>__*</c> children, has a value.</summary>
    public static bool IsSet(IConfiguration configuration)
    {
        var section = configuration.GetSection(Connection);
        return !string.IsNullOrWhiteSpace(section.Value) || section.GetChildren().Any(child => !string.IsNullOrWhiteSpace(child.Value));
    }

    /// <summary>Reads the setting; throws naming it when it is set but does not parse.</summary>
    public static IngestFallback FromConfiguration(IConfiguration configuration, AzureComponentFactory identity) =>
        new(IsSet(configuration) ? StorageAccount.FromConfiguration(configuration, identity, Setting) : null);
}
