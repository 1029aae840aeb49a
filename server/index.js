// index.js - `nitro-wasm/server`: the reference sync server (docs/sync.md).
//
//   import { createSyncServer } from 'nitro-wasm/server';
//   import schema from './entities.mjs';
//   const server = await createSyncServer({ schema, db: './nitro.db', secret: process.env.NITRO_SECRET });
//   await server.listen(8787);
//
// The parts: routes.js (HTTP on Fastify), push.js (pushes decided in memory
// by authority.js, committed in groups), pull.js, live.js (Server-Sent
// Events), auth.js (JWT bearer tokens), storage/ (backends by URL scheme).
// Pushes run one group at a time: decide in memory, commit to storage in one
// transaction, then answer and notify the live streams.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createNitro } from '../js/nitro.js';
import { Authority } from './authority.js';
import { openStorage, withDefaults, registerStorage } from './storage/index.js';
import { sqliteStorage } from './storage/sqlite.js';
import { createToken, createVerifier, verifyToken, parseTtl, reservedUserReason } from './auth.js';
import { HttpError, errorResponse } from './errors.js';
import { createPusher } from './push.js';
import { createLive } from './live.js';
import { createApp } from './routes.js';

export { createToken, verifyToken, createVerifier, parseTtl, reservedUserReason, sqliteStorage, openStorage, registerStorage, withDefaults };

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

/** nitro.wasm next to the package's modules (dist/) or, in the source
 * tree, in ../dist/. */
function wasmLocation() {
  for (const rel of ['../nitro.wasm', '../dist/nitro.wasm']) {
    const u = new URL(rel, import.meta.url);
    if (fs.existsSync(fileURLToPath(u))) return u;
  }
  return undefined;
}

function normalizeSchema(schema) {
  const s = schema && typeof schema === 'object' && 'default' in schema ? schema.default : schema;
  if (!s || typeof s !== 'object' || Array.isArray(s) || Object.keys(s).length === 0) {
    throw new Error('nitro-wasm server: `schema` maps entity names to definitions (the default export of the shared schema module)');
  }
  return s;
}

/** How requests are authenticated: the o.authenticate hook, or bearer JWTs
 * (HS256 with the secret, or an identity provider's JWKS). */
function makeIdentify(o, secret) {
  const refuse = (message, user = null) => new HttpError(401, message, { rule: 'auth', user: typeof user === 'string' ? user.slice(0, 200) : null });
  if (o.authenticate) {
    return async (req) => {
      const user = await o.authenticate(req);
      if (typeof user !== 'string' || user === '') throw refuse('not authenticated');
      const reserved = reservedUserReason(user);
      if (reserved) throw refuse(`reserved user id: ${reserved}`, user);
      return user;
    };
  }
  const verify = createVerifier({ secret, jwksUrl: o.jwksUrl, issuer: o.issuer, audience: o.audience, algorithms: o.algorithms });
  return async (req, query) => {
    const h = req.headers.authorization;
    let token = null;
    if (typeof h === 'string') {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
      if (!m) throw refuse('the Authorization header must be "Bearer <token>"');
      token = m[1];
    } else if (typeof query.access_token === 'string') {
      token = query.access_token;   // EventSource cannot send headers
    }
    if (!token) throw refuse('missing bearer token');
    try {
      return await verify(token);
    } catch (err) {
      throw refuse(err.message, err.user);
    }
  };
}

function checkAuthOptions(o, secret) {
  if (o.authenticate || o.jwksUrl) return;
  if (typeof secret !== 'string' || secret.length < 8) {
    throw new Error('nitro-wasm server: a token secret of at least 8 characters is needed (secret option or NITRO_SECRET), or a jwksUrl (NITRO_JWKS_URL)');
  }
}

/** Opens the storage and loads the authority's mirror of it. */
async function openState(o, schema) {
  const storage = o.storage ? withDefaults(o.storage) : await openStorage(o.db, { poolSize: o.poolSize });
  await storage.open();
  const wasm = wasmLocation();
  const authority = new Authority(() => createNitro({ wasm, outbox: false }), schema);
  try {
    await authority.load(storage);
  } catch (err) {
    await storage.close();
    throw err;
  }
  return { storage, authority };
}

/** The request handler: health and draining (ops.js, when the CLI passes
 * them), then the base path; with `next`, requests outside it go there. */
