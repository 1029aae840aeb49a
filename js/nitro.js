// nitro.js - the public entry: createNitro(), NitroError, and the instance
// that ties the C store, the event bus and the templates together.
import { Core } from './core.js';
import { NitroError } from './errors.js';
import { Entity, F_EVENTS, F_BEFORE } from './entity.js';
import { EventBus } from './events.js';
import { compileTemplate, Template } from './template.js';
import { Query } from './query.js';
import { Sync } from './sync-client/index.js';
import { LiveRegistry } from './dom/live.js';
import { readEvents, EventBytes, isBefore } from './entity-events.js';

export { NitroError, Template, Query };

/** Creates an independent instance with its own WebAssembly memory. */
export async function createNitro(options = {}) {
  const core = await Core.create(options);
  return new Nitro(core, options);
}

const AFTER_TYPES = ['created', 'updated', 'deleted', 'expired'];

/** What the bus accepts as a custom event type, checked before it runs handlers. */
function checkEventType(type) {
  if (typeof type !== 'string' || type === '' || type === 'error' || type.includes('*')) {
    const why = type === 'error' ? "'error' is reserved for handler failures" : `an event type is a non-empty string without '*' (got ${typeof type === 'string' ? JSON.stringify(type) : typeof type})`;
    throw new NitroError('VALIDATION', `emit(): ${why}`, { rule: 'type' });
  }
}

/** 26 characters of base32 randomness (130 bits): unique per client. */
function randomClientId() {
  const b32 = '0123456789abcdefghjkmnpqrstvwxyz';
  const bytes = new Uint8Array(26);
  globalThis.crypto.getRandomValues(bytes);
  let s = '';
  for (const b of bytes) s += b32[b & 31];
  return s;
}

class Nitro {
  constructor(core, options = {}) {
    this.core = core;
    this.entities = new Map();
    this.byTable = [];
    this.bus = new EventBus({ errorFactory: (code, message) => new NitroError(code, message), checkType: checkEventType });
    this.txDepth = 0;
    this.pending = [];
    this.eventBytes = new EventBytes();
    this.flagCache = new Map();
    this.usesTtl = false;
    // The random part of generated ids, so that ids of different clients differ.
    const tag = new Uint8Array(5);
    globalThis.crypto.getRandomValues(tag);
    core.call0('nw_set_client', core.sendBytes(tag));
    // The outbox (src/changelog.h) records every write from the start, under
    // a client id the sync server dedupes mutations by. A restored snapshot
    // brings its own id along.
    core.call0('nw_sync_set_client', core.sendStr(randomClientId()));
    if (options.outbox === false) core.call0('nw_sync_enable', 0);
    /** Set by a started Sync: called after every committed write. */
    this._syncHook = null;
    this._sync = null;
    /** Live queries and mounted views (js/dom/live.js), made on first use. */
    this._live = null;
  }

  /** @internal */
  _liveRegistry() {
    this._open();
    return (this._live ??= new LiveRegistry(this));
  }

  /** @internal after every committed write batch (write, transaction, sync pull, restore). */
  _committed() {
    if (this._live !== null && this.txDepth === 0) this._live.committed();
  }

  /** @internal a throwing subscriber goes where throwing handlers go. */
  _handlerError(err, e) {
    if (this.bus.hasListeners('error')) this.bus.reportError(err, e);
    else queueMicrotask(() => { throw err; });
  }

  // ---- sync ---------------------------------------------------------------------

  /** Keeps the store in sync with a server (docs/contract.md, Sync; docs/sync.md). */
  sync(options) {
    this._open();
    if (this._sync && !this._sync.closed) {
      throw new NitroError('SYNC', 'this instance already syncs: call sync.close() first', { rule: 'sync' });
    }
    this._sync = new Sync(this, options);
    return this._sync;
  }

  /** Resolves when every write made so far is in the sync storage (on disk
   * or committed in IndexedDB); at once without a storage. */
  async flush() {
    this._open();
    if (this._sync && !this._sync.closed) await this._sync.flush();
  }

