using Microsoft.Extensions.Configuration;

namespace CalWebhookFunctions.Storage;

/// <summary>
/// The queue, table and blob endpoints of the identity-based <c>AzureWebJobsStorage__*</c> settings, read the way the
/// Functions storage extensions read them, so the app writes to exactly the account whose queues the host's triggers
/// listen on: <c>__accountName</c> (public Azure, <c>https://{name}.{service}.core.windows.net</c>) when it is set,
/// else the explicit <c>__queueServiceUri</c>, <c>__tableServiceUri</c> and <c>__blobServiceUri</c> (sovereign clouds,
/// custom domains, emulators).
/// </summary>
public sealed record StorageEndpoints(Uri Queue, Uri Table, Uri Blob)
{
    private const string PublicCloudSuffix = "core.windows.net";

    /// <summary>Reads the endpoints; throws naming each missing or unusable setting.</summary>
    public static StorageEndpoints FromSettings(IConfigurationSection section, string settingName = StorageNames.Connection)
    {
        var accountName = section["accountName"];
        if (!string.IsNullOrWhiteSpace(accountName))
        {
            accountName = accountName.Trim();
            if (!IsAccountName(accountName))
            {
                throw new InvalidOperationException(
                    $"{settingName}__accountName must be a storage account name (3-24 lowercase letters and digits).");
            }
            return new StorageEndpoints(
                new Uri($"https://{accountName}.queue.{PublicCloudSuffix}"),
                new Uri($"https://{accountName}.table.{PublicCloudSuffix}"),
                new Uri($"https://{accountName}.blob.{PublicCloudSuffix}"));
        }

        var problems = new List<string>();
        var queue = ServiceUri(section, "queue", settingName, problems);
        var table = ServiceUri(section, "table", settingName, problems);
        var blob = ServiceUri(section, "blob", settingName, problems);
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(
                $"{settingName} is required: set a connection string, or for identity-based access " +
                $"{settingName}__accountName, or all of {settingName}__queueServiceUri, __tableServiceUri " +
                $"and __blobServiceUri. {string.Join(" ", problems)}");
        }
        return new StorageEndpoints(queue!, table!, blob!);
    }

    private static Uri? ServiceUri(IConfigurationSection section, string service, string settingName, List<string> problems)
    {
        var key = $"{service}ServiceUri";
        var value = section[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            problems.Add($"{settingName}__{key} is not set.");
            return null;
        }
        if (!Http.HttpUrl.TryParseAbsolute(value, out var uri))
        {
            problems.Add($"{settingName}__{key} is not an absolute http(s) URI.");
            return null;
        }
        return uri;
    }

    private static bool IsAccountName(string name) =>
        name.Length is >= 3 and <= 24 && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9'));
}
