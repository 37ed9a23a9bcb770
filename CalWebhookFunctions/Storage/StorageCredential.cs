using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.Configuration;

namespace CalWebhookFunctions.Storage;

public enum StorageCredentialKind
{
    /// <summary><c>credential=managedidentity</c>: the app's system-assigned or a named user-assigned identity.</summary>
    ManagedIdentity,
    /// <summary><c>tenantId</c>, <c>clientId</c> and <c>clientSecret</c>: a service principal (local development).</summary>
    ClientSecret,
    /// <summary>Anything else: the default chain (developer sign-in locally, managed identity in Azure).</summary>
    Default,
}

/// <summary>
/// The token credential the identity-based <c>AzureWebJobsStorage__*</c> settings ask for, with the same properties
/// and the same choices the Functions host makes for them (Microsoft.Extensions.Azure): <c>credential</c>,
/// <c>clientId</c>, <c>managedIdentityResourceId</c>, <c>managedIdentityObjectId</c>, <c>tenantId</c>,
/// <c>clientSecret</c>. The identity that runs the host's triggers is then the identity the app writes with.
/// </summary>
public sealed record StorageCredential(
    StorageCredentialKind Kind,
    string? ClientId = null,
    string? ManagedIdentityResourceId = null,
    string? ManagedIdentityObjectId = null,
    string? TenantId = null)
{
    private string? ClientSecret { get; init; }

    public static StorageCredential FromSettings(IConfigurationSection section)
    {
        var credential = Value(section, "credential");
        var clientId = Value(section, "clientId");
        var resourceId = Value(section, "managedIdentityResourceId");
        var objectId = Value(section, "managedIdentityObjectId");
        var tenantId = Value(section, "tenantId");
        var clientSecret = Value(section, "clientSecret");

        if (credential is not null)
        {
            if (!string.Equals(credential, "managedidentity", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException(
                    $"{StorageNames.Connection}__credential is '{credential}'; this app supports 'managedidentity', or leave it unset " +
                    "to use the default credential chain.");
            }
            if (new[] { clientId, resourceId, objectId }.Count(v => v is not null) > 1)
            {
                throw new InvalidOperationException(
                    $"Set only one of {StorageNames.Connection}__clientId, __managedIdentityResourceId and __managedIdentityObjectId " +
                    "to choose the managed identity.");
            }
            return new StorageCredential(StorageCredentialKind.ManagedIdentity, clientId, resourceId, objectId);
        }
        if (objectId is not null)
        {
            throw new InvalidOperationException(
                $"{StorageNames.Connection}__managedIdentityObjectId needs {StorageNames.Connection}__credential=managedidentity.");
        }
        if (tenantId is not null && clientId is not null && clientSecret is not null)
        {
            return new StorageCredential(StorageCredentialKind.ClientSecret, clientId, TenantId: tenantId) { ClientSecret = clientSecret };
        }
        return new StorageCredential(StorageCredentialKind.Default, clientId, resourceId, TenantId: tenantId);
    }

    public TokenCredential Create() => Kind switch
    {
        StorageCredentialKind.ManagedIdentity => new ManagedIdentityCredential(
            ManagedIdentityResourceId is not null ? ManagedIdentityId.FromUserAssignedResourceId(new ResourceIdentifier(ManagedIdentityResourceId))
            : ManagedIdentityObjectId is not null ? ManagedIdentityId.FromUserAssignedObjectId(ManagedIdentityObjectId)
            : ClientId is not null ? ManagedIdentityId.FromUserAssignedClientId(ClientId)
            : ManagedIdentityId.SystemAssigned),
        StorageCredentialKind.ClientSecret => new ClientSecretCredential(TenantId, ClientId, ClientSecret),
        _ => new DefaultAzureCredential(DefaultOptions()),
    };

    private DefaultAzureCredentialOptions DefaultOptions()
    {
        var options = new DefaultAzureCredentialOptions();
        if (TenantId is not null)
        {
            options.TenantId = TenantId;
        }
        if (ManagedIdentityResourceId is not null)
        {
            options.ManagedIdentityResourceId = new ResourceIdentifier(ManagedIdentityResourceId);
        }
        else if (ClientId is not null)
        {
            options.ManagedIdentityClientId = ClientId;
        }
        return options;
    }

    private static string? Value(IConfigurationSection section, string key) =>
        string.IsNullOrWhiteSpace(section[key]) ? null : section[key]!.Trim();

    /// <summary>Never prints the client secret.</summary>
    public override string ToString() =>
        $"{Kind} (clientId {ClientId ?? "-"}, resourceId {ManagedIdentityResourceId ?? "-"}, objectId {ManagedIdentityObjectId ?? "-"}, tenant {TenantId ?? "-"})";
}
