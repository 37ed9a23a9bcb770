// The Flex Consumption plan (FC1) and the function app: .NET 10 isolated worker, running as a user-assigned managed
// identity that signs in to storage, Key Vault and Application Insights, so no key or connection secret is stored.

param planName string
param appName string
param location string

@description('Resource id of the user-assigned managed identity the app runs as.')
param identityId string

@description('Client id of that identity (for AzureWebJobsStorage__clientId and the Application Insights credential).')
param identityClientId string

@description('Storage account the host and the app use (identity-based AzureWebJobsStorage).')
param storageAccountName string

@description('URL of the blob container the plan deploys the package from.')
param deploymentContainerUrl string

@description('Application Insights connection string (not a secret: local authentication is disabled).')
param appInsightsConnectionString string

@description('Memory of each instance.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int

@description('Most instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('The product\'s settings (DESIGN.md keys), secrets given as Key Vault references.')
param productSettings object

@description('Public URL of ReceiveCalWebhook; empty means the app\'s own https://<host>/api/webhooks/cal.')
param webhookPublicUrl string

param tags object

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }
}

var defaultWebhookUrl = 'https://${app.properties.defaultHostName}/api/webhooks/cal'

// Flex Consumption sets the runtime itself: FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION must not be set.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'appsettings'
  properties: union(productSettings, {
    AzureWebJobsStorage__accountName: storageAccountName
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identityClientId}'
    Webhook__PublicUrl: empty(webhookPublicUrl) ? defaultWebhookUrl : webhookPublicUrl
  })
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
output webhookUrl string = empty(webhookPublicUrl) ? defaultWebhookUrl : webhookPublicUrl
