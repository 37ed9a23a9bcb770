// An event's page: its delivery record, the attempt timeline, the payload (as text, never as HTML) and redelivery.
import { api, payload } from './api.js';
import { h, replace, time, badge, facts, number, problem, notice, confirmAction } from './dom.js';
import { prettyJson } from './json.js';

function attempts(log) {
  if (!log?.length) return h('p', { class: 'empty' }, 'No attempt yet.');
  return h('ol', { class: 'timeline' }, [...log].sort((a, b) => (a.attempt ?? 0) - (b.attempt ?? 0)).map((attempt) => h('li', { class: attempt.status >= 200 && attempt.status < 300 ? 'ok' : 'failed' },
    h('div', { class: 'attempt-head' },
      h('strong', {}, `Attempt ${attempt.attempt}`), ' ', time(attempt.at), ' ',
      h('span', { class: 'badge' }, attempt.status === null || attempt.status === undefined ? 'no answer' : `HTTP ${attempt.status}`), ' ',
      h('span', { class: 'muted' }, attempt.durationMs === undefined || attempt.durationMs === null ? '' : `${number(attempt.durationMs)} ms`)),
    attempt.error ? h('p', { class: 'attempt-error' }, attempt.error) : null,
    attempt.response ? h('details', {}, h('summary', {}, 'The app’s answer'), h('pre', { class: 'payload' }, attempt.response)) : null)));
}

async function fillPayload(section, eventId) {
  try {
    const { contentType, text } = await payload(eventId);
    const pretty = prettyJson(text);
    section.append(
      h('p', { class: 'muted' }, `${contentType || 'no Content-Type'} · ${number(new TextEncoder().encode(text).length)} bytes`,
        pretty === null ? ' · not JSON, shown as sent' : ' · JSON, indented for reading'),
      h('pre', { class: 'payload', tabindex: '0', 'aria-label': 'Payload' }, pretty ?? text));
  } catch (error) {
    section.append(problem(error));
  }
}

export async function eventPage(container, _params, eventId) {
  const event = await api(`deliveries/${encodeURIComponent(eventId)}`);
  const status = h('div', { class: 'status' });
  const redeliver = h('button', { type: 'button', class: 'danger' }, 'Redeliver…');
  const timeline = h('section', { class: 'panel wide' }, h('h3', {}, 'Attempts'), attempts(event.attemptLog));
  const section = h('section', { class: 'panel wide', id: 'payload' }, h('h3', {}, 'Payload'));
  redeliver.addEventListener('click', async () => {
    const sure = await confirmAction('Send this event again?',
      `Event ${event.eventId} will be sent to ${event.target ?? 'its target'} once more with the same webhook-id, even if it was delivered already.`,
      'Redeliver');
    if (!sure) {
      redeliver.focus();
      return;
    }
    redeliver.disabled = true;
    try {
      await api(`deliveries/${encodeURIComponent(event.eventId)}/redeliver`, { method: 'POST' });
      replace(status, notice('Queued for redelivery. The attempts below refresh until the new attempt shows.'));
      await follow(event, timeline, status);
    } catch (error) {
      replace(status, problem(error));
    } finally {
      redeliver.disabled = false;
    }
  });
  const refresh = h('button', { type: 'button', class: 'quiet', onclick: () => window.dispatchEvent(new HashChangeEvent('hashchange')) }, 'Refresh');
  replace(container,
    h('p', {}, h('a', { href: '#/deliveries' }, '« Deliveries')),
    h('h2', {}, 'Event ', h('span', { class: 'mono' }, event.eventId)),
    h('div', { class: 'actions' }, redeliver, refresh),
    status,
    facts([
      ['Status', badge(event.status)],
      ['Received', time(event.receivedAt)],
      ['Connection', event.connectionId ? `${event.connectionId}${event.matched === false ? ' (unmatched)' : ''}` : 'none'],
      ['Trigger', event.trigger],
      ['Booking', event.bookingUid],
      ['webhook-id', event.webhookId],
      ['Target', event.target],
      ['Attempts', number(event.attempts)],
      ['Next attempt', event.nextAttemptAt ? time(event.nextAttemptAt) : null],
      ['Delivered', event.deliveredAt ? time(event.deliveredAt) : null],
      ['Dead-letter reason', event.deadLetterReason?.replaceAll('_', ' ')],
      ['Last error', event.lastError],
    ]),
    timeline,
    section);
  await fillPayload(section, eventId);
}

/** After a redelivery: reloads the event (about once a second, for up to a minute) until a new attempt is logged. */
async function follow(event, timeline, status) {
  const before = event.attemptLog?.length ?? 0;
  for (let i = 0; i < 60; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (!timeline.isConnected) return;
    const latest = await api(`deliveries/${encodeURIComponent(event.eventId)}`);
    if ((latest.attemptLog?.length ?? 0) > before) {
      replace(timeline, h('h3', {}, 'Attempts'), attempts(latest.attemptLog));
      replace(status, notice(`Redelivered: attempt ${Math.max(...latest.attemptLog.map((a) => a.attempt ?? 0))} logged.`));
      return;
    }
  }
  replace(status, notice('Queued for redelivery; no new attempt yet. Refresh to look again.'));
}
