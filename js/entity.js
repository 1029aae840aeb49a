// entity.js - the entity API (Task.create/get/update/...) over the C store.
// Each call encodes its input once, crosses into WASM once, and decodes the
// response once (src/api_store.c documents the byte layouts).
import { NitroError } from './errors.js';
import { T, EncodeError } from './nval.js';
import { isReservedKey } from './keys.js';
import { Reader, makeDecoder, skipValue } from './record.js';
import { Query, encodeSpec } from './query.js';
import { WRITE, EV_NAMES, TABLE_FLAG } from './wire.js';

const F_EVENTS = WRITE.EVENTS, F_BEFORE = WRITE.BEFORE;
const DEF_KEYS = new Set(['fields', 'indexes', 'unique', 'search', 'ttl', 'validate', 'methods', 'computed', 'shared', 'conflict', 'sync']);
// Change log table flags (src/wire.h).
const CLT_LOCAL = TABLE_FLAG.LOCAL, CLT_VERSIONS = TABLE_FLAG.VERSIONS;
// What records have on their prototype chain: a field or computed value of
// the same name would hide it. `methods` may override the Object.prototype
// ones (toString, valueOf, ...), not these.
const RECORD_METHODS = new Set(['save', 'update', 'delete', 'toJSON']);
const OBJECT_METHODS = new Set(Object.getOwnPropertyNames(Object.prototype));

function schemaError(name, field, message, rule = 'schema') {
  return new NitroError('SCHEMA', `${name}${field ? `.${field}` : ''}: ${message}`, { entity: name, field, rule });
}

/** A name a record property may not take: reserved keys and record methods. */
function checkPropertyName(name, kind, key) {
  if (isReservedKey(key)) throw schemaError(name, key, `${key} is reserved (__proto__, constructor and prototype cannot be ${kind} names)`, 'reserved-key');
  if (RECORD_METHODS.has(key) || OBJECT_METHODS.has(key)) throw schemaError(name, key, `${kind} ${key} would hide the record method ${key}()`);
}

/** Everything about a definition that JS owns, checked before C sees it, so
 * a refused definition leaves nothing behind. */
function checkDefinition(name, def, fields) {
  if (def.validate !== undefined && def.validate !== null && typeof def.validate !== 'function') {
    throw schemaError(name, null, 'validate is a function (rec) => message | null');
  }
  const props = new Set(fields.map((f) => f.name));
  for (const [kind, group] of [['computed', def.computed], ['methods', def.methods]]) {
    if (group === undefined || group === null) continue;
    if (typeof group !== 'object' || Array.isArray(group)) throw schemaError(name, null, `${kind} is an object of functions`);
    const what = kind === 'methods' ? 'method' : 'computed';
    for (const [k, fn] of Object.entries(group)) {
      if (typeof fn !== 'function') throw schemaError(name, k, `${what} ${k} is not a function`);
      // computed values are own properties, so they may hide no method at
      // all; methods may override Object.prototype's (toString, ...)
      if (kind === 'computed' || isReservedKey(k) || RECORD_METHODS.has(k)) checkPropertyName(name, what, k);
      if (props.has(k)) throw schemaError(name, k, `${what} ${k} clashes with a field or computed value of the same name`);
      props.add(k);
    }
  }
}

/** Puts the id field first, as C stores it, and returns the field list (C
 * checks the types; `fieldsOf` then gives the stored order and the hints). */
function normalizeFields(name, fields) {
  if (!fields || typeof fields !== 'object' || Array.isArray(fields)) {
    throw new NitroError('SCHEMA', `${name}: an entity needs a fields object`, { entity: name, rule: 'schema' });
  }
  const list = [];
  let id = null;
  for (const [fname, spec] of Object.entries(fields)) {
    checkPropertyName(name, 'field', fname);
    if (!spec || typeof spec !== 'object') {
      throw new NitroError('SCHEMA', `${name}.${fname}: field definition must be an object`, { entity: name, field: fname, rule: 'schema' });
    }
    const f = { name: fname, type: spec.type, values: spec.values, spec };
    if (spec.type === 'id' && id !== null) throw schemaError(name, fname, `an entity has one id field (${id.name} is one)`);
    if (spec.type === 'id') id = f; else list.push(f);
  }
  return [id || { name: 'id', type: 'id', spec: { type: 'id' } }, ...list];
}

