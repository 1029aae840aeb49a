// transport.js - the HTTP side of a sync client: one fetch per exchange
// with the bearer token and a timeout, every failure turned into a SYNC
// NitroError (network, HTTP status, not JSON), Retry-After read for the
// backoff (schedule.js).
import { NitroError } from '../errors.js';
import { utf8 } from '../core.js';
import { isNode } from './persist.js';

export class Transport {
  /** options: the sync() options; onOnline() runs when the server answered. */
  constructor(options, onOnline) {
    this.base = resolveBase(options.url);
    this.token = options.token;
    this.headers = { ...(options.headers || {}) };
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new NitroError('SYNC', 'no fetch available: pass sync({ fetch })', { rule: 'fetch' });
    this.fetch = options.fetch ? f : f.bind(globalThis);
    this.timeout = positive(options.timeout, 15_000);
    this.onOnline = onOnline;
  }

  async headersFor(extra) {
    const h = { ...this.headers, ...extra };
    const token = typeof this.token === 'function' ? await this.token() : this.token;
    if (token) h.authorization = `Bearer ${token}`;
    return h;
  }

  /** One exchange: resolves with the parsed JSON answer; every failure
   * (network, HTTP status, not JSON) rejects with a SYNC NitroError. */
  async request(method, path, body) {
    const { what, res, bytes } = await this.exchange(method, path, body);
    let json = null;
    try { json = bytes.length ? JSON.parse(utf8.decode(bytes)) : null; } catch { /* reported below */ }
    if (json === null) {
      const err = new NitroError('SYNC', `${what}: the server's answer is not JSON`, { rule: 'protocol' });
      err.status = res.status;
      throw err;
    }
    return json;
  }

  /** The raw answer of a successful exchange: { what, res, bytes }. A body
   * is JSON bytes (a push body C wrote) or a value to stringify. */
  async exchange(method, path, body) {
    const headers = await this.headersFor({ accept: 'application/json' });
    if (body !== undefined) headers['content-type'] = 'application/json';
    const payload = body === undefined ? undefined : body instanceof Uint8Array ? utf8.decode(body) : JSON.stringify(body);
    const what = `${method} ${path.split('?')[0]}`;
    let res, bytes;
    try {
      res = await this.fetch(`${this.base}${path}`, { method, headers, body: payload, signal: AbortSignal.timeout(this.timeout) });
    } catch (err) {
      throw networkError(what, err);
    }
    this.onOnline();
    try {
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      throw networkError(what, err);
    }
    if (!res.ok) throw httpError(what, res, utf8.decode(bytes));
    return { what, res, bytes };
  }
}

/** A SYNC error for an HTTP status other than 2xx (with the server's message). */
export function httpError(what, res, text = '') {
  let msg = text.slice(0, 200);
  try { const j = JSON.parse(text); if (j && j.error && j.error.message) msg = j.error.message; } catch { /* not JSON */ }
  const err = new NitroError('SYNC', `${what}: HTTP ${res.status}${msg ? `: ${msg}` : ''}`, { rule: 'http' });
  err.status = res.status;
  err.retryAfter = retryAfterMs(res.headers.get('retry-after'));
  return err;
}

export function positive(v, dflt) {
  const n = Number(v);
  return v === undefined || v === null || !(n > 0) ? dflt : n;
}

function resolveBase(url) {
  let u;
  try {
    u = new URL(url, globalThis.location?.href);
  } catch {
    throw new NitroError('SYNC', `sync({ url }): ${url} is not a URL${isNode ? ' (Node needs an absolute http URL)' : ''}`, { rule: 'url' });
  }
  return u.href.replace(/\/+$/, '');
}

export function remoteError(m, e) {
  const src = e && typeof e === 'object' ? e : {};
  const code = typeof src.code === 'string' ? src.code : 'SYNC';
  const message = typeof src.message === 'string' ? src.message : `${m.entity.name}: refused by the server`;
  return new NitroError(code, message, { entity: src.entity ?? m.entity.name, field: src.field, rule: src.rule, index: src.index });
}

function networkError(what, cause) {
  const timeout = cause && (cause.name === 'TimeoutError' || cause.name === 'AbortError');
  const detail = cause && cause.cause && cause.cause.code ? cause.cause.code : cause && cause.message;
  const err = new NitroError('SYNC', `${what}: ${timeout ? 'timed out' : `network error (${detail})`}`, { rule: 'network', cause });
  err.network = true;
  return err;
}

export function retryAfterMs(h) {
  if (!h) return 0;
  const s = Number(h);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const t = Date.parse(h);
  return Number.isFinite(t) ? Math.max(0, t - Date.now()) : 0;
}

