// Connections: GET /api/connections (paged) with each connection's state, scope, triggers and forward URL, and
// pause/resume (POST /api/connections/pause|resume?id=…, the form that carries any id).
import { api, connectionPath } from './api.js';
import { h, replace, time, badge, facts, problem, notice } from './dom.js';
import { pager, empty } from './list.js';

function isPaused(connection) {
  return connection.paused === true || connection.state === 'paused' || Boolean(connection.pausedAt);
}

function scopeOf(connection) {
  const ids = [['org', connection.orgId], ['team', connection.teamId], ['event type', connection.eventTypeId]]
    .filter(([, id]) => id !== undefined && id !== null).map(([name, id]) => `${name} ${id}`);
  return [connection.scope ?? '—', ids.length ? ` (${ids.join(', ')})` : ''].join('');
}

function item(connection) {
  const status = h('div', { class: 'status' });
  const article = h('article', { class: 'connection' });
  const act = async (action, button) => {
    button.disabled = true;
    try {
      const { path, query } = connectionPath(action, connection.connectionId);
      await api(path, { method: 'POST', query });
      // Shows what the app now holds, not what the button hoped for.
      const reread = connectionPath('', connection.connectionId);
      const fresh = item(await api(reread.path, { query: reread.query }));
      article.replaceWith(fresh);
      fresh.querySelector('.status').append(notice(action === 'pause'
        ? 'Paused: its events are accepted and held until you resume.'
        : 'Resumed: held events are delivered in arrival order.'));
      fresh.querySelector(`button.${action === 'pause' ? 'resume' : 'pause'}`)?.focus();
    } catch (error) {
      replace(status, problem(error));
      button.disabled = false;
    }
  };
  const paused = isPaused(connection);
  const toggle = paused
    ? h('button', { type: 'button', class: 'resume' }, 'Resume')
    : h('button', { type: 'button', class: 'pause quiet' }, 'Pause');
  toggle.setAttribute('aria-label', `${paused ? 'Resume' : 'Pause'} ${connection.connectionId}`);
  toggle.addEventListener('click', () => act(paused ? 'resume' : 'pause', toggle));
  return replace(article,
    h('header', {},
      h('h3', { class: 'mono' }, connection.connectionId),
      badge(connection.state), paused && connection.state !== 'paused' ? badge('paused') : null),
    facts([
      ['Scope', scopeOf(connection)],
      ['Triggers', connection.triggers?.length ? connection.triggers.join(', ') : 'the default triggers'],
      ['Forward URL', connection.forwardUrl ?? 'Forwarding__Url (the app-wide default)'],
      ['Cal.com webhook', connection.calWebhookId],
      ['Paused since', connection.pausedAt ? time(connection.pausedAt) : null],
      ['Updated', time(connection.updatedAt)],
    ]),
    h('div', { class: 'actions' }, toggle,
      h('a', { href: `#/deliveries?connectionId=${encodeURIComponent(connection.connectionId)}`, class: 'button quiet' }, 'Its deliveries')),
    status);
}

export async function connections(container, params) {
  const page = await api('connections', { query: { continuation: params.get('continuation') } });
  replace(container,
    h('h2', {}, 'Connections'),
    page.items.length === 0 ? empty('No connection is registered yet (PUT /api/connections/{id}).') : h('div', { class: 'connection-list' }, page.items.map(item)),
    pager('connections', {}, page, params));
}
