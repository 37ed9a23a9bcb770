// Refused requests: what ingest refused and why (GET /api/rejections), newest first, with the counts by reason.
import { api } from './api.js';
import { h, replace, time, number } from './dom.js';
import { filterForm, filtersOf, pager, empty } from './list.js';

const FILTERS = [['since', 'Since', 'time']];

function byReason(items) {
  const totals = new Map();
  for (const item of items) totals.set(item.reason, (totals.get(item.reason) ?? 0) + (item.count ?? 1));
  return [...totals].sort((a, b) => b[1] - a[1]);
}

export async function rejections(container, params) {
  const filters = filtersOf(params, FILTERS.map(([name]) => name));
  const page = await api('rejections', { query: { ...filters, continuation: params.get('continuation') } });
  const reasons = byReason(page.items);
  replace(container,
    h('h2', {}, 'Refused requests'),
    h('p', {}, 'Requests to the webhook URL that ingest refused (never their body or signature). Unsigned traffic is anyone’s: bursts are summarised.'),
    filterForm('rejections', FILTERS, params),
    page.items.length === 0 ? empty('Nothing was refused in this period.') : [
      h('section', { class: 'panel' }, h('h3', {}, 'By reason (this page)'),
        h('table', { class: 'counts' }, h('tbody', {}, reasons.map(([reason, count]) => h('tr', {}, h('th', { scope: 'row' }, reason), h('td', {}, number(count))))))),
      h('div', { class: 'scroll' }, h('table', { class: 'list' },
        h('caption', { class: 'visually-hidden' }, 'Refused requests, newest first'),
        h('thead', {}, h('tr', {}, ['When', 'Reason', 'Connection (as claimed)', 'Body bytes', 'Content-Type', 'Count'].map((label) => h('th', { scope: 'col' }, label)))),
        h('tbody', {}, page.items.map((item) => h('tr', {},
          h('td', { 'data-label': 'When' }, time(item.at)),
          h('td', { 'data-label': 'Reason' }, item.reason),
          h('td', { 'data-label': 'Connection' }, item.connectionId ? h('span', { class: 'mono' }, item.connectionId) : h('span', { class: 'muted' }, 'none')),
          h('td', { 'data-label': 'Body bytes' }, number(item.bodyBytes)),
          h('td', { 'data-label': 'Content-Type' }, item.contentType ?? '—'),
          h('td', { 'data-label': 'Count' }, number(item.count ?? 1), item.kind === 'summary' ? h('span', { class: 'muted' }, ' more that minute, not sampled') : null)))))),
    ],
    pager('rejections', filters, page, params));
}
