using Azure.Identity;
using CalWebhookFunctions.Storage;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Tests.Unit.Storage;

/// <summary>
/// Every form of <c>AzureWebJobsStorage</c> the Functions host accepts for its storage account: a connection string, or
/// the identity-based <c>AzureWebJobsStorage__*</c> settings (account name or service URIs, and the credential choice).
/// </summary>
public sealed class StorageAccountTests
{
    private static IConfiguration Settings(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build();

    /// <summary>The storage account as the app registers it (<see cref="StorageRegistration.AddStorage"/>).</summary>
    private static StorageAccount Account(IConfiguration configuration) =>
        new ServiceCollection().AddStorage(configuration).BuildServiceProvider().GetRequiredService<StorageAccount>();

    /// <summary>The credential the identity settings choose, through Microsoft.Extensions.Azure as the app and the host do.</summary>
    private static Azure.Core.TokenCredential Credential(params (string Key, string Value)[] settings)
    {
        var services = new ServiceCollection();
        services.AddAzureClientsCore();
        return StorageAccount.Credential(Section(settings), services.BuildServiceProvider().GetRequiredService<AzureComponentFactory>());
    }

    private static IConfigurationSection Section(params (string Key, string Value)[] settings) =>
        Settings([.. settings.Select(s => ($"AzureWebJobsStorage:{s.Key}", s.Value))]).GetSection("AzureWebJobsStorage");

    [Fact]
    public void Connection_string_builds_clients_for_its_endpoints()
    {
        var account = Account(Settings(("AzureWebJobsStorage",
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
            "BlobEndpoint=http://127.0.0.1:11000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:11001/devstoreaccount1;TableEndpoint=http://127.0.0.1:11002/devstoreaccount1;")));

        Assert.Equal(new Uri("http://127.0.0.1:11001/devstoreaccount1"), account.Endpoints.Queue);
        Assert.Equal(new Uri("http://127.0.0.1:11002/devstoreaccount1"), account.Endpoints.Table);
        Assert.Equal(new Uri("http://127.0.0.1:11000/devstoreaccount1"), account.Endpoints.Blob);
    }

    [Fact]
    public void Development_storage_shortcut_points_at_the_local_emulator()
    {
        var account = Account(Settings(("AzureWebJobsStorage", "UseDevelopmentStorage=true")));

        Assert.Equal(new Uri("http://127.0.0.1:10001/devstoreaccount1"), account.Endpoints.Queue);
        Assert.Equal(new Uri("http://127.0.0.1:10002/devstoreaccount1"), account.Endpoints.Table);
        Assert.Equal(new Uri("http://127.0.0.1:10000/devstoreaccount1"), account.Endpoints.Blob);
    }

    [Fact]
    public void Malformed_connection_string_is_refused_naming_the_setting()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Account(Settings(("AzureWebJobsStorage", "not a connection string"))));

