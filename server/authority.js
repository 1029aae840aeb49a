// authority.js - the server's authoritative state: every record in a nitro
// store (the same WebAssembly entity definitions the clients use, so a push
// is validated by exactly the rules a local write meets: types, ranges,
// unique keys, references, validate functions, onDelete effects), plus who
// owns each record and at which version it is. It mirrors what storage holds
// and is rebuilt from it at start (and after a failed commit).
//
// applyPush() is synchronous: it decides every mutation of a push in order
// and returns what storage must commit; the server commits, then answers.
// The writes of a push go to the store in one call (server/batch.js,
// src/batch.h), each in its own savepoint, and come back with the rows they
// changed. Each user's private records live in that user's own namespace
// (namespace.js).
import { applyServerState } from '../js/sync-protocol.js';
import { isReservedKey } from '../js/keys.js';
import { writeBatch, endGuard, BATCH_OP } from './batch.js';
import { Namespaces, SEP, OWNER, key, ownerOf, errorJson, restrictError } from './namespace.js';

const STATUS = { applied: 'applied', rejected: 'rejected', conflict: 'conflict', stale: 'stale' };
const MANY_REFUSALS = 4;   // validate refusals in one push before its writes go one per call
const OPS = { create: BATCH_OP.SAVE, update: BATCH_OP.UPDATE, delete: BATCH_OP.DELETE };

/** Rows stored before reserved ids were refused (issue 15) are left out of
 * the state instead of keeping the server from starting. */
function skipReserved(err) {
  if (!err || err.rule !== 'reserved-key') throw err;
}

export class Authority {
  /**
   * @param {() => Promise<import('../js/nitro.js').Nitro>} makeNitro a fresh
   *   nitro instance (outbox off)
   * @param {Record<string, object>} schema entity name -> definition
   */
  constructor(makeNitro, schema) {
    this.makeNitro = makeNitro;
    this.schema = schema;
    this.nitro = null;
    this.entities = new Map();
    this.meta = new Map();      // key(entity, internal id) -> { owner, scope, version, writer, deleted }
    this.head = 0;              // last version handed out
    this.kinds = new Map();     // entity -> { shared, owned, idName, refs: reference fields to private entities, validated, reachesValidated }
    this.scoped = new Uint8Array(0);  // table -> 1 for private entities (batch.js)
  }

  /** (Re)builds the state from storage. */
  async load(storage) {
    // The current state stays in place until the new one is complete: a
    // failed reload (storage down) leaves a working, if older, state behind.
    const nitro = await this.makeNitro();
    try {
      await this.#build(nitro, storage);
    } catch (err) {
      nitro.close();
      throw err;
    }
  }

