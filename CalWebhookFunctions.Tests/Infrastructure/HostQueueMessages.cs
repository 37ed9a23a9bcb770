using System.Text;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace CalWebhookFunctions.Tests.Infrastructure;

/// <summary>
/// Reads queue messages the way the Functions host does: the raw message text, decoded as host.json's
/// <c>extensions.queues.messageEncoding</c> says (base64 when unset) — not through the app's own client.
/// </summary>
public static class HostQueueMessages
{
    public static string MessageEncoding => QueueSettings.FromHostJson().MessageEncoding;

    /// <summary>The message bytes a queue-triggered function would be handed.</summary>
    public static byte[] Decode(string rawText) => QueueSettings.FromHostJson().TryDecode(rawText, out var text)
        ? Encoding.UTF8.GetBytes(text)
        : throw new FormatException("The message is not in host.json's message encoding.");

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
