// Datastar 1.0 server-sent events for Node: `sse(res)` returns a writer that
// frames `datastar-patch-elements` / `datastar-patch-signals` events, and
// `readSignals(req)` reads the signals a Datastar action sent.
//
// Why our own framing instead of @starfederation/datastar-sdk (read: 1.0.0):
// - its Node generator only exists inside `stream(req, res, cb)`, which ends
//   the response when the callback returns; we want a writer that outlives a
//   callback (pushing entity changes over a long-lived stream), with
//   keep-alive comments, `closed` and no-op writes after the client left;
// - its writes go to `res` even after a disconnect and return nothing;
// - it always sends `Connection: keep-alive` (forbidden on HTTP/2), lacks
//   `viewTransitionSelector`, omits `retry: 0`, does not escape script
//   attributes and lets a newline in a selector or id break the framing;
// - its readSignals has no size limit and treats a GET without `datastar`
//   as an error.
// The format is small (docs/datastar.md, SSE wire format); the golden cases in
// ../shared/datastar-golden decide correctness, and the tests use the SDK as a
// cross-check oracle. Nothing here imports it.
//
// Node-only by design (no DOM); also accepts a fetch `Request` in readSignals.

const EVENT_ELEMENTS = 'datastar-patch-elements';
const EVENT_SIGNALS = 'datastar-patch-signals';
const DEFAULT_RETRY_MS = 1000;
const DEFAULT_KEEP_ALIVE_MS = 15000;
const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** Element patch modes of Datastar 1.0, `outer` being the default. */
export const MODES = Object.freeze(['outer', 'inner', 'replace', 'prepend', 'append', 'before', 'after', 'remove']);
/** Namespaces of Datastar 1.0.x, `html` being the default. */
export const NAMESPACES = Object.freeze(['html', 'svg', 'mathml']);

// SSE treats CR, LF and CRLF alike as line ends, so all three split data.
const LINE_BREAK = /\r\n|\r|\n/;
const HAS_LINE_BREAK = /[\r\n]/;

// ---------------------------------------------------------------------------
// Argument checks. They run before the closed check so that a programming
// error surfaces the same way whether or not the client is still there.

function checkLineValue(what, value) {
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`${what} must be a non-empty string (got ${describe(value)})`);
  }
  if (HAS_LINE_BREAK.test(value)) {
    throw new TypeError(`${what} must not contain a line break: it would break the SSE framing`);
  }
  return value;
}

function describe(value) {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : String(value);
}

// `id` and `retry` lines shared by every event kind.
function headLines(event, opts) {
  let head = `event: ${event}\n`;
  const { eventId, retryDuration } = opts;
  if (eventId !== undefined && eventId !== null && eventId !== '') {
    const id = typeof eventId === 'number' ? String(eventId) : eventId;
    checkLineValue('eventId', id);
    // A NUL makes browsers ignore the id field altogether.
    if (id.includes('\0')) throw new TypeError('eventId must not contain a NUL character');
    head += `id: ${id}\n`;
  }
  if (retryDuration !== undefined && retryDuration !== null) {
    if (!Number.isInteger(retryDuration) || retryDuration < 0) {
      throw new TypeError(`retryDuration must be a non-negative integer of milliseconds (got ${describe(retryDuration)})`);
    }
    if (retryDuration !== DEFAULT_RETRY_MS) head += `retry: ${retryDuration}\n`;
  }
  return head;
}

function dataLines(key, text) {
  let out = '';
  for (const line of text.split(LINE_BREAK)) out += `data: ${key} ${line}\n`;
  return out;
}

// ---------------------------------------------------------------------------
// Event builders (pure: options in, event text out). Exported for callers that
// frame into something other than a Node response (a fetch Response stream,
// a test).

/**
 * Text of one `datastar-patch-elements` event.
 * @param {string | { toString(): string } | null | undefined} html
 * @param {object} [opts]
 */
