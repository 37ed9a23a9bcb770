// Deliveries: the delivery log (GET /api/deliveries) with its filters and paging.
import { api } from './api.js';
import { h, replace, time, badge, number } from './dom.js';
import { STATUSES, TRIGGERS, filterForm, filtersOf, pager, empty } from './list.js';

const FILTERS = [
  ['connectionId', 'Connection', 'text'],
  ['status', 'Status', 'choice', STATUSES],
  ['trigger', 'Trigger', 'choice', TRIGGERS],
  ['since', 'Received since', 'time'],
  ['until', 'Received until', 'time'],
];

export function eventHref(eventId) {
  return `#/deliveries/${encodeURIComponent(eventId)}`;
}

/** One table of delivery items (the delivery log, the dead letters). */
export function deliveryTable(items, caption, { reason = false } = {}) {
  return h('div', { class: 'scroll' }, h('table', { class: 'list' },
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {}, ['Received', 'Event', 'Connection', 'Trigger', 'Status', 'Attempts', reason ? 'Reason' : 'Last answer']
      .map((label) => h('th', { scope: 'col' }, label)))),
    h('tbody', {}, items.map((item) => h('tr', {},
      h('td', { 'data-label': 'Received' }, time(item.receivedAt)),
      h('td', { 'data-label': 'Event' }, h('a', { href: eventHref(item.eventId), class: 'mono' }, item.eventId)),
      h('td', { 'data-label': 'Connection' }, item.connectionId
        ? h('span', { class: 'mono' }, item.connectionId, item.matched === false ? h('span', { class: 'muted' }, ' (unmatched)') : null)
        : h('span', { class: 'muted' }, 'none')),
      h('td', { 'data-label': 'Trigger' }, item.trigger ?? '—'),
      h('td', { 'data-label': 'Status' }, badge(item.status)),
      h('td', { 'data-label': 'Attempts' }, number(item.attempts)),
      h('td', { 'data-label': reason ? 'Reason' : 'Last answer' }, reason
        ? (item.deadLetterReason ?? '—').replaceAll('_', ' ')
        : [item.lastStatus ?? '', item.lastError ? ` ${item.lastError}` : ''].join('').trim() || '—'))))));
}

export async function deliveries(container, params) {
  const filters = filtersOf(params, FILTERS.map(([name]) => name));
  const page = await api('deliveries', { query: { ...filters, continuation: params.get('continuation') } });
  replace(container,
    h('h2', {}, 'Deliveries'),
    filterForm('deliveries', FILTERS, params),
    page.items.length === 0
      ? empty('No event matches these filters.')
      : deliveryTable(page.items, 'Accepted events, newest first'),
    pager('deliveries', filters, page, params));
}
