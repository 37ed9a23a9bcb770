using CalWebhookFunctions.Connections;

namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// Where one event goes, decided from the connection row it names (if any): a target and whether the envelope names
/// the connection, or a dead-letter reason when it must go nowhere.
/// </summary>
public readonly record struct ForwardRoute(Uri? Target, bool Matched, string? DeadLetterReason)
{
    public const string ConnectionRemoved = "connection_removed";
    public const string InvalidForwardUrl = "invalid_forward_url";

    /// <summary>
    /// No row → unmatched, to the default target. A tombstone (<see cref="ConnectionRecord.IsRemoved"/>) → dead letter
    /// <c>connection_removed</c>: a removed tenant's events go nowhere, least of all to the shared endpoint. A matched
    /// row → its applied <see cref="ConnectionRecord.ForwardUrl"/> when set (an unusable one is a dead letter, never a
    /// guess at another destination), else the default target.
    /// </summary>
    public static ForwardRoute For(ConnectionRecord? connection, Uri defaultTarget)
    {
        if (connection is null)
        {
            return new(defaultTarget, false, null);
        }
        if (connection.IsRemoved)
        {
            return new(null, false, ConnectionRemoved);
        }
        if (!connection.IsMatched)
        {
            return new(defaultTarget, false, null);
        }
        if (string.IsNullOrWhiteSpace(connection.ForwardUrl))
        {
            return new(defaultTarget, true, null);
        }
        return Http.HttpUrl.TryParseAbsolute(connection.ForwardUrl, out var target)
            ? new(target, true, null)
            : new(null, true, InvalidForwardUrl);
    }
}