export function formatPatchElements(html, opts = {}) {
  const { selector, mode = 'outer', namespace = 'html', useViewTransition = false, viewTransitionSelector } = opts;
  if (!MODES.includes(mode)) {
    throw new TypeError(`mode must be one of ${MODES.join(', ')} (got ${describe(mode)})`);
  }
  if (!NAMESPACES.includes(namespace)) {
    throw new TypeError(`namespace must be one of ${NAMESPACES.join(', ')} (got ${describe(namespace)})`);
  }
  const hasSelector = selector !== undefined && selector !== null && selector !== '';
  if (hasSelector) checkLineValue('selector', selector);
  // The 1.0.x client rejects every mode but outer/replace without a selector
  // (PatchElementsExpectedSelector); failing here points at the caller.
  if (!hasSelector && mode !== 'outer' && mode !== 'replace') {
    throw new TypeError(`mode ${mode} needs a selector`);
  }
  // Html objects from nitro-wasm/html (and anything else printable) are accepted.
  const text = html === undefined || html === null ? '' : String(html);
  if (text === '' && !hasSelector) {
    throw new TypeError('patchElements needs elements (or a selector to target)');
  }
  let out = headLines(EVENT_ELEMENTS, opts);
  if (hasSelector) out += `data: selector ${selector}\n`;
  if (mode !== 'outer') out += `data: mode ${mode}\n`;
  if (namespace !== 'html') out += `data: namespace ${namespace}\n`;
  if (useViewTransition === true) {
    out += 'data: useViewTransition true\n';
    if (viewTransitionSelector !== undefined && viewTransitionSelector !== null && viewTransitionSelector !== '') {
      out += `data: viewTransitionSelector ${checkLineValue('viewTransitionSelector', viewTransitionSelector)}\n`;
    }
  }
  if (text !== '') out += dataLines('elements', text);
  return out + '\n';
}

/**
 * Text of one `datastar-patch-signals` event.
 * @param {object | string} signals a merge patch object, or its JSON text (sent as is)
 * @param {object} [opts]
 */
export function formatPatchSignals(signals, opts = {}) {
  let json;
  if (typeof signals === 'string') {
    if (signals.trim() === '') throw new TypeError('patchSignals needs a non-empty JSON string');
    json = signals;
  } else if (signals !== null && typeof signals === 'object' && !Array.isArray(signals)) {
    json = JSON.stringify(signals);
  } else {
    throw new TypeError(`patchSignals takes an object or a JSON string (got ${describe(signals)})`);
  }
  let out = headLines(EVENT_SIGNALS, opts);
  if (opts.onlyIfMissing === true) out += 'data: onlyIfMissing true\n';
  return out + dataLines('signals', json) + '\n';
}

/**
 * Merge patch with `null` at each dotted path: `['a.b', 'c']` gives
 * `{ a: { b: null }, c: null }`. A path under one already removed adds nothing.
 * @param {string | string[]} paths
 */
export function removalPatch(paths) {
  const list = typeof paths === 'string' ? [paths] : paths;
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError('removeSignals needs a dotted path or a non-empty array of them');
  }
  // Null-prototype objects so that a path like "__proto__.x" is just a key.
  const patch = Object.create(null);
  for (const path of list) {
    if (typeof path !== 'string' || path === '') {
      throw new TypeError(`removeSignals: a path must be a non-empty string (got ${describe(path)})`);
    }
    const keys = path.split('.');
    if (keys.includes('')) throw new TypeError(`removeSignals: empty segment in path ${JSON.stringify(path)}`);
    let node = patch;
    for (let i = 0; i < keys.length - 1 && node !== null; i++) {
      const k = keys[i];
      if (!(k in node)) node[k] = Object.create(null);
      node = node[k];
    }
    if (node !== null) node[keys[keys.length - 1]] = null;
  }
  return patch;
}

function escapeAttribute(value) {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
}

