// storage/postgres.js - the sync server's storage in PostgreSQL (`--db
// postgres://...` or DATABASE_URL), for running several server instances on
// one database. It implements the storage interface documented at the top of
// storage/index.js, plus what several instances need:
//
//   beginPush(knownHead) -> { head, rows }
//       Opens the push transaction and takes the write lock (below). `rows`
//       are the records other instances committed above `knownHead` (same
//       shape as loadRecords rows, by version): the server applies them to
//       its in-memory mirror before deciding the push. watermark(), receipts()
//       and commitPush() then run inside this transaction; commitPush()
//       commits it, abortPush() rolls it back.
//   abortPush()
//   clientStates([{ user, client, from, to }]) -> [{ done, receipts }]
//   commitPushes({ head, records, clients: [{ user, client, done, receipts }] })
//       Group commit: the watermarks/receipts of several clients in one
//       round trip, and their pushes (decided one after the other on the
//       mirror) in ONE transaction: one WAL flush and one turn of the write
//       lock for all of them. commitPush() is commitPushes() of one client.
//   subscribe(fn) -> unsubscribe
//       fn({ head, scopes: Set<string> }) after another instance committed
//       (PostgreSQL LISTEN/NOTIFY); scopes holds '*' when every stream should
//       hear it (shared records, too many scopes, or a listener reconnect).
//   ping()              resolves when the database answers and the listener is up
//
// ---- Why the global order stays gap-free -----------------------------------------
// Versions are handed out by the instance that commits, so two instances
// must never decide at the same time, and a reader must never see version
// n+1 committed while n is still to come (it would move its checkpoint past
// n and skip it forever). Both follow from one rule: every push transaction
// first locks the single `head` row of nitro_meta (SELECT ... FOR UPDATE) and
// holds it until COMMIT. So pushes from all instances are serialised, each
// one allocates versions above the head it read under the lock, and commits
// become visible strictly in version order (PostgreSQL makes a commit
// visible before it releases the transaction's locks). A reader's snapshot
// that shows a version therefore shows every lower one. We chose this over
// a sequence + "only expose versions below the oldest in-flight one"
// because the server's in-memory mirror (authority.js) must decide on the
// latest state anyway, which needs the serialisation; the cost is one
// commit (one WAL flush) at a time across all instances, so throughput comes
// from batching many mutations per push.
//
// Without beginPush (a server that calls only the base interface) the lock is
// taken inside commitPush, and a push decided on a stale mirror (another
// instance committed since) is refused with StaleHeadError instead of being
// written: correct, but the server must reload. Pulls that ask for several
// scopes in the same tick (authority.changes: the user's and '*') are
// answered by ONE statement, so both lists come from the same snapshot.

import { randomUUID } from 'node:crypto';
import { MIGRATIONS } from './migrations/postgres.js';

export { MIGRATIONS };

/** Key of the session advisory lock that lets one starting instance migrate. */
const MIGRATION_LOCK = 7_344_102_915;
/** pg_notify payloads must stay under 8000 bytes. */
const MAX_PAYLOAD = 7800;
const PAGE = 5000;

export class StaleHeadError extends Error {
  constructor(known, actual) {
    super(`another server instance committed first (head ${actual}, this instance knew ${known}); reload and retry`);
    this.name = 'StaleHeadError';
    this.code = 'STALE';
  }
}

/** Errors of a lost or refused connection (worth one more try), as
 * opposed to errors of the statement itself. */
function isConnectionError(err) {
  const code = err && err.code;
  if (typeof code === 'string') return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === 'ECONNREFUSED' || code === 'ECONNRESET';
  return /connection|terminated/i.test(String(err && err.message));
}

/** Loads pg (an optional peer dependency: only PostgreSQL users need it). */
async function loadDriver() {
  try {
    return (await import('pg')).default;
  } catch (err) {
    if (err && (err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'MODULE_NOT_FOUND')) {
      throw new Error('nitro-wasm server: PostgreSQL storage needs pg: run `npm install pg`');
    }
    throw err;
  }
}

