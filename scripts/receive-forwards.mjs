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
// Standard Webhooks: the key is the base64 after whsec_, else the secret's UTF-8 bytes.
const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
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