/** Records encoded before insertMany sizes the input for the rest. */
const SIZING_SAMPLE = 63;
// What insertMany returns (the mode bits of nw_insert_many, src/api_store.c).
const RETURNING = { records: 0, ids: 1, count: 2 };
function readIds(r) {
  const n = r.u32();
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = r.value0Str();
  return out;
}

export class Entity {
  constructor(nitro, name, def) {
    for (const k of Object.keys(def || {})) {
      if (!DEF_KEYS.has(k)) throw new NitroError('SCHEMA', `${name}: unknown definition key "${k}"`, { entity: name, rule: 'schema' });
    }
    this.nitro = nitro;
    this.core = nitro.core;
    this.name = name;
    this.def = def;
    this.fields = normalizeFields(name, def.fields);
    checkDefinition(name, def, this.fields);
    this.fieldIndex = new Map(this.fields.map((f, i) => [f.name, i]));
    this.idName = this.fields[0].name;
    /** Event types by kind ('created' -> 'Task.created'), made once. */
    this.eventTypes = Object.fromEntries(EV_NAMES.filter(Boolean).map((k) => [k, `${name}.${k}`]));
    this.validateFn = typeof def.validate === 'function' ? def.validate : null;

    const schema = {
      name,
      fields: Object.fromEntries(this.fields.map((f) => [f.name, stripFunctions(f.spec)])),
      indexes: def.indexes, unique: def.unique, search: def.search, ttl: def.ttl, shared: def.shared,
    };
    if (def.conflict !== undefined && def.conflict !== 'lww' && def.conflict !== 'reject') {
      throw new NitroError('SCHEMA', `${name}: conflict is 'lww' or 'reject'`, { entity: name, rule: 'schema' });
    }
    if (def.sync !== undefined && typeof def.sync !== 'boolean') {
      throw new NitroError('SCHEMA', `${name}: sync is true or false`, { entity: name, rule: 'schema' });
    }
    const core = this.core;
    core.enc.reset().value(schema);
    core.call0('nw_entity_define', core.send());
    const r = new Reader().reset(core.u8, core.dv, core.outView().byteOffset);
    this.table = r.u32();
    this.fields = fieldsOf(r, this.fields);
    this.fieldIndex = new Map(this.fields.map((f, i) => [f.name, i]));
    if (def.ttl) nitro.usesTtl = true;
    // Sync: `sync: false` keeps the entity out of the outbox; `conflict:
    // 'reject'` makes mutations carry the record version they were made on.
    const clFlags = (def.sync === false ? CLT_LOCAL : 0) | (def.conflict === 'reject' ? CLT_VERSIONS : 0);
    if (clFlags) core.call0('nw_sync_table', this.table, clFlags);

    this.Rec = makeRecordClass(this, def);
    this.decode = makeDecoder(this.fields, this.Rec);
    this.reader = new Reader();
  }

  /** `rec instanceof Task`: records are instances of their entity. */
  [Symbol.hasInstance](v) { return v instanceof this.Rec; }

  // ---- encoding -------------------------------------------------------------

