// storage/index.js - the sync server's storage interface: a registry of
// backends by URL scheme, and the defaults of the optional methods, so the
// server has one code path whatever the backend offers.
//
//   openStorage('sqlite:./nitro.db')        // or a plain path: SQLite
//   openStorage('memory:')                  // a throwaway SQLite store
//   openStorage('postgres://u:p@host/db')   // PostgreSQL (pg)
//   registerStorage('mydb', (url, options) => myStorage(url, options));
//
// ---- Required methods (every backend) -----------------------------------------------
// All return promises, so a backend may be asynchronous; the server never runs
// two pushes at once (it awaits the commit before starting the next), so a
// backend needs no locking of its own beyond one transaction per commit.
//
//   open()                      connect and run pending migrations
//   close()
//   head()                      -> number: the highest committed version (0 if none)
//   loadRecords(onRecord)       calls onRecord(row) for every record, deleted ones
//                               included (the server's memory mirrors them), where
//                               row = { entity, id, owner, scope, version, writer,
//                               deleted: boolean, data: JSON text | null }
//   watermark(user, client)     -> number: the client's `done` (0 if unknown)
//   receipts(user, client, from, to)
//                               -> Map(seq -> result JSON text) for seqs in [from, to]
//   commitPush({ user, client, done, head, records, receipts })
//                               ONE transaction: upsert every record row (shape as
//                               above), insert receipts [{ seq, result }], raise the
//                               client's watermark to `done` and delete its receipts
//                               with seq <= done, store `head`. All or nothing.
//   changesSince({ scope, since, limit })
//                               -> rows { entity, id, version, deleted, data } of one
//                               scope with version > since, by version, at most limit
//
// ---- Optional methods (defaults below) -------------------------------------------------
//   groupCommit                 true when commitPushes commits several clients'
//                               pushes in one transaction (default false: one push
//                               per commit)
//   commitPushes({ head, records, clients: [{ user, client, done, receipts }] })
//                               group commit (default: commitPush of the one client)
//   clientStates([{ user, client, from, to }]) -> [{ done, receipts }]
//                               (default: watermark() and receipts() per client)
//   beginPush(knownHead) -> { head, rows }   several instances on one database:
//                               take the write lock, rows others committed
//                               (default: { head: knownHead, rows: [] })
//   abortPush()                 (default: nothing to undo)
//   subscribe(fn) -> unsubscribe   commits of other instances (default: none)
//   ping()                      readiness (default: head())
//   pullJson({ scope, since, limit, entities }) -> { count, last, json }
//                               a pull page: the changes of `scope` and '*' with
//                               version > since (of `entities` only, unless null),
//                               by version, at most `limit`, as the response's
//                               change objects joined by commas; `count` rows read,
//                               `last` the highest version among them (0 if none)
//                               (default: changesSince() of both scopes, merged)
//
// Semantics the server relies on: versions are the global change sequence
// (each record row carries the version of its last change); `scope` is the
// owner's user id, or '*' for records of shared entities, and a record is
// keyed by (entity, scope, id): each user has their own namespace of ids of
// private entities; a deleted record stays as a tombstone row (deleted =
// true, data = null) so pulls can report it. Migrations are versioned and
// run in order; a backend records the schema version it is at.

const registry = new Map();

/** Makes `scheme:` URLs (the scheme without its colon, lower case) open
 * with `factory(url, options)`, which returns an unopened storage or a
 * promise of one. */
export function registerStorage(scheme, factory) {
  if (!/^[a-z][a-z0-9+.-]+$/.test(scheme)) throw new Error(`nitro-wasm server: bad storage scheme ${JSON.stringify(scheme)}`);
  if (typeof factory !== 'function') throw new Error('nitro-wasm server: registerStorage(scheme, factory) needs a factory function');
  registry.set(scheme, factory);
}

/** The scheme of a storage URL, or 'sqlite' for a plain file path (a
 * one-letter "scheme" is a Windows drive). */
export function schemeOf(db) {
  const m = /^([a-z][a-z0-9+.-]+):/i.exec(String(db));
  return m ? m[1].toLowerCase() : 'sqlite';
}