function makeHandler(o, base, serve) {
  return async function handler(req, res, next) {
    if (o.health && await o.health.handle(req, res)) return;
    if (o.shutdown && o.shutdown.rejectIfDraining(req, res)) return;
    const path = String(req.url).split('?')[0];
    if (path !== base && !path.startsWith(`${base}/`)) {
      if (typeof next === 'function') return next();
    }
    req.on('error', () => {});
    res.on('error', () => {});
    try {
      new URL(req.url, 'http://localhost');
    } catch {
      const e = errorResponse(new HttpError(400, 'bad request URL'));
      res.writeHead(e.status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(e.body);
      return;
    }
    serve(req, res);
  };
}

/** Where refused authentications go: a structured logger (the CLI's) or one line on `log`. */
function authLogger(o, log) {
  return o.logger && typeof o.logger.warn === 'function'
    ? (msg, fields) => o.logger.warn(msg, fields)
    : (msg, fields) => log(`nitro-wasm server: ${msg} ${JSON.stringify(fields)}`);
}

/** Listens on `port` (0 = any free one); resolves with { port, host, url }. */
function listenOn(httpServer, port, host, base) {
  return new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => {
      const a = httpServer.address();
      resolve({ port: a.port, host, url: `http://${host.includes(':') ? `[${host}]` : host}:${a.port}${base}` });
    });
  });
}

/**
 * @param {object} options
 * @param {object} options.schema entity name -> definition (or the schema module itself)
 * @param {string} [options.db] storage URL: a SQLite file (default ':memory:'), sqlite:, memory:, postgres://
 * @param {object} [options.storage] an unopened storage backend (storage/index.js documents the interface)
 * @param {string} [options.secret] HS256 token secret (default: env NITRO_SECRET)
 * @param {string} [options.jwksUrl] accept an identity provider's JWTs instead (default: env NITRO_JWKS_URL)
 * @param {(req) => string | null | Promise<string | null>} [options.authenticate] maps a request to a user id instead of tokens
 * @param {string} [options.base] path prefix of the routes (default '/sync')
 * @param {string | boolean} [options.cors] allowed origin ('*' or true for any)
 */
export async function createSyncServer(options = {}) {
  const o = { ...DEFAULTS, ...options };
  const schema = normalizeSchema(o.schema);
  const secret = o.secret ?? process.env.NITRO_SECRET;
  o.jwksUrl = o.jwksUrl ?? (process.env.NITRO_JWKS_URL || undefined);
  checkAuthOptions(o, secret);
  const base = `/${String(o.base).replace(/^\/+|\/+$/g, '')}`.replace(/^\/$/, '');
  const log = o.log === false ? () => {} : (typeof o.log === 'function' ? o.log : (...a) => console.error(...a));
  const identify = makeIdentify(o, secret);
  const { storage, authority } = await openState(o, schema);
  let committed = authority.head;      // highest version storage holds
  let closed = false;
  const live = createLive({ ping: o.ping, liveChanges: o.liveChanges });
  const pusher = createPusher({
    storage, authority, groupMutations: o.groupMutations, log,
    onCommit(head, rows) {
      committed = Math.max(committed, head);
      // the changes themselves (with what the group caught up from other
      // instances, so no version is skipped)
      if (rows.length) live.notify(new Set(rows.map((r) => r.scope)), head, rows);
    },
  });
  // Commits of other instances on the same database.
  const unsubscribe = storage.subscribe(({ head, scopes }) => {
    if (head > committed) committed = head;
    live.notify(scopes, head);
  });
  let http;
  const handler = makeHandler(o, base, (req, res) => http.serve(req, res));
  const ctx = {
    o, log, base, storage, pusher, live, identify, handler,
    committed: () => committed,
    addressOf: typeof o.clientAddress === 'function' ? o.clientAddress : (req) => (req.socket && req.socket.remoteAddress) || 'unknown',
    authLog: authLogger(o, log),
  };
  try {
    http = await createApp(ctx);
  } catch (err) {
    live.close();
    authority.close();
    await storage.close();
    throw err;
  }

  const httpServer = http.server;
  httpServer.keepAliveTimeout = 5000;
  let listening = false;
  return {
    handler,
    authority,
    storage,
    /** Listens on `port` (0 = any free one); resolves with { port, host, url }. */
    async listen(port = 8787, host = '127.0.0.1') {
      if (o.shutdown) o.shutdown.attach(httpServer);
      const where = await listenOn(httpServer, port, host, base);
      listening = true;
      return where;
    },
    /** An HS256 bearer token (JWT) for `user` signed with this server's secret. */
    token(user, ttl = '1h') { return createToken({ user, secret, ttl }); },
    get head() { return committed; },
    get httpServer() { return listening ? httpServer : null; },
    /** Readiness: the database answers. */
    async ready() { await storage.ping(); },
    async close() {
      if (closed) return;
      closed = true;
      const pushes = pusher.close();
      unsubscribe();
      live.close();
      if (listening) {
        await new Promise((resolve) => { httpServer.close(() => resolve()); httpServer.closeAllConnections(); });
      }
      await pushes;
      authority.close();
      await storage.close();
    },
  };
}