  /** Encodes one record's data as a FIELDS map (keys by schema position). */
  encodeData(data, enc, index) {
    if (data instanceof this.Rec) data = data.toJSON();
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw this.error('VALIDATION', null, 'type', 'record data must be an object', index);
    }
    enc.byte(T.FIELDS);
    const countAt = enc.len;
    enc.u32(0);
    let count = 0;
    for (const k in data) {
      if (!Object.prototype.hasOwnProperty.call(data, k)) continue;
      const v = data[k];
      if (v === undefined) continue;
      const fi = this.fieldIndex.get(k);
      if (fi !== undefined) { enc.byte(T.FIELD); enc.u32(fi); } else if (isReservedKey(k)) {
        throw this.error('VALIDATION', k, 'reserved-key', 'is reserved (__proto__, constructor and prototype cannot be keys)', index);
      } else { enc.byte(T.UNKNOWN); enc.str(k); }
      try {
        enc.value(v);
      } catch (err) {
        if (!(err instanceof EncodeError)) throw err;
        if (err.code === 'LIMIT') throw this.error('VALIDATION', k, 'depth', `nests deeper than ${enc.maxDepth} levels`, index);
        throw this.error('VALIDATION', k, 'type', `cannot store ${err.message.replace(/^cannot encode /, '')}`, index);
      }
      count++;
    }
    enc.dv.setUint32(countAt, count, true);
  }

  error(code, field, rule, message, index) {
    const where = field ? `${this.name}.${field}` : this.name;
    const at = index !== undefined ? ` [${index}]` : '';
    return new NitroError(code, `${where}${at}: ${message}`, { entity: this.name, field: field || undefined, rule, index });
  }

  // ---- decoding ---------------------------------------------------------------

  /** Reader positioned at the start of the last call's output. */
  out() {
    const core = this.core;
    const v = core.outView();
    return this.reader.reset(core.u8, core.dv, v.byteOffset);
  }

  readRecord(r) {
    const len = r.u32();
    if (len === 0) return null;
    return this.decode(r);
  }

  readRecords(r) {
    const n = r.u32();
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.readRecord(r);
    return out;
  }

  // ---- writes -------------------------------------------------------------------

  flags() { return this.nitro._eventFlags(this); }

  /** Runs one write export with the shared rules: JS-side approval (validate,
   * before* handlers) inside a savepoint, events after commit. */
  write(fn, readResult, batch = false) {
    const nitro = this.nitro;
    const flags = this.flags() | (this.validateFn ? F_EVENTS | F_BEFORE : 0);
    const guarded = (flags & F_BEFORE) !== 0;
    const core = this.core;
    let result, events, mark = -1;
    // A guarded write (F_BEFORE) runs in a savepoint the write export opens
    // (its mark comes first in the output); approving or refusing it is one call.
    try {
      fn(flags);
      const r = this.out();
      if (guarded) mark = r.u32();
      result = readResult(r);
      events = nitro._readEvents(r);
      if (guarded) nitro._approve(events, batch);
    } catch (err) {
      if (mark >= 0) core.x.nw_guard_end(core.I, mark, 0);
      throw err;
    }
    if (guarded) core.call0('nw_guard_end', mark, 1);
    nitro._deliver(events);
    if (nitro._syncHook !== null) nitro._syncHook();
    nitro._committed();
    return result;
  }

  create(data, options = {}) {
    return this.createOne(data, options, 0);
  }

  upsert(data, options = {}) {
    return this.createOne(data, options, 1);
  }

  /** One record in one crossing; `upsert` 1 replaces a record with the same id. */
  createOne(data, options, upsert) {
    const core = this.core;
    const ttl = ttlArg(options, this);
    return this.write((flags) => {
      core.enc.reset();
      this.encodeData(data, core.enc);
      this.nitro._now();
      core.call0('nw_create', this.table, core.send(), ttl, flags, upsert);
    }, (r) => { r.u32(); return this.readRecord(r); });
  }

  /** `options.returning`: 'records' (default), 'ids' or 'count'; the last
   * two skip copying and decoding the records (src/api_store.c). */
  insertMany(array, options = {}) {
    if (!Array.isArray(array)) throw this.error('VALIDATION', null, 'type', 'insertMany takes an array');
    const core = this.core;
    const ttl = ttlArg(options, this);
    const ret = RETURNING[options.returning ?? 'records'];
    if (ret === undefined) throw this.error('VALIDATION', null, 'type', "insertMany's returning must be 'records', 'ids' or 'count'");
    try {
      return this.insertBatch(array, options, ttl, ret);
    } finally {
      core.trim();   // a big batch gives its buffers back
    }
  }

  insertBatch(array, options, ttl, ret) {
    const core = this.core;
    return this.write((flags) => {
      const enc = core.enc.reset();
      enc.byte(T.ARR);
      enc.u32(array.length);
      const n = array.length;
      for (let i = 0; i < n; i++) {
        this.encodeData(array[i], enc, i);
        // Room for the rest, sized from the first records: one move of the
        // input buffer instead of doubling it a dozen times.
        if (i === SIZING_SAMPLE && n > 2 * SIZING_SAMPLE) enc.ensure(Math.ceil((enc.len / (i + 1)) * (n - i - 1) * 1.1));
      }
      this.nitro._now();
      core.call0('nw_insert_many', this.table, core.send(), ttl, flags, (options.upsert ? 1 : 0) | (ret << 1));
    }, (r) => (ret === 0 ? this.readRecords(r) : ret === 1 ? readIds(r) : r.u32()), true);
  }

  update(id, patch, options = {}) {
    const core = this.core;
    const ttl = ttlArg(options, this);
    checkId(this, id);
    return this.write((flags) => {
      const enc = core.enc.reset();
      enc.str(id);
      this.encodeData(patch, enc);
      this.nitro._now();
      core.call0('nw_update', this.table, core.send(), ttl, flags);
    }, (r) => { r.u32(); return this.readRecord(r); });
  }

  delete(id) {
    const core = this.core;
    checkId(this, id);
    return this.write((flags) => {
      const len = this.sendId(id);
      this.nitro._now();
      core.call0('nw_delete', this.table, len, flags);
    }, (r) => { r.u32(); return r.u32() === 1; });
  }

  expire(now = Date.now()) {
    const core = this.core;
    return this.write((flags) => {
      core.call0('nw_expire', this.table, +now, flags);
    }, (r) => { r.u32(); return r.u32(); });
  }

  // ---- reads ---------------------------------------------------------------------

  /** Writes a raw id into the input buffer; returns its byte length. */
  sendId(id) { return this.core.sendStr(id); }

  get(id) {
    if (typeof id !== 'string') return null;
    const core = this.core;
    if (core.closed) core.call0('nw_get');
    const len = core.sendStr(id);
    if (this.nitro.usesTtl) this.nitro._now();
    const x = core.x;
    core.check(x.nw_get(core.I, this.table, len));
    const at = x.nw_out_ptr(core.I);
    const dv = core.dv;
    if (dv.getUint32(at, true) === 0) return null;
    const r = this.reader;
    r.u8 = core.u8; r.dv = dv; r.at = at + 4;
    return this.decode(r);
  }

  getMany(ids) {
    if (!Array.isArray(ids)) throw this.error('QUERY', null, 'type', `getMany takes an array of ids (got ${ids === null ? 'null' : typeof ids})`);
    const core = this.core;
    core.enc.reset().value(ids.map((id) => (typeof id === 'string' ? id : null)));
    this.nitro._now();
    core.call0('nw_get_many', this.table, core.send());
    return this.readRecords(this.out());
  }

  all() {
    this.nitro._now();
    this.core.call0('nw_all', this.table);
    return this.readRecords(this.out());
  }

  count(where) {
    if (where !== undefined && where !== null) return this.where(where).count();
    this.nitro._now();
    this.core.call0('nw_count', this.table);
    return this.out().u32();
  }

  where(where) { return new Query(this).where(where); }

  query() { return new Query(this); }

  findBy(where) { return this.where(where).first(); }

  /** Records ranked by relevance: every word must match (case- and
   * accent-insensitive), the last one as a prefix. */
  search(text, options = {}) {
    if (typeof text !== 'string') throw this.error('QUERY', null, 'search', 'search text must be a string');
    const core = this.core;
    if (options.where !== undefined && options.where !== null && (typeof options.where !== 'object' || Array.isArray(options.where))) {
      throw this.error('QUERY', null, 'type', 'a where clause is an object');
    }
    const limit = options.limit === undefined || options.limit === null ? null : options.limit;
    if (limit !== null && (!Number.isInteger(limit) || limit < 0)) throw this.error('QUERY', null, 'limit', 'limit must be a non-negative integer');
    encodeSpec(this, core.enc.reset(), { text, where: options.where ?? null, limit });
    this.nitro._now();
    core.call0('nw_search', this.table, core.send());
    return this.readRecords(this.out());
  }

  /** The record a ref field of `rec` points at, or null. */
  related(rec, field) {
    const f = this.fields[this.fieldIndex.get(field)];
    if (!f || f.type !== 'ref') {
      throw new NitroError('QUERY', `${this.name}.${field}: is not a ref field`, { entity: this.name, field, rule: 'ref' });
    }
    const target = this.nitro.entities.get(f.spec.entity);
    if (!target) throw new NitroError('SCHEMA', `${this.name}.${field}: entity ${f.spec.entity} is not defined`, { entity: this.name, field, rule: 'ref' });
    const id = rec && rec[field];
    return typeof id === 'string' ? target.get(id) : null;
  }

  /** Records of `child` whose ref `field` points at `rec` (a record of this entity). */
  children(rec, child, field) {
    const f = child.fields[child.fieldIndex.get(field)];
    if (!f || f.type !== 'ref' || f.spec.entity !== this.name) {
      throw new NitroError('QUERY', `${child.name}.${field}: is not a ref to ${this.name}`, { entity: child.name, field, rule: 'ref' });
    }
    const id = rec && rec[this.idName];
    return child.where({ [field]: id }).all();
  }
}