registerStorage('sqlite', async (url, options) => {
  const { sqliteStorage } = await import('./sqlite.js');
  const file = String(url).replace(/^sqlite:(\/\/)?/i, '') || ':memory:';
  return sqliteStorage(file, options);
});
registerStorage('memory', async (url, options) => {
  const { sqliteStorage } = await import('./sqlite.js');
  return sqliteStorage(':memory:', options);
});
const postgres = async (url, options) => (await import('./postgres.js')).postgresStorage(url, options);
registerStorage('postgres', postgres);
registerStorage('postgresql', postgres);

/** An unopened storage for `db` (default ':memory:'), with the defaults of
 * the optional methods. */
export async function openStorage(db = ':memory:', options = {}) {
  const scheme = schemeOf(db);
  const factory = registry.get(scheme);
  if (!factory) throw new Error(`nitro-wasm server: no storage for ${scheme}: URLs (known: ${[...registry.keys()].join(', ')}; registerStorage() adds one)`);
  return withDefaults(await factory(db, options));
}

/** The changes of `scope` and '*' since `since`, merged by version, as a
 * pull page: what pullJson() answers when the backend has none. */
async function mergedPage(storage, { scope, since, limit, entities = null }) {
  const [own, shared] = await Promise.all([
    storage.changesSince({ scope, since, limit }),
    scope === '*' ? [] : storage.changesSince({ scope: '*', since, limit }),
  ]);
  const only = entities ? new Set(entities) : null;
  const parts = [];
  let i = 0, j = 0, n = 0, last = 0;
  // `count` and `last` cover the rows read, `json` the ones asked for
  for (; n < limit && (i < own.length || j < shared.length); n++) {
    const r = j >= shared.length || (i < own.length && own[i].version < shared[j].version) ? own[i++] : shared[j++];
    if (!only || only.has(r.entity)) parts.push(changeJson(r));
    last = r.version;
  }
  return { count: n, last, json: parts.join(',') };
}

const nameJson = new Map();
/** One change object of a pull response or a live event (docs/sync.md). */
export function changeJson(r) {
  let name = nameJson.get(r.entity);
  if (!name) { name = JSON.stringify(r.entity); nameJson.set(r.entity, name); }
  const head = `{"entity":${name},"id":${JSON.stringify(r.id)},"version":${r.version}`;
  return r.deleted ? `${head},"deleted":true}` : `${head},"record":${r.data}}`;
}

const DEFAULTS = {
  groupCommit: false,
  commitPushes({ head, records, clients }) {
    const [c] = clients;
    return this.commitPush({ user: c.user, client: c.client, done: c.done, receipts: c.receipts, head, records });
  },
  clientStates(asks) {
    return Promise.all(asks.map(async (a) => {
      const [receipts, done] = await Promise.all([this.receipts(a.user, a.client, a.from, a.to), this.watermark(a.user, a.client)]);
      return { receipts, done };
    }));
  },
  async beginPush(known) { return { head: known, rows: [] }; },
  async abortPush() {},
  subscribe() { return () => {}; },
  async ping() { await this.head(); },
  pullJson(query) { return mergedPage(this, query); },
};

const REQUIRED = ['open', 'close', 'head', 'loadRecords', 'watermark', 'receipts', 'commitPush', 'changesSince'];

/** `storage` with every optional method: its own where it has one, else
 * the default (the object is extended in place and returned). */
export function withDefaults(storage) {
  if (!storage || typeof storage !== 'object') throw new Error('nitro-wasm server: a storage is an object (storage/index.js documents the interface)');
  const missing = REQUIRED.filter((m) => typeof storage[m] !== 'function');
  if (missing.length) throw new Error(`nitro-wasm server: the storage lacks ${missing.join(', ')} (storage/index.js documents the interface)`);
  for (const [name, value] of Object.entries(DEFAULTS)) {
    if (!(name in storage)) Object.defineProperty(storage, name, { value, writable: true, configurable: true });
  }
  return storage;
}
