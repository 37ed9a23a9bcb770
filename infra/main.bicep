// CalWebhookFunctions in Azure: a Flex Consumption function app on .NET 10 (isolated worker) with keyless,
// identity-based storage, Application Insights on a Log Analytics workspace, and its secrets in Key Vault.
// Deploy into an existing resource group:
//   az deployment group create -g <group> -f infra/main.bicep -p infra/main.bicepparam
// The outputs are the URL to give Cal.com and the base URL of the connection lifecycle API.

targetScope = 'resourceGroup'

@description('Short name the resource names are built from (lowercase letters and digits).')
@minLength(2)
@maxLength(12)
param appName string = 'calwebhooks'

@description('Region of every resource; defaults to the resource group\'s. Flex Consumption is not in every region.')
param location string = resourceGroup().location

@description('Tags for every resource.')
param tags object = {}

// ---- Hosting -------------------------------------------------------------------------------------------------------

@description('Memory of each Flex Consumption instance, in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Most instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Replication of the storage account. Not given: zone-redundant (Standard_ZRS) where the region has availability zones, else Standard_LRS.')
param storageSku ('Standard_LRS' | 'Standard_ZRS' | 'Standard_GRS' | 'Standard_RAGRS' | 'Standard_GZRS' | 'Standard_RAGZRS')?

@description('Region of an optional second storage account that takes Cal.com deliveries whenever the primary does not (Ingest__FallbackStorage, identity-based, same roles). Empty: none. Choose a region other than location.')
param fallbackStorageLocation string = ''