const SQL = {
  head: `SELECT value FROM nitro_meta WHERE key = 'head'`,
  // One round trip: open the transaction and take the write lock.
  lock: `BEGIN; SELECT value FROM nitro_meta WHERE key = 'head' FOR UPDATE`,
  page: `SELECT entity, id, owner, scope, version, writer, deleted, data FROM nitro_records
         WHERE (entity, scope, id) > ($1, $2, $3) ORDER BY entity, scope, id LIMIT ${PAGE}`,
  watermark: `SELECT done FROM nitro_clients WHERE user_id = $1 AND client = $2`,
  receipts: `SELECT seq, result FROM nitro_receipts WHERE user_id = $1 AND client = $2 AND seq BETWEEN $3 AND $4`,
  // watermark and receipts asked for together: one round trip (seq -1 = the watermark)
  clientState: `SELECT -1::bigint AS seq, done::text AS result FROM nitro_clients WHERE user_id = $1 AND client = $2
    UNION ALL SELECT seq, result FROM nitro_receipts WHERE user_id = $1 AND client = $2 AND seq BETWEEN $3 AND $4`,
  // commitPush in one statement (data-modifying CTEs all run to completion).
  // Receipts at or below `done` are filtered out in JS instead of inserted
  // and pruned: all CTEs share one snapshot, so the DELETE would not see them.
  // One statement for any number of clients' pushes (data-modifying CTEs
  // all run to completion). Receipts at or below a client's `done` are
  // filtered out in JS instead of inserted and pruned: all CTEs share one
  // snapshot, so the DELETE would not see rows inserted beside it.
  commit: `WITH r AS (
      INSERT INTO nitro_records AS t (entity, id, owner, scope, version, writer, deleted, data)
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::boolean[], $8::text[])
      ON CONFLICT (entity, scope, id) DO UPDATE SET owner = excluded.owner, version = excluded.version,
        writer = excluded.writer, deleted = excluded.deleted, data = excluded.data
      RETURNING 1
    ), rc AS (
      INSERT INTO nitro_receipts (user_id, client, seq, result)
      SELECT * FROM unnest($9::text[], $10::text[], $11::bigint[], $12::text[])
      ON CONFLICT (user_id, client, seq) DO UPDATE SET result = excluded.result
      RETURNING 1
    ), w AS (
      INSERT INTO nitro_clients AS c (user_id, client, done)
      SELECT * FROM unnest($13::text[], $14::text[], $15::bigint[])
      ON CONFLICT (user_id, client) DO UPDATE SET done = greatest(c.done, excluded.done)
      RETURNING 1
    ), p AS (
      DELETE FROM nitro_receipts d USING unnest($13::text[], $14::text[], $15::bigint[]) AS x(u, c, done)
      WHERE d.user_id = x.u AND d.client = x.c AND d.seq <= x.done RETURNING 1
    ), h AS (
      UPDATE nitro_meta SET value = $16 WHERE key = 'head' RETURNING 1
    )
    SELECT CASE WHEN $17::text IS NULL THEN NULL ELSE pg_notify($18, $17) END AS notified`,
  // clientStates: watermarks (seq -1) and receipts of many clients at once
  clientStates: `WITH q AS (
      SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) WITH ORDINALITY AS q(u, c, f, t, i))
    SELECT q.i, -1::bigint AS seq, cl.done::text AS result FROM q JOIN nitro_clients cl ON cl.user_id = q.u AND cl.client = q.c
    UNION ALL
    SELECT q.i, r.seq, r.result FROM q JOIN nitro_receipts r ON r.user_id = q.u AND r.client = q.c AND r.seq BETWEEN q.f AND q.t`,
};

/** BEGIN, the write lock, and what other instances wrote above `known`, in
 * one round trip (the lock is held while pushes wait for the database, so
 * every round trip under it costs all instances). The third statement takes
 * its snapshot after the lock is granted, so it sees every earlier commit.
 * `known` is a checked integer, safe to inline. */
function lockSql(known) {
  return `BEGIN; SELECT value FROM nitro_meta WHERE key = 'head' FOR UPDATE;
    SELECT entity, id, owner, scope, version, writer, deleted, data FROM nitro_records WHERE version > ${known} ORDER BY version`;
}

/** A prepared statement: planned once per connection. */
const named = (name, text, values) => ({ name: `nitro_${name}`, text, values });

function recordRow(r) {
  return { entity: r.entity, id: r.id, owner: r.owner, scope: r.scope, version: Number(r.version), writer: r.writer, deleted: r.deleted, data: r.data };
}

