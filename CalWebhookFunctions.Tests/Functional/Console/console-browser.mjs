// Drives the operator console in Debian's Chromium through playwright-core (no browser download).
// Usage: node console-browser.mjs <scenario>; env CONSOLE_URL (the page), CONSOLE_KEY (a function key), CONSOLE_DATA
// (JSON with the scenario's ids), CONSOLE_SCREENSHOTS (folder, for the screenshots scenario), CONSOLE_WIDTH (tour).
// Prints "ok: …" per step; on failure prints "FAIL: …" and exits 1. Exits 3 when Chromium is not installed.
import { existsSync, mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

// Debian's Chromium; CONSOLE_CHROMIUM names another Chromium-based browser (Azure Pipelines' hosted Ubuntu has Google Chrome).
const CHROMIUM = process.env.CONSOLE_CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WAIT = 30_000;

const scenario = process.argv[2];
const pageUrl = process.env.CONSOLE_URL;
const functionKey = process.env.CONSOLE_KEY;
const data = JSON.parse(process.env.CONSOLE_DATA ?? '{}');
const origin = new URL(pageUrl).origin;

if (!existsSync(CHROMIUM)) {
  console.log(`FAIL: Chromium is not installed at ${CHROMIUM}. Install Debian's package: apt-get update && apt-get install -y chromium (.ci/run does this on a fresh machine).`);
  process.exit(3);
}

function check(condition, message) {
  if (!condition) throw new Error(message);
  console.log(`ok: ${message}`);
}

const profile = mkdtempSync(join(tmpdir(), 'console-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM, args: ARGS, headless: true, viewport: { width: 1280, height: 900 },
  colorScheme: process.env.CONSOLE_COLOR_SCHEME ?? 'light',
});
const outside = [];
const problems = [];
context.on('request', (request) => {
  const url = request.url();
  if (!url.startsWith('data:') && new URL(url).origin !== origin) outside.push(url);
});
const page = context.pages()[0] ?? await context.newPage();
page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
page.on('console', (message) => {
  // A refused key or a missing route shows in the page; the browser's own "Failed to load resource" line is expected.
  if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console error: ${message.text()}`);
});
page.on('dialog', (dialog) => {
  problems.push(`a ${dialog.type()} dialog opened: ${dialog.message()}`);
  dialog.dismiss();
});

async function signIn(key = functionKey) {
  await page.goto(pageUrl);
  await page.locator('#function-key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function signedIn() {
  await signIn();
  await page.locator('nav#nav').waitFor({ state: 'visible', timeout: WAIT });
}

async function go(hash) {
  await page.evaluate((target) => { location.hash = target; }, hash);
  await page.locator('main .view:not([aria-busy])').waitFor({ timeout: WAIT });
}

/** Re-renders the view until `locator` shows (the log is written as events move; reading it again is what a person does). */
async function until(locator, what) {
  for (let i = 0; i < 30; i++) {
    if (await locator.count() > 0 && await locator.first().isVisible()) return;
    const problem = page.locator('main .problem');
    if (await problem.count() > 0) throw new Error(`${what} did not show; the page says: ${await problem.first().innerText()}`);
    await page.waitForTimeout(1000);
    await page.evaluate(() => window.dispatchEvent(new HashChangeEvent('hashchange')));
    await page.locator('main .view:not([aria-busy])').waitFor({ timeout: WAIT });
  }
  const shown = await page.locator('main').innerText();
  throw new Error(`${what} did not show within 30 reloads. The page shows:\n${shown}`);
}

/** Waits for an action's notice within `scope`; an error shown instead fails with its words. */
async function outcome(scope, notice, timeout = WAIT) {
  const shown = scope.locator(`.notice:has-text("${notice}"), .problem`).first();
  await shown.waitFor({ timeout });
  if (await shown.evaluate((node) => node.classList.contains('problem'))) throw new Error(`the page says: ${await shown.innerText()}`);
}

async function noSidewaysScroll(view) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  check(scroll <= width, `${view}: no horizontal scroll at ${width} px (content ${scroll} px)`);
}

const scenarios = {
  async 'sign-in'() {
    await signIn('not-the-key');
    const message = page.locator('.sign-in .problem');
    await message.waitFor({ timeout: WAIT });
    check((await message.innerText()).includes('refused the function key'), `a wrong key is refused in words: "${await message.innerText()}"`);
    check(await page.evaluate(() => sessionStorage.length === 0 && localStorage.length === 0), 'a refused key is not kept anywhere');
    check(await page.locator('nav#nav').isHidden(), 'the views stay hidden after a wrong key');
    // Keyboard only: after the refusal the key field has focus with its text selected; typing replaces it.
    await page.keyboard.type(functionKey);
    await page.keyboard.press('Enter');
    await page.locator('nav#nav').waitFor({ state: 'visible', timeout: WAIT });
    check(true, 'the right key, typed and entered by keyboard, opens the console');
    const stored = await page.evaluate(() => ({ session: Object.values(sessionStorage), local: localStorage.length }));
    check(stored.session.includes(functionKey) && stored.local === 0, 'the key is kept in sessionStorage only');
    check(!page.url().includes(functionKey), 'the key is not in the address');
    // Focus is on the view's heading; the menu is before it.
    for (let i = 0; i < 20 && !(await page.evaluate(() => document.activeElement?.textContent === 'Deliveries')); i++) await page.keyboard.press('Shift+Tab');
    const outline = await page.evaluate(() => `${document.activeElement?.textContent} ${getComputedStyle(document.activeElement).outlineStyle}`);
    check(outline === 'Deliveries solid', `Shift+Tab reaches the Deliveries link with a visible focus ring (${outline})`);
    await page.keyboard.press('Enter');
    await page.locator('h2', { hasText: 'Deliveries' }).waitFor({ timeout: WAIT });
    check(await page.evaluate(() => document.activeElement?.tagName === 'H2'), 'Enter opens the view and moves focus to its heading');
  },

  async 'event-log'() {
    await signedIn();
    await go(`#/deliveries?connectionId=${encodeURIComponent(data.connectionId)}`);
    const row = page.locator('table.list a', { hasText: data.eventId });
    await until(page.locator('table.list tr', { hasText: data.eventId }).locator('.status-delivered'), 'the delivered event in the log');
    check(true, `the accepted event ${data.eventId} is in the delivery log, delivered`);
    await row.click();
    await page.locator('h2', { hasText: data.eventId }).waitFor({ timeout: WAIT });
    const attempt = page.locator('.timeline li', { hasText: 'Attempt 1' });
    await attempt.waitFor({ timeout: WAIT });
    check((await attempt.innerText()).includes('HTTP 200'), `its page shows attempt 1 answered HTTP 200: ${await attempt.innerText()}`);
    check((await page.locator('pre.payload').last().innerText()).includes('"triggerEvent": "BOOKING_CREATED"'), 'its payload is shown, JSON indented');
  },

  async redeliver() {
    await signedIn();
    await go(`#/deliveries/${encodeURIComponent(data.eventId)}`);
    await until(page.locator('.timeline li', { hasText: 'Attempt 1' }), 'the first attempt');
    const before = await page.locator('.timeline li').count();
    await page.getByRole('button', { name: 'Redeliver…' }).click();
    const dialog = page.locator('dialog.confirm');
    await dialog.waitFor({ timeout: WAIT });
    check((await dialog.innerText()).includes('once more'), 'redeliver asks for confirmation first');
    await dialog.getByRole('button', { name: 'Redeliver' }).click();
    await outcome(page.locator('main'), 'Redelivered', 90_000);
    const after = await page.locator('.timeline li').count();
    check(after === before + 1, `the new attempt shows in the timeline (${before} → ${after})`);
  },

  async replay() {
    await signedIn();
    await go(`#/dead-letters?connectionId=${encodeURIComponent(data.connectionId)}`);
    await until(page.locator('table.list tr', { hasText: data.eventId }), 'the dead letter');
    check(true, 'the dead letter is listed');
    await page.getByRole('button', { name: 'Count what a replay would move' }).click();
    const count = page.locator('.count');
    await count.waitFor({ timeout: WAIT });
    check((await count.innerText()).startsWith('1 dead letter '), `the dry run's count is shown first: "${await count.innerText()}"`);
    const status = await page.evaluate(async ([id, key]) => (await (await fetch(`../api/deliveries/${id}`, { headers: { 'x-functions-key': key } })).json()).status, [data.eventId, functionKey]);
    check(status === 'dead_lettered', `the count moved nothing (still ${status})`);
    await page.getByRole('button', { name: 'Replay 1 dead letter…' }).click();
    const dialog = page.locator('dialog.confirm');
    await dialog.waitFor({ timeout: WAIT });
    await dialog.getByRole('button', { name: 'Replay' }).click();
    await outcome(page.locator('main'), 'Replayed');
    check(true, `after confirming: "${await page.locator('.notice').innerText()}"`);
  },

  async 'pause-resume'() {
    await signedIn();
    await go('#/connections');
    const card = () => page.locator('article.connection', { has: page.locator('h3', { hasText: data.connectionId }) });
    await until(card(), `connection ${data.connectionId}`);
    await card().getByRole('button', { name: `Pause ${data.connectionId}` }).click();
    await outcome(card(), 'Paused');
    check(await card().locator('.status-paused').count() === 1, 'after Pause the app shows the connection paused');
    await card().getByRole('button', { name: `Resume ${data.connectionId}` }).click();
    await outcome(card(), 'Resumed');
    check(await card().locator('.status-paused').count() === 0, 'after Resume it is no longer paused');
  },

  async 'script-payload'() {
    await signedIn();
    await go(`#/deliveries/${encodeURIComponent(data.eventId)}`);
    const payload = page.locator('#payload pre.payload');
    await until(payload, 'the payload');
    const text = await payload.innerText();
    check(text.includes('<script>window.__xss = 1</script>') && text.includes('<img src=x onerror=window.__xss=2>'), 'the payload\'s markup is shown as text');
    check(await page.evaluate(() => document.querySelectorAll('main script, main img, main [onerror]').length === 0), 'no element was made from it');
    await page.waitForTimeout(200);
    check(await page.evaluate(() => window.__xss === undefined), 'no script from the payload ran');
  },

  async chart() {
    await signedIn();
    await go('#/overview');
    const bars = page.locator('svg.chart rect.bar');
    check(await bars.count() === 72, `the overview charts 24 hours × accepted, delivered, dead-lettered (${await bars.count()} bars)`);
    const latest = await page.locator('svg.chart rect.bar-accepted').last().getAttribute('height');
    check(Number(latest) > 0, `this hour's accepted bar is drawn (height ${latest})`);
  },

  async tour() {
    const width = Number(process.env.CONSOLE_WIDTH ?? 1280);
    await page.setViewportSize({ width, height: 800 });
    const files = [];
    page.on('requestfinished', (request) => {
      if (new URL(request.url()).pathname.startsWith('/api/console')) files.push(request);
    });
    await signedIn();
    let bytes = 0;
    for (const request of files) {
      const sizes = await request.sizes();
      bytes += sizes.responseBodySize + sizes.responseHeadersSize;
    }
    check(files.length > 0, `the page and its files: ${files.length} requests, ${bytes} bytes over the wire (headers included)`);
    for (const view of ['overview', 'deliveries', `deliveries/${encodeURIComponent(data.eventId)}`, 'dead-letters', 'connections', 'rejections']) {
      await go(`#/${view}`);
      const problem = page.locator('main .problem');
      check(await problem.count() === 0, `${view} renders without an error${await problem.count() ? `: ${await problem.first().innerText()}` : ''}`);
      await noSidewaysScroll(view);
    }
  },

  async screenshots() {
    const folder = process.env.CONSOLE_SCREENSHOTS;
    mkdirSync(folder, { recursive: true });
    await signedIn();
    const shots = [['overview', '#/overview'], ['deliveries', '#/deliveries'], ['event', `#/deliveries/${encodeURIComponent(data.eventId)}`],
      ['connections', '#/connections']];
    for (const [name, hash] of shots) {
      await go(hash);
      if (name === 'event') await until(page.locator('#payload pre.payload'), 'the payload');
      await page.screenshot({ path: join(folder, `console-${name}.png`), fullPage: true });
      check(true, `wrote console-${name}.png`);
    }
    await page.setViewportSize({ width: 360, height: 740 });
    await go('#/deliveries');
    await page.screenshot({ path: join(folder, 'console-deliveries-360.png'), fullPage: false });
    check(true, 'wrote console-deliveries-360.png');
  },
};

let exitCode = 0;
try {
  if (!scenarios[scenario]) throw new Error(`No scenario "${scenario}". Known: ${Object.keys(scenarios).join(', ')}`);
  await scenarios[scenario]();
  check(outside.length === 0, `no request left ${origin}${outside.length ? `: ${outside.join(', ')}` : ''}`);
  check(problems.length === 0, `no script error, CSP violation or browser dialog${problems.length ? `: ${problems.join(' | ')}` : ''}`);
} catch (error) {
  console.log(`FAIL: ${error.message}`);
  exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(exitCode);
