// Dead letters: the dead-lettered events, and a filtered replay that counts first (dryRun) and moves only after the
// operator confirms that count.
import { api } from './api.js';
import { h, replace, number, problem, notice, confirmAction } from './dom.js';
import { REASONS, filterForm, filtersOf, pager, empty } from './list.js';
import { deliveryTable } from './deliveries.js';

const FILTERS = [
  ['connectionId', 'Connection', 'text'],
  ['reason', 'Reason', 'choice', REASONS],
  ['since', 'Received since', 'time'],
  ['until', 'Received until', 'time'],
];

/** The replay body of the applied filters: only what is set. */
function replayBody(filters) {
  return Object.fromEntries(Object.entries(filters).filter(([name, value]) => value && name !== 'continuation'));
}

function describe(filters) {
  const parts = Object.entries(replayBody(filters)).map(([name, value]) => `${name} ${value}`);
  return parts.length ? `matching ${parts.join(', ')}` : 'of every connection, time and reason';
}

export async function deadLetters(container, params) {
  const filters = filtersOf(params, FILTERS.map(([name]) => name));
  const { reason, ...logFilters } = filters;
  const page = await api('deliveries', { query: { ...logFilters, status: 'dead_lettered', continuation: params.get('continuation') } });
  const items = reason ? page.items.filter((item) => item.deadLetterReason === reason) : page.items;
  const form = filterForm('dead-letters', FILTERS, params, 'Apply filters');
  const outcome = h('div', { class: 'status' });
  const count = h('button', { type: 'button' }, 'Count what a replay would move');
  const replay = h('button', { type: 'button', class: 'danger', hidden: true }, 'Replay');
  let counted = null;

  // Changing a filter after the count invalidates it: the replay button goes until the count is taken again.
  form.addEventListener('input', () => {
    counted = null;
    replay.hidden = true;
    replace(outcome, h('p', { class: 'muted' }, 'Filters changed: apply them, then count again.'));
  });

  count.addEventListener('click', async () => {
    count.disabled = true;
    replace(outcome, h('p', { class: 'muted' }, 'Counting…'));
    try {
      const body = replayBody(filters);
      const answer = await api('deliveries/replay', { method: 'POST', body: { ...body, dryRun: true } });
      counted = { body, matched: answer.matched };
      const atLeast = answer.more ? 'At least ' : '';
      replace(outcome, h('p', { class: 'count', role: 'status' }, `${atLeast}${number(answer.matched)} dead letter${answer.matched === 1 ? '' : 's'} ${describe(filters)} would be moved back. Nothing has moved yet.`));
      replay.textContent = `Replay ${number(answer.matched)} dead letter${answer.matched === 1 ? '' : 's'}…`;
      replay.hidden = answer.matched === 0;
      if (!replay.hidden) replay.focus();
    } catch (error) {
      replace(outcome, problem(error));
    } finally {
      count.disabled = false;
    }
  });

  replay.addEventListener('click', async () => {
    if (!counted) return;
    const sure = await confirmAction('Replay dead letters?',
      `${number(counted.matched)} dead letter${counted.matched === 1 ? '' : 's'} ${describe(filters)} go back to cal-webhooks with a fresh retry schedule and are sent to their targets again. Dead letters that arrive after you confirm are not picked up.`,
      'Replay');
    if (!sure) {
      replay.focus();
      return;
    }
    replay.disabled = true;
    try {
      const answer = await api('deliveries/replay', { method: 'POST', body: counted.body });
      const moved = answer?.moved ?? 0;
      replace(outcome, notice([
        `Replayed: ${number(moved)} dead letter${moved === 1 ? ' was' : 's were'} moved back to the queue.`,
        answer?.unreadable ? ` ${number(answer.unreadable)} could not be read and stayed.` : '',
        answer?.more ? ' More match: count and replay again.' : ''].join('')));
      replay.hidden = true;
      counted = null;
    } catch (error) {
      replace(outcome, problem(error));
    } finally {
      replay.disabled = false;
    }
  });

  replace(container,
    h('h2', {}, 'Dead letters'),
    h('p', {}, 'Events that were not delivered: refused by the app, out of retries, or for a removed connection. Replay sends them again.'),
    form,
    h('section', { class: 'panel replay', 'aria-label': 'Replay' }, h('div', { class: 'actions' }, count, replay), outcome),
    items.length === 0 ? empty('No dead letter matches these filters.') : deliveryTable(items, 'Dead letters, newest first', { reason: true }),
    pager('dead-letters', filters, page, params));
}
