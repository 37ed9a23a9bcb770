using Azure;
using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;

namespace CalWebhookFunctions.Storage;

/// <summary>
/// The storage account behind <c>AzureWebJobsStorage</c>: queue, table and blob clients built either from a
/// connection string (Azurite locally) or from the identity-based <c>AzureWebJobsStorage__*</c> settings
/// (keyless in Azure), the same forms the Functions host itself accepts.
/// </summary>
/// <param name="rawQueues">The same queue service without message encoding (see <see cref="RawQueue"/>); optional.</param>
public sealed class StorageAccount(QueueServiceClient queues, TableServiceClient tables, BlobServiceClient blobs, QueueServiceClient? rawQueues = null)
{
    /// <summary>The largest message text Azure Queue Storage accepts (after base64 encoding).</summary>
    public const int MaxQueueMessageBytes = 64 * 1024;

    /// <summary>Builds the clients from configuration; throws naming the setting when it is missing or unusable.</summary>
    /// <param name="identity">Microsoft.Extensions.Azure's factory, which turns the identity settings into a credential.</param>
    /// <param name="settingName">
    /// The app setting as an operator writes it (<c>AzureWebJobsStorage</c>, or <c>Ingest__FallbackStorage</c> for the
    /// ingest fallback account): its value is a connection string, or its <c>__*</c> children the identity-based form.
    /// </param>
    public static StorageAccount FromConfiguration(IConfiguration configuration, AzureComponentFactory identity,
        string settingName = StorageNames.Connection)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(identity);
        var path = settingName.Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal);
        var connectionString = configuration[path];
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            return FromConnectionString(connectionString, settingName);
        }

        var section = configuration.GetSection(path);
        var endpoints = StorageEndpoints.FromSettings(section, settingName);
        var credential = Credential(section, identity, settingName);
        return Build(
            options => new QueueServiceClient(endpoints.Queue, credential, options),
            options => new TableServiceClient(endpoints.Table, credential, options),
            options => new BlobServiceClient(endpoints.Blob, credential, options));
    }

    /// <summary>
    /// The token credential the identity-based <c>AzureWebJobsStorage__*</c> settings ask for (<c>credential</c>,
    /// <c>clientId</c>, <c>managedIdentityResourceId</c>, <c>tenantId</c>, …), chosen by Microsoft.Extensions.Azure —
    /// the library the Functions host reads them with — so the identity that runs the host's triggers is the one the
    /// app writes with. Settings it cannot use stop the app, naming the setting.
    /// </summary>
    public static TokenCredential Credential(IConfigurationSection section, AzureComponentFactory identity,
        string settingName = StorageNames.Connection)
    {
        ArgumentNullException.ThrowIfNull(identity);
        try
        {
            return identity.CreateTokenCredential(section);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException($"The {settingName}__* identity settings are unusable: {ex.Message}", ex);
        }
    }

    public static StorageAccount FromConnectionString(string connectionString, string settingName = StorageNames.Connection)
    {
        try
        {
            return Build(
                options => new QueueServiceClient(connectionString, options),
                options => new TableServiceClient(connectionString, options),
                options => new BlobServiceClient(connectionString, options));
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
        {
            throw new InvalidOperationException($"{settingName} is not a valid storage connection string.", ex);
        }
    }

    public QueueClient Queue(string name) => queues.GetQueueClient(name);

    /// <summary>
    /// A client that reads message text as stored, without base64 decoding: for queues that may hold messages some
    /// other writer did not encode (the poison queue, where the host copies such messages), which the decoding client
    /// refuses to receive at all. Falls back to <see cref="Queue"/> when no raw client was given.
    /// </summary>
    public QueueClient RawQueue(string name) => (rawQueues ?? queues).GetQueueClient(name);

    public TableClient Table(string name) => tables.GetTableClient(name);

    public BlobContainerClient Container(string name) => blobs.GetBlobContainerClient(name);

    /// <summary>The service endpoints the clients talk to.</summary>
    public StorageEndpoints Endpoints => new(queues.Uri, tables.Uri, blobs.Uri);

    /// <summary>The four clients over one account, each with <see cref="Bounded"/> retries.</summary>
    private static StorageAccount Build(Func<QueueClientOptions, QueueServiceClient> queues,
        Func<TableClientOptions, TableServiceClient> tables, Func<BlobClientOptions, BlobServiceClient> blobs) => new(
            // Must match host.json's extensions.queues.messageEncoding: the Functions host base64-decodes what it reads.
            queues(Bounded(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 })),
            tables(Bounded(new TableClientOptions())),
            blobs(Bounded(new BlobClientOptions())),
            queues(Bounded(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None })));

    // A short, bounded retry: ingest must answer Cal.com within seconds, and a storage outage must turn into
    // a 503 quickly rather than hold the request open.
    private static T Bounded<T>(T options) where T : ClientOptions
    {
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = 3;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(2);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
        return options;
    }

    /// <summary>
    /// True when a storage call failed for good: the service answered with an error, or every retry failed to reach it
    /// (which Azure.Core reports as an <see cref="AggregateException"/>).
    /// </summary>
    public static bool IsUnavailable(Exception ex) =>
        ex is RequestFailedException or IOException
        || (ex is AggregateException aggregate && aggregate.InnerExceptions.All(inner => IsUnavailable(inner) || inner is HttpRequestException));

    /// <summary>True when a storage call failed because the queue, table or container does not exist yet.</summary>
    public static bool IsMissingResource(RequestFailedException ex) =>
        ex.Status == 404 && ex.ErrorCode is "QueueNotFound" or "TableNotFound" or "ContainerNotFound";
}