  /** Defines every entity of a schema module's default export ({ Name: def });
   * returns { Name: Entity }. */
  define(schema) {
    this._open();
    if (!schema || typeof schema !== 'object') throw new NitroError('SCHEMA', 'define() takes { EntityName: definition }', { rule: 'schema' });
    const out = {};
    for (const [name, def] of Object.entries(schema)) out[name] = this.entity(name, def);
    return out;
  }

  // ---- entities ----------------------------------------------------------------

  entity(name, def = {}) {
    this._open();
    if (typeof name !== 'string') throw new NitroError('SCHEMA', 'an entity name is a string', { rule: 'schema' });
    if (this.entities.has(name)) {
      throw new NitroError('SCHEMA', `${name}: entity ${name} is already defined`, { entity: name, rule: 'schema' });
    }
    const e = new Entity(this, name, def);
    this.entities.set(name, e);
    this.byTable[e.table] = e;
    this.flagCache.clear();
    return e;
  }

  // ---- events ------------------------------------------------------------------

  on(pattern, handler, options) {
    let off;
    try {
      off = this.bus.on(pattern, handler, options);
    } catch (err) {
      // argument mistakes (the bus runs no handler here)
      if (err instanceof TypeError) throw new NitroError('VALIDATION', `on(): ${err.message}`, { rule: 'type', cause: err });
      throw err;
    }
    this.flagCache.clear();
    return () => { off(); this.flagCache.clear(); };
  }

  // The bus checks a type the first time it is emitted (checkEventType): an
  // emit of a known type is one lookup and the handler calls.
  emit(type, payload) { return this.bus.emit(type, payload); }
  emitAsync(type, payload) { return this.bus.emitAsync(type, payload); }

  /** Which events C must capture for writes to this entity. */
  _eventFlags(entity) {
    let f = this.flagCache.get(entity.name);
    if (f !== undefined) return f;
    f = 0;
    const bus = this.bus;
    for (const t of AFTER_TYPES) if (bus.hasListeners(`${entity.name}.${t}`)) f |= F_EVENTS;
    if (bus.hasListeners(`${entity.name}.beforeSave`) || bus.hasListeners(`${entity.name}.beforeDelete`)) f |= F_EVENTS | F_BEFORE;
    // cascades write to other entities: capture when any entity is listened to
    if (!(f & F_BEFORE) && this.entities.size > 1) {
      for (const other of this.entities.values()) {
        if (other === entity) continue;
        for (const t of AFTER_TYPES) if (bus.hasListeners(`${other.name}.${t}`)) f |= F_EVENTS;
        if (other.validateFn || bus.hasListeners(`${other.name}.beforeSave`) || bus.hasListeners(`${other.name}.beforeDelete`)) f |= F_EVENTS | F_BEFORE;
      }
    }
    this.flagCache.set(entity.name, f);
    return f;
  }

  /** The events of the write call just made (their count and length
   * follow its results in `r`), as a batch (js/entity-events.js). */
  _readEvents(r) {
    if (r.dv.getUint32(r.at, true) === 0) { r.at += 8; return null; }   // none: no crossing
    const core = this.core;
    return readEvents(r, this.byTable, this.eventBytes, core.x.nw_events_ptr(core.I));
  }

  /** The events of one write of a write batch, inline in its results. */
  _readInlineEvents(r) { return readEvents(r, this.byTable, this.eventBytes, -1); }

  /** Runs validate and before* handlers; throws to undo the write. In a
   * batch (insertMany) errors carry the item's `index`. */
  _approve(events, batch = false) {
    if (!events) return;
    const indexed = batch || events.length > 2;
    const ordinal = indexed ? new Map() : null;   // the item's index, for errors of a batch
    for (let i = 0; i < events.length; i++) {
      const kind = events.kind(i);
      if (!isBefore(kind)) continue;
      const entity = events.entity(i);
      const n = indexed ? ordinal.get(entity.name) ?? 0 : 0;
      if (indexed) ordinal.set(entity.name, n + 1);
      const validate = kind === 'beforeSave' ? entity.validateFn : null;
      const listened = this.bus.hasListeners(entity.eventTypes[kind]);
      if (validate || listened) this._approveOne(events.at(i), entity, kind, validate, listened, n, indexed, batch);
    }
  }

