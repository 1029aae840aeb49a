// storage/sqlite.js - the sync server's durable storage in SQLite
// (better-sqlite3, WAL mode): the embedded default behind `--db ./nitro.db`.
//
// It implements the storage interface of storage/index.js, group commit
// (commitPushes) included.

/** Versioned migrations: entry i takes the database from version i to i + 1. */
export const MIGRATIONS = [
  `CREATE TABLE records (
     entity TEXT NOT NULL,
     id TEXT NOT NULL,
     owner TEXT NOT NULL,
     scope TEXT NOT NULL,
     version INTEGER NOT NULL,
     writer TEXT NOT NULL DEFAULT '',
     deleted INTEGER NOT NULL DEFAULT 0,
     data TEXT,
     PRIMARY KEY (entity, id)
   );
   CREATE INDEX records_scope_version ON records (scope, version);
   CREATE TABLE clients (
     user TEXT NOT NULL,
     client TEXT NOT NULL,
     done INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (user, client)
   ) WITHOUT ROWID;
   CREATE TABLE receipts (
     user TEXT NOT NULL,
     client TEXT NOT NULL,
     seq INTEGER NOT NULL,
     result TEXT NOT NULL,
     PRIMARY KEY (user, client, seq)
   ) WITHOUT ROWID;
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`,
  // 2: records are keyed in their scope's namespace (each user has their own
  // ids of private entities; docs/sync.md)
  `CREATE TABLE records2 (
     entity TEXT NOT NULL,
     id TEXT NOT NULL,
     owner TEXT NOT NULL,
     scope TEXT NOT NULL,
     version INTEGER NOT NULL,
     writer TEXT NOT NULL DEFAULT '',
     deleted INTEGER NOT NULL DEFAULT 0,
     data TEXT,
     PRIMARY KEY (entity, scope, id)
   );
   INSERT INTO records2 SELECT entity, id, owner, scope, version, writer, deleted, data FROM records;
   DROP TABLE records;
   ALTER TABLE records2 RENAME TO records;
   CREATE INDEX records_scope_version ON records (scope, version);`,
];

// the entities a pull asks for (a JSON array), or all when null
const ONLY = '(@entities IS NULL OR entity IN (SELECT value FROM json_each(@entities)))';

const SQL = {
  head: `SELECT value FROM meta WHERE key = 'head'`,
  setHead: `INSERT INTO meta (key, value) VALUES ('head', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
  all: `SELECT entity, id, owner, scope, version, writer, deleted, data FROM records`,
  upsert: `INSERT INTO records (entity, id, owner, scope, version, writer, deleted, data)
           VALUES (@entity, @id, @owner, @scope, @version, @writer, @deleted, @data)
           ON CONFLICT (entity, scope, id) DO UPDATE SET owner = excluded.owner,
             version = excluded.version, writer = excluded.writer, deleted = excluded.deleted, data = excluded.data`,
  watermark: `SELECT done FROM clients WHERE user = ? AND client = ?`,
  setWatermark: `INSERT INTO clients (user, client, done) VALUES (?, ?, ?)
                 ON CONFLICT (user, client) DO UPDATE SET done = max(done, excluded.done)`,
  prune: `DELETE FROM receipts WHERE user = ? AND client = ? AND seq <= ?`,
  receipts: `SELECT seq, result FROM receipts WHERE user = ? AND client = ? AND seq BETWEEN ? AND ?`,
  addReceipt: `INSERT OR REPLACE INTO receipts (user, client, seq, result) VALUES (?, ?, ?, ?)`,
  since: `SELECT entity, id, version, deleted, data FROM records WHERE scope = ? AND version > ? ORDER BY version LIMIT ?`,
  // The pull page built inside SQLite: two index range scans merged by
  // version (MERGE (UNION ALL)), each row formatted as its change object.
  pullJson: `SELECT count(*), max(version), group_concat(j, ',' ORDER BY version) FROM (
      SELECT ${changeJson()} AS j, version FROM records WHERE scope = @scope AND version > @since AND ${ONLY}
      UNION ALL
      SELECT ${changeJson()} AS j, version FROM records WHERE scope = '*' AND version > @since AND @scope <> '*' AND ${ONLY}
      ORDER BY version LIMIT @limit)`,
};

/** SQL for one change object of the pull response (docs/sync.md). */
function changeJson() {
  return `'{"entity":' || json_quote(entity) || ',"id":' || json_quote(id) || ',"version":' || version ||
    CASE WHEN deleted THEN ',"deleted":true}' ELSE ',"record":' || data || '}' END`;
}

/** Loads better-sqlite3: an optional dependency, which `npm install` adds
 * wherever it installs (a prebuilt binary, else a build from source with
 * python3, make and g++); `npm install --omit=optional` leaves it out for
 * browser-only users. */
async function loadDriver() {
  try {
    return (await import('better-sqlite3')).default;
  } catch (err) {
    if (err && (err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'MODULE_NOT_FOUND')) {
      throw new Error('nitro-wasm server: SQLite storage needs better-sqlite3, an optional dependency that did not install here: run `npm install better-sqlite3@12` (without a prebuilt binary it builds from source: apt-get install -y python3 make g++), or use --db postgres://...');
    }
    throw err;
  }
}

/** Opens `file` in WAL mode and runs the pending migrations. */
async function openDatabase(file, sync) {
  const Database = await loadDriver();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync}`);
  db.pragma('foreign_keys = OFF');
  const at = db.pragma('user_version', { simple: true });
  if (at > MIGRATIONS.length) throw new Error(`nitro-wasm server: ${file} was written by a newer version (schema ${at})`);
  for (let v = at; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return db;
}

