#!/usr/bin/env node
// A stand-in for your app while you try the relay locally: listens on Forwarding__Url's port (default 3000),
// verifies each forward's Standard Webhooks signature (webhook-id, webhook-timestamp, webhook-signature) with
// Forwarding__SigningSecret from CalWebhookFunctions/local.settings.json, prints a summary and answers 200
// (401 when the signature does not verify).
//   node scripts/receive-forwards.mjs [--port 3000] [--secret whsec_...]
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { localSettings, parseArgs, required } from './local-settings.mjs';

const args = parseArgs();
const settings = localSettings();
const secret = required(args, 'secret', 'Forwarding__SigningSecret', 'signing secret');
// Standard Webhooks, as its reference libraries do: the key is the secret base64-decoded after an optional whsec_.
const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
if (key.length < 24) {
  console.error('The signing secret must be whsec_ + base64 of at least 24 bytes (as Forwarding__SigningSecret is).');
  process.exit(2);
}
const port = Number(args.port ?? (new URL(settings['Forwarding__Url'] ?? 'http://localhost:3000').port || 3000));

function verified(headers, body) {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = (headers['webhook-signature'] ?? '').split(' ');
  if (!id || !timestamp) return false;
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
  return signatures.some((s) => {
    const [version, value] = s.split(',');
    const given = Buffer.from(value ?? '', 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks);
    const ok = verified(request.headers, body);
    let summary = '';
    try {
      const envelope = JSON.parse(body.toString('utf8'));
      summary = `type=${envelope.type} connectionId=${envelope.connectionId ?? '(none)'} trigger=${envelope.payload?.triggerEvent ?? '?'}`;
    } catch {
      summary = 'body is not JSON';
    }
    console.log(`${ok ? 'verified' : 'REJECTED (bad signature)'} ${request.headers['webhook-id']} ${summary}`);
    response.writeHead(ok ? 200 : 401).end();
  });
}).listen(port, '127.0.0.1', () => console.log(`Listening on http://127.0.0.1:${port}/ for forwards.`));