        Assert.Contains("AzureWebJobsStorage is not a valid storage connection string", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Account_name_gives_the_public_cloud_endpoints_of_every_service()
    {
        var account = Account(Settings(
            ("AzureWebJobsStorage:accountName", "stcalwebhooks"), ("AzureWebJobsStorage:credential", "managedidentity")));

        Assert.Equal(new Uri("https://stcalwebhooks.queue.core.windows.net"), account.Endpoints.Queue);
        Assert.Equal(new Uri("https://stcalwebhooks.table.core.windows.net"), account.Endpoints.Table);
        Assert.Equal(new Uri("https://stcalwebhooks.blob.core.windows.net"), account.Endpoints.Blob);
    }

    [Fact]
    public void Account_name_wins_over_service_uris_as_in_the_functions_storage_extensions()
    {
        var endpoints = StorageEndpoints.FromSettings(Section(
            ("accountName", "stcalwebhooks"),
            ("queueServiceUri", "https://other.queue.core.windows.net"),
            ("tableServiceUri", "https://other.table.core.windows.net"),
            ("blobServiceUri", "https://other.blob.core.windows.net")));

        Assert.Equal(new Uri("https://stcalwebhooks.queue.core.windows.net"), endpoints.Queue);
        Assert.Equal(new Uri("https://stcalwebhooks.table.core.windows.net"), endpoints.Table);
        Assert.Equal(new Uri("https://stcalwebhooks.blob.core.windows.net"), endpoints.Blob);
    }

    [Fact]
    public void Service_uris_are_used_as_given_for_other_clouds()
    {
        var account = Account(Settings(
            ("AzureWebJobsStorage:queueServiceUri", "https://stgov.queue.core.usgovcloudapi.net/"),
            ("AzureWebJobsStorage:tableServiceUri", "https://stgov.table.core.usgovcloudapi.net/"),
            ("AzureWebJobsStorage:blobServiceUri", "https://stgov.blob.core.usgovcloudapi.net/")));

        Assert.Equal(new Uri("https://stgov.queue.core.usgovcloudapi.net/"), account.Endpoints.Queue);
        Assert.Equal(new Uri("https://stgov.table.core.usgovcloudapi.net/"), account.Endpoints.Table);
        Assert.Equal(new Uri("https://stgov.blob.core.usgovcloudapi.net/"), account.Endpoints.Blob);
    }

    [Fact]
    public void Missing_service_uri_is_named_when_there_is_no_account_name()
    {
        var error = Assert.Throws<InvalidOperationException>(() => StorageEndpoints.FromSettings(Section(
            ("queueServiceUri", "https://st.queue.core.windows.net"), ("blobServiceUri", "https://st.blob.core.windows.net"))));

        Assert.Contains("AzureWebJobsStorage__tableServiceUri is not set", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("__queueServiceUri is not set", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Service_uri_that_is_not_an_absolute_http_uri_is_named()
    {
        var error = Assert.Throws<InvalidOperationException>(() => StorageEndpoints.FromSettings(Section(
            ("queueServiceUri", "st.queue.core.windows.net"), ("tableServiceUri", "https://st.table.core.windows.net"),
            ("blobServiceUri", "https://st.blob.core.windows.net"))));

        Assert.Contains("AzureWebJobsStorage__queueServiceUri is not an absolute http(s) URI", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("st")]
    [InlineData("StCalWebhooks")]
    [InlineData("st.calwebhooks")]
    [InlineData("stcalwebhooksstcalwebhooks1")]
    public void Account_name_that_cannot_be_a_storage_account_is_refused(string name)
    {
        var error = Assert.Throws<InvalidOperationException>(() => StorageEndpoints.FromSettings(Section(("accountName", name))));

        Assert.Contains("AzureWebJobsStorage__accountName must be a storage account name", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void No_storage_setting_at_all_is_refused_naming_every_form()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Account(Settings()));

        Assert.Contains("AzureWebJobsStorage is required", error.Message, StringComparison.Ordinal);
        Assert.Contains("AzureWebJobsStorage__accountName", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("managedidentity")]
    [InlineData("ManagedIdentity")]
    public void Managed_identity_without_an_id_is_the_system_assigned_identity(string credential)
    {
        Assert.IsType<ManagedIdentityCredential>(Credential(("accountName", "st123"), ("credential", credential)));
    }

    [Fact]
    public void Managed_identity_with_a_client_id_is_that_user_assigned_identity()
    {
        Assert.IsType<ManagedIdentityCredential>(Credential(("credential", "managedidentity"), ("clientId", "6a7c1f5e-0000-4000-8000-000000000001")));
    }

    [Fact]
    public void Managed_identity_by_resource_id_is_that_user_assigned_identity()
    {
        const string resourceId = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-app";

        Assert.IsType<ManagedIdentityCredential>(Credential(("credential", "managedidentity"), ("managedIdentityResourceId", resourceId)));
    }

    [Fact]
    public void Managed_identity_named_twice_is_refused()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Credential(
            ("credential", "managedidentity"), ("clientId", "6a7c1f5e-0000-4000-8000-000000000001"),
            ("managedIdentityResourceId", "/subscriptions/x/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id")));

        Assert.Contains("AzureWebJobsStorage__* identity settings are unusable", error.Message, StringComparison.Ordinal);
        Assert.Contains("Only one of ['clientId'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Workload_identity_without_its_settings_is_refused_naming_the_setting()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Credential(("credential", "workloadidentity")));

        Assert.Contains("AzureWebJobsStorage__* identity settings are unusable", error.Message, StringComparison.Ordinal);
        Assert.Contains("'tokenFilePath'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Service_principal_settings_use_its_client_secret_and_never_print_it()
    {
        var credential = Credential(
            ("tenantId", "72f988bf-0000-4000-8000-000000000000"), ("clientId", "6a7c1f5e-0000-4000-8000-000000000001"), ("clientSecret", "sp-secret-value"));

        Assert.IsType<ClientSecretCredential>(credential);
        Assert.DoesNotContain("sp-secret-value", credential.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_credential_setting_the_default_chain_is_used_with_the_client_id_as_its_managed_identity()
    {
        Assert.IsType<DefaultAzureCredential>(Credential(("accountName", "st123"), ("clientId", "6a7c1f5e-0000-4000-8000-000000000001")));
    }

    [Fact]
    public void Account_name_alone_uses_the_default_chain()
    {
        Assert.IsType<DefaultAzureCredential>(Credential(("accountName", "st123")));
    }

    [Fact]
    public void Object_id_without_managed_identity_credential_is_refused()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Credential(("managedIdentityObjectId", "0000")));

        Assert.Contains("AzureWebJobsStorage__* identity settings are unusable", error.Message, StringComparison.Ordinal);
        Assert.Contains("'managedIdentityObjectId' is only supported when the credential type is 'managedidentity'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Identity_settings_that_cannot_be_used_stop_the_app_at_start()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Account(Settings(
            ("AzureWebJobsStorage:accountName", "st123"), ("AzureWebJobsStorage:managedIdentityObjectId", "0000"))));

        Assert.Contains("AzureWebJobsStorage__* identity settings are unusable", error.Message, StringComparison.Ordinal);
    }
}