const ATTRIBUTE_NAME = /^[^\s"'<>\/=\0-\x1f\x7f]+$/;

/**
 * Text of the event that runs `code` in the browser: a `<script>` appended to
 * body (Datastar 1.0 has no execute-script event of its own).
 * @param {string} code
 * @param {object} [opts]
 */
export function formatExecuteScript(code, opts = {}) {
  if (typeof code !== 'string') throw new TypeError(`executeScript takes a string of code (got ${describe(code)})`);
  const { attributes, autoRemove = true } = opts;
  let attrs = '';
  if (attributes !== undefined && attributes !== null) {
    if (typeof attributes !== 'object' || Array.isArray(attributes)) {
      throw new TypeError('executeScript: attributes must be an object of name -> value');
    }
    for (const [name, value] of Object.entries(attributes)) {
      if (!ATTRIBUTE_NAME.test(name)) throw new TypeError(`executeScript: invalid attribute name ${JSON.stringify(name)}`);
      // Same convention as the HTML builders: true is a bare attribute, false/null drop it.
      if (value === false || value === null || value === undefined) continue;
      attrs += value === true ? ` ${name}` : ` ${name}="${escapeAttribute(String(value))}"`;
    }
  }
  if (autoRemove) attrs += ' data-effect="el.remove()"';
  // "</script" inside the code would end the element early; "<\/script" means
  // the same thing inside JS strings, templates and regexes.
  const body = code.replace(/<\/(script)/gi, '<\\/$1');
  let out = headLines(EVENT_ELEMENTS, opts);
  out += 'data: mode append\ndata: selector body\n';
  return out + dataLines('elements', `<script${attrs}>${body}</script>`) + '\n';
}

/** Text of an SSE comment (ignored by clients; keeps proxies from timing out). */
export function formatComment(text = '') {
  let out = '';
  for (const line of String(text).split(LINE_BREAK)) out += line === '' ? ':\n' : `: ${line}\n`;
  return out + '\n';
}

// ---------------------------------------------------------------------------
// The writer.

function isHttp2(res) {
  const major = res.req?.httpVersionMajor;
  return (typeof major === 'number' && major >= 2) || (res.stream !== undefined && typeof res.stream === 'object');
}

/** Checks sse()'s arguments and writes the stream's headers. */
function openStream(res, keepAlive, retry) {
  if (!res || typeof res.write !== 'function' || typeof res.end !== 'function') {
    throw new TypeError('sse(res) needs a response with write() and end()');
  }
  if (!Number.isFinite(keepAlive) || keepAlive < 0) {
    throw new TypeError(`keepAlive must be a number of milliseconds >= 0 (got ${describe(keepAlive)})`);
  }
  if (retry !== undefined && (!Number.isInteger(retry) || retry < 0)) {
    throw new TypeError(`retry must be a non-negative integer of milliseconds (got ${describe(retry)})`);
  }
  if (res.headersSent) throw new Error('sse(res): headers were already sent on this response');

  const headers = { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' };
  if (!isHttp2(res)) headers.Connection = 'keep-alive';
  if (typeof res.writeHead === 'function') {
    res.writeHead(200, headers);   // merges with headers the caller set before
  } else {
    res.statusCode = 200;
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  }
  // Flush now: the client (and any proxy) sees the stream open before the first event.
  if (typeof res.flushHeaders === 'function') res.flushHeaders();
}

/**
 * Start a Datastar SSE response on a Node `http.ServerResponse` (or anything
 * with writeHead/setHeader, write, end and on('close')).
 * @param {import('node:http').ServerResponse} res
 * @param {{ keepAlive?: number, retry?: number }} [options]
 */
export function sse(res, options = {}) {
  const { keepAlive = DEFAULT_KEEP_ALIVE_MS, retry } = options;
  openStream(res, keepAlive, retry);

  let closed = false;
  let timer = null;
  const controller = new AbortController();

  function markClosed() {
    if (closed) return;
    closed = true;
    if (timer !== null) clearInterval(timer);
    timer = null;
    controller.abort();
  }

  if (typeof res.on === 'function') {
    res.on('close', markClosed);
    // A socket error after the client left must not crash the process; the
    // stream just counts as closed.
    res.on('error', markClosed);
  }

  function send(text) {
    if (closed || res.destroyed || res.writableEnded) {
      markClosed();
      return false;
    }
    try {
      res.write(text);
    } catch {
      markClosed();
      return false;
    }
    return true;
  }

  if (retry !== undefined) send(`retry: ${retry}\n\n`);
  if (keepAlive > 0) {
    timer = setInterval(() => send(': keep-alive\n\n'), keepAlive);
    timer.unref?.();
  }

  return {
    patchElements: (html, opts) => send(formatPatchElements(html, opts)),
    patchSignals: (signals, opts) => send(formatPatchSignals(signals, opts)),
    removeElements(selector, opts = {}) {
      checkLineValue('removeElements: selector', selector);
      const { eventId, retryDuration, useViewTransition, viewTransitionSelector } = opts;
      return send(formatPatchElements('', { selector, mode: 'remove', eventId, retryDuration, useViewTransition, viewTransitionSelector }));
    },
    removeSignals: (paths, opts) => send(formatPatchSignals(removalPatch(paths), opts)),
    executeScript: (code, opts) => send(formatExecuteScript(code, opts)),
    comment: (text) => send(formatComment(text)),
    close() {
      if (closed) return;
      markClosed();
      try { res.end(); } catch { /* the socket is gone already */ }
    },
    get closed() { return closed || res.destroyed === true; },
    signal: controller.signal,
  };
}

// ---------------------------------------------------------------------------
// Reading signals.

function httpError(status, message) {
  const err = new Error(message);
  err.status = status;
  return err;
}

function parseSignals(text, where) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw httpError(400, `readSignals: malformed JSON in ${where}: ${e.message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw httpError(400, `readSignals: signals in ${where} must be a JSON object (got ${describe(value)})`);
  }
  return value;
}

function tooLarge(limit) {
  return httpError(413, `readSignals: request body exceeds the limit of ${limit} bytes`);
}

// Methods whose signals travel in the query string (Datastar sends no body).
const QUERY_METHODS = new Set(['GET', 'HEAD', 'DELETE']);

function isFetchRequest(req) {
  return typeof req.headers?.get === 'function' && typeof req.text === 'function';
}

/**
 * Read the signals of a Datastar request: GET/DELETE from `?datastar=`, other
 * methods from the JSON body. Resolves `{}` when none were sent.
 * @param {import('node:http').IncomingMessage | Request} req
 * @param {{ limit?: number }} [options]
 */
export async function readSignals(req, options = {}) {
  const { limit = DEFAULT_BODY_LIMIT } = options;
  if (!Number.isFinite(limit) || limit < 0) throw new TypeError(`limit must be a number of bytes >= 0 (got ${describe(limit)})`);
  if (!req || typeof req !== 'object') throw new TypeError('readSignals(req) needs a request');
  const method = String(req.method || 'GET').toUpperCase();
  const fetchApi = isFetchRequest(req);

  if (QUERY_METHODS.has(method)) {
    // The base only matters for Node's path-only req.url.
    const param = new URL(req.url || '/', 'http://localhost').searchParams.get('datastar');
    return param === null || param === '' ? {} : parseSignals(param, 'the datastar query parameter');
  }

  const declared = Number(fetchApi ? req.headers.get('content-length') : req.headers?.['content-length']);
  if (declared > limit) throw tooLarge(limit);

  let text;
  if (fetchApi) {
    text = await readFetchBody(req, limit);
  } else if (req.body !== undefined && !isNodeStream(req.body)) {
    // Frameworks (express.json() and the like) leave the parsed body here and
    // the stream drained.
    text = bodyFromFramework(req.body, limit);
    if (typeof text !== 'string') return text;
  } else {
    text = await readNodeBody(req, limit);
  }
  return text.trim() === '' ? {} : parseSignals(text, 'the request body');
}

function isNodeStream(x) {
  return x !== null && typeof x === 'object' && typeof x.on === 'function';
}

// Returns the body text to parse, or the already-parsed signals object.
function bodyFromFramework(body, limit) {
  if (body === null) return '';
  if (typeof body === 'string') {
    if (Buffer.byteLength(body) > limit) throw tooLarge(limit);
    return body;
  }
  if (body instanceof Uint8Array) {
    if (body.byteLength > limit) throw tooLarge(limit);
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  }
  if (typeof body === 'object' && !Array.isArray(body)) return body;
  throw httpError(400, `readSignals: signals in the request body must be a JSON object (got ${describe(body)})`);
}

function readNodeBody(req, limit) {
  // Already consumed by someone else: nothing left to read.
  if (req.readableEnded) return Promise.resolve('');
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk) => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buf.length;
      if (size > limit) {
        cleanup();
        // Discard the rest instead of destroying the socket, so the caller
        // can still answer 413 (the server's requestTimeout bounds a slow sender).
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(buf);
    };
    const onEnd = () => { cleanup(); resolve(Buffer.concat(chunks).toString('utf8')); };
    const onError = (err) => { cleanup(); reject(httpError(400, `readSignals: reading the request body failed: ${err.message}`)); };
    const onClose = () => { cleanup(); reject(httpError(400, 'readSignals: the request was aborted before its body ended')); };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

async function readFetchBody(req, limit) {
  if (req.body === null) return '';
  const reader = req.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}
