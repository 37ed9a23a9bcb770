using System.Security.Cryptography;
using System.Text;
using CalWebhookFunctions.Configuration;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Connections;

/// <summary>
/// The secrets a delivery may be signed with. By default (<c>CalCom__ConnectionBoundSecrets=true</c>) a delivery
/// that names a connection must be signed with that connection's derived secret (derived from the current or a
/// previous integration secret), and the shared secrets only verify deliveries that name none. With the opt-out
/// (<c>false</c>, for subscriptions registered by hand with the shared secret): the integration secret and the
/// previous ones still accepted during a rotation verify every delivery.
/// </summary>
public sealed class WebhookSecrets(IOptions<CalComOptions> options)
{
    /// <summary>Domain separation for the derivation, so a derived secret is useless for anything else.</summary>
    public const string DerivationLabel = "calwebhookfunctions/connection-secret/v1:";

    private readonly string[] _secrets = SecretsOf(options.Value);
    private readonly byte[][] _sharedKeys = [.. SecretsOf(options.Value).Select(Encoding.UTF8.GetBytes)];

    public bool ConnectionBound { get; } = options.Value.ConnectionBoundSecrets;

    /// <summary>The HMAC keys that may have signed a delivery naming <paramref name="connectionId"/> (null: none named).</summary>
    public IReadOnlyList<byte[]> KeysFor(string? connectionId) =>
        ConnectionBound && connectionId is not null
            ? [.. _secrets.Select(secret => Encoding.UTF8.GetBytes(Derive(secret, connectionId)))]
            : _sharedKeys;

    /// <summary>The secret to register with Cal.com for a connection's subscription.</summary>
    public string SubscriptionSecretFor(string connectionId) =>
        ConnectionBound ? Derive(_secrets[0], connectionId) : _secrets[0];

    /// <summary>The integration secret, then the previous ones still accepted.</summary>
    private static string[] SecretsOf(CalComOptions value) => [value.WebhookSecret, .. SettingLists.Split(value.PreviousWebhookSecrets)];

    /// <summary>
    /// A connection's secret: lowercase hex of HMAC-SHA256 keyed with the integration secret (UTF-8) over
    /// <see cref="DerivationLabel"/> followed by the connection id (UTF-8).
    /// </summary>
    public static string Derive(string integrationSecret, string connectionId) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(
            Encoding.UTF8.GetBytes(integrationSecret),
            Encoding.UTF8.GetBytes(DerivationLabel + connectionId)));
}