  _approveOne(e, entity, kind, validate, listened, n, indexed, batch) {
    if (validate) {
      let msg;
      try {
        msg = validate(e.record);
      } catch (err) {
        msg = err && err.message ? err.message : String(err);
      }
      if (msg) {
        throw new NitroError('VALIDATION', `${e.entity}${indexed ? ` [${n}]` : ''}: ${msg}`,
          { entity: e.entity, rule: 'validate', index: indexed ? n : undefined });
      }
    }
    if (!listened) return;
    const reason = this.bus.dispatchCancellable(e);
    if (reason !== null) {
      throw new NitroError('CANCELLED', `${e.entity}${batch ? ` [${n}]` : ''}: ${kind === 'beforeSave' ? 'save' : 'delete'} cancelled: ${reason}`,
        { entity: e.entity, rule: kind, index: batch ? n : undefined });
    }
  }

  /** Delivers after-commit events now, or at the end of the transaction. */
  _deliver(events) {
    if (!events) return;
    const after = events.after();
    if (!after.length) return;
    if (this.txDepth > 0) { for (let i = 0; i < after.length; i++) this.pending.push(after.at(i)); return; }
    this.bus.dispatchBatch(after);
  }

  _now() { this.core.x.nw_set_now(this.core.I, Date.now()); }

  _open() { if (this.core.closed) throw new NitroError('CLOSED', 'this nitro instance is closed'); }

  // ---- transactions ------------------------------------------------------------

  transaction(fn) {
    this._open();
    if (typeof fn !== 'function') throw new NitroError('VALIDATION', 'transaction(fn) takes a function', { rule: 'type' });
    const core = this.core;
    core.call0('nw_tx_begin');
    const mark = core.dv.getUint32(core.outView().byteOffset, true);
    const pendingAt = this.pending.length;
    this.txDepth++;
    let result;
    try {
      result = fn();
      if (result && typeof result.then === 'function') {
        throw new NitroError('VALIDATION', 'transaction(fn): fn must be synchronous (it returned a promise)', { rule: 'type' });
      }
    } catch (err) {
      this.txDepth--;
      core.x.nw_tx_rollback(core.I, mark);
      this.pending.length = pendingAt;
      throw err;
    }
    this.txDepth--;
    core.call0('nw_tx_commit');
    if (this._syncHook !== null && this.txDepth === 0) this._syncHook();
    this._committed();
    if (this.txDepth === 0 && this.pending.length) {
      const events = this.pending;
      this.pending = [];
      this.bus.dispatchBatch(events);
    }
    return result;
  }

  // ---- templates -----------------------------------------------------------------

  /** Compiles a Mustache template into WebAssembly; render() takes plain
   * data, records and lazy queries (iterated inside WASM). */
  template(src, options) {
    this._open();
    return compileTemplate(this.core, src, options, this);
  }

  // ---- snapshots ---------------------------------------------------------------

  /** The whole store as bytes (versioned, checksummed). */
  snapshot() {
    this._open();
    this.core.call0('nw_snapshot');
    return this.core.outBytes();
  }

  /** Replaces the store with a snapshot's contents; CORRUPT for damaged
   * bytes and SCHEMA for other entity definitions, leaving the store as it was. */
  restore(bytes) {
    this._open();
    if (!(bytes instanceof Uint8Array)) {
      if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
      else throw new NitroError('CORRUPT', 'restore() takes the Uint8Array snapshot() returned', { rule: 'type' });
    }
    if (this.txDepth > 0) throw new NitroError('CONFLICT', 'restore() cannot run inside a transaction', { rule: 'transaction' });
    this.core.call0('nw_restore', this.core.sendBytes(bytes));
    if (this._sync) this._sync._restored();
    this._committed();
  }

  // ---- instance ------------------------------------------------------------------

  stats() {
    this._open();
    this.core.call0('nw_stats');
    const s = JSON.parse(this.core.outString());
    for (const [name, e] of Object.entries(s.entities)) {
      s.entities[name] = { records: e.records, indexes: e.indexes, bytes: e.bytes };
    }
    return { memoryBytes: this.core.memoryBytes(), heapBytes: s.heapBytes, entities: s.entities, events: this.bus.stats() };
  }

  close() {
    if (this._sync) this._sync.stop();
    this.core.close();
  }
}

export { Nitro };
