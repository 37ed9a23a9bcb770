#!/usr/bin/env node
// Sends a correctly signed, Cal.com-shaped BOOKING_CREATED delivery to a running app.
//   node scripts/send-test-webhook.mjs [--url URL] [--connection ID] [--secret SECRET] [--bound true|false]
// Defaults: the local app (http://localhost:7071/api/webhooks/cal), CalCom__WebhookSecret and
// CalCom__ConnectionBoundSecrets (true unless "false") from CalWebhookFunctions/local.settings.json.
// With connection-bound secrets a delivery naming a connection is signed, as Cal.com would sign it, with that
// connection's derived secret (DESIGN: HMAC-SHA256 of the label and the id, keyed with the integration secret).
import { createHmac } from 'node:crypto';
import { localSettings, parseArgs, required } from './local-settings.mjs';

const args = parseArgs();
const integrationSecret = required(args, 'secret', 'CalCom__WebhookSecret', 'secret');
const bound = (args.bound ?? localSettings().CalCom__ConnectionBoundSecrets ?? 'true').toLowerCase() !== 'false';
const secret = bound && args.connection
  ? createHmac('sha256', integrationSecret).update('calwebhookfunctions/connection-secret/v1:' + args.connection, 'utf8').digest('hex')
  : integrationSecret;

const url = new URL(args.url ?? 'http://localhost:7071/api/webhooks/cal');
if (args.connection) url.searchParams.set('nangoConnectionId', args.connection);

// Compact JSON, exactly as Cal.com's default (template-less) delivery; the signature covers these bytes.
const body = JSON.stringify({
  triggerEvent: 'BOOKING_CREATED',
  createdAt: new Date().toISOString(),
  payload: {
    type: '30min',
    title: '30 min between Ada and Grace',
    startTime: new Date(Date.now() + 86400000).toISOString(),
    endTime: new Date(Date.now() + 88200000).toISOString(),
    organizer: { name: 'Grace Hopper', email: 'grace@example.com', timeZone: 'Europe/London' },
    attendees: [{ name: 'Ada Lovelace', email: 'ada@example.com', timeZone: 'Europe/London' }],
    uid: 'test-' + Date.now(),
  },
});
const signature = createHmac('sha256', secret).update(body, 'utf8').digest('hex');

const response = await fetch(url, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json', 'X-Cal-Signature-256': signature, 'X-Cal-Webhook-Version': '2021-10-20' },
  body,
});
console.log(`POST ${url} -> ${response.status}`);
console.log(await response.text());
process.exit(response.ok ? 0 : 1);
