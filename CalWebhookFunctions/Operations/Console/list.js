// What the list views share: a filter form kept in the URL's hash (so back/forward and links work) and paging by the
// API's continuation token.
import { h, field, select, isoFromLocal, localFromIso } from './dom.js';

export const STATUSES = ['pending', 'retrying', 'held', 'delivered', 'dead_lettered'];
export const REASONS = ['rejected', 'retries_exhausted', 'connection_removed', 'invalid_forward_url', 'body_missing', 'host_poison'];
export const TRIGGERS = ['BOOKING_CREATED', 'BOOKING_RESCHEDULED', 'BOOKING_CANCELLED', 'BOOKING_REQUESTED', 'BOOKING_REJECTED',
  'BOOKING_PAYMENT_INITIATED', 'BOOKING_PAID', 'BOOKING_NO_SHOW_UPDATED', 'MEETING_STARTED', 'MEETING_ENDED', 'RECORDING_READY',
  'FORM_SUBMITTED', 'PING'];

export function hashFor(view, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) query.set(name, value);
  const text = query.toString();
  return `#/${view}${text ? `?${text}` : ''}`;
}

/** The filters of the current hash, without the paging token. */
export function filtersOf(params, names) {
  return Object.fromEntries(names.map((name) => [name, params.get(name) ?? '']));
}

/** Filter controls by kind: text, one-of list, or a time (shown in the operator's zone, sent as ISO UTC). */
export function control(id, label, kind, value, choices) {
  if (kind === 'time') {
    return field(label, h('input', { id, name: id, type: 'datetime-local', value: localFromIso(value), step: 1 }), 'your local time');
  }
  if (kind === 'choice') {
    return field(label, select(id, [['', 'any'], ...choices.map((c) => [c, c.replaceAll('_', ' ')])], value));
  }
  return field(label, h('input', { id, name: id, type: 'text', value, autocomplete: 'off', spellcheck: 'false' }));
}

/** Reads a filter form back: times converted to ISO UTC, empty values dropped. */
export function readForm(form, kinds) {
  const values = {};
  for (const [name, kind] of Object.entries(kinds)) {
    const raw = form.elements.namedItem(name)?.value?.trim() ?? '';
    values[name] = kind === 'time' ? isoFromLocal(raw) : raw;
  }
  return values;
}

/** A filter form that applies by changing the hash (which renders the view again). */
export function filterForm(view, spec, params, submitLabel = 'Apply filters') {
  const kinds = Object.fromEntries(spec.map(([name, , kind]) => [name, kind]));
  const form = h('form', { class: 'filters', 'aria-label': 'Filters' },
    spec.map(([name, label, kind, choices]) => control(name, label, kind, params.get(name) ?? '', choices)),
    h('div', { class: 'actions' },
      h('button', { type: 'submit' }, submitLabel),
      h('a', { href: `#/${view}`, class: 'button quiet' }, 'Clear')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = hashFor(view, readForm(form, kinds));
    if (next === location.hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
    else location.hash = next;
  });
  return form;
}

/** First page / next page links for a list answer. */
export function pager(view, filters, page, params) {
  const links = [];
  if (params.get('continuation')) links.push(h('a', { href: hashFor(view, filters), class: 'button quiet' }, '« First page'));
  if (page.continuation) links.push(h('a', { href: hashFor(view, { ...filters, continuation: page.continuation }), class: 'button', rel: 'next' }, 'Next page »'));
  return links.length ? h('nav', { class: 'pager', 'aria-label': 'Pages' }, links) : null;
}

/** An empty list, said in words. */
export function empty(text) {
  return h('p', { class: 'empty' }, text);
}