  async #build(nitro, storage) {
    const ns = new Namespaces(this.schema);
    this.ns = ns;
    this.kinds = ns.kinds;
    const entities = new Map();
    for (const [name, def] of Object.entries(this.schema)) {
      // TTLs are each client's cache lifetime: the server keeps records until deleted.
      const { ttl, ...rest } = def;
      const ent = nitro.entity(name, this.ns.serverDef(name, rest));
      entities.set(name, ent);
    }
    const scoped = new Uint8Array(entities.size && Math.max(...[...entities.values()].map((e) => e.table)) + 1);
    for (const [name, ent] of entities) scoped[ent.table] = this.kinds.get(name).shared ? 0 : 1;
    const meta = new Map();
    let states = [];
    const flush = () => { applyServerState(nitro, states, 0, skipReserved); states = []; };
    await storage.loadRecords((row) => {
      const ent = entities.get(row.entity);
      const iid = this.ns.rowIid(row);
      meta.set(key(row.entity, iid), { owner: row.owner, scope: row.scope, version: row.version, writer: row.writer, deleted: row.deleted });
      if (!ent || row.deleted) return;
      states.push({ entity: ent, id: iid, version: row.version, record: this.ns.inward(row.entity, row.owner, JSON.parse(row.data), true) });
      if (states.length >= 5000) flush();
    });
    flush();
    const head = await storage.head();
    if (this.nitro) this.nitro.close();
    this.nitro = nitro;
    this.entities = entities;
    this.meta = meta;
    this.head = head;
    this.scoped = scoped;
  }

  /** Takes in records other server instances committed (rows as storage's
   * loadRecords gives them, by version) up to `head`. */
  catchUp(rows, head) {
    const states = [];
    for (const r of rows) {
      const iid = this.ns.rowIid(r);
      this.meta.set(key(r.entity, iid), { owner: r.owner, scope: r.scope, version: r.version, writer: r.writer, deleted: r.deleted });
      const ent = this.entities.get(r.entity);
      if (ent) states.push({ entity: ent, id: iid, version: r.version, record: r.deleted ? null : this.ns.inward(r.entity, r.owner, JSON.parse(r.data), true) });
    }
    applyServerState(this.nitro, states, 0, skipReserved);
    if (head > this.head) this.head = head;
  }

  close() {
    if (this.nitro) this.nitro.close();
    this.nitro = null;
  }

  /** The meta of `user`'s record `id` of `entity` (their own namespace, or the shared one). */
  metaOf(user, entity, id) {
    return this.meta.get(key(entity, this.ns.iid(entity, user, id)));
  }

  /** The record as `user` sees it now: { current, version }. */
  current(user, entity, id) {
    const ent = this.entities.get(entity);
    const m = ent ? this.metaOf(user, entity, id) : undefined;
    if (!m || m.deleted) return { current: null, version: m ? m.version : 0 };
    const rec = ent.get(this.ns.iid(entity, user, id));
    return { current: rec ? this.ns.outward(entity, rec) : null, version: m.version };
  }

  /**
   * Decides a push. `receipts` maps seqs answered before to their result
   * JSON; seqs <= `done` were answered and acknowledged long ago.
   * Returns { results, receipts: [{ seq, result }], records, scopes, head }.
   *
   * The new mutations are decided in as few calls into the store as the
   * order allows (#flush): one for a push without validate functions.
   */
  applyPush(user, client, mutations, receipts, done) {
    const ctx = { user, writer: `${user}\n${client}`, records: new Map(), scopes: new Set(), queue: [], refusals: 0 };
    const results = new Array(mutations.length);
    const fresh = [];
    const seen = new Map();
    mutations.forEach((m, i) => {
      // an earlier mutation still undecided that this one depends on: decide it first
      if (ctx.queue.length && (seen.get(m.seq) === null || receipts.has(m.seq))) this.#flush(ctx);
      const before = seen.get(m.seq) ?? receipts.get(m.seq);
      let r;
      if (m.seq <= done) {
        r = { seq: m.seq, status: STATUS.stale };
      } else if (before !== undefined) {
        r = { ...(typeof before === 'string' ? JSON.parse(before) : before), seq: m.seq };
        // A replay (the first answer was lost) of a write that another
        // writer has superseded since: the client may have pulled that while
        // this one was pending, so it is answered like a stale one, with the
        // record as it stands, or the client would keep its own older value.
        if (r.status === STATUS.applied && !seen.has(m.seq)) {
          const now = this.metaOf(user, m.entity, m.id);
          if (now && now.version !== r.version && now.writer !== ctx.writer) r = { seq: m.seq, status: STATUS.stale };
        }
      } else {
        const slot = { seq: m.seq, result: null };
        fresh.push(slot);
        seen.set(m.seq, null);
        const decided = (out) => { results[i] = out; slot.result = JSON.stringify(out); seen.set(m.seq, out); };
        const refused = this.#refuse(user, m);
        if (refused) decided(refused);
        else ctx.queue.push({ m, decided, approved: false });
        return;
      }
      results[i] = r;
    });
    if (ctx.queue.length) this.#flush(ctx);
    // Refused mutations are answered with the record as it stands after the
    // whole push, so the client can put itself right.
    results.forEach((r, i) => {
      if (r.status !== STATUS.applied) Object.assign(r, this.current(user, mutations[i].entity, mutations[i].id));
    });
    return { results, receipts: fresh, records: [...ctx.records.values()], scopes: ctx.scopes, head: this.head };
  }

  /** The refusal of a mutation that needs no look at the store, or null. */
  #refuse(user, m) {
    const ent = this.entities.get(m.entity);
    const reject = (err) => ({ seq: m.seq, status: STATUS.rejected, error: errorJson(err, user) });
    if (!ent || ent.def.sync === false) return reject({ code: 'SCHEMA', message: `${m.entity}: no such synced entity`, entity: m.entity, rule: 'schema' });
    // Refused for every op, before any lookup: such an id is never stored,
    // and it would reach Object.prototype in a client that binds it.
    if (isReservedKey(m.id)) {
      return reject({ code: 'VALIDATION', message: `${m.entity}.${ent.idName}: ${JSON.stringify(m.id)} is reserved (__proto__, constructor and prototype cannot be ids)`, entity: m.entity, field: ent.idName, rule: 'reserved-key' });
    }
    return null;
  }

  /** Decides the queued mutations: one store call for all of them, except
   * that a write needing JS approval (validate functions; before* handlers,
   * then one write per call) that is refused ends the call there: the
   * writes after it run again in the next call, on the store without it.
   * After MANY_REFUSALS refusals the rest go one write per call too. */
  #flush(ctx) {
    const hooked = this.#hooked();
    while (ctx.queue.length) {
      const items = hooked || ctx.refusals >= MANY_REFUSALS ? ctx.queue.slice(0, 1) : ctx.queue;
      let guardFrom = items.findIndex((it) => !it.approved && (hooked || this.#needsApproval(it.m)));
      if (guardFrom < 0) guardFrom = items.length;
      const writes = items.map((it) => this.#write(ctx, it.m));
      const { mark, results } = writeBatch(this.nitro, writes, guardFrom, this.scoped);
      let refused = -1, refusal = null;
      for (let i = guardFrom; i < results.length && refused < 0; i++) {
        if (results[i].status !== 'applied') continue;
        try {
          this.nitro._approve(results[i].events);
        } catch (err) {
          refused = i;
          refusal = err;
        }
      }
      if (mark !== null) endGuard(this.nitro, mark, refused < 0);
      const last = refused < 0 ? items.length : guardFrom;
      for (let i = 0; i < last; i++) this.#decide(ctx, items[i], writes[i], results[i]);
      if (refused < 0) { ctx.queue = ctx.queue.slice(items.length); continue; }
      // approved but undone with the refusal: they run again, unguarded
      ctx.refusals++;
      for (let i = guardFrom; i < refused; i++) items[i].approved = true;
      items[refused].decided({ seq: items[refused].m.seq, status: STATUS.rejected, error: errorJson(refusal, ctx.user) });
      ctx.queue = [...items.slice(guardFrom, refused), ...items.slice(refused + 1), ...ctx.queue.slice(items.length)];
    }
  }

  /** Whether a before* handler is registered for any entity (its writes
   * then go one per call: a handler may write itself). */
  #hooked() {
    const bus = this.nitro.bus;
    for (const name of this.entities.keys()) {
      if (bus.hasListeners(`${name}.beforeSave`) || bus.hasListeners(`${name}.beforeDelete`)) return true;
    }
    return false;
  }

  /** Whether the writes of `m` may meet a validate function: its entity
   * has one, or a delete's onDelete effects reach one. */
  #needsApproval(m) {
    const plan = this.kinds.get(m.entity);
    return plan.validated || (m.op === 'delete' && plan.reachesValidated);
  }

  /** The store write of `m` (server/batch.js), with the checks that depend on
   * this.meta made now, in the order a single write makes them: conflict,
   * the hidden OWNER field, references into the user's own records. */
  #write(ctx, m) {
    const ent = this.entities.get(m.entity);
    const kind = this.kinds.get(m.entity);
    const iid = this.ns.iid(m.entity, ctx.user, m.id);
    const meta = this.meta.get(key(m.entity, iid));
    const conflict = ent.def.conflict === 'reject' && !!meta && !meta.deleted && meta.version !== (Number(m.base) || 0) && meta.writer !== ctx.writer;
    const w = { op: OPS[m.op], entity: ent, id: iid, conflict };
    const fields = m.fields ? { ...m.fields } : null;
    if (fields) {
      delete fields[ent.idName];
      if (!kind.shared && Object.hasOwn(fields, OWNER)) {
        w.error = { code: 'VALIDATION', message: `${m.entity}.${OWNER}: no such field`, entity: m.entity, field: OWNER, rule: 'unknown' };
        return w;
      }
      w.refs = this.#refs(ctx.user, ent, fields);
    }
    // Deletes never reach other users' records: refused like a restrict.
    if (m.op === 'delete') {
      if (kind.shared) w.scope = `${ctx.user}${SEP}`;
      return w;
    }
    const data = this.ns.inward(m.entity, ctx.user, fields, false);
    w.data = m.op === 'update' ? data : !kind.owned ? { ...data, [ent.idName]: iid } : { ...data, [ent.idName]: iid, [OWNER]: ctx.user };
    return w;
  }

  /** References to records of private entities point into the user's own
   * namespace: the records that must exist, each with its refusal. */
  #refs(user, ent, fields) {
    const refs = [];
    ent.fields.forEach((f, field) => {
      const v = fields[f.name];
      const target = f.type === 'ref' && typeof v === 'string' ? this.kinds.get(f.spec.entity) : null;
      if (!target || target.shared) return;
      const error = { code: 'VALIDATION', message: `${ent.name}.${f.name}: no ${f.spec.entity} with id ${JSON.stringify(v)}`, entity: ent.name, field: f.name, rule: 'ref' };
      refs.push({ entity: this.entities.get(f.spec.entity), field, id: `${user}${SEP}${v}`, error });
    });
    return refs;
  }

  /** Answers queued mutation `it` from its store result: the rows its
   * events changed are what storage commits. */
  #decide(ctx, it, w, res) {
    const { m } = it;
    if (res.status === 'conflict') return it.decided({ seq: m.seq, status: STATUS.conflict });
    if (res.status === 'failed') return it.decided({ seq: m.seq, status: STATUS.rejected, error: errorJson(this.#failure(m, w, res.error), ctx.user) });
    if (res.events) {
      for (const e of res.events) this.#row(ctx, e);
      this.nitro._deliver(res.events);   // to the server's own listeners, as a write delivers them
    }
    const after = this.meta.get(key(m.entity, w.id));
    return it.decided({ seq: m.seq, status: STATUS.applied, version: after ? after.version : 0 });
  }

  /** A store refusal in the user's terms (as the client API words it). */
  #failure(m, w, err) {
    const kind = this.kinds.get(m.entity);
    // A delete held back by references: one answer whoever's records they
    // are (the store's own message would name them).
    if (m.op === 'delete' && err.rule === 'restrict') return restrictError(m, kind);
    if (m.op === 'update' && err.code === 'NOT_FOUND') {
      return { code: 'NOT_FOUND', message: `${m.entity}.${kind.idName}: no record with id ${JSON.stringify(m.id)}`, entity: m.entity, field: kind.idName };
    }
    const ref = err.rule === 'ref' && w.refs ? w.refs.find((r) => r.error.field === err.field) : null;
    return ref ? ref.error : err;
  }

  /** The storage row (and new meta) of a record an applied write changed. */
  #row(ctx, e) {
    const type = e.type.slice(e.entity.length + 1);
    if (type === 'beforeSave' || type === 'beforeDelete') return;
    const ek = key(e.entity, e.id);
    const em = this.meta.get(ek);
    const deleted = type === 'deleted' || type === 'expired';
    const shared = this.kinds.get(e.entity).shared;
    const owner = !shared ? ownerOf(e.id) : type === 'created' || !em ? ctx.user : em.owner;
    const id = shared ? e.id : e.id.slice(owner.length + 1);
    const scope = shared ? '*' : owner;
    const version = ++this.head;
    const data = deleted ? null : JSON.stringify(this.ns.outward(e.entity, e.record));
    const { writer } = ctx;
    this.meta.set(ek, { owner, scope, version, writer, deleted });
    ctx.records.set(ek, { entity: e.entity, id, owner, scope, version, writer, deleted, data });
    ctx.scopes.add(scope);
  }
}
