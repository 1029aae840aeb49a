// authority.js - the server's authoritative state: every record in a nitro
// store (the same WebAssembly entity definitions the clients use, so a push
// is validated by exactly the rules a local write meets: types, ranges,
// unique keys, references, validate functions, onDelete effects), plus who
// owns each record and at which version it is. It mirrors what storage holds
// and is rebuilt from it at start (and after a failed commit).
//
// applyPush() is synchronous: it decides every mutation of a push in order
// and returns what storage must commit; the server commits, then answers.
//
// Each user's private records live in that user's own namespace (docs/
// sync.md, "Users, sharing, tokens"): in the store here a private record's
// id is `owner SEP id`, its references to private records are prefixed
// alike, and a hidden OWNER field (on entities with unique keys) leads every unique key of a private
// entity, so ids and unique keys hold per user and no write of one user can
// meet (and so detect) a private record of another. Shared entities keep
// plain ids and global keys. User ids hold no control characters (auth.js),
// so `owner SEP id` splits back unambiguously. Records leave this module in
// the clients' form (outward): plain id and references, no OWNER.
import { applyServerState } from '../js/sync-protocol.js';
import { isReservedKey } from '../js/keys.js';

const STATUS = { applied: 'applied', rejected: 'rejected', conflict: 'conflict', stale: 'stale' };
const SEP = '\u001f';
const OWNER = '$owner';

function key(entity, id) { return `${entity}\u0000${id}`; }

/** The owner part of an internal private id. */
function ownerOf(iid) { return iid.slice(0, iid.indexOf(SEP)); }

/** Rows stored before reserved ids were refused (issue 15) are left out of
 * the state instead of keeping the server from starting. */
function skipReserved(err) {
  if (!err || err.rule !== 'reserved-key') throw err;
}

/** Plain error details for a result, in the user's terms: no OWNER field,
 * no namespace prefix. */
function errorJson(err, user) {
  const e = { code: err && err.code ? err.code : 'SYNC', message: err && err.message ? String(err.message) : String(err) };
  for (const k of ['entity', 'field', 'rule']) if (err && err[k] !== undefined) e[k] = err[k];
  if (typeof e.field === 'string' && e.field.includes(OWNER)) {
    e.field = e.field.split(',').filter((f) => f !== OWNER).join(',');
    e.message = e.message.replaceAll(`${OWNER},`, '');
  }
  if (user) e.message = e.message.replaceAll(`${user}${SEP}`, '');
  return e;
}

