// authority.js - the server's authoritative state: every record in a nitro
// store (the same WebAssembly entity definitions the clients use, so a push
// is validated by exactly the rules a local write meets: types, ranges,
// unique keys, references, validate functions, onDelete effects), plus who
// owns each record and at which version it is. It mirrors what storage holds
// and is rebuilt from it at start (and after a failed commit).
//
// applyPush() is synchronous: it decides every mutation of a push in order
// and returns what storage must commit; the server commits, then answers.
import { applyServerState } from '../sync.js';
import { isReservedKey } from '../keys.js';

const STATUS = { applied: 'applied', rejected: 'rejected', conflict: 'conflict', stale: 'stale' };

function key(entity, id) { return `${entity}\u0000${id}`; }

/** Rows stored before reserved ids were refused (issue 15) are left out of
 * the state instead of keeping the server from starting. */
function skipReserved(err) {
  if (!err || err.rule !== 'reserved-key') throw err;
}

/** Plain error details for a result. */
function errorJson(err) {
  const e = { code: err && err.code ? err.code : 'SYNC', message: err && err.message ? err.message : String(err) };
  for (const k of ['entity', 'field', 'rule']) if (err && err[k] !== undefined) e[k] = err[k];
  return e;
}

export class Authority {
  /**
   * @param {() => Promise<import('../nitro.js').Nitro>} makeNitro a fresh
   *   nitro instance (outbox off)
   * @param {Record<string, object>} schema entity name -> definition
   */
  constructor(makeNitro, schema) {
    this.makeNitro = makeNitro;
    this.schema = schema;
    this.nitro = null;
    this.entities = new Map();
    this.meta = new Map();      // key -> { owner, scope, version, writer, deleted }
    this.head = 0;              // last version handed out
    this.collect = null;        // events of the mutation being applied
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
    const entities = new Map();
    for (const [name, def] of Object.entries(this.schema)) {
      // TTLs are each client's cache lifetime: the server keeps records until deleted.
      const { ttl, ...rest } = def;
      const ent = nitro.entity(name, rest);
      entities.set(name, ent);
      for (const kind of ['created', 'updated', 'deleted', 'expired']) {
        nitro.on(`${name}.${kind}`, (e) => { if (this.collect) this.collect.push(e); });
      }
    }
    const meta = new Map();
    let states = [];
    const flush = () => { applyServerState(nitro, states, 0, skipReserved); states = []; };
    await storage.loadRecords((row) => {
      const ent = entities.get(row.entity);
      meta.set(key(row.entity, row.id), { owner: row.owner, scope: row.scope, version: row.version, writer: row.writer, deleted: row.deleted });
      if (!ent || row.deleted) return;
      states.push({ entity: ent, id: row.id, version: row.version, record: JSON.parse(row.data) });
      if (states.length >= 5000) flush();
    });
    flush();
    const head = await storage.head();
    if (this.nitro) this.nitro.close();
    this.nitro = nitro;
    this.entities = entities;
    this.meta = meta;
    this.head = head;
  }

  /** Takes in records other server instances committed (rows as storage's
   * loadRecords gives them, by version) up to `head`. */
  catchUp(rows, head) {
    const states = [];
    for (const r of rows) {
      this.meta.set(key(r.entity, r.id), { owner: r.owner, scope: r.scope, version: r.version, writer: r.writer, deleted: r.deleted });
      const ent = this.entities.get(r.entity);
      if (ent) states.push({ entity: ent, id: r.id, version: r.version, record: r.deleted ? null : JSON.parse(r.data) });
    }
    applyServerState(this.nitro, states, 0, skipReserved);
    if (head > this.head) this.head = head;
  }

  close() {
    if (this.nitro) this.nitro.close();
    this.nitro = null;
  }

  /** Whether `user` may see the record. */
  visible(user, entity, m) {
    if (!m || m.deleted) return false;
    const ent = this.entities.get(entity);
    return !!ent && (ent.def.shared === true || m.owner === user);
  }

  /** The record as `user` may see it now: { current, version }. */
  current(user, entity, id) {
    const m = this.meta.get(key(entity, id));
    if (!this.visible(user, entity, m)) return { current: null, version: m && m.deleted && this.entities.get(entity) ? m.version : 0 };
    const rec = this.entities.get(entity).get(id);
    return { current: rec ? rec.toJSON() : null, version: m.version };
  }

  /**
   * Decides a push. `receipts` maps seqs answered before to their result
   * JSON; seqs <= `done` were answered and acknowledged long ago.
   * Returns { results, receipts: [{ seq, result }], records, scopes, head }.
   */
  applyPush(user, client, mutations, receipts, done) {
    const writer = `${user}\n${client}`;
    const results = [];
    const fresh = [];
    const seen = new Map();
    const records = new Map();
    const scopes = new Set();
    for (const m of mutations) {
      let r;
      const before = seen.get(m.seq) ?? receipts.get(m.seq);
      if (m.seq <= done) {
        r = { seq: m.seq, status: STATUS.stale };
      } else if (before !== undefined) {
        r = { ...(typeof before === 'string' ? JSON.parse(before) : before), seq: m.seq };
        // A replay (the first answer was lost) of a write that another
        // writer has superseded since: the client may have pulled that while
        // this one was pending, so it is answered like a stale one, with the
        // record as it stands, or the client would keep its own older value.
        if (r.status === STATUS.applied && !seen.has(m.seq)) {
          const now = this.meta.get(key(m.entity, m.id));
          if (now && now.version !== r.version && now.writer !== writer) r = { seq: m.seq, status: STATUS.stale };
        }
      } else {
        r = this.#applyOne(user, writer, m, records, scopes);
        fresh.push({ seq: m.seq, result: JSON.stringify(r) });
        seen.set(m.seq, r);
      }
      r.entity = m.entity;
      r.id = m.id;
      results.push(r);
    }
    // Refused mutations are answered with the record as it stands after the
    // whole push, so the client can put itself right.
    for (const r of results) {
      if (r.status !== STATUS.applied) Object.assign(r, this.current(user, r.entity, r.id));
      delete r.entity;
      delete r.id;
    }
    return { results, receipts: fresh, records: [...records.values()], scopes, head: this.head };
  }

