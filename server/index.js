// index.js - `nitro-wasm/server`: the reference sync server (docs/sync.md).
//
//   import { createSyncServer } from 'nitro-wasm/server';
//   import schema from './entities.mjs';
//   const server = await createSyncServer({ schema, db: './nitro.db', secret: process.env.NITRO_SECRET });
//   await server.listen(8787);
//
// Plain node:http: three routes under the base path (POST push, GET pull,
// GET events as Server-Sent Events). Pushes run one at a time: decide in
// memory (authority.js), commit to storage in one transaction, then answer
// and notify the live streams. Any request input is checked; bad input gets
// a 4xx JSON error and never reaches the state.
import http from 'node:http';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createNitro } from '../js/nitro.js';
import { Authority } from './authority.js';
import { sqliteStorage } from './storage-sqlite.js';
import { createToken, verifyToken, parseTtl, reservedUserReason } from './auth.js';
import { createAuthLimiter } from './ratelimit.js';

export { createToken, verifyToken, parseTtl, reservedUserReason, sqliteStorage };

const DEFAULTS = {
  base: '/sync',
  maxBody: 1 << 20,         // bytes of a push body
  maxBatch: 1000,           // mutations per push
  maxPull: 10_000,          // changes per pull page
  pullLimit: 1000,          // page size when the client names none
  ping: 15_000,             // ms between keep-alive comments on live streams
  liveChanges: 200,
  groupMutations: 5000,     // most mutations committed together (group commit)
  authLimit: 30,            // failed authentications per client address in a burst (0: no limit)
  authWindow: 60_000,       // ms in which an address earns back all authLimit attempts
};

class HttpError extends Error {
  constructor(status, message, extra = {}) {
    super(message);
    this.status = status;
    this.extra = extra;
  }
}

/** nitro.wasm next to the package's modules (dist/) or, in the source
 * tree, in ../dist/. */
function wasmLocation() {
  for (const rel of ['../nitro.wasm', '../dist/nitro.wasm']) {
    const u = new URL(rel, import.meta.url);
    if (fs.existsSync(fileURLToPath(u))) return u;
  }
  return undefined;
}

/** A storage backend for a `db` option: a PostgreSQL URL or a SQLite file. */
export async function openStorage(db = ':memory:', options = {}) {
  if (/^postgres(ql)?:\/\//i.test(db)) {
    let mod;
    try {
      mod = await import('./storage-postgres.js');
    } catch (err) {
      if (err && err.code === 'ERR_MODULE_NOT_FOUND') throw new Error('nitro-wasm server: PostgreSQL storage is not available in this version');
      throw err;
    }
    return mod.postgresStorage(db, options);
  }
  return sqliteStorage(db);
}

function normalizeSchema(schema) {
  const s = schema && typeof schema === 'object' && 'default' in schema ? schema.default : schema;
  if (!s || typeof s !== 'object' || Array.isArray(s) || Object.keys(s).length === 0) {
    throw new Error('nitro-wasm server: `schema` maps entity names to definitions (the default export of the shared schema module)');
  }
  return s;
}

/**
 * @param {object} options
 * @param {object} options.schema entity name -> definition (or the schema module itself)
 * @param {string} [options.db] SQLite file (default ':memory:') or postgres:// URL
 * @param {object} [options.storage] an unopened storage backend (storage-sqlite.js documents the interface)
 * @param {string} [options.secret] token secret (default: env NITRO_SECRET)
 * @param {(req) => string | null | Promise<string | null>} [options.authenticate] maps a request to a user id instead of tokens
 * @param {string} [options.base] path prefix of the routes (default '/sync')
 * @param {string | boolean} [options.cors] allowed origin ('*' or true for any)
 */
