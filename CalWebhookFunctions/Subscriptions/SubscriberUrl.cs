using CalWebhookFunctions.Connections;

namespace CalWebhookFunctions.Subscriptions;

/// <summary>
/// The URL Cal.com delivers a connection's events to: <c>Webhook__PublicUrl</c> with
/// <c>nangoConnectionId=&lt;url-encoded id&gt;</c> added to its query (after <c>&amp;</c> when it already has one,
/// such as <c>?code=</c>). Unique per connection, which Cal.com needs: it refuses a second webhook with the same
/// subscriber URL for one owner.
/// </summary>
public static class SubscriberUrl
{
    public static string For(string publicUrl, string connectionId)
    {
        var parameter = ConnectionIdResolver.ParameterName + "=" + Uri.EscapeDataString(connectionId);
        var queryAt = publicUrl.IndexOf('?', StringComparison.Ordinal);
        if (queryAt < 0)
        {
            return publicUrl + "?" + parameter;
        }
        var separator = queryAt == publicUrl.Length - 1 || publicUrl.EndsWith('&') ? "" : "&";
        return publicUrl + separator + parameter;
    }
}
