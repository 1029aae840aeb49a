// push.js - POST <base>/push: checks a push, queues it, and decides and
// commits pushes in groups, one group at a time.
//
// Pushes wait in a queue; one group at a time runs. A group takes every
// waiting push (one per client, so a client's resent batch sees the receipts
// of its first one) up to `groupMutations` mutations (one push when the
// storage has no group commit), decides them in arrival order on the
// in-memory mirror (authority.js) and commits them in ONE storage
// transaction: one WAL flush and one turn of the write lock for all of them.
import { HttpError } from './errors.js';

/** Checks a push body ({ client, done, mutations }); returns `done`. */
export function checkPush(body, maxBatch) {
  const bad = (msg) => { throw new HttpError(400, msg, { rule: 'format' }); };
  if (!body || typeof body !== 'object' || Array.isArray(body)) bad('a push is { client, done, mutations }');
  if (typeof body.client !== 'string' || body.client === '' || body.client.length > 200) bad('client must be a string of 1 to 200 characters');
  const done = body.done === undefined ? 0 : body.done;
  if (!Number.isSafeInteger(done) || done < 0) bad('done must be a non-negative integer');
  if (!Array.isArray(body.mutations) || body.mutations.length === 0) bad('mutations must be a non-empty array');
  if (body.mutations.length > maxBatch) throw new HttpError(413, `at most ${maxBatch} mutations per push`, { rule: 'batch' });
  body.mutations.forEach((m, i) => checkMutation(m, `mutations[${i}]`, bad));
  return done;
}

function checkMutation(m, at, bad) {
  if (!m || typeof m !== 'object' || Array.isArray(m)) bad(`${at} must be an object`);
  if (!Number.isSafeInteger(m.seq) || m.seq < 1) bad(`${at}.seq must be a positive integer`);
  if (typeof m.entity !== 'string' || m.entity === '' || m.entity.length > 200) bad(`${at}.entity must be an entity name`);
  if (typeof m.id !== 'string' || m.id === '' || m.id.length > 1000) bad(`${at}.id must be a string of 1 to 1000 characters`);
  if (m.op !== 'create' && m.op !== 'update' && m.op !== 'delete') bad(`${at}.op must be create, update or delete`);
  if (m.op !== 'delete' && (!m.fields || typeof m.fields !== 'object' || Array.isArray(m.fields))) bad(`${at}.fields must be an object`);
  if (m.base !== undefined && m.base !== null && !(typeof m.base === 'number' && m.base >= 0)) bad(`${at}.base must be a version number`);
}

/** The pushes of one server: a queue, decided and committed a group at a time. */
class Pusher {
  /**
   * @param {object} o
   * @param {object} o.storage storage with defaults (storage/index.js)
   * @param {import('./authority.js').Authority} o.authority
   * @param {number} o.groupMutations most mutations committed together
   * @param {(msg: string, err?: unknown) => void} o.log
   * @param {(head: number, rows: object[]) => void} o.onCommit after each commit
   */
  constructor({ storage, authority, groupMutations, log, onCommit }) {
    Object.assign(this, { storage, authority, groupMutations, log, onCommit });
    this.queued = [];
    this.chain = Promise.resolve();
    this.groupWaiting = false;
    this.closed = false;
    // Set when the in-memory state could not be rebuilt from storage after
    // a failed push: pushes are then refused (503, retried by clients) until
    // a reload succeeds, so no push is ever decided on a stale or closed state.
    this.stale = false;
  }

  /** Decides and commits a checked push: resolves with { results, head }. */
  push(user, body, done) {
    return new Promise((resolve, reject) => {
      this.queued.push({ user, body, done, resolve, reject });
      this.#scheduleGroup();
    });
  }

  /** Waits for the group under way; later ones are refused. */
  async close() {
    this.closed = true;
    await this.chain;
  }

  #scheduleGroup() {
    if (this.groupWaiting) return;
    this.groupWaiting = true;
    const p = this.chain.then(async () => {
      this.groupWaiting = false;
      const group = this.#takeGroup();
      if (this.queued.length) this.#scheduleGroup();
      if (group.length) await this.#runGroup(group);
    });
    this.chain = p.catch(() => {});
  }

  #takeGroup() {
    const limit = this.storage.groupCommit ? this.groupMutations : 0;
    const { queued } = this;
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

  /** False (after refusing the group) when the server cannot decide now. */
  async #usable(group) {
    const refuse = (msg) => { for (const it of group) it.reject(new HttpError(503, msg, { retryAfter: 1 })); return false; };
    if (this.closed) return refuse('server is shutting down');
    if (!this.stale) return true;
    try {
      await this.authority.load(this.storage);
      this.stale = false;
      return true;
    } catch (e) {
      this.log('nitro-wasm server: reload failed again:', e);
      return refuse('storage unavailable; try again');
    }
  }

  /** Decides the group on the mirror and commits it: { plans, head, rows }. */
  async #decideAndCommit(group) {
    const { storage, authority } = this;
    // Several instances on one database: take the database's write lock and
    // first take in what the others committed (none for a single instance).
    const { head: known, rows: caught } = await storage.beginPush(authority.head);
    if (caught.length || known > authority.head) authority.catchUp(caught, known);
    const asks = group.map((it) => {
      const seqs = it.body.mutations.map((m) => m.seq);
      return { user: it.user, client: it.body.client, from: Math.min(...seqs), to: Math.max(...seqs) };
    });
    const states = await storage.clientStates(asks);
    // `done` says the client has the answers up to there: older seqs are stale
    const marks = group.map((it, i) => Math.max(states[i].done, it.done));
    const plans = group.map((it, i) => authority.applyPush(it.user, it.body.client, it.body.mutations, states[i].receipts, marks[i]));
    const records = new Map();
    for (const p of plans) for (const r of p.records) records.set(`${r.entity}\u0000${r.scope}\u0000${r.id}`, r);
    const head = plans[plans.length - 1].head;
    const clients = group.map((it, i) => ({ user: it.user, client: it.body.client, done: marks[i], receipts: plans[i].receipts }));
    await storage.commitPushes({ head, records: [...records.values()], clients });
    return { plans, head, rows: caught.length ? [...caught, ...records.values()] : [...records.values()] };
  }

  async #runGroup(group) {
    if (!await this.#usable(group)) return;
    let done;
    try {
      done = await this.#decideAndCommit(group);
    } catch (err) {
      this.log('nitro-wasm server: push failed in storage, reloading state from it:', err);
      await this.storage.abortPush().catch(() => {});
      try {
        await this.authority.load(this.storage);
      } catch (e) {
        this.stale = true;
        this.log('nitro-wasm server: reload failed:', e);
      }
      for (const it of group) it.reject(new HttpError(503, 'storage failed; try again', { retryAfter: 1 }));
      return;
    }
    this.onCommit(done.head, done.rows);
    group.forEach((it, i) => it.resolve(done.plans[i]));
  }
}

/** A Pusher (above): push(user, body, done) and close(). */
export function createPusher(options) {
  return new Pusher(options);
}
