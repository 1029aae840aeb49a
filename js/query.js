// query.js - lazy, immutable queries: Task.where(...).orderBy(...).limit(n).
// Nothing runs until a terminal call (all, first, count, ids, update,
// delete); each terminal call is one crossing into WASM.
import { NitroError } from './errors.js';
import { EncodeError } from './nval.js';
import { isReservedKey } from './keys.js';
import { QUERY_OP, EXPLAIN } from './wire.js';

const OP = { all: QUERY_OP.ALL, first: QUERY_OP.FIRST, count: QUERY_OP.COUNT, ids: QUERY_OP.IDS, update: QUERY_OP.UPDATE, delete: QUERY_OP.DELETE, explain: QUERY_OP.EXPLAIN };

export class Query {
  constructor(entity, where = null, order = [], limit = null, offset = null) {
    this.entity = entity;
    this._where = where;
    this._order = order;
    this._limit = limit;
    this._offset = offset;
  }

  where(more) {
    if (more === undefined || more === null) return this;
    checkWhere(this.entity, more);
    const w = this._where ? { $and: [this._where, more] } : more;
    return new Query(this.entity, w, this._order, this._limit, this._offset);
  }

  orderBy(...keys) {
    const order = keys.flat().map((k) => {
      if (typeof k !== 'string' || k === '' || k === '-') {
        throw new NitroError('QUERY', `${this.entity.name}: orderBy takes field names, '-name' for descending`, { entity: this.entity.name, rule: 'orderBy' });
      }
      return k[0] === '-' ? [k.slice(1), true] : [k, false];
    });
    return new Query(this.entity, this._where, order, this._limit, this._offset);
  }

  limit(n) { return new Query(this.entity, this._where, this._order, checkCount(this, 'limit', n), this._offset); }
  offset(n) { return new Query(this.entity, this._where, this._order, this._limit, checkCount(this, 'offset', n)); }

  /** The spec C parses (src/query.h). */
  spec(extra) {
    const s = { where: this._where, order: this._order, limit: this._limit, offset: this._offset };
    return extra ? { ...s, ...extra } : s;
  }

  run(op, extra) {
    const e = this.entity;
    const core = e.core;
    encodeSpec(e, core.enc.reset(), this.spec(extra));
    e.nitro._now();
    return core.send();
  }

  all() {
    const e = this.entity;
    const len = this.run();
    e.core.call0('nw_query_exec', e.table, len, OP.all, 0);
    return e.readRecords(e.out());
  }

  first() {
    const e = this.entity;
    const len = this.run();
    e.core.call0('nw_query_exec', e.table, len, OP.first, 0);
    const r = e.out();
    return r.u32() ? e.readRecord(r) : null;
  }

  count() {
    const e = this.entity;
    const len = this.run();
    e.core.call0('nw_query_exec', e.table, len, OP.count, 0);
    return e.out().u32();
  }

  ids() {
    const e = this.entity;
    const len = this.run();
    e.core.call0('nw_query_exec', e.table, len, OP.ids, 0);
    const r = e.out();
    const n = r.u32();
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = r.value0Str();
    return out;
  }

  /** Runs the query and reports the plan the C planner chose:
   * `{ index, order, stopsEarly, scanned, results }` (see query.d.ts). */
  explain() {
    const e = this.entity;
    const len = this.run();
    e.core.call0('nw_query_exec', e.table, len, OP.explain, 0);
    const r = e.out();
    const flags = r.u32();
    const scanned = r.u32();
    const results = r.u32();
    const index = r.value0Str();
    return {
      index: index === '' ? null : index,
      order: flags & EXPLAIN.ORDERED ? 'index' : 'sort',
      stopsEarly: (flags & EXPLAIN.STOPS) !== 0,
      scanned,
      results,
    };
  }

  update(patch) {
    const e = this.entity;
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
      throw e.error('VALIDATION', null, 'type', 'update takes a patch object');
    }
    for (const k of Object.keys(patch)) {
      if (isReservedKey(k)) throw e.error('VALIDATION', k, 'reserved-key', 'is reserved (__proto__, constructor and prototype cannot be keys)');
      if (!e.fieldIndex.has(k)) throw e.error('VALIDATION', k, 'unknown', `is not a field of ${e.name}`);
    }
    return e.write((flags) => {
      const len = this.run(OP.update, { patch });
      e.core.call0('nw_query_exec', e.table, len, OP.update, flags);
    }, (r) => { r.u32(); return r.u32(); });
  }

  delete() {
    const e = this.entity;
    return e.write((flags) => {
      const len = this.run(OP.delete);
      e.core.call0('nw_query_exec', e.table, len, OP.delete, flags);
    }, (r) => { r.u32(); return r.u32(); });
  }

  /** A live query: `fn(change)` runs once per committed write batch that
   * changed the result, with `{ added, removed, moved, updated, result() }`
   * (ids; result() gives the records). Returns `{ result(), unsubscribe() }`. */
  subscribe(fn) { return this.entity.nitro._liveRegistry().subscribe(this, fn); }

  [Symbol.iterator]() { return this.all()[Symbol.iterator](); }
}

/** Encodes a query spec; a value it cannot hold is QUERY (too deep stays LIMIT). */
export function encodeSpec(entity, enc, spec) {
  try {
    enc.value(spec);
  } catch (err) {
    if (!(err instanceof EncodeError)) throw err;
    if (err.code === 'LIMIT') throw new NitroError('LIMIT', `${entity.name}: the query ${err.message}`, { entity: entity.name, rule: 'depth', cause: err });
    throw new NitroError('QUERY', `${entity.name}: a where clause holds ${err.message.replace(/^cannot encode /, '')}`, { entity: entity.name, rule: 'type', cause: err });
  }
}

function checkCount(q, name, n) {
  if (n === null || n === undefined) return null;
  if (!Number.isInteger(n) || n < 0) {
    throw new NitroError('QUERY', `${q.entity.name}: ${name} must be a non-negative integer (got ${String(n)})`, { entity: q.entity.name, rule: name });
  }
  return n;
}

function checkWhere(entity, w) {
  if (typeof w !== 'object' || Array.isArray(w)) {
    throw new NitroError('QUERY', `${entity.name}: a where clause is an object`, { entity: entity.name, rule: 'type' });
  }
}
