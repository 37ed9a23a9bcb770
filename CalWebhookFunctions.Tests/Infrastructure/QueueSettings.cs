using System.Text;
using System.Text.Json;

namespace CalWebhookFunctions.Tests.Infrastructure;

/// <summary>The <c>extensions.queues</c> settings of host.json that the queue trigger obeys.</summary>
public sealed record QueueSettings(int BatchSize, int NewBatchThreshold, int MaxDequeueCount, TimeSpan VisibilityTimeout,
    TimeSpan MaxPollingInterval, string MessageEncoding)
{
    /// <summary>The values in the repository's host.json (the Functions host's defaults where it says nothing).</summary>
    public static QueueSettings FromHostJson()
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(RepoPaths.File("host.json")));
        var queues = document.RootElement.GetProperty("extensions").GetProperty("queues");
        int Int(string name, int fallback) => queues.TryGetProperty(name, out var v) ? v.GetInt32() : fallback;
        TimeSpan Time(string name, TimeSpan fallback) => queues.TryGetProperty(name, out var v) ? TimeSpan.Parse(v.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : fallback;
        var batchSize = Int("batchSize", 16);
        return new QueueSettings(
            batchSize,
            Int("newBatchThreshold", batchSize / 2),
            Int("maxDequeueCount", 5),
            Time("visibilityTimeout", TimeSpan.Zero),
            Time("maxPollingInterval", TimeSpan.FromMinutes(1)),
            queues.TryGetProperty("messageEncoding", out var e) ? e.GetString()! : "base64");
    }

    /// <summary>The message text a queue-triggered function is handed, decoded as <see cref="MessageEncoding"/> says.</summary>
    public bool TryDecode(string messageText, out string text)
    {
        text = messageText;
        if (!string.Equals(MessageEncoding, "base64", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        var buffer = new byte[messageText.Length];
        if (!Convert.TryFromBase64String(messageText, buffer, out var written))
        {
            return false;
        }
        text = Encoding.UTF8.GetString(buffer, 0, written);
        return true;
    }
}
