namespace CalWebhookFunctions.Storage;

/// <summary>The storage names fixed by the product contract.</summary>
public static class StorageNames
{
    /// <summary>The app setting (and trigger connection name) that locates the storage account.</summary>
    public const string Connection = "AzureWebJobsStorage";

    public const string WebhookQueue = "cal-webhooks";
    public const string WebhookPoisonQueue = "cal-webhooks-poison";
    public const string CleanupQueue = "cal-subscription-cleanup";
    public const string AlertsQueue = "cal-alerts";
    public const string ConnectionsTable = "CalConnections";
    public const string DeliveriesTable = "CalDeliveries";

    public const string PayloadContainer = "cal-webhook-payloads";
}
