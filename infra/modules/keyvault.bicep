// A Key Vault in RBAC mode holding the app's secrets. App settings reference them with
// @Microsoft.KeyVault(SecretUri=...) (no version: the app follows the latest one); the app's managed identity gets
// Key Vault Secrets User on this vault and nothing else.

param name string
param location string

@description('Resource id of the app\'s managed identity (names its role assignments deterministically).')
param identityId string

@description('Principal (object) id of the app\'s managed identity.')
param principalId string

@description('Names of the six secrets in the vault.')
param secretNames {
  webhookSecret: string
  previousWebhookSecrets: string
  signingSecret: string
  previousSigningSecrets: string
  apiKey: string
  alertsSigningSecret: string
}

@secure()
param webhookSecret string

@description('Empty: not stored.')
@secure()
param previousWebhookSecrets string

@secure()
param signingSecret string

@description('Empty: not stored.')
@secure()
param previousSigningSecrets string

@description('Empty: not stored.')
@secure()
param apiKey string

@description('Empty: not stored.')
@secure()
param alertsSigningSecret string

param tags object

var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

resource webhookSecretValue 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = {
  parent: vault
  name: secretNames.webhookSecret
  properties: {
    value: webhookSecret
    contentType: 'text/plain'
  }
}

resource previousWebhookSecretsValue 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = if (!empty(previousWebhookSecrets)) {
  parent: vault
  name: secretNames.previousWebhookSecrets
  properties: {
    value: previousWebhookSecrets
    contentType: 'text/plain'
  }
}

resource signingSecretValue 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = {
  parent: vault
  name: secretNames.signingSecret
  properties: {
    value: signingSecret
    contentType: 'text/plain'
  }
}

resource previousSigningSecretsValue 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = if (!empty(previousSigningSecrets)) {
  parent: vault
  name: secretNames.previousSigningSecrets
  properties: {
    value: previousSigningSecrets
    contentType: 'text/plain'
  }
}

resource apiKeyValue 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = if (!empty(apiKey)) {
  parent: vault
  name: secretNames.apiKey
  properties: {
    value: apiKey
    contentType: 'text/plain'
  }
}

resource alertsSigningSecretValue 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = if (!empty(alertsSigningSecret)) {
  parent: vault
  name: secretNames.alertsSigningSecret
  properties: {
    value: alertsSigningSecret
    contentType: 'text/plain'
  }
}

resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identityId, keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output name string = vault.name
output uri string = vault.properties.vaultUri