/** The fields as C stores them (nw_entity_define's output): name and decode
 * hint (src/wire.h), with the definition each came from. */
function fieldsOf(r, declared) {
  const byName = new Map(declared.map((f) => [f.name, f]));
  const out = new Array(r.u32());
  for (let i = 0; i < out.length; i++) {
    const hint = r.u8[r.at++];
    const name = r.value0Str();
    const f = byName.get(name);
    out[i] = { name, hint, type: f.type, values: f.values, spec: f.spec };
  }
  return out;
}

function ttlArg(options, entity) {
  if (options.ttl === undefined || options.ttl === null) return -1;
  if (entity) entity.nitro.usesTtl = true;
  const t = Number(options.ttl);
  return Number.isFinite(t) && t >= 0 ? t : -1;
}

function checkId(entity, id) {
  if (typeof id !== 'string' || id === '') {
    throw entity.error('VALIDATION', entity.idName, 'type', `an id is a non-empty string (got ${JSON.stringify(id) ?? String(id)})`);
  }
}

function stripFunctions(spec) {
  const out = {};
  for (const [k, v] of Object.entries(spec)) if (typeof v !== 'function') out[k] = v;
  return out;
}

/** Records are instances of a per-entity class: fields are own properties,
 * methods live on the prototype. */
function makeRecordClass(entity, def) {
  const fieldNames = entity.fields.map((f) => f.name);
  const computed = def.computed ? Object.entries(def.computed) : [];
  const Rec = computed.length
    ? function Record() {
      for (const [k, fn] of computed) {
        Object.defineProperty(this, k, { get() { return fn(this); }, enumerable: true, configurable: true });
      }
    }
    : function Record() {};
  Object.defineProperty(Rec, 'name', { value: entity.name });
  const proto = Rec.prototype;
  Object.defineProperties(proto, {
    toJSON: {
      value: function toJSON() {
        const o = {};
        for (const k of fieldNames) o[k] = this[k];
        return o;
      },
    },
    save: {
      value: function save() {
        const fresh = entity.upsert(this.toJSON());
        for (const k of fieldNames) this[k] = fresh[k];
        return this;
      },
    },
    update: {
      value: function update(patch) {
        const fresh = entity.update(this[entity.idName], patch);
        for (const k of fieldNames) this[k] = fresh[k];
        return this;
      },
    },
    delete: { value: function del() { return entity.delete(this[entity.idName]); } },
  });
  // checked by checkDefinition before the entity was defined
  for (const [k, fn] of Object.entries(def.methods || {})) {
    Object.defineProperty(proto, k, { value: fn, writable: true, configurable: true });
  }
  return Rec;
}

export { EV_NAMES, F_EVENTS, F_BEFORE, skipValue };