@description('Days the Log Analytics workspace keeps logs.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

// ---- Secrets (stored in Key Vault, referenced from app settings) ---------------------------------------------------

@description('CalCom__WebhookSecret: the integration secret Cal.com signs deliveries with.')
@secure()
@minLength(1)
param calComWebhookSecret string

@description('CalCom__PreviousWebhookSecrets: comma-separated secrets still accepted during a rotation (empty: none).')
@secure()
param calComPreviousWebhookSecrets string = ''

@description('Forwarding__SigningSecret: the secret outbound deliveries are signed with (whsec_ + base64 of at least 24 bytes).')
@secure()
@minLength(1)
param forwardingSigningSecret string

@description('Forwarding__PreviousSigningSecrets: comma-separated whsec_ secrets each forward is also signed with during an outbound rotation (empty: none).')
@secure()
param forwardingPreviousSigningSecrets string = ''

@description('Alerts__SigningSecret: whsec_ secret the operational alerts are signed with (required when alertsUrl is set; empty: not stored).')
@secure()
param alertsSigningSecret string = ''

@description('CalCom__ApiKey: default credential for the Cal.com API (empty: callers send X-Cal-Access-Token).')
@secure()
param calComApiKey string = ''

// ---- Settings (DESIGN.md keys, with the app's defaults) ------------------------------------------------------------

@description('Forwarding__Url: your app\'s webhook endpoint (absolute https URL).')
param forwardingUrl string

@description('Webhook__PublicUrl: public URL of ReceiveCalWebhook; empty means https://<app host>/api/webhooks/cal.')
param webhookPublicUrl string = ''

@description('CalCom__ConnectionBoundSecrets: per-connection derived secrets (false only for subscriptions registered by hand with the shared secret).')
param calComConnectionBoundSecrets bool = true

@description('CalCom__ApiBaseUrl: the Cal.com API (EU: https://api.cal.eu; self-hosted instances differ).')
param calComApiBaseUrl string = 'https://api.cal.com'

@description('CalCom__OrganizationId: default organization for organization-scoped subscriptions (empty: none).')
param calComOrganizationId string = ''

@description('CalCom__ProviderConfigKey: "from" and "providerConfigKey" in the forward envelope.')
param calComProviderConfigKey string = 'cal-com-oauth'

@description('CalCom__DefaultTriggers: comma-separated trigger names (empty: every BOOKING_* trigger).')
param calComDefaultTriggers string = ''

@description('Forwarding__TimeoutSeconds: timeout of each delivery attempt (1-600).')
@minValue(1)
@maxValue(600)
param forwardingTimeoutSeconds int = 15

@description('Forwarding__RetrySchedule: delays between delivery attempts.')
param forwardingRetrySchedule string = '5s,30s,2m,10m,30m,1h,2h,4h,8h'

@description('Forwarding__MaxConcurrentPerTarget: concurrent forwards to one target (origin and path) per instance.')
@minValue(1)
@maxValue(1000)
param forwardingMaxConcurrentPerTarget int = 8

@description('Forwarding__BreakerFailures: consecutive retryable failures of one target before its events are held.')
@minValue(1)
@maxValue(1000)
param forwardingBreakerFailures int = 5

@description('Forwarding__BreakerProbeSeconds: while a target is failing, one probe attempt per this interval.')
@minValue(1)
@maxValue(3600)
param forwardingBreakerProbeSeconds int = 30

@description('Forwarding__MaxHoldHours: how long held events (paused connection, failing target) wait before they are dead-lettered.')
@minValue(1)
@maxValue(8760)
param forwardingMaxHoldHours int = 72

@description('Ingest__MaxBodyBytes: larger Cal.com deliveries get 413.')
@minValue(1)
param ingestMaxBodyBytes int = 1048576

@description('Deliveries__RetentionDays: days removed connections (and delivery records) are kept.')
@minValue(1)
@maxValue(3650)
param deliveriesRetentionDays int = 30

@description('Alerts__Url: where operational alerts are POSTed (empty: alerts off).')
param alertsUrl string = ''

@description('Alerts__RateLimitSeconds: after an alert, others of the same type and target are held back this long.')
@minValue(0)
@maxValue(86400)
param alertsRateLimitSeconds int = 300

// ---- Names -----------------------------------------------------------------------------------------------------------

var token = toLower(uniqueString(subscription().id, resourceGroup().id, appName))
var functionAppName = 'func-${appName}-${token}'
var storageAccountName = take('st${appName}${token}', 24)
var fallbackStorageAccountName = take('st${take(appName, 10)}fb${token}', 24)
var hasFallback = !empty(fallbackStorageLocation)

// Regions with availability zones (https://learn.microsoft.com/azure/reliability/availability-zones-region-support);
// a region missing here gets locally redundant storage unless storageSku says otherwise.
var regionsWithZones = [
  'australiaeast', 'austriaeast', 'brazilsouth', 'canadacentral', 'centralindia', 'centralus', 'chilecentral', 'eastasia', 'eastus'
  'eastus2', 'francecentral', 'germanywestcentral', 'indonesiacentral', 'israelcentral', 'italynorth', 'japaneast', 'japanwest'
  'koreacentral', 'malaysiawest', 'mexicocentral', 'newzealandnorth', 'northeurope', 'norwayeast', 'polandcentral', 'qatarcentral'
  'southafricanorth', 'southcentralus', 'southeastasia', 'spaincentral', 'swedencentral', 'switzerlandnorth', 'uaenorth', 'uksouth'
  'usgovvirginia', 'westeurope', 'westus2', 'westus3'
]
var primarySku = contains(regionsWithZones, toLower(location)) ? 'Standard_ZRS' : 'Standard_LRS'
var fallbackSku = contains(regionsWithZones, toLower(fallbackStorageLocation)) ? 'Standard_ZRS' : 'Standard_LRS'
var keyVaultName = take('kv-${appName}-${token}', 24)
var deploymentContainerName = 'app-package-${take(token, 8)}'

// Key Vault secret names allow letters, digits and dashes only.
var secretNames = {
  webhookSecret: 'calcom-webhook-secret'
  previousWebhookSecrets: 'calcom-previous-webhook-secrets'
  signingSecret: 'forwarding-signing-secret'
  previousSigningSecrets: 'forwarding-previous-signing-secrets'
  apiKey: 'calcom-api-key'
  alertsSigningSecret: 'alerts-signing-secret'
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${appName}-${token}'
  location: location
  tags: tags
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: storageAccountName
    location: location
    skuName: storageSku ?? primarySku
    deploymentContainerName: deploymentContainerName
    identityId: identity.id
    principalId: identity.properties.principalId
    tags: tags
  }
}

// Ingest__FallbackStorage: takes a delivery when the primary does not answer within a few seconds (README, "Ingest
// availability"). Same module, so the same keyless settings and the same three data roles for the app's identity.
module fallbackStorage 'modules/storage.bicep' = if (hasFallback) {
  name: 'fallbackStorage'
  params: {
    name: fallbackStorageAccountName
    location: hasFallback ? fallbackStorageLocation : location
    skuName: fallbackSku
    identityId: identity.id
    principalId: identity.properties.principalId
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    workspaceName: 'log-${appName}-${token}'
    appInsightsName: 'appi-${appName}-${token}'
    location: location
    retentionInDays: logRetentionInDays
    identityId: identity.id
    principalId: identity.properties.principalId
    tags: tags
  }
}

