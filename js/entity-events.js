// entity-events.js - the events of entity writes: the bytes C captured for
// one write call (src/store.c, the layout in src/wire.h EVLAYOUT), read as
// a batch whose event objects are made one at a time as they are approved
// or delivered, and the event objects handlers get.
import { Reader, readStr } from './record.js';
import { EV, EV_NAMES, EVLAYOUT as EVL, EVFLAG } from './wire.js';
import { reasonOf } from './events.js';

/** An entity event (docs/contract.md, Events). `id`, `record`, `previous`
 * and `changes` are read from its batch's bytes on first access; toJSON()
 * gives a plain copy. */
export class EntityEvent {
  #entity; #kind; #batch; #off;
  #id = undefined; #record = undefined; #previous = undefined; #changes = undefined;
  #reason = undefined;   // undefined: not cancellable now; null: cancellable, not cancelled

  constructor(entity, kind, source, batch, off) {
    this.type = entity.eventTypes[kind];
    this.entity = entity.name;
    this.source = source;
    this.#entity = entity; this.#kind = kind; this.#batch = batch; this.#off = off;
  }

  get id() {
    if (this.#id === undefined) this.#id = this.#batch.idAt(this.#off, this.#kind);
    return this.#id;
  }
  set id(v) { this.#id = v; }

  #decode(at) {
    if (at < 0) return null;
    const b = this.#batch;
    return this.#entity.decode(new Reader().reset(b.bytes, b.dv, at));
  }

  get record() {
    if (this.#record === undefined) this.#record = this.#decode(this.#batch.recAt(this.#off));
    return this.#record;
  }
  set record(v) { this.#record = v; }

  get previous() {
    if (this.#previous === undefined) this.#previous = this.#decode(this.#batch.prevAt(this.#off, this.#kind));
    return this.#previous;
  }
  set previous(v) { this.#previous = v; }

  get changes() {
    if (this.#changes !== undefined) return this.#changes;
    const changes = {};
    const kind = this.#kind;
    if (kind === 'created' || kind === 'updated' || kind === 'beforeSave') {
      const record = this.record, fields = this.#entity.fields;
      const all = kind === 'created' || (kind === 'beforeSave' && this.#batch.prevAt(this.#off, kind) < 0);
      const lo = this.#batch.mask(this.#off, 0), hi = this.#batch.mask(this.#off, 1);
      for (let fi = 0; fi < fields.length; fi++) {
        const bit = fi < 32 ? (lo >>> fi) & 1 : (hi >>> (fi - 32)) & 1;
        if (bit || all) changes[fields[fi].name] = record[fields[fi].name];
      }
    }
    this.#changes = changes;
    return changes;
  }
  set changes(v) { this.#changes = v; }

  /** Cancels the write of a beforeSave / beforeDelete event while its
   * handlers run (the first reason wins); does nothing on other events or
   * once the write is decided. */
  cancel(reason) {
    if (this.#reason !== null) return;
    this.#reason = reasonOf(reason);
  }

  /** For the bus (js/events.js dispatchCancellable): opens the event to
   * cancel(), reads whether it was cancelled, and closes it again. */
  _openCancel() { this.#reason = null; }
  _cancelReason() { return this.#reason ?? null; }
  _closeCancel() { const r = this.#reason ?? null; this.#reason = undefined; return r; }

  toJSON() {
    return { type: this.type, entity: this.entity, id: this.id, record: this.record, previous: this.previous, changes: this.changes, source: this.source };
  }
}

/** Whether an event kind is one a write waits on (approved before commit). */
export const isBefore = (kind) => kind === 'beforeSave' || kind === 'beforeDelete';

/** Bytes of the event record at p (src/wire.h NW_WIRE_EVLAYOUT). */
function eventSize(u8, dv, p) {
  if (u8[p + EVL.FLAGS] & EVFLAG.SAME) return EVL.HEADER + 4 + EVL.MASK_BYTES;
  const rl = dv.getUint32(p + EVL.HEADER, true);
  return EVL.HEADER + 8 + rl + dv.getUint32(p + EVL.HEADER + 4 + rl, true) + EVL.MASK_BYTES;
}

/** Whether an event's record is also its `previous` (docs/contract.md,
 * Events: the record before the write). */
const removes = (kind) => kind === 'deleted' || kind === 'expired' || kind === 'beforeDelete';

/** The events of one write call. A batch of 100,000 inserts never holds
 * 100,000 event objects: `at(i)` makes event i when it is delivered, so
 * each dies young unless a handler keeps it. Array-like (`length`, `at`,
 * iteration); `source` is given to every event it makes. An event reads
 * its rows through its batch, by its byte offset (`recAt`, `prevAt`,
 * `mask`, `idAt`). */
export class EventBatch {
  #byTable; #offs;

  constructor(byTable, bytes, dv, offs) {
    this.#byTable = byTable; this.#offs = offs;
    this.bytes = bytes; this.dv = dv;
    this.source = 'local';
  }

  get length() { return this.#offs.length; }

  kind(i) { return EV_NAMES[this.bytes[this.#offs[i] + EVL.KIND]]; }

  entity(i) {
    const at = this.#offs[i] + EVL.TABLE;
    return this.#byTable[this.bytes[at] | (this.bytes[at + 1] << 8)];
  }

  at(i) {
    return new EntityEvent(this.entity(i), this.kind(i), this.source, this, this.#offs[i]);
  }

  /** The start of the event whose rows the event at `off` has: itself, or
   * with flag SAME the event `back` bytes before it. */
  #rows(off) {
    return this.bytes[off + EVL.FLAGS] & EVFLAG.SAME ? off - this.dv.getUint32(off + EVL.HEADER, true) : off;
  }

  /** Where the record of the event at `off` starts, -1 for none. */
  recAt(off) {
    const at = this.#rows(off) + EVL.HEADER;
    return this.dv.getUint32(at, true) ? at + 4 : -1;
  }

  /** Where its previous record starts, -1 for none. */
  prevAt(off, kind) {
    const dv = this.dv;
    let at = this.#rows(off) + EVL.HEADER;
    at += 4 + dv.getUint32(at, true);
    return dv.getUint32(at, true) ? at + 4 : removes(kind) ? this.recAt(off) : -1;
  }

  /** Word w (0: fields 0-31, 1: 32-63) of its changed-fields mask. */
  mask(off, w) {
    return this.dv.getUint32(off + eventSize(this.bytes, this.dv, off) - EVL.MASK_BYTES + 4 * w, true);
  }

  /** Its record's id (the first stored field, a string, of the record or previous). */
  idAt(off, kind) {
    const r = this.recAt(off), at = r >= 0 ? r : this.prevAt(off, kind);
    return readStr(this.bytes, at + 5, this.dv.getUint32(at + 1, true));
  }

  /** The after-commit events (all but beforeSave / beforeDelete), as a batch. */
  after() {
    const offs = this.#offs, bytes = this.bytes;
    const keep = [];   // a plain array: a typed array's allocation costs more than one write's events
    for (let i = 0; i < offs.length; i++) {
      const k = bytes[offs[i] + EVL.KIND];
      if (k !== EV.BEFORE_SAVE && k !== EV.BEFORE_DELETE) keep.push(offs[i]);
    }
    if (keep.length === offs.length) return this;
    const b = new EventBatch(this.#byTable, bytes, this.dv, keep);
    b.source = this.source;
    return b;
  }

  *[Symbol.iterator]() { for (let i = 0; i < this.length; i++) yield this.at(i); }
}

const CHUNK = 64 * 1024;
const SMALL = 64;

/** Where the copies of small event batches go: 64 KiB chunks carved in
 * order, so that a write's few hundred bytes of events cost one copy, not
 * one ArrayBuffer (whose allocation costs more than the copy). A chunk
 * lives as long as an event made from it. One per instance. */
export class EventBytes {
  constructor() {
    this.u8 = new Uint8Array(0);
    this.dv = new DataView(this.u8.buffer);
    this.used = 0;
  }

  /** Room for len bytes in the current chunk (a new one when full): their offset. */
  take(len) {
    if (this.used + len > this.u8.length) {
      this.u8 = new Uint8Array(CHUNK);
      this.dv = new DataView(this.u8.buffer);
      this.used = 0;
    }
    const at = this.used;
    this.used += len;
    return at;
  }
}

/** Reads a write call's events: u32 count and u32 length in the output
 * `r`, then the event records, inline after them when `at` is -1 (a write
 * batch's results) or at `at` in WASM memory (a write's events stay in the
 * store's event buffer, src/api_store.c). Null when there are none. The
 * bytes are copied once, since later calls overwrite them and transactions
 * deliver later: a big batch into a buffer of its own, a small one into
 * `pool`. */
export function readEvents(r, byTable, pool, at = -1) {
  const n = r.u32(), len = r.u32();
  const u8 = r.u8, dv = r.dv;
  const start = at < 0 ? r.at : at;
  if (at < 0) r.at += len;
  if (n === 0) return null;
  const offs = n > SMALL ? new Uint32Array(n) : new Array(n);   // a small typed array costs more than its events
  let p = start;
  for (let i = 0; i < n; i++) {
    offs[i] = p - start;
    p += eventSize(u8, dv, p);
  }
  if (p !== start + len) throw new Error(`nitro-wasm: corrupt events (${len} bytes announced, ${p - start} read)`);
  if (len > CHUNK / 4) {
    const bytes = u8.slice(start, p);
    return new EventBatch(byTable, bytes, new DataView(bytes.buffer), offs);
  }
  const base = pool.take(len);
  pool.u8.set(u8.subarray(start, p), base);
  for (let i = 0; i < n; i++) offs[i] += base;
  return new EventBatch(byTable, pool.u8, pool.dv, offs);
}
