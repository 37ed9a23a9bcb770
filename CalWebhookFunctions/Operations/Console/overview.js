// Overview: GET /api/stats — the queue depth and the oldest pending event's age first, then the last 24 h.
import { api } from './api.js';
import { h, s, replace, duration, number, time } from './dom.js';

const SERIES = [['accepted', 'Accepted'], ['delivered', 'Delivered'], ['deadLettered', 'Dead-lettered']];

function card(label, value, detail, tone) {
  return h('div', { class: `card ${tone ?? ''}` }, h('span', { class: 'card-label' }, label), h('strong', { class: 'card-value' }, value),
    detail ? h('span', { class: 'card-detail' }, detail) : null);
}

/** A two-column table of an object of counts, largest first. */
function counts(title, values) {
  const rows = Object.entries(values ?? {}).filter(([, v]) => typeof v === 'number').sort((a, b) => b[1] - a[1]);
  return h('section', { class: 'panel' }, h('h3', {}, title),
    rows.length === 0
      ? h('p', { class: 'muted' }, 'None in the last 24 h.')
      : h('table', { class: 'counts' }, h('tbody', {}, rows.map(([name, value]) => h('tr', {}, h('th', { scope: 'row' }, name.replaceAll('_', ' ')), h('td', {}, number(value)))))));
}

/** Bars per hour (accepted / delivered / dead-lettered), as SVG built from DOM nodes, with the same numbers as a table. */
function chart(hours) {
  const max = Math.max(1, ...hours.flatMap((hour) => SERIES.map(([name]) => Number(hour[name] ?? 0))));
  const width = 720;
  const height = 180;
  const group = width / hours.length;
  const bar = Math.max(1, (group - 4) / SERIES.length);
  const svg = s('svg', { viewBox: `0 0 ${width} ${height + 20}`, class: 'chart', role: 'img', 'aria-labelledby': 'chart-title' },
    s('title', { id: 'chart-title' }, 'Events per hour over the last 24 hours: accepted, delivered and dead-lettered'),
    s('line', { x1: 0, y1: height, x2: width, y2: height, class: 'axis' }));
  hours.forEach((hour, i) => {
    const start = hour.hour;
    SERIES.forEach(([name, label], j) => {
      const value = Number(hour[name] ?? 0);
      const barHeight = (value / max) * (height - 10);
      svg.append(s('rect', { x: i * group + 2 + j * bar, y: height - barHeight, width: bar, height: barHeight, class: `bar bar-${name}` },
        s('title', {}, `${start ? new Date(start).toLocaleString() : `hour ${i + 1}`}: ${label.toLowerCase()} ${value}`)));
    });
    if (start && i % 6 === 0) {
      svg.append(s('text', { x: i * group + 2, y: height + 16, class: 'tick' }, new Date(start).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })));
    }
  });
  const legend = h('ul', { class: 'legend' }, SERIES.map(([name, label]) => h('li', {}, h('span', { class: `swatch bar-${name}`, 'aria-hidden': 'true' }), label)));
  const table = h('details', {}, h('summary', {}, 'The same as a table'),
    h('div', { class: 'scroll' }, h('table', {},
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Hour'), SERIES.map(([, label]) => h('th', { scope: 'col' }, label)))),
      h('tbody', {}, hours.map((hour) => h('tr', {}, h('td', {}, time(hour.hour)),
        SERIES.map(([name]) => h('td', {}, number(hour[name] ?? 0)))))))));
  return h('section', { class: 'panel wide' }, h('h3', {}, 'Per hour, last 24 h'), svg, legend, table);
}

export async function overview(container) {
  const stats = await api('stats');
  const pending = stats.queueDepth?.['cal-webhooks'];
  const poison = stats.queueDepth?.['cal-webhooks-poison'];
  const oldest = stats.oldestPendingAgeSeconds ?? undefined;
  const latency = stats.forwardLatencyMs;
  replace(container,
    h('h2', {}, 'Overview'),
    h('p', { class: 'muted' }, stats.since ? ['From ', time(stats.since), ' to ', time(stats.until), '.'] : 'The last 24 hours.'),
    h('div', { class: 'cards' },
      card('Waiting in cal-webhooks', number(pending), 'approximate queue depth', pending > 0 ? 'warn' : ''),
      card('Oldest pending event', oldest === undefined ? 'none' : duration(oldest), 'age of the oldest event not yet delivered', oldest > 600 ? 'bad' : ''),
      card('Dead letters', number(poison), 'approximate depth of cal-webhooks-poison', poison > 0 ? 'bad' : ''),
      card('Forward latency', latency ? `${number(latency.p50)} ms` : '—',
        latency ? `p50 · p95 ${number(latency.p95)} ms · ${number(latency.count)} deliveries` : 'no delivery in the last 24 h')),
    Array.isArray(stats.hours)
      ? chart(stats.hours)
      : h('section', { class: 'panel wide' }, h('h3', {}, 'Per hour, last 24 h'), h('p', { class: 'muted' }, 'This app’s /api/stats has no hourly series.')),
    h('div', { class: 'panels' },
      counts('By status', stats.byStatus),
      counts('By trigger', stats.byTrigger),
      counts('Dead-lettered by reason', stats.deadLetteredByReason),
      counts('Refused requests by reason', stats.refusedByReason)));
}
