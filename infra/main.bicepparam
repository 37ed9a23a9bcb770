// Parameters for infra/main.bicep. Secrets and per-installation values come from environment variables (the pipeline
// maps them from its variable group), so nothing secret is ever written here or passed on a command line.
// To deploy by hand:
//   export FORWARDING_URL=https://app.example.com/webhooks/cal CAL_WEBHOOK_SECRET=... FORWARDING_SIGNING_SECRET=...
//   az deployment group create -g <group> -f infra/main.bicep -p infra/main.bicepparam
using 'main.bicep'

param appName = readEnvironmentVariable('APP_NAME', 'calwebhooks')
param forwardingUrl = readEnvironmentVariable('FORWARDING_URL')

param calComWebhookSecret = readEnvironmentVariable('CAL_WEBHOOK_SECRET')
param forwardingSigningSecret = readEnvironmentVariable('FORWARDING_SIGNING_SECRET')
param calComPreviousWebhookSecrets = readEnvironmentVariable('CAL_PREVIOUS_WEBHOOK_SECRETS', '')
param forwardingPreviousSigningSecrets = readEnvironmentVariable('FORWARDING_PREVIOUS_SIGNING_SECRETS', '')
param calComApiKey = readEnvironmentVariable('CAL_API_KEY', '')
param alertsUrl = readEnvironmentVariable('ALERTS_URL', '')
param alertsSigningSecret = readEnvironmentVariable('ALERTS_SIGNING_SECRET', '')

// Every other setting keeps the app's default; uncomment to change one.
// param calComApiBaseUrl = 'https://api.cal.eu'
// param calComOrganizationId = '12345'
// param calComDefaultTriggers = 'BOOKING_CREATED,BOOKING_RESCHEDULED,BOOKING_CANCELLED'
// param webhookPublicUrl = 'https://hooks.example.com/api/webhooks/cal'
