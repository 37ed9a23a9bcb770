using System.Text;
using System.Text.Json;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace CalWebhookFunctions.Tests.Infrastructure;

/// <summary>
/// Reads queue messages the way the Functions host does: the raw message text, decoded as host.json's
/// <c>extensions.queues.messageEncoding</c> says (base64 when unset) — not through the app's own client.
/// </summary>
public static class HostQueueMessages
{
    public static string MessageEncoding
    {
        get
        {
            using var hostJson = JsonDocument.Parse(File.ReadAllText(RepoPaths.File("host.json")));
            return hostJson.RootElement.TryGetProperty("extensions", out var extensions)
                   && extensions.TryGetProperty("queues", out var queues)
                   && queues.TryGetProperty("messageEncoding", out var encoding)
                ? encoding.GetString()!
                : "base64";
        }
    }

    /// <summary>The message bytes a queue-triggered function would be handed.</summary>
    public static byte[] Decode(string rawText) => MessageEncoding.Equals("base64", StringComparison.OrdinalIgnoreCase)
        ? Convert.FromBase64String(rawText)
        : Encoding.UTF8.GetBytes(rawText);

    /// <summary>Every message in the queue (up to 32), peeked raw and decoded as the host would.</summary>
    public static async Task<IReadOnlyList<byte[]>> PeekDecodedAsync(string connectionString, string queueName)
    {
        var queue = new QueueClient(connectionString, queueName, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });
        if (!await queue.ExistsAsync())
        {
            return [];
        }
        PeekedMessage[] messages = await queue.PeekMessagesAsync(32);
        return [.. messages.Select(m => Decode(m.Body.ToString()))];
    }
}
