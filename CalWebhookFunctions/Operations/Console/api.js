// Calls to the app's operations API with the function key the operator typed in. The key lives in sessionStorage
// only (gone when the tab closes) and travels in the x-functions-key header, never in a URL.

const KEY = 'calwebhookfunctions.functionKey';

/** The API root: the page is /api/console, so '.' is /api/. Only this origin is ever called. */
const root = new URL('.', document.baseURI);

export const key = {
  get: () => sessionStorage.getItem(KEY),
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

/** An answer other than 2xx, in words: `message` is the API's own sentence when it gave one. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Fired when the app refuses the key (401): the console goes back to the sign-in form. */
export const signedOut = new EventTarget();

export function url(path, query) {
  const target = new URL(path, root);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') target.searchParams.set(name, String(value));
  }
  return target;
}

async function send(path, { method = 'GET', query, body, functionKey = key.get(), accept = 'application/json' } = {}) {
  const headers = { Accept: accept };
  if (functionKey) headers['x-functions-key'] = functionKey;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(url(path, query), {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit', cache: 'no-store', redirect: 'error', referrerPolicy: 'no-referrer',
    });
  } catch (error) {
    throw new ApiError(0, 'network_error', `The app did not answer, or answered with a redirect (${error.message}). Check that it is running and reachable from this browser.`);
  }
  if (response.status === 401) {
    throw new ApiError(401, 'wrong_key', 'The app refused the function key (401). Type the function key again: a function, host or master key of this app.');
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

async function errorOf(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    if (body && typeof body.message === 'string') {
      return new ApiError(response.status, body.error ?? 'error', `${body.message} (${response.status} ${body.error ?? ''})`.replace(' )', ')'));
    }
  } catch {
    // Not JSON: fall through to the status line.
  }
  const reason = response.status === 404
    ? 'This route does not exist on the app (404): it may be an older version without it.'
    : `The app answered ${response.status} ${response.statusText}.`;
  return new ApiError(response.status, `http_${response.status}`, reason);
}

/** A call whose 401 signs the operator out with the wrong-key message. */
async function guarded(path, options) {
  try {
    return await send(path, options);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      key.clear();
      signedOut.dispatchEvent(new CustomEvent('signedout', { detail: error.message }));
    }
    throw error;
  }
}

/** The JSON answer of a call (null when empty). */
export async function api(path, options) {
  const text = await (await guarded(path, options)).text();
  return text ? JSON.parse(text) : null;
}

/** The raw payload of an event: its text and the Content-Type Cal.com sent. */
export async function payload(eventId) {
  const response = await guarded(`deliveries/${encodeURIComponent(eventId)}/payload`, { accept: '*/*' });
  return { contentType: response.headers.get('Content-Type') ?? '', text: await response.text() };
}

/** Checks a key before keeping it: any answer but 401 means the host let it through. */
export async function checkKey(candidate) {
  try {
    await send('connections', { query: { limit: 1 }, functionKey: candidate });
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 0)) throw error;
  }
}

/** The query-form address of a connection route: it carries any id exactly (ids may hold '/'). */
export function connectionPath(action, connectionId) {
  return { path: action ? `connections/${action}` : 'connections', query: { id: connectionId } };
}
