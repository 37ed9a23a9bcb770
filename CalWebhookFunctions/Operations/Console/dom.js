// DOM helpers. Everything on screen is built with DOM APIs and textContent: data from events (attendee names, payloads
// written by strangers) is never parsed as HTML.

const SVG = 'http://www.w3.org/2000/svg';

function build(element, attrs, children) {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'text') element.textContent = String(value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** h('a', {href: '#/x', class: 'y', onclick: fn}, 'text', otherNode) */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** The same for SVG elements (the overview's chart). */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG, tag), attrs, children);
}

export function replace(container, ...children) {
  container.replaceChildren();
  return build(container, {}, children);
}

/** A labelled form control: label and control tied by id, an optional hint. */
export function field(label, control, hint) {
  const hintNode = hint ? h('span', { class: 'hint', id: `${control.id}-hint` }, hint) : null;
  if (hintNode) control.setAttribute('aria-describedby', hintNode.id);
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control, hintNode);
}

export function select(id, options, value) {
  const control = h('select', { id, name: id });
  for (const [optionValue, label] of options) {
    control.append(h('option', { value: optionValue, selected: optionValue === value }, label));
  }
  return control;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** An ISO time as a <time> the operator reads in their own zone, with the exact UTC value as its title. */
export function time(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return h('span', {}, iso);
  return h('time', { datetime: iso, title: date.toISOString() }, timeFormat.format(date));
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const value = Number(seconds);
  if (value < 1) return `${Math.round(value * 1000)} ms`;
  if (value < 90) return `${Math.round(value)} s`;
  if (value < 5400) return `${Math.round(value / 60)} min`;
  if (value < 172800) return `${(value / 3600).toFixed(1)} h`;
  return `${(value / 86400).toFixed(1)} days`;
}

export function number(value) {
  return value === null || value === undefined ? '—' : Number(value).toLocaleString();
}

export function badge(status) {
  return h('span', { class: `badge status-${String(status ?? 'unknown').replaceAll('_', '-')}` }, String(status ?? '—').replaceAll('_', ' '));
}

/** A definition list of [term, value] pairs; values may be nodes. Empty values are left out. */
export function facts(pairs) {
  return h('dl', { class: 'facts' },
    pairs.filter(([, value]) => value !== undefined && value !== null && value !== '')
      .map(([term, value]) => h('div', {}, h('dt', {}, term), h('dd', {}, value))));
}

/** UTC ISO time of a datetime-local value (the operator's zone), or '' when empty. */
export function isoFromLocal(value) {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString().replace('.000Z', 'Z');
}

/** datetime-local value for an ISO time. */
export function localFromIso(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 16);
}

/** Moves focus to the view's heading so keyboard and screen-reader users land on the new content. */
export function focusHeading(container) {
  const heading = container.querySelector('h2');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: false });
  }
}

/** An error in words, announced to screen readers: the API's own message when it gave one. */
export function problem(error) {
  return h('p', { class: 'problem', role: 'alert' }, error?.message ?? String(error));
}

/** A notice (success) announced politely. */
export function notice(text) {
  return h('p', { class: 'notice', role: 'status' }, text);
}

/**
 * Asks before doing something that sends or moves events: a modal <dialog> (focus stays inside, Escape cancels).
 * Resolves true only when the operator presses the confirm button.
 */
export function confirmAction(title, text, confirmLabel) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-title' },
      h('h2', { id: 'confirm-title' }, title),
      h('p', {}, text),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'quiet', onclick: () => dialog.close('cancel') }, 'Cancel'),
        h('button', { type: 'button', class: 'danger', onclick: () => dialog.close('confirm') }, confirmLabel)));
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(dialog.returnValue === 'confirm');
    });
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector('button.quiet').focus();
  });
}
