// Shared by the local scripts: their --name value arguments, and the Values of
// CalWebhookFunctions/local.settings.json (empty when the file does not exist yet).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export function parseArgs(argv = process.argv.slice(2)) {
  return Object.fromEntries(argv.reduce((pairs, arg, i, all) => (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []));
}

export function localSettings() {
  const path = join(root, 'CalWebhookFunctions', 'local.settings.json');
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')).Values : {};
}

/** The value of --option, else the setting, else exit with a message saying how to provide it. */
export function required(args, option, setting, what) {
  const value = args[option] ?? localSettings()[setting];
  if (!value) {
    console.error(`No ${what}: pass --${option} or create CalWebhookFunctions/local.settings.json (npm start does).`);
    process.exit(2);
  }
  return value;
}