/** The statements of SQL, prepared. */
function prepare(db) {
  const st = Object.fromEntries(Object.entries(SQL).map(([k, sql]) => [k, db.prepare(sql)]));
  // rows as arrays: pulls read many, and arrays are cheaper to make
  st.since.raw(true);
  st.pullJson.raw(true);
  return st;
}

/**
 * @param {string} file database path (':memory:' for a throwaway store)
 * @param {{ synchronous?: 'NORMAL' | 'FULL' }} [options] FULL also survives
 *   power loss; NORMAL (the WAL default) survives any process crash.
 */
export function sqliteStorage(file, options = {}) {
  let db = null;
  let st = null;
  const sync = options.synchronous === 'FULL' ? 'FULL' : 'NORMAL';

  return {
    kind: 'sqlite',
    async open() {
      db = await openDatabase(file, sync);
      st = prepare(db);
    },

    async close() {
      if (db) db.close();
      db = null;
    },

    async head() {
      const row = st.head.get();
      return row ? Number(row.value) : 0;
    },

    async loadRecords(onRecord) {
      for (const r of st.all.iterate()) {
        onRecord({ entity: r.entity, id: r.id, owner: r.owner, scope: r.scope, version: r.version, writer: r.writer, deleted: r.deleted === 1, data: r.data });
      }
    },

    async watermark(user, client) {
      const row = st.watermark.get(user, client);
      return row ? row.done : 0;
    },

    async receipts(user, client, from, to) {
      const out = new Map();
      for (const r of st.receipts.iterate(user, client, from, to)) out.set(r.seq, r.result);
      return out;
    },

    async commitPush({ user, client, done, head, records, receipts }) {
      return this.commitPushes({ head, records, clients: [{ user, client, done, receipts }] });
    },

    /** Group commit: several clients' pushes in ONE transaction (one WAL
     * write for all of them). */
    groupCommit: true,
    async commitPushes({ head, records, clients }) {
      db.transaction(() => {
        for (const r of records) st.upsert.run({ ...r, deleted: r.deleted ? 1 : 0 });
        for (const { user, client, done, receipts } of clients) {
          for (const r of receipts) st.addReceipt.run(user, client, r.seq, r.result);
          st.setWatermark.run(user, client, done);
          if (done > 0) st.prune.run(user, client, done);
        }
        st.setHead.run(String(head));
      })();
    },

    async changesSince({ scope, since, limit }) {
      return st.since.all(scope, since, limit).map((r) => ({ entity: r[0], id: r[1], version: r[2], deleted: r[3] === 1, data: r[4] }));
    },

    async pullJson({ scope, since, limit, entities = null }) {
      const [count, last, json] = st.pullJson.get({ scope, since, limit, entities: entities ? JSON.stringify(entities) : null });
      return { count, last: last ?? 0, json: json ?? '' };
    },

    /** The database handle (tests and tools). */
    get db() { return db; },
  };
}