/**
 * @param {string} url postgres://user:pass@host:port/db
 * @param {object} [options]
 * @param {number} [options.poolSize=10] connections for pulls and pushes
 * @param {string} [options.channel='nitro_changes'] LISTEN/NOTIFY channel
 * @param {{ warn(msg: string, f?: object): void }} [options.logger]
 */
export class PostgresStorage {
  kind = 'postgres';
  groupCommit = true;
  instance = randomUUID();
  #url = null;
  #poolSize = null;
  #channel = null;
  #logger = null;
  #pg = null;
  #pool = null;
  #listener = null;
  #listening = false;
  #reconnectTimer = null;
  #reconnectDelay = 100;
  #closed = false;
  #knownHead = 0;       // the head the server's mirror is at
  #snapshotHead = null; // head read in loadRecords' snapshot, for head()
  #tx = null;           // client holding the open push transaction
  #subscribers = new Set();
  #pendingPulls = null; // changesSince calls of this tick, one statement
  #joint = null;

  constructor(url, options = {}) {
    this.#url = url;
    this.#poolSize = options.poolSize || 10;
    this.#channel = options.channel || 'nitro_changes';
    if (!/^[a-z_][a-z0-9_]*$/.test(this.#channel)) throw new Error(`nitro-wasm server: bad channel name ${this.#channel}`);
    this.#logger = options.logger || { warn: (msg, f) => console.error(`nitro-wasm server: ${msg}`, f && f.err ? f.err.message : '') };
  }


  #emit(head, scopes) {
    for (const fn of this.#subscribers) {
      try { fn({ head, scopes }); } catch (err) { this.#logger.warn('change subscriber failed', { err }); }
    }
  }

  async #migrate() {
    const client = await this.#checkout();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      try {
        await client.query(`CREATE TABLE IF NOT EXISTS nitro_migrations (
          version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
        const at = Number((await client.query('SELECT coalesce(max(version), 0) AS v FROM nitro_migrations')).rows[0].v);
        if (at > MIGRATIONS.length) throw new Error(`nitro-wasm server: the database was migrated by a newer version (schema ${at})`);
        for (let v = at; v < MIGRATIONS.length; v++) {
          await client.query('BEGIN');
          try {
            await client.query(MIGRATIONS[v]);
            await client.query('INSERT INTO nitro_migrations (version) VALUES ($1)', [v + 1]);
            await client.query('COMMIT');
          } catch (err) {
            await client.query('ROLLBACK').catch(() => {});
            throw err;
          }
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
      }
    } finally {
      this.#giveBack(client);
    }
  }

  #onNotification(msg) {
    if (msg.channel !== this.#channel) return;
    let p;
    try { p = JSON.parse(msg.payload); } catch { return; }
    // Our own commits: the server has told its streams already.
    if (!p || p.i === this.instance) return;
    this.#emit(Number(p.h), new Set(Array.isArray(p.s) ? p.s : ['*']));
  }

  async #listen() {
    const c = new this.#pg.Client({ connectionString: this.#url, application_name: 'nitro-wasm listen' });
    c.on('notification', (m) => this.#onNotification(m));
    const lost = (err) => {
      if (this.#listener !== c) return;
      this.#listener = null;
      this.#listening = false;
      c.removeAllListeners('notification');
      c.end().catch(() => {});
      if (this.#closed) return;
      this.#logger.warn('change listener lost; reconnecting', { err });
      this.#scheduleListen();
    };
    c.on('error', lost);
    c.on('end', () => lost(new Error('connection ended')));
    try {
      await c.connect();
      await c.query(`LISTEN ${this.#channel}`);
    } catch (err) {
      c.end().catch(() => {});
      throw err;
    }
    this.#listener = c;
    this.#listening = true;
    this.#reconnectDelay = 100;
  }

  #scheduleListen() {
    if (this.#closed || this.#reconnectTimer) return;
    this.#reconnectTimer = setTimeout(async () => {
      this.#reconnectTimer = null;
      try {
        await this.#listen();
      } catch (err) {
        this.#reconnectDelay = Math.min(this.#reconnectDelay * 2, 5000);
        this.#logger.warn('change listener reconnect failed', { err });
        this.#scheduleListen();
        return;
      }
      // Notifications sent while we were away are gone: tell every stream
      // to pull; clients compare with their checkpoints.
      let h = this.#knownHead;
      try { h = Number((await this.#pool.query(SQL.head)).rows[0].value); } catch { /* the hint still helps */ }
      this.#emit(h, new Set(['*']));
    }, this.#reconnectDelay);
    this.#reconnectTimer.unref?.();
  }

  // A client checked out of the pool has no 'error' listener (the pool
  // removes its own), and a connection that dies between two queries of a
  // transaction emits one: unheard, it would crash the process. The next
  // query on it fails and the push is answered 503.
  // The listener goes on inside pool.connect's callback: with the promise
  // form it would come a microtask late, and an error message parsed from
  // the same network read as the connection's last setup message would
  // find no listener (seen when connections are killed under load).
  #onCheckedOutError = (err) => this.#logger.warn('database connection lost during a transaction', { err });
  #checkout() {
    return new Promise((resolve, reject) => {
      this.#pool.connect((err, client) => {
        if (err) { reject(err); return; }
        client.on('error', this.#onCheckedOutError);
        resolve(client);
      });
    });
  }
  #giveBack(client, err) {
    client.removeListener('error', this.#onCheckedOutError);
    client.release(err); // with an error, a broken connection leaves the pool
  }

  /** Ends a transaction and returns the client to the pool; throws `err`
   * (after a ROLLBACK) or the failure of `sql` itself (a failed COMMIT). */
  async #finishTx(client, sql, err) {
    try {
      await client.query(sql);
      this.#giveBack(client);
    } catch (e) {
      this.#giveBack(client, e);
      if (!err) throw e;
    }
    if (err) throw err;
  }

  // The server asks for a client's receipts and watermark together
  // (Promise.all) at the start of each push: answer both with one statement
  // when they arrive in the same tick for the same client.
  #jointRead(user, client, from, to) {
    if (!this.#tx) return null;
    if (this.#joint && (this.#joint.user !== user || this.#joint.client !== client || (from !== undefined && this.#joint.from !== undefined))) return null;
    if (!this.#joint) {
      const j = { user, client, from, to, conn: this.#tx };
      j.promise = new Promise((resolve, reject) => {
        queueMicrotask(() => {
          this.#joint = null;
          if (j.from === undefined) {
            // only the watermark was asked for
            j.conn.query(named('watermark', SQL.watermark, [user, client]))
              .then(({ rows }) => resolve({ done: rows.length ? Number(rows[0].done) : 0, receipts: new Map() }), reject);
            return;
          }
          j.conn.query(named('client_state', SQL.clientState, [user, client, j.from, j.to])).then(({ rows }) => {
            let done = 0;
            const receipts = new Map();
            for (const r of rows) {
              const seq = Number(r.seq);
              if (seq === -1) done = Number(r.result);
              else receipts.set(seq, r.result);
            }
            resolve({ done, receipts });
          }, reject);
        });
      });
      this.#joint = j;
    } else if (from !== undefined) {
      this.#joint.from = from;
      this.#joint.to = to;
    }
    return this.#joint;
  }

  /** Reads every record in one REPEATABLE READ snapshot; returns its head. */
  async #loadSnapshot(onRecord) {
    const client = await this.#checkout();
    let h;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      h = Number((await client.query(SQL.head)).rows[0].value);
      let last = ['', '', ''];
      for (;;) {
        const { rows } = await client.query(SQL.page, last);
        for (const r of rows) onRecord(recordRow(r));
        if (rows.length < PAGE) break;
        const end = rows[rows.length - 1];
        last = [end.entity, end.scope, end.id];
      }
    } catch (err) {
      return this.#finishTx(client, 'ROLLBACK', err);
    }
    // Read-only: what was read is a consistent snapshot even if the
    // connection dies before COMMIT.
    await this.#finishTx(client, 'COMMIT').catch(() => {});
    return h;
  }

  #flushPulls() {
    const batch = this.#pendingPulls;
    this.#pendingPulls = null;
    for (const [, group] of batch) {
      const scopes = [...group.waiters.keys()];
      const parts = scopes.map((_, i) =>
        `(SELECT entity, id, version, deleted, data, ${i}::int AS k FROM nitro_records
          WHERE scope = $${i + 3} AND version > $1 ORDER BY version LIMIT $2)`);
      this.#pool.query(parts.join(' UNION ALL '), [group.since, group.limit, ...scopes]).then((res) => {
        const lists = scopes.map(() => []);
        for (const r of res.rows) lists[r.k].push({ entity: r.entity, id: r.id, version: Number(r.version), deleted: r.deleted, data: r.data });
        // UNION ALL keeps each branch's order in practice; do not rely on it.
        scopes.forEach((s, i) => {
          lists[i].sort((a, b) => a.version - b.version);
          for (const w of group.waiters.get(s)) w.resolve(lists[i]);
        });
      }, (err) => {
        for (const ws of group.waiters.values()) for (const w of ws) w.reject(err);
      });
    }
  }


  async open() {
    this.#pg = await loadDriver();
    this.#pool = new this.#pg.Pool({ connectionString: this.#url, max: this.#poolSize, application_name: 'nitro-wasm' });
    // An idle client losing its connection must not crash the process.
    this.#pool.on('error', (err) => this.#logger.warn('idle database connection failed', { err }));
    try {
      await this.#migrate();
      await this.#listen();
    } catch (err) {
      await this.#pool.end().catch(() => {});
      this.#pool = null;
      throw err;
    }
  }

  async close() {
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    if (this.#tx) await this.abortPush().catch(() => {});
    if (this.#listener) {
      const c = this.#listener;
      this.#listener = null;
      this.#listening = false;
      await c.end().catch(() => {});
    }
    if (this.#pool) await this.#pool.end().catch(() => {});
    this.#pool = null;
  }

  async ping() {
    await this.#pool.query('SELECT 1');
    if (!this.#listening) throw new Error('change listener is reconnecting');
  }

  /** The head the last loadRecords() saw (so the mirror and its head
   * come from one snapshot), else the committed head now. */
  async head() {
    let h = this.#snapshotHead;
    this.#snapshotHead = null;
    if (h === null) h = Number((await this.#pool.query(SQL.head)).rows[0].value);
    this.#knownHead = h;
    return h;
  }

  /** Every record, from one snapshot. A connection lost on the way
   * restarts the read (at most 3 times), so onRecord may see rows again:
   * the server's mirror puts records, which makes that harmless. */
  async loadRecords(onRecord) {
    for (let attempt = 1; ; attempt++) {
      try {
        this.#snapshotHead = await this.#loadSnapshot(onRecord);
        return;
      } catch (err) {
        this.#snapshotHead = null;
        if (attempt >= 3 || !isConnectionError(err)) throw err;
        this.#logger.warn('connection lost while loading records; reading again', { err });
      }
    }
  }

  async beginPush(known = this.#knownHead) {
    if (this.#tx) throw new Error('nitro-wasm server: a push transaction is already open');
    if (!Number.isSafeInteger(known) || known < 0) throw new Error(`nitro-wasm server: bad known head ${known}`);
    const client = await this.#checkout();
    try {
      const res = await client.query(lockSql(known));
      const head = Number(res[1].rows[0].value);
      const rows = res[2].rows.map(recordRow);
      this.#tx = client;
      this.#knownHead = head;
      return { head, rows };
    } catch (err) {
      return this.#finishTx(client, 'ROLLBACK', err);
    }
  }

  async abortPush() {
    const client = this.#tx;
    this.#tx = null;
    if (client) await this.#finishTx(client, 'ROLLBACK');
  }

  async watermark(user, client) {
    const j = this.#jointRead(user, client);
    if (j) return (await j.promise).done;
    const { rows } = await (this.#tx || this.#pool).query(named('watermark', SQL.watermark, [user, client]));
    return rows.length ? Number(rows[0].done) : 0;
  }

  async receipts(user, client, from, to) {
    const j = this.#jointRead(user, client, from, to);
    if (j) return (await j.promise).receipts;
    const { rows } = await (this.#tx || this.#pool).query(named('receipts', SQL.receipts, [user, client, from, to]));
    const out = new Map();
    for (const r of rows) out.set(Number(r.seq), r.result);
    return out;
  }

  async commitPush({ user, client, done, head, records, receipts }) {
    return this.commitPushes({ head, records, clients: [{ user, client, done, receipts }] });
  }

  /**
   * Group commit: the pushes of several clients decided one after the
   * other on the mirror, committed in ONE transaction (one WAL flush, one
   * turn of the write lock). `records` hold each record's last row;
   * `clients` = [{ user, client, done, receipts }].
   */
  async commitPushes({ head, records, clients }) {
    let conn = this.#tx;
    this.#tx = null;
    if (!conn) {
      conn = await this.#checkout();
      let actual;
      try {
        actual = Number((await conn.query(SQL.lock))[1].rows[0].value);
      } catch (err) {
        return this.#finishTx(conn, 'ROLLBACK', err);
      }
      if (actual !== this.#knownHead) return this.#finishTx(conn, 'ROLLBACK', new StaleHeadError(this.#knownHead, actual));
    }
    const cols = [[], [], [], [], [], [], [], []];
    const scopes = new Set();
    for (const r of records) {
      cols[0].push(r.entity); cols[1].push(r.id); cols[2].push(r.owner); cols[3].push(r.scope);
      cols[4].push(r.version); cols[5].push(r.writer || ''); cols[6].push(!!r.deleted); cols[7].push(r.data ?? null);
      scopes.add(r.scope);
    }
    // One row per client and per receipt, or ON CONFLICT would meet a row twice.
    const byClient = new Map();
    for (const c of clients) {
      const k = `${c.user}\u0000${c.client}`;
      const m = byClient.get(k);
      if (!m) byClient.set(k, { user: c.user, client: c.client, done: c.done, receipts: new Map(c.receipts.map((r) => [r.seq, r.result])) });
      else {
        m.done = Math.max(m.done, c.done);
        for (const r of c.receipts) m.receipts.set(r.seq, r.result);
      }
    }
    const rc = [[], [], [], []];
    const wm = [[], [], []];
    for (const c of byClient.values()) {
      wm[0].push(c.user); wm[1].push(c.client); wm[2].push(c.done);
      for (const [seq, result] of c.receipts) {
        if (seq > c.done) { rc[0].push(c.user); rc[1].push(c.client); rc[2].push(seq); rc[3].push(result); }
      }
    }
    let payload = null;
    if (records.length) {
      payload = JSON.stringify({ i: this.instance, h: head, s: [...scopes] });
      if (payload.length > MAX_PAYLOAD) payload = JSON.stringify({ i: this.instance, h: head, s: null });
    }
    try {
      await conn.query(named('commit', SQL.commit, [...cols, ...rc, ...wm, String(head), payload, this.#channel]));
    } catch (err) {
      return this.#finishTx(conn, 'ROLLBACK', err);
    }
    await this.#finishTx(conn, 'COMMIT');
    this.#knownHead = head;
  }

  /** Watermark and receipts of several clients in one round trip:
   * queries [{ user, client, from, to }] -> [{ done, receipts: Map }]. */
  async clientStates(queries) {
    const cols = [[], [], [], []];
    for (const q of queries) { cols[0].push(q.user); cols[1].push(q.client); cols[2].push(q.from); cols[3].push(q.to); }
    const { rows } = await (this.#tx || this.#pool).query(named('client_states', SQL.clientStates, cols));
    const out = queries.map(() => ({ done: 0, receipts: new Map() }));
    for (const r of rows) {
      const o = out[Number(r.i) - 1];
      const seq = Number(r.seq);
      if (seq === -1) o.done = Number(r.result);
      else o.receipts.set(seq, r.result);
    }
    return out;
  }

  changesSince({ scope, since, limit }) {
    return new Promise((resolve, reject) => {
      if (!this.#pendingPulls) {
        this.#pendingPulls = new Map();
        queueMicrotask(() => this.#flushPulls());
      }
      const k = `${since}\u0000${limit}`;
      let group = this.#pendingPulls.get(k);
      if (!group) { group = { since, limit, waiters: new Map() }; this.#pendingPulls.set(k, group); }
      if (!group.waiters.has(scope)) group.waiters.set(scope, []);
      group.waiters.get(scope).push({ resolve, reject });
    });
  }

  subscribe(fn) {
    this.#subscribers.add(fn);
    return () => this.#subscribers.delete(fn);
  }

  /** The pool (tests and tools). */
  get pool() { return this.#pool; }
}

/**
 * @param {string} url postgres://user:pass@host:port/db
 * @param {object} [options] see PostgresStorage
 */
export function postgresStorage(url, options = {}) {
  return new PostgresStorage(url, options);
}
