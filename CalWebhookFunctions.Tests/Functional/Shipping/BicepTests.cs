using System.Text.Json;
using System.Text.RegularExpressions;
using CalWebhookFunctions.Tests.Infrastructure;
using CalWebhookFunctions.Tests.Unit.Shipping;

namespace CalWebhookFunctions.Tests.Functional.Shipping;

/// <summary>
/// The infrastructure in <c>infra/</c> compiles and lints with zero errors and warnings under the repository's
/// <c>infra/bicepconfig.json</c> (every linter rule an error), with the Bicep CLI from NuGet, and the compiled
/// template holds what the product needs: every setting, secrets only as Key Vault references, keyless storage,
/// and only the data roles the app uses.
/// </summary>
public sealed class BicepTests
{
    private static readonly string InfraDirectory = RepoPaths.File("infra");

    private static readonly Dictionary<string, string> ExampleSecrets = new()
    {
        ["FORWARDING_URL"] = "https://app.example.com/webhooks/cal",
        ["CAL_WEBHOOK_SECRET"] = "example-webhook-secret",
        ["FORWARDING_SIGNING_SECRET"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    };

    public static TheoryData<string> BicepFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(InfraDirectory, "*.bicep", SearchOption.AllDirectories).Order())
        {
            data.Add(Path.GetRelativePath(RepoPaths.Root, file));
        }
        return data;
    }

    [Fact]
    public async Task Main_template_builds_with_no_errors_and_no_warnings()
    {
        var output = Path.Combine(Directory.CreateTempSubdirectory("bicep-").FullName, "main.json");

        var result = await BicepCli.RunAsync(null, "build", "infra/main.bicep", "--outfile", output);

        Assert.True(result.ExitCode == 0, result.Diagnostics);
        Assert.Equal("", result.Diagnostics);
        Assert.True(File.Exists(output));
    }

    [Theory]
    [MemberData(nameof(BicepFiles))]
    public async Task Every_bicep_file_lints_with_no_findings(string file)
    {
        var result = await BicepCli.RunAsync(null, "lint", file);

        Assert.True(result.ExitCode == 0, result.Diagnostics);
        Assert.Equal("", result.Diagnostics);
    }

    [Fact]
    public async Task Example_parameter_file_builds_against_the_template_with_no_findings()
    {
        var result = await BicepCli.RunAsync(ExampleSecrets, "build-params", "infra/main.bicepparam", "--stdout");

        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Equal("", result.StandardError.Trim());
        using var parameters = JsonDocument.Parse(result.StandardOutput);
        var values = JsonDocument.Parse(parameters.RootElement.GetProperty("parametersJson").GetString()!).RootElement.GetProperty("parameters");
        Assert.Equal("example-webhook-secret", values.GetProperty("calComWebhookSecret").GetProperty("value").GetString());
        Assert.Equal("https://app.example.com/webhooks/cal", values.GetProperty("forwardingUrl").GetProperty("value").GetString());
        Assert.Equal("calwebhooks", values.GetProperty("appName").GetProperty("value").GetString());
    }

    [Fact]
    public async Task Linter_configuration_turns_a_finding_into_a_failure()
    {
        // The same bicepconfig.json next to a template with an unused parameter and a hard-coded location.
        var directory = Directory.CreateTempSubdirectory("bicep-lint-").FullName;
        File.Copy(Path.Combine(InfraDirectory, "bicepconfig.json"), Path.Combine(directory, "bicepconfig.json"));
        var template = Path.Combine(directory, "bad.bicep");
        await File.WriteAllTextAsync(template, """
            param unused string
            resource id 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
              name: 'id-bad'
              location: 'westeurope'
            }
            """);

        var result = await BicepCli.RunAsync(null, "lint", template);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("no-unused-params", result.Diagnostics, StringComparison.Ordinal);
        Assert.Contains("no-hardcoded-location", result.Diagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compiled_template_sets_every_configuration_key_the_README_documents()
    {
        var json = await CompiledTemplateAsync();

        foreach (var key in Readme.ConfigurationKeys())
        {
            // AzureWebJobsStorage and Ingest__FallbackStorage (when a fallback region is given) are set in their identity-based form.
            var setting = key is "AzureWebJobsStorage" or "Ingest__FallbackStorage" ? key + "__accountName" : key;
            Assert.Matches(new Regex($"[\"'(, ]{Regex.Escape(setting)}[\"']"), json.GetRawText());
        }
        var text = json.GetRawText();
        Assert.Contains("'AzureWebJobsStorage__credential', 'managedidentity'", text, StringComparison.Ordinal);
        Assert.Contains("'AzureWebJobsStorage__clientId'", text, StringComparison.Ordinal);
        Assert.Contains("'APPLICATIONINSIGHTS_CONNECTION_STRING'", text, StringComparison.Ordinal);
        Assert.Contains("Authorization=AAD;ClientId={0}", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compiled_template_stores_secrets_only_as_key_vault_references()
    {
        var json = await CompiledTemplateAsync();
        var settings = json.GetProperty("resources").GetProperty("functionApp").GetProperty("properties")
            .GetProperty("parameters").GetProperty("productSettings").GetProperty("value");

        foreach (var secret in new[] { "CalCom__WebhookSecret", "Forwarding__SigningSecret", "CalCom__ApiKey", "CalCom__PreviousWebhookSecrets",
                     "Forwarding__PreviousSigningSecrets", "Alerts__SigningSecret" })
        {
            Assert.Contains("keyVaultReference", settings.GetProperty(secret).GetString(), StringComparison.Ordinal);
        }
        var function = json.GetProperty("functions").EnumerateArray().SelectMany(n => n.GetProperty("members").EnumerateObject())
            .Single(m => m.Name == "keyVaultReference").Value.GetProperty("output").GetProperty("value").GetString();
        Assert.StartsWith("[format('@Microsoft.KeyVault(SecretUri={0}secrets/{1})'", function, StringComparison.Ordinal);
        foreach (var secureParameter in new[] { "calComWebhookSecret", "forwardingSigningSecret", "calComApiKey", "calComPreviousWebhookSecrets",
                     "forwardingPreviousSigningSecrets", "alertsSigningSecret" })
        {
            Assert.Equal("securestring", json.GetProperty("parameters").GetProperty(secureParameter).GetProperty("type").GetString());
        }

        // The vault module takes them as secure strings and stores the two optional ones only when given.
        var vault = NestedTemplate(json, "vault");
        foreach (var secureParameter in new[] { "webhookSecret", "previousWebhookSecrets", "signingSecret", "previousSigningSecrets", "apiKey",
                     "alertsSigningSecret" })
        {
            Assert.Equal("securestring", vault.GetProperty("parameters").GetProperty(secureParameter).GetProperty("type").GetString());
        }
        var stored = NestedResources(json).Where(r => r.Type == "Microsoft.KeyVault/vaults/secrets")
            .Select(r => r.Body.TryGetProperty("condition", out var c) ? c.GetString() : "always").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["[not(empty(parameters('alertsSigningSecret')))]", "[not(empty(parameters('apiKey')))]", "[not(empty(parameters('previousSigningSecrets')))]",
            "[not(empty(parameters('previousWebhookSecrets')))]", "always", "always"], stored);
    }

    [Fact]
    public async Task Compiled_template_runs_dotnet_10_isolated_on_flex_consumption_with_keyless_storage()
    {
        var json = await CompiledTemplateAsync();
        var resources = NestedResources(json).ToList();

        var plan = resources.Single(r => r.Type == "Microsoft.Web/serverfarms").Body;
        Assert.Equal("FC1", plan.GetProperty("sku").GetProperty("name").GetString());
        Assert.Equal("FlexConsumption", plan.GetProperty("sku").GetProperty("tier").GetString());
        var app = resources.Single(r => r.Type == "Microsoft.Web/sites").Body.GetProperty("properties");
        var runtime = app.GetProperty("functionAppConfig").GetProperty("runtime");
        Assert.Equal("dotnet-isolated", runtime.GetProperty("name").GetString());
        Assert.Equal("10.0", runtime.GetProperty("version").GetString());
        Assert.Equal("UserAssignedIdentity", app.GetProperty("functionAppConfig").GetProperty("deployment").GetProperty("storage")
            .GetProperty("authentication").GetProperty("type").GetString());
        // The primary account and the optional ingest fallback account: both keyless.
        Assert.All(resources.Where(r => r.Type == "Microsoft.Storage/storageAccounts"),
            storage => Assert.False(storage.Body.GetProperty("properties").GetProperty("allowSharedKeyAccess").GetBoolean()));
        var vault = resources.Single(r => r.Type == "Microsoft.KeyVault/vaults").Body.GetProperty("properties");
        Assert.True(vault.GetProperty("enableRbacAuthorization").GetBoolean());
    }

    [Fact]
    public async Task Compiled_template_grants_the_app_identity_only_the_data_roles_it_uses()
    {
        var json = await CompiledTemplateAsync();

        var granted = NestedResources(json).Where(r => r.Type == "Microsoft.Authorization/roleAssignments")
            .Select(r => (Role: RoleDefinitionGuid(r), Scope: r.Body.GetProperty("scope").GetString()!))
            .ToList();

        Assert.Equal(
            new[]
            {
                "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", // Storage Table Data Contributor
                "3913510d-42f4-4e42-8a64-420c390055eb", // Monitoring Metrics Publisher
                "4633458b-17de-408a-b874-0445c86b69e6", // Key Vault Secrets User
                "974c5e8b-45b9-4653-ba55-5f855dd0fb88", // Storage Queue Data Contributor
                "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", // Storage Blob Data Owner
            },
            granted.Select(g => g.Role).Distinct().Order(StringComparer.Ordinal));
        Assert.All(granted.Where(g => g.Role is "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3" or "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
                or "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"),
            g => Assert.Equal("[resourceId('Microsoft.Storage/storageAccounts', parameters('name'))]", g.Scope));
        Assert.Equal("[resourceId('Microsoft.KeyVault/vaults', parameters('name'))]",
            granted.Single(g => g.Role.StartsWith("4633458b", StringComparison.Ordinal)).Scope);
    }

    [Fact]
    public async Task Compiled_template_adds_an_identity_based_fallback_account_only_when_a_fallback_region_is_given()
    {
        var json = await CompiledTemplateAsync();
        var resources = json.GetProperty("resources");

        var fallback = resources.GetProperty("fallbackStorage");
        Assert.Equal("[variables('hasFallback')]", fallback.GetProperty("condition").GetString());
        Assert.Equal("[not(empty(parameters('fallbackStorageLocation')))]", json.GetProperty("variables").GetProperty("hasFallback").GetString());
        // The same module as the primary: the same keyless account and the same three data roles for the app's identity.
        Assert.Equal(NestedTemplate(json, "storage").GetRawText(), NestedTemplate(json, "fallbackStorage").GetRawText());
        var settings = resources.GetProperty("functionApp").GetProperty("properties").GetProperty("parameters").GetProperty("productSettings")
            .GetProperty("value");
        Assert.Equal("[if(variables('hasFallback'), variables('fallbackStorageAccountName'), '')]",
            settings.GetProperty("Ingest__FallbackStorage__accountName").GetString());
        Assert.Equal("[if(variables('hasFallback'), 'managedidentity', '')]", settings.GetProperty("Ingest__FallbackStorage__credential").GetString());
        Assert.Equal("[if(variables('hasFallback'), reference('identity').clientId, '')]",
            settings.GetProperty("Ingest__FallbackStorage__clientId").GetString());
        Assert.Equal("[string(not(variables('hasFallback')))]", settings.GetProperty("AzureWebJobs.DrainIngestFallback.Disabled").GetString());
        // The primary is zone-redundant unless storageSku says otherwise, where the region has zones.
        Assert.Equal("[coalesce(parameters('storageSku'), variables('primarySku'))]", resources.GetProperty("storage").GetProperty("properties")
            .GetProperty("parameters").GetProperty("skuName").GetProperty("value").GetString());
        Assert.StartsWith("[if(contains(variables('regionsWithZones'), toLower(parameters('location'))), 'Standard_ZRS', 'Standard_LRS')",
            json.GetProperty("variables").GetProperty("primarySku").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compiled_template_outputs_the_cal_com_webhook_url_and_the_lifecycle_base_url()
    {
        var json = await CompiledTemplateAsync();
        var outputs = json.GetProperty("outputs");

        Assert.Contains("webhookUrl", outputs.GetProperty("webhookUrl").GetProperty("value").GetString(), StringComparison.Ordinal);
        Assert.Equal("[format('https://{0}/api/connections', reference('functionApp').outputs.defaultHostName.value)]",
            outputs.GetProperty("connectionsApiUrl").GetProperty("value").GetString());
        // Webhook__PublicUrl when given, else the app's own https://<host>/api/webhooks/cal.
        var app = NestedTemplate(json, "functionApp");
        Assert.Equal("[if(empty(parameters('webhookPublicUrl')), format('https://{0}/api/webhooks/cal', reference(resourceId('Microsoft.Web/sites', parameters('appName')), '2024-04-01').defaultHostName), parameters('webhookPublicUrl'))]",
            app.GetProperty("outputs").GetProperty("webhookUrl").GetProperty("value").GetString());
    }

    private static async Task<JsonElement> CompiledTemplateAsync()
    {
        var result = await BicepCli.RunAsync(null, "build", "infra/main.bicep", "--stdout");
        Assert.True(result.ExitCode == 0, result.StandardError);
        using var document = JsonDocument.Parse(result.StandardOutput);
        return document.RootElement.Clone();
    }

    private static JsonElement NestedTemplate(JsonElement main, string module) =>
        main.GetProperty("resources").GetProperty(module).GetProperty("properties").GetProperty("template");

    private sealed record TemplateResource(string Type, JsonElement Body, JsonElement Variables);

    /// <summary>Every resource of every module (the main template's own resources are the modules and the identity).</summary>
    private static IEnumerable<TemplateResource> NestedResources(JsonElement main)
    {
        foreach (var module in main.GetProperty("resources").EnumerateObject())
        {
            if (!module.Value.TryGetProperty("properties", out var properties) || !properties.TryGetProperty("template", out var template))
            {
                continue;
            }
            var variables = template.TryGetProperty("variables", out var v) ? v : default;
            var nested = template.GetProperty("resources");
            var items = nested.ValueKind == JsonValueKind.Array
                ? nested.EnumerateArray().ToList()
                : [.. nested.EnumerateObject().Select(p => p.Value)];
            foreach (var resource in items)
            {
                yield return new TemplateResource(resource.GetProperty("type").GetString()!, resource, variables);
            }
        }
    }

    private static string RoleDefinitionGuid(TemplateResource assignment)
    {
        var expression = assignment.Body.GetProperty("properties").GetProperty("roleDefinitionId").GetString()!;
        var variable = Regex.Match(expression, @"variables\('(?<name>\w+)'\)").Groups["name"].Value;
        return assignment.Variables.GetProperty(variable).GetString()!;
    }
}
