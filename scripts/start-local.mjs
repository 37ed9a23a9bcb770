#!/usr/bin/env node
// Takes a fresh clone to a running app: installs Azurite (npm ci), creates
// CalWebhookFunctions/local.settings.json from local.settings.sample.json with random secrets if it is
// missing, starts Azurite on its default ports (unless one is already running), then `func start`
// (Azure Functions Core Tools from PATH, else through npx). Ctrl+C stops both.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { root } from './local-settings.mjs';

const appDir = join(root, 'CalWebhookFunctions');
const isWindows = process.platform === 'win32';

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', shell: isWindows, ...options });
  if (result.status !== 0) {
    console.error(`\n${command} ${args.join(' ')} failed.`);
    process.exit(result.status ?? 1);
  }
}

function onPath(command) {
  const probe = spawnSync(isWindows ? 'where' : 'which', [command], { stdio: 'ignore' });
  return probe.status === 0;
}

function listening(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

// 1. Azurite from the committed lockfile.
if (!existsSync(join(root, 'node_modules', 'azurite', 'package.json'))) {
  console.log('Installing Azurite (npm ci)...');
  run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root });
}

// 2. local.settings.json with fresh secrets. Forwarding__SigningSecret is a Standard Webhooks secret: whsec_ + base64
// of 32 random bytes (the app refuses anything else at start, so an older file's secret is replaced).
const settingsPath = join(appDir, 'local.settings.json');
const signingSecret = () => 'whsec_' + randomBytes(32).toString('base64');
if (!existsSync(settingsPath)) {
  const sample = JSON.parse(readFileSync(join(root, 'local.settings.sample.json'), 'utf8'));
  sample.Values['CalCom__WebhookSecret'] = randomBytes(32).toString('hex');
  sample.Values['Forwarding__SigningSecret'] = signingSecret();
  writeFileSync(settingsPath, JSON.stringify(sample, null, 2) + '\n');
  console.log(`Created ${settingsPath} with random secrets (CalCom__WebhookSecret, Forwarding__SigningSecret).`);
} else {
  const existing = JSON.parse(readFileSync(settingsPath, 'utf8'));
  if (!/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/.test(existing.Values?.['Forwarding__SigningSecret'] ?? '')) {
    existing.Values = { ...existing.Values, Forwarding__SigningSecret: signingSecret() };
    writeFileSync(settingsPath, JSON.stringify(existing, null, 2) + '\n');
    console.log(`Replaced Forwarding__SigningSecret in ${settingsPath} with a whsec_ secret (the Standard Webhooks format).`);
  }
}

// 3. Azurite on the default ports that UseDevelopmentStorage=true points at.
let azurite;
if (await listening(10001)) {
  console.log('Azurite (or another storage emulator) is already listening on 10001; using it.');
} else {
  const dataDir = join(root, '.azurite');
  mkdirSync(dataDir, { recursive: true });
  azurite = spawn(process.execPath, [
    join(root, 'node_modules', 'azurite', 'dist', 'src', 'azurite.js'),
    '--silent', '--skipApiVersionCheck', '--location', dataDir, '--debug', join(dataDir, 'debug.log'),
  ], { stdio: 'inherit' });
  for (let i = 0; i < 100 && !(await listening(10001)); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log('Azurite is running (blob 10000, queue 10001, table 10002); data in .azurite/.');
}

// 4. The Functions host.
const [command, args] = onPath('func')
  ? ['func', ['start']]
  : ['npx', ['--yes', 'azure-functions-core-tools@4', 'start']];
console.log(`Starting the Functions host: ${command} ${args.join(' ')}`);
const host = spawn(command, args, { cwd: appDir, stdio: 'inherit', shell: isWindows });
const stop = () => { host.kill('SIGINT'); azurite?.kill('SIGINT'); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
host.on('exit', (code) => {
  azurite?.kill('SIGINT');
  if (code) {
    console.error(`\nThe Functions host exited with code ${code}. If Core Tools could not be installed through npx, install it ` +
      'as described at https://learn.microsoft.com/azure/azure-functions/functions-run-local and run npm start again.');
  }
  process.exit(code ?? 0);
});
