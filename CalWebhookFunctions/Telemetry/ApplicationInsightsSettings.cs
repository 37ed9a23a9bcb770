using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.Configuration;

namespace CalWebhookFunctions.Telemetry;

/// <summary>
/// The Application Insights app settings the Functions host also reads: <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c>
/// (telemetry is exported only when it is set) and <c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c>
/// (<c>Authorization=AAD</c>, optionally <c>;ClientId=&lt;user-assigned identity&gt;</c>) for Microsoft Entra
/// authentication, which infra/main.bicep sets because the component has local authentication disabled.
/// </summary>
public sealed record ApplicationInsightsSettings(string ConnectionString, bool UseEntraAuthentication, string? ClientId)
{
    public const string ConnectionStringKey = "APPLICATIONINSIGHTS_CONNECTION_STRING";
    public const string AuthenticationStringKey = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    /// <summary>The settings, or null when no connection string is set; throws naming a malformed setting.</summary>
    public static ApplicationInsightsSettings? FromConfiguration(IConfiguration configuration)
    {
        var connectionString = configuration[ConnectionStringKey];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return null;
        }
        if (!connectionString.Contains("InstrumentationKey=", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"{ConnectionStringKey} must be an Application Insights connection string (InstrumentationKey=...;IngestionEndpoint=...).");
        }

        var authentication = configuration[AuthenticationStringKey];
        if (string.IsNullOrWhiteSpace(authentication))
        {
            return new ApplicationInsightsSettings(connectionString.Trim(), false, null);
        }
        var parts = authentication.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2, StringSplitOptions.TrimEntries))
            .ToDictionary(p => p[0], p => p.Length == 2 ? p[1] : "", StringComparer.OrdinalIgnoreCase);
        if (!parts.TryGetValue("Authorization", out var kind) || !string.Equals(kind, "AAD", StringComparison.OrdinalIgnoreCase)
            || parts.Keys.Any(k => !k.Equals("Authorization", StringComparison.OrdinalIgnoreCase) && !k.Equals("ClientId", StringComparison.OrdinalIgnoreCase)))
        {
            throw new InvalidOperationException($"{AuthenticationStringKey} must be 'Authorization=AAD' or 'Authorization=AAD;ClientId=<client id>'.");
        }
        var clientId = parts.TryGetValue("ClientId", out var id) && id.Length > 0 ? id : null;
        return new ApplicationInsightsSettings(connectionString.Trim(), true, clientId);
    }

    /// <summary>The managed identity telemetry is sent with, or null for the connection string's key.</summary>
    public TokenCredential? Credential() => !UseEntraAuthentication
        ? null
        : new ManagedIdentityCredential(ClientId is null ? ManagedIdentityId.SystemAssigned : ManagedIdentityId.FromUserAssignedClientId(ClientId));
}