  #applyOne(user, writer, m, records, scopes) {
    const ent = this.entities.get(m.entity);
    const reject = (err) => ({ seq: m.seq, status: STATUS.rejected, error: errorJson(err) });
    if (!ent || ent.def.sync === false) return reject({ code: 'SCHEMA', message: `${m.entity}: no such synced entity`, entity: m.entity, rule: 'schema' });
    // Refused for every op, before any lookup: such an id is never stored,
    // and it would reach Object.prototype in a client that binds it.
    if (isReservedKey(m.id)) {
      return reject({ code: 'VALIDATION', message: `${m.entity}.${ent.idName}: ${JSON.stringify(m.id)} is reserved (__proto__, constructor and prototype cannot be ids)`, entity: m.entity, field: ent.idName, rule: 'reserved-key' });
    }
    const k = key(m.entity, m.id);
    const meta = this.meta.get(k);
    const exists = !!meta && !meta.deleted;
    if (exists && !this.visible(user, m.entity, meta)) {
      // Another user's record: indistinguishable from a missing one, except
      // that its id is taken.
      if (m.op === 'create') return reject({ code: 'DUPLICATE', message: `${m.entity}.${ent.idName}: a record with id ${JSON.stringify(m.id)} already exists`, entity: m.entity, field: ent.idName, rule: 'unique' });
      if (m.op === 'delete') return { seq: m.seq, status: STATUS.applied, version: 0 };
      return reject({ code: 'NOT_FOUND', message: `${m.entity}.${ent.idName}: no record with id ${JSON.stringify(m.id)}`, entity: m.entity, field: ent.idName });
    }
    if (ent.def.conflict === 'reject' && exists && meta.version !== (Number(m.base) || 0) && meta.writer !== writer) {
      return { seq: m.seq, status: STATUS.conflict };
    }
    const fields = m.fields ? { ...m.fields } : null;
    if (fields) delete fields[ent.idName];
    const refErr = fields && this.#checkRefs(user, ent, fields);
    if (refErr) return reject(refErr);
    const events = [];
    this.collect = events;
    try {
      this.nitro.transaction(() => {
        if (m.op === 'delete') {
          if (exists) ent.delete(m.id);
        } else if (exists) {
          ent.update(m.id, fields);
        } else if (m.op === 'create') {
          ent.create({ ...fields, [ent.idName]: m.id });
        } else {
          throw Object.assign(new Error(`${m.entity}.${ent.idName}: no record with id ${JSON.stringify(m.id)}`), { code: 'NOT_FOUND', entity: m.entity, field: ent.idName });
        }
      });
    } catch (err) {
      return reject(err);
    } finally {
      this.collect = null;
    }
    for (const e of events) {
      const kind = e.type.slice(e.entity.length + 1);
      const ek = key(e.entity, e.id);
      const em = this.meta.get(ek);
      const deleted = kind === 'deleted' || kind === 'expired';
      const owner = kind === 'created' || !em ? user : em.owner;
      const scope = this.entities.get(e.entity).def.shared === true ? '*' : owner;
      const version = ++this.head;
      const row = { entity: e.entity, id: e.id, owner, scope, version, writer, deleted, data: deleted ? null : JSON.stringify(e.record) };
      this.meta.set(ek, { owner, scope, version, writer, deleted });
      records.set(ek, row);
      scopes.add(scope);
    }
    const after = this.meta.get(k);
    return { seq: m.seq, status: STATUS.applied, version: after ? after.version : 0 };
  }

  /** References to records of private entities must point at the user's own. */
  #checkRefs(user, ent, fields) {
    for (const f of ent.fields) {
      if (f.type !== 'ref') continue;
      const v = fields[f.name];
      if (typeof v !== 'string') continue;
      const target = this.entities.get(f.spec.entity);
      if (!target || target.def.shared === true) continue;
      if (!this.visible(user, f.spec.entity, this.meta.get(key(f.spec.entity, v)))) {
        return { code: 'VALIDATION', message: `${ent.name}.${f.name}: no ${f.spec.entity} with id ${JSON.stringify(v)}`, entity: ent.name, field: f.name, rule: 'ref' };
      }
    }
    return null;
  }

  /**
   * Changes visible to `user` since `since`, at most `limit`, read from
   * storage: { rows, checkpoint, more }.
   */
  async changes(storage, user, since, limit, committed) {
    const [own, shared] = await Promise.all([
      storage.changesSince({ scope: user, since, limit }),
      user === '*' ? [] : storage.changesSince({ scope: '*', since, limit }),
    ]);
    // merge two version-ordered lists and keep the first `limit`
    const rows = [];
    let i = 0, j = 0;
    while (rows.length < limit && (i < own.length || j < shared.length)) {
      if (j >= shared.length || (i < own.length && own[i].version < shared[j].version)) rows.push(own[i++]);
      else rows.push(shared[j++]);
    }
    const cut = rows.length === limit && (i < own.length || j < shared.length || own.length === limit || shared.length === limit);
    const last = rows.length ? rows[rows.length - 1].version : since;
    return { rows, checkpoint: cut ? last : Math.max(last, committed), more: cut };
  }
}