/** The refusal of a delete that references hold back. */
function restrictError(m, kind) {
  const idName = kind ? kind.idName : 'id';
  return { code: 'CONFLICT', message: `${m.entity}.${idName}: other records still refer to ${m.entity} ${JSON.stringify(m.id)}; it was not deleted`, entity: m.entity, field: idName, rule: 'restrict' };
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
    this.collect = null;        // events of the mutation being applied
    this.kinds = new Map();     // entity -> { shared, idName, refs: reference fields to private entities }
  }

  /** Checks the schema and plans each entity's namespace. */
  #plan() {
    const isShared = (name) => !!this.schema[name] && this.schema[name].shared === true;
    const kinds = new Map();
    for (const [name, def] of Object.entries(this.schema)) {
      const fields = Object.entries((def && def.fields) || {});
      const shared = def.shared === true;
      const refs = fields.filter(([, f]) => f && f.type === 'ref' && !isShared(f.entity)).map(([n]) => n);
      if (shared && refs.length) {
        const f = fields.find(([n]) => n === refs[0]);
        throw new Error(`nitro-wasm server: ${name}.${refs[0]}: a shared entity cannot reference the private entity ${f[1].entity} (each user has their own ${f[1].entity} records; make it shared or drop the reference)`);
      }
      if (!shared && fields.some(([n]) => n === OWNER)) throw new Error(`nitro-wasm server: ${name}.${OWNER}: the field name is reserved by the sync server`);
      // the OWNER field only where unique keys need it (the id tells the owner too)
      const owned = !shared && Array.isArray(def.unique) && def.unique.length > 0;
      kinds.set(name, { shared, owned, idName: (fields.find(([, f]) => f && f.type === 'id') || ['id'])[0], refs });
    }
    this.kinds = kinds;
  }

  /** The definition the server's store uses for `name`. */
  #serverDef(name, def) {
    const kind = this.kinds.get(name);
    if (kind.shared) return def;
    const out = { ...def };
    if (kind.owned) {
      out.fields = { ...def.fields, [OWNER]: { type: 'string', optional: true } };
      out.unique = def.unique.map((u) => [OWNER, ...(Array.isArray(u) ? u : [u])]);
    }
    if (typeof def.validate === 'function') out.validate = (rec) => def.validate(this.#clientForm(name, rec));
    return out;
  }

  /** The store's id of `user`'s record `id` of `entity`. */
  #iid(entity, user, id) {
    const kind = this.kinds.get(entity);
    return !kind || kind.shared ? id : `${user}${SEP}${id}`;
  }

  /** A stored row's id in the store (its namespace is its scope). */
  #rowIid(row) {
    const kind = this.kinds.get(row.entity);
    return !kind || kind.shared ? row.id : `${row.owner}${SEP}${row.id}`;
  }

  /** Client-form fields of `owner` -> the store's form (ids and private
   * references prefixed, OWNER set when `withId`). Changes `fields` in place:
   * callers pass a fresh object. */
  #inward(entity, owner, fields, withId) {
    const kind = this.kinds.get(entity);
    if (!kind || kind.shared) return fields;
    for (const f of kind.refs) if (typeof fields[f] === 'string') fields[f] = `${owner}${SEP}${fields[f]}`;
    if (withId) {
      fields[kind.idName] = `${owner}${SEP}${fields[kind.idName]}`;
      if (kind.owned) fields[OWNER] = owner;
    }
    return fields;
  }

  /** A record as the store holds it -> the clients' form, as a fresh plain
   * object. */
  #outward(entity, rec) {
    return this.#clientForm(entity, typeof rec.toJSON === 'function' ? rec.toJSON() : { ...rec });
  }

  /** Turns `rec` (a fresh object or record: changed in place) into the
   * clients' form: plain id and references. OWNER stays as an undefined
   * property (JSON leaves it out; a delete would cost every later
   * JSON.stringify of the object). */
  #clientForm(entity, rec) {
    const kind = this.kinds.get(entity);
    if (!kind || kind.shared) return rec;
    const iid = rec[kind.idName];
    const cut = iid.indexOf(SEP) + 1;
    const prefix = iid.slice(0, cut);
    rec[kind.idName] = iid.slice(cut);
    for (const f of kind.refs) {
      const v = rec[f];
      if (typeof v === 'string' && v.startsWith(prefix)) rec[f] = v.slice(cut);
    }
    if (kind.owned) rec[OWNER] = undefined;
    return rec;
  }

  /** Whether deleting the shared record `id` of `entity` would, through
   * onDelete effects (cascade, nullify), reach a private record of another
   * user than `user`. Only chains through shared records can: a private
   * record's references point at its owner's records or shared ones, and no
   * shared entity references a private one (#plan). `restrict` references
   * need no look: the store refuses those deletes itself. */
  #reachesOthers(user, entity, id, seen) {
    const k = key(entity, id);
    if (seen.has(k)) return false;
    seen.add(k);
    for (const [name, ent] of this.entities) {
      const shared = this.kinds.get(name).shared;
      for (const f of ent.fields) {
        if (f.type !== 'ref' || f.spec.entity !== entity) continue;
        const od = f.spec.onDelete;
        if (od !== 'cascade' && od !== 'nullify') continue;
        for (const rid of ent.where({ [f.name]: id }).ids()) {
          if (!shared) { if (ownerOf(rid) !== user) return true; }
          else if (od === 'cascade' && this.#reachesOthers(user, name, rid, seen)) return true;
        }
      }
    }
    return false;
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
    this.#plan();
    const entities = new Map();
    for (const [name, def] of Object.entries(this.schema)) {
      // TTLs are each client's cache lifetime: the server keeps records until deleted.
      const { ttl, ...rest } = def;
      const ent = nitro.entity(name, this.#serverDef(name, rest));
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
      const iid = this.#rowIid(row);
      meta.set(key(row.entity, iid), { owner: row.owner, scope: row.scope, version: row.version, writer: row.writer, deleted: row.deleted });
      if (!ent || row.deleted) return;
      states.push({ entity: ent, id: iid, version: row.version, record: this.#inward(row.entity, row.owner, JSON.parse(row.data), true) });
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
      const iid = this.#rowIid(r);
      this.meta.set(key(r.entity, iid), { owner: r.owner, scope: r.scope, version: r.version, writer: r.writer, deleted: r.deleted });
      const ent = this.entities.get(r.entity);
      if (ent) states.push({ entity: ent, id: iid, version: r.version, record: r.deleted ? null : this.#inward(r.entity, r.owner, JSON.parse(r.data), true) });
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
    return this.meta.get(key(entity, this.#iid(entity, user, id)));
  }

  /** The record as `user` sees it now: { current, version }. */
  current(user, entity, id) {
    const ent = this.entities.get(entity);
    const m = ent ? this.metaOf(user, entity, id) : undefined;
    if (!m || m.deleted) return { current: null, version: m ? m.version : 0 };
    const rec = ent.get(this.#iid(entity, user, id));
    return { current: rec ? this.#outward(entity, rec) : null, version: m.version };
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
          const now = this.metaOf(user, m.entity, m.id);
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
    const reject = (err) => ({ seq: m.seq, status: STATUS.rejected, error: errorJson(err, user) });
    if (!ent || ent.def.sync === false) return reject({ code: 'SCHEMA', message: `${m.entity}: no such synced entity`, entity: m.entity, rule: 'schema' });
    // Refused for every op, before any lookup: such an id is never stored,
    // and it would reach Object.prototype in a client that binds it.
    if (isReservedKey(m.id)) {
      return reject({ code: 'VALIDATION', message: `${m.entity}.${ent.idName}: ${JSON.stringify(m.id)} is reserved (__proto__, constructor and prototype cannot be ids)`, entity: m.entity, field: ent.idName, rule: 'reserved-key' });
    }
    const kind = this.kinds.get(m.entity);
    const iid = this.#iid(m.entity, user, m.id);
    const meta = this.meta.get(key(m.entity, iid));
    const exists = !!meta && !meta.deleted;
    if (ent.def.conflict === 'reject' && exists && meta.version !== (Number(m.base) || 0) && meta.writer !== writer) {
      return { seq: m.seq, status: STATUS.conflict };
    }
    const fields = m.fields ? { ...m.fields } : null;
    if (fields) {
      delete fields[ent.idName];
      if (!kind.shared && Object.hasOwn(fields, OWNER)) {
        return reject({ code: 'VALIDATION', message: `${m.entity}.${OWNER}: no such field`, entity: m.entity, field: OWNER, rule: 'unknown' });
      }
    }
    const refErr = fields && this.#checkRefs(user, ent, fields);
    if (refErr) return reject(refErr);
    // Deletes never reach other users' records: refused like a restrict.
    if (m.op === 'delete' && exists && kind.shared && this.#reachesOthers(user, m.entity, iid, new Set())) return reject(restrictError(m, kind));
    const data = fields && this.#inward(m.entity, user, fields, false);
    const events = [];
    this.collect = events;
    try {
      this.nitro.transaction(() => {
        if (m.op === 'delete') {
          if (exists) ent.delete(iid);
        } else if (exists) {
          ent.update(iid, data);
        } else if (m.op === 'create') {
          ent.create(!kind.owned ? { ...data, [ent.idName]: iid } : { ...data, [ent.idName]: iid, [OWNER]: user });
        } else {
          throw Object.assign(new Error(`${m.entity}.${ent.idName}: no record with id ${JSON.stringify(m.id)}`), { code: 'NOT_FOUND', entity: m.entity, field: ent.idName });
        }
      });
    } catch (err) {
      // A delete held back by references: one answer whoever's records they
      // are (the store's own message would name them).
      if (m.op === 'delete' && err && err.rule === 'restrict') return reject(restrictError(m, kind));
      return reject(err);
    } finally {
      this.collect = null;
    }
    for (const e of events) {
      const type = e.type.slice(e.entity.length + 1);
      const ek = key(e.entity, e.id);
      const em = this.meta.get(ek);
      const deleted = type === 'deleted' || type === 'expired';
      const shared = this.kinds.get(e.entity).shared;
      const owner = !shared ? ownerOf(e.id) : type === 'created' || !em ? user : em.owner;
      const id = shared ? e.id : e.id.slice(owner.length + 1);
      const scope = shared ? '*' : owner;
      const version = ++this.head;
      const data = deleted ? null : JSON.stringify(this.#outward(e.entity, e.record));
      const row = { entity: e.entity, id, owner, scope, version, writer, deleted, data };
      this.meta.set(ek, { owner, scope, version, writer, deleted });
      records.set(ek, row);
      scopes.add(scope);
    }
    const after = this.meta.get(key(m.entity, iid));
    return { seq: m.seq, status: STATUS.applied, version: after ? after.version : 0 };
  }

  /** References to records of private entities point into the user's own namespace. */
  #checkRefs(user, ent, fields) {
    for (const f of ent.fields) {
      if (f.type !== 'ref') continue;
      const v = fields[f.name];
      if (typeof v !== 'string') continue;
      const target = this.kinds.get(f.spec.entity);
      if (!target || target.shared) continue;
      const m = this.metaOf(user, f.spec.entity, v);
      if (!m || m.deleted) {
        return { code: 'VALIDATION', message: `${ent.name}.${f.name}: no ${f.spec.entity} with id ${JSON.stringify(v)}`, entity: ent.name, field: f.name, rule: 'ref' };
      }
    }
    return null;
  }
}