module vault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: keyVaultName
    location: location
    identityId: identity.id
    principalId: identity.properties.principalId
    secretNames: secretNames
    webhookSecret: calComWebhookSecret
    previousWebhookSecrets: calComPreviousWebhookSecrets
    signingSecret: forwardingSigningSecret
    previousSigningSecrets: forwardingPreviousSigningSecrets
    apiKey: calComApiKey
    alertsSigningSecret: alertsSigningSecret
    tags: tags
  }
}

// A Key Vault reference to the latest version of a secret (the app picks up new versions without a redeploy).
func keyVaultReference(vaultUri string, secretName string) string =>
  '@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/${secretName})'

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    planName: 'plan-${appName}-${token}'
    appName: functionAppName
    location: location
    identityId: identity.id
    identityClientId: identity.properties.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    appInsightsConnectionString: monitoring.outputs.connectionString
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    webhookPublicUrl: webhookPublicUrl
    productSettings: {
      // The fallback account, identity-based, and its drain, only when there is one (README, "Ingest availability"); blank
      // values mean no fallback to the app.
      'AzureWebJobs.DrainIngestFallback.Disabled': string(!hasFallback)
      Ingest__FallbackStorage__accountName: hasFallback ? fallbackStorageAccountName : ''
      Ingest__FallbackStorage__credential: hasFallback ? 'managedidentity' : ''
      Ingest__FallbackStorage__clientId: hasFallback ? identity.properties.clientId : ''
      CalCom__WebhookSecret: keyVaultReference(vault.outputs.uri, secretNames.webhookSecret)
      CalCom__PreviousWebhookSecrets: empty(calComPreviousWebhookSecrets)
        ? ''
        : keyVaultReference(vault.outputs.uri, secretNames.previousWebhookSecrets)
      CalCom__ConnectionBoundSecrets: string(calComConnectionBoundSecrets)
      CalCom__ApiBaseUrl: calComApiBaseUrl
      CalCom__ApiKey: empty(calComApiKey) ? '' : keyVaultReference(vault.outputs.uri, secretNames.apiKey)
      CalCom__OrganizationId: calComOrganizationId
      CalCom__ProviderConfigKey: calComProviderConfigKey
      CalCom__DefaultTriggers: calComDefaultTriggers
      Forwarding__Url: forwardingUrl
      Forwarding__SigningSecret: keyVaultReference(vault.outputs.uri, secretNames.signingSecret)
      Forwarding__PreviousSigningSecrets: empty(forwardingPreviousSigningSecrets)
        ? ''
        : keyVaultReference(vault.outputs.uri, secretNames.previousSigningSecrets)
      Forwarding__TimeoutSeconds: string(forwardingTimeoutSeconds)
      Forwarding__RetrySchedule: forwardingRetrySchedule
      Forwarding__MaxConcurrentPerTarget: string(forwardingMaxConcurrentPerTarget)
      Forwarding__MaxHoldHours: string(forwardingMaxHoldHours)
      Forwarding__BreakerFailures: string(forwardingBreakerFailures)
      Forwarding__BreakerProbeSeconds: string(forwardingBreakerProbeSeconds)
      Ingest__MaxBodyBytes: string(ingestMaxBodyBytes)
      Deliveries__RetentionDays: string(deliveriesRetentionDays)
      Alerts__Url: alertsUrl
      Alerts__RateLimitSeconds: string(alertsRateLimitSeconds)
      Alerts__SigningSecret: empty(alertsSigningSecret) ? '' : keyVaultReference(vault.outputs.uri, secretNames.alertsSigningSecret)
    }
    tags: tags
  }
}

@description('Name of the function app (the pipeline deploys the package to it).')
output functionAppName string = functionApp.outputs.name

@description('The URL to give Cal.com: the subscriber URL of every webhook, plus ?nangoConnectionId=<connection id>.')
output webhookUrl string = functionApp.outputs.webhookUrl

@description('Base URL of the connection lifecycle API: PUT/GET/DELETE <base>/{connectionId} with the function key.')
output connectionsApiUrl string = 'https://${functionApp.outputs.defaultHostName}/api/connections'

@description('Name of the Key Vault holding the secrets (rotate them there or through the pipeline).')
output keyVaultName string = vault.outputs.name

@description('Name of the Application Insights component.')
output appInsightsName string = monitoring.outputs.name
