// The console's shell: sign-in, navigation and hash routing (#/view/...?filters), one module per view.
import { key, checkKey, signedOut } from './api.js';
import { h, replace, field, problem, focusHeading } from './dom.js';
import { overview } from './overview.js';
import { deliveries } from './deliveries.js';
import { eventPage } from './event.js';
import { deadLetters } from './dead-letters.js';
import { connections } from './connections.js';
import { rejections } from './rejections.js';

const view = document.getElementById('view');
const nav = document.getElementById('nav');
const signOutButton = document.getElementById('sign-out');

const routes = [
  [/^overview$/, overview, 'Overview'],
  [/^deliveries$/, deliveries, 'Deliveries'],
  [/^deliveries\/(.+)$/, eventPage, 'Event'],
  [/^dead-letters$/, deadLetters, 'Dead letters'],
  [/^connections$/, connections, 'Connections'],
  [/^rejections$/, rejections, 'Refused requests'],
];

/** '#/deliveries?status=x' → { path: 'deliveries', params: URLSearchParams } */
export function currentRoute() {
  const hash = location.hash.replace(/^#\/?/, '');
  const at = hash.indexOf('?');
  const raw = at < 0 ? hash : hash.slice(0, at);
  let path = raw;
  try {
    path = decodeURIComponent(raw);
  } catch {
    // A hand-typed address with a stray '%': shown as typed (and as no known view).
  }
  return {
    path: path || 'overview',
    params: new URLSearchParams(at < 0 ? '' : hash.slice(at + 1)),
  };
}

let rendering = 0;

async function render() {
  if (!key.get()) {
    signIn();
    return;
  }
  nav.hidden = false;
  signOutButton.hidden = false;
  const { path, params } = currentRoute();
  for (const link of nav.querySelectorAll('a')) {
    const target = link.getAttribute('href').slice(2);
    if (path === target || path.startsWith(`${target}/`)) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const match = routes.map(([pattern, show, title]) => [pattern.exec(path), show, title]).find(([found]) => found);
  const run = ++rendering;
  const container = h('div', { class: 'view', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading…'));
  replace(view, container);
  try {
    if (!match) throw new Error(`There is no view called “${path}”. Pick one from the menu.`);
    const [[, argument], show] = match;
    await show(container, params, argument);
  } catch (error) {
    if (run === rendering && key.get()) replace(container, h('h2', {}, match?.[2] ?? 'Not found'), problem(error));
  } finally {
    container.removeAttribute('aria-busy');
  }
  if (run === rendering && key.get()) focusHeading(container);
}

function signIn(message) {
  nav.hidden = true;
  signOutButton.hidden = true;
  const input = h('input', { id: 'function-key', name: 'function-key', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' });
  const status = h('div', { class: 'status' }, message ? problem({ message }) : null);
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h('form', { class: 'sign-in', novalidate: true },
    h('h2', {}, 'Sign in'),
    h('p', {}, 'Type a function key of this app (Azure portal → the function app → App keys). It is kept in this tab only, until you close it or sign out.'),
    field('Function key', input),
    button,
    status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const candidate = input.value.trim();
    if (!candidate) {
      replace(status, problem({ message: 'Type the function key first.' }));
      input.focus();
      return;
    }
    button.disabled = true;
    replace(status, h('p', { class: 'muted' }, 'Checking the key…'));
    try {
      await checkKey(candidate);
      key.set(candidate);
      await render();
    } catch (error) {
      replace(status, problem(error));
      input.select();
      input.focus();
    } finally {
      button.disabled = false;
    }
  });
  replace(view, form);
  input.focus();
}

signedOut.addEventListener('signedout', (event) => signIn(event.detail));
signOutButton.addEventListener('click', () => {
  key.clear();
  signIn();
});
window.addEventListener('hashchange', render);
render();