export async function createSyncServer(options = {}) {
  const o = { ...DEFAULTS, ...options };
  const schema = normalizeSchema(o.schema);
  const secret = o.secret ?? process.env.NITRO_SECRET;
  if (!o.authenticate && (typeof secret !== 'string' || secret.length < 8)) {
    throw new Error('nitro-wasm server: a token secret of at least 8 characters is needed (secret option or NITRO_SECRET)');
  }
  const base = `/${String(o.base).replace(/^\/+|\/+$/g, '')}`.replace(/^\/$/, '');
  const log = o.log === false ? () => {} : (typeof o.log === 'function' ? o.log : (...a) => console.error(...a));
  // Refused authentications: a structured logger (the CLI's) or one line on `log`.
  const authLog = o.logger && typeof o.logger.warn === 'function'
    ? (msg, fields) => o.logger.warn(msg, fields)
    : (msg, fields) => log(`nitro-wasm server: ${msg} ${JSON.stringify(fields)}`);
  const limiter = createAuthLimiter({ limit: o.authLimit, windowMs: o.authWindow });
  const addressOf = typeof o.clientAddress === 'function' ? o.clientAddress : (req) => (req.socket && req.socket.remoteAddress) || 'unknown';
  const storage = o.storage ?? await openStorage(o.db, { poolSize: o.poolSize });
  await storage.open();
  const wasm = wasmLocation();
  const authority = new Authority(() => createNitro({ wasm, outbox: false }), schema);
  try {
    await authority.load(storage);
  } catch (err) {
    await storage.close();
    throw err;
  }
  let committed = authority.head;      // highest version storage holds
  let chain = Promise.resolve();       // pushes, one at a time
  const streams = new Set();
  const nameJson = new Map();
  let httpServer = null;
  let closed = false;

  const ping = setInterval(() => { for (const s of streams) s.res.write(': ping\n\n'); }, o.ping);
  ping.unref();
  // Commits of other instances on the same database (storage with subscribe).
  const unsubscribe = storage.subscribe ? storage.subscribe(({ head, scopes }) => {
    if (head > committed) committed = head;
    notify(scopes, head);
  }) : null;

  function exclusive(fn) {
    const p = chain.then(fn);
    chain = p.catch(() => {});
    return p;
  }

  function cors(res) {
    if (!o.cors) return;
    res.setHeader('access-control-allow-origin', o.cors === true ? '*' : String(o.cors));
    res.setHeader('access-control-allow-headers', 'authorization, content-type, last-event-id');
    res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
    res.setHeader('access-control-max-age', '600');
    res.setHeader('access-control-expose-headers', 'x-nitro-checkpoint, x-nitro-more');
  }

  function sendJson(res, status, body, headers = {}) {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
    res.end(text);
  }

  function sendError(res, err) {
    const status = err instanceof HttpError ? err.status : 500;
    const headers = {};
    if (err.extra && err.extra.retryAfter) headers['retry-after'] = String(err.extra.retryAfter);
    if (status === 401) headers['www-authenticate'] = 'Bearer';
    const error = { code: err.extra && err.extra.code ? err.extra.code : 'SYNC', message: status === 500 ? 'internal server error' : err.message };
    if (err.extra && err.extra.rule) error.rule = err.extra.rule;
    sendJson(res, status, { error }, headers);
  }

  /** The user of a request: a valid token's (or o.authenticate's) user id.
   * Refusals are 401 and logged with the user id the request claims and the
   * reason (never the token); an address that failed too often gets 429. */
  async function authenticate(req, url) {
    const address = String(addressOf(req));
    const wait = limiter.retryAfter(address);
    if (wait) throw new HttpError(429, 'too many failed authentications from this address; retry later', { rule: 'rate', retryAfter: wait });
    try {
      return await identify(req, url);
    } catch (err) {
      if (!(err instanceof HttpError) || err.status !== 401) throw err;
      const blocked = limiter.fail(address);
      authLog('authentication refused', { status: 401, user: err.extra.user ?? null, reason: err.message, address, path: url.pathname, ...(blocked ? { blocked: true } : {}) });
      throw err;
    }
  }

  async function identify(req, url) {
    const refuse = (message, user = null) => new HttpError(401, message, { rule: 'auth', user: typeof user === 'string' ? user.slice(0, 200) : null });
    if (o.authenticate) {
      const user = await o.authenticate(req);
      if (typeof user !== 'string' || user === '') throw refuse('not authenticated');
      const reserved = reservedUserReason(user);
      if (reserved) throw refuse(`reserved user id: ${reserved}`, user);
      return user;
    }
    const h = req.headers.authorization;
    let token = null;
    if (typeof h === 'string') {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
      if (!m) throw refuse('the Authorization header must be "Bearer <token>"');
      token = m[1];
    } else {
      token = url.searchParams.get('access_token');   // EventSource cannot send headers
    }
    if (!token) throw refuse('missing bearer token');
    try {
      return verifyToken(token, secret);
    } catch (err) {
      throw refuse(err.message, err.user);
    }
  }

  function readJson(req) {
    const tooBig = () => new HttpError(413, `request body over ${o.maxBody} bytes`, { rule: 'size' });
    // An answer sent while the client is still uploading tends to reach it
    // as a reset connection: a moderately oversized body is read and dropped
    // first; an absurd one is cut off.
    const absurd = o.maxBody * 16;
    if (Number(req.headers['content-length']) > absurd) return Promise.reject(tooBig());
    return new Promise((resolve, reject) => {
      const chunks = [];
      let n = 0;
      req.on('data', (c) => {
        n += c.length;
        if (n > absurd) { reject(tooBig()); req.destroy(); return; }
        if (n <= o.maxBody) chunks.push(c);
      });
      req.on('end', () => {
        if (n > o.maxBody) { reject(tooBig()); return; }
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          reject(new HttpError(400, 'the body is not valid JSON', { rule: 'json' }));
        }
      });
      req.on('error', reject);
    });
  }

  function checkPush(body) {
    const bad = (msg) => { throw new HttpError(400, msg, { rule: 'format' }); };
    if (!body || typeof body !== 'object' || Array.isArray(body)) bad('a push is { client, done, mutations }');
    if (typeof body.client !== 'string' || body.client === '' || body.client.length > 200) bad('client must be a string of 1 to 200 characters');
    const done = body.done === undefined ? 0 : body.done;
    if (!Number.isSafeInteger(done) || done < 0) bad('done must be a non-negative integer');
    if (!Array.isArray(body.mutations) || body.mutations.length === 0) bad('mutations must be a non-empty array');
    if (body.mutations.length > o.maxBatch) throw new HttpError(413, `at most ${o.maxBatch} mutations per push`, { rule: 'batch' });
    body.mutations.forEach((m, i) => {
      const at = `mutations[${i}]`;
      if (!m || typeof m !== 'object' || Array.isArray(m)) bad(`${at} must be an object`);
      if (!Number.isSafeInteger(m.seq) || m.seq < 1) bad(`${at}.seq must be a positive integer`);
      if (typeof m.entity !== 'string' || m.entity === '' || m.entity.length > 200) bad(`${at}.entity must be an entity name`);
      if (typeof m.id !== 'string' || m.id === '' || m.id.length > 1000) bad(`${at}.id must be a string of 1 to 1000 characters`);
      if (m.op !== 'create' && m.op !== 'update' && m.op !== 'delete') bad(`${at}.op must be create, update or delete`);
      if (m.op !== 'delete' && (!m.fields || typeof m.fields !== 'object' || Array.isArray(m.fields))) bad(`${at}.fields must be an object`);
      if (m.base !== undefined && m.base !== null && !(typeof m.base === 'number' && m.base >= 0)) bad(`${at}.base must be a version number`);
    });
    return done;
  }

  // Pushes wait in `queued`; one group at a time runs on the chain. A group
  // takes every waiting push (one per client, so a client's resent batch
  // sees the receipts of its first one) up to o.groupMutations mutations,
  // decides them in arrival order on the mirror and commits them in ONE
  // storage transaction: one WAL flush and one turn of the write lock for
  // all of them. Without commitPushes a group is one push.
  const queued = [];
  let groupWaiting = false;

  async function push(req, res, user) {
    const body = await readJson(req);
    const done = checkPush(body);
    const plan = await new Promise((resolve, reject) => {
      queued.push({ user, body, done, resolve, reject });
      scheduleGroup();
    });
    sendJson(res, 200, { results: plan.results, head: plan.head });
  }

  function scheduleGroup() {
    if (groupWaiting) return;
    groupWaiting = true;
    exclusive(async () => {
      groupWaiting = false;
      const group = takeGroup();
      if (queued.length) scheduleGroup();
      if (group.length) await runGroup(group);
    });
  }

  function takeGroup() {
    const limit = storage.commitPushes ? o.groupMutations : 0;
    const group = [];
    const clients = new Set();
    let n = 0;
    for (let i = 0; i < queued.length;) {
      const it = queued[i];
      const k = `${it.user}\n${it.body.client}`;
      if (group.length && (n + it.body.mutations.length > limit || clients.has(k))) { i++; continue; }
      clients.add(k);
      group.push(it);
      n += it.body.mutations.length;
      queued.splice(i, 1);
    }
    return group;
  }

  // Set when the in-memory state could not be rebuilt from storage after a
  // failed push: pushes are then refused (503, retried by clients) until a
  // reload succeeds, so no push is ever decided on a stale or closed state.
  let stale = false;

  async function runGroup(group) {
    if (closed) {
      for (const it of group) it.reject(new HttpError(503, 'server is shutting down', { retryAfter: 1 }));
      return;
    }
    if (stale) {
      try {
        await authority.load(storage);
        stale = false;
      } catch (e) {
        log('nitro-wasm server: reload failed again:', e);
        for (const it of group) it.reject(new HttpError(503, 'storage unavailable; try again', { retryAfter: 1 }));
        return;
      }
    }
    let plans, caught = [];
    const records = new Map();
    try {
      // Several instances on one database (storage with beginPush): take
      // the database's write lock and first take in what the others
      // committed, so the pushes are decided on the latest state.
      if (storage.beginPush) {
        const { head, rows } = await storage.beginPush(authority.head);
        if (rows.length || head > authority.head) authority.catchUp(rows, head);
        caught = rows;
      }
      const asks = group.map((it) => {
        const seqs = it.body.mutations.map((m) => m.seq);
        return { user: it.user, client: it.body.client, from: Math.min(...seqs), to: Math.max(...seqs) };
      });
      const states = storage.clientStates
        ? await storage.clientStates(asks)
        : await Promise.all(asks.map(async (a) => {
          const [receipts, done] = await Promise.all([storage.receipts(a.user, a.client, a.from, a.to), storage.watermark(a.user, a.client)]);
          return { receipts, done };
        }));
      // `done` says the client has the answers up to there: older seqs are stale
      const marks = group.map((it, i) => Math.max(states[i].done, it.done));
      plans = group.map((it, i) => authority.applyPush(it.user, it.body.client, it.body.mutations, states[i].receipts, marks[i]));
      for (const p of plans) for (const r of p.records) records.set(`${r.entity}\u0000${r.scope}\u0000${r.id}`, r);
      const head = plans[plans.length - 1].head;
      if (storage.commitPushes) {
        await storage.commitPushes({ head, records: [...records.values()], clients: group.map((it, i) => ({ user: it.user, client: it.body.client, done: marks[i], receipts: plans[i].receipts })) });
      } else {
        const [it] = group;
        await storage.commitPush({ user: it.user, client: it.body.client, done: marks[0], head, records: plans[0].records, receipts: plans[0].receipts });
      }
    } catch (err) {
      log('nitro-wasm server: push failed in storage, reloading state from it:', err);
      if (storage.abortPush) await storage.abortPush().catch(() => {});
      try { await authority.load(storage); } catch (e) { stale = true; log('nitro-wasm server: reload failed:', e); }
      for (const it of group) it.reject(new HttpError(503, 'storage failed; try again', { retryAfter: 1 }));
      return;
    }
    const head = plans[plans.length - 1].head;
    committed = Math.max(committed, head);
    // Live streams get the changes themselves (with what this group caught
    // up from other instances, so no version is skipped).
    if (records.size || caught.length) {
      const rows = caught.length ? [...caught, ...records.values()] : [...records.values()];
      notify(new Set(rows.map((r) => r.scope)), head, rows);
    }
    group.forEach((it, i) => it.resolve(plans[i]));
  }

  /**
   * Tells the live streams that may see a change about a commit up to
   * `version`. With `rows` (the committed record rows) a stream's event
   * carries its user's share of them and `from`, the version of the previous
   * event on that stream: a client whose checkpoint is at least `from` then
   * has every change up to `version` without pulling. Big commits and
   * commits of other instances are announced without changes (pull).
   */
  function notify(scopes, version, rows = null) {
    const bare = `id: ${version}\nevent: change\ndata: {"version":${version}}\n\n`;
    const inline = rows && rows.length <= o.liveChanges ? new Map() : null;
    for (const s of streams) {
      if (!scopes.has('*') && !scopes.has(s.user)) continue;
      let frame = bare;
      if (inline && s.lastSent !== null) {
        let changes = inline.get(s.user);
        if (changes === undefined) {
          const mine = rows.filter((r) => r.scope === '*' || r.scope === s.user).map(changeJson);
          changes = mine.length ? mine.join(',') : '';
          inline.set(s.user, changes);
        }
        if (changes) frame = `id: ${version}\nevent: change\ndata: {"version":${version},"from":${s.lastSent},"changes":[${changes}]}\n\n`;
      }
      if (s.lastSent === null || version > s.lastSent) s.lastSent = version;
      s.res.write(frame);
    }
  }

  function changeJson(r) {
    const head = `{"entity":${nameOf(r.entity)},"id":${JSON.stringify(r.id)},"version":${r.version}`;
    return r.deleted ? `${head},"deleted":true}` : `${head},"record":${r.data}}`;
  }

  function nameOf(entity) {
    let j = nameJson.get(entity);
    if (!j) { j = JSON.stringify(entity); nameJson.set(entity, j); }
    return j;
  }

  async function pull(req, res, user, url) {
    const sinceText = url.searchParams.get('since') ?? '';
    if (!/^\d{0,16}$/.test(sinceText)) throw new HttpError(400, 'since must be a checkpoint the server gave', { rule: 'format' });
    const since = Number(sinceText || 0);
    const limitText = url.searchParams.get('limit');
    const limit = limitText === null ? o.pullLimit : Number(limitText);
    if (!Number.isSafeInteger(limit) || limit < 1) throw new HttpError(400, 'limit must be a positive integer', { rule: 'format' });
    const names = url.searchParams.getAll('entities').flatMap((e) => e.split(',')).filter(Boolean);
    const only = names.length ? new Set(names) : null;
    const lim = Math.min(limit, o.maxPull);
    const since0 = committed;
    let body, checkpoint, more;
    if (storage.pullJson && (!only || [...authority.entities.keys()].every((e) => only.has(e)))) {
      // Fast path: the page comes out of storage already formatted.
      const page = await storage.pullJson({ scope: user, since, limit: lim });
      more = page.count === lim;
      checkpoint = more ? page.last : Math.max(page.last, since0, since);
      body = page.json;
    } else {
      const c = await authority.changes(storage, user, since, lim, since0);
      const parts = [];
      for (const r of c.rows) if (!only || only.has(r.entity)) parts.push(changeJson(r));
      ({ checkpoint, more } = c);
      body = parts.join(',');
    }
    // checkpoint and more also as headers: a client can ask for the next page
    // before it has read this one
    sendJson(res, 200, `{"changes":[${body}],"checkpoint":"${checkpoint}","more":${more}}`,
      { 'x-nitro-checkpoint': String(checkpoint), 'x-nitro-more': more ? '1' : '0' });
  }

  function events(req, res, user) {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 1000\n\n');
    const last = Number(req.headers['last-event-id']);
    // Whatever the client may have missed: it compares with its checkpoint.
    if (!(last >= committed)) res.write(`id: ${committed}\nevent: change\ndata: {"version":${committed}}\n\n`);
    const s = { user, res, lastSent: committed };
    streams.add(s);
    const drop = () => streams.delete(s);
    res.on('close', drop);
    res.on('error', drop);
  }

  async function handler(req, res, next) {
    // ops.js, when the CLI passes them: /health and /ready, 503 while draining
    if (o.health && await o.health.handle(req, res)) return;
    if (o.shutdown && o.shutdown.rejectIfDraining(req, res)) return;
    let url;
    try {
      url = new URL(req.url, 'http://localhost');
    } catch {
      return sendError(res, new HttpError(400, 'bad request URL'));
    }
    const path = url.pathname;
    if (path !== base && !path.startsWith(`${base}/`)) {
      if (typeof next === 'function') return next();
      return sendError(res, new HttpError(404, `no route ${path}`));
    }
    const route = path.slice(base.length);
    req.on('error', () => {});
    res.on('error', () => {});
    try {
      cors(res);
      if (req.method === 'OPTIONS') { res.writeHead(204); res.end(); return; }
      const want = { '/push': 'POST', '/pull': 'GET', '/events': 'GET' }[route];
      if (!want) throw new HttpError(404, `no route ${path}`);
      if (req.method !== want && !(want === 'GET' && req.method === 'HEAD')) throw new HttpError(405, `${route} takes ${want}`);
      const user = await authenticate(req, url);
      if (route === '/push') await push(req, res, user);
      else if (route === '/pull') await pull(req, res, user, url);
      else events(req, res, user);
    } catch (err) {
      if (!(err instanceof HttpError)) log('nitro-wasm server: unexpected error:', err);
      if (!res.headersSent) sendError(res, err);
      else res.destroy();
    }
  }

  return {
    handler,
    authority,
    storage,
    /** Listens on `port` (0 = any free one); resolves with { port, host, url }. */
    listen(port = 8787, host = '127.0.0.1') {
      httpServer = http.createServer((req, res) => { handler(req, res); });
      httpServer.keepAliveTimeout = 5000;
      if (o.shutdown) o.shutdown.attach(httpServer);
      return new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          const a = httpServer.address();
          resolve({ port: a.port, host, url: `http://${host.includes(':') ? `[${host}]` : host}:${a.port}${base}` });
        });
      });
    },
    /** A bearer token for `user` signed with this server's secret. */
    token(user, ttl = '1h') { return createToken({ user, secret, ttl }); },
    get head() { return committed; },
    get httpServer() { return httpServer; },
    /** Readiness: the database answers. */
    async ready() { if (storage.ping) await storage.ping(); else await storage.head(); },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(ping);
      if (unsubscribe) unsubscribe();
      for (const s of streams) s.res.end();
      streams.clear();
      if (httpServer) {
        await new Promise((resolve) => { httpServer.close(() => resolve()); httpServer.closeAllConnections(); });
      }
      await chain;
      authority.close();
      await storage.close();
    },
  };
}
