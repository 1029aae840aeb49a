// entity-events.js - the events of entity writes: the bytes C captured for
// one write call (src/store.c, the layout in src/wire.h EVLAYOUT), read as
// a batch whose event objects are made one at a time as they are approved
// or delivered, and the event objects handlers get.
import { Reader, readStr } from './record.js';
import { EV_NAMES, EVLAYOUT as EVL, EVFLAG } from './wire.js';

/** An entity event (docs/contract.md, Events). `record`, `previous` and `changes` are
 * decoded from the batch's bytes on first access; toJSON() gives a plain copy. */
export class EntityEvent {
  #entity; #bytes; #dv; #recAt; #prevAt; #lo; #hi; #kind;
  #record = undefined; #previous = undefined; #changes = undefined;

  constructor(entity, kind, id, source, bytes, dv, recAt, prevAt, lo, hi) {
    this.type = entity.eventTypes[kind];
    this.entity = entity.name;
    this.id = id;
    this.source = source;
    this.#entity = entity; this.#kind = kind; this.#bytes = bytes; this.#dv = dv;
    this.#recAt = recAt; this.#prevAt = prevAt; this.#lo = lo; this.#hi = hi;
  }

  #decode(at) {
    if (at < 0) return null;
    return this.#entity.decode(new Reader().reset(this.#bytes, this.#dv, at));
  }

  get record() {
    if (this.#record === undefined) this.#record = this.#decode(this.#recAt);
    return this.#record;
  }
  set record(v) { this.#record = v; }

  get previous() {
    if (this.#previous === undefined) this.#previous = this.#decode(this.#prevAt);
    return this.#previous;
  }
  set previous(v) { this.#previous = v; }

  get changes() {
    if (this.#changes !== undefined) return this.#changes;
    const changes = {};
    const kind = this.#kind;
    if (kind === 'created' || kind === 'updated' || kind === 'beforeSave') {
      const record = this.record, fields = this.#entity.fields;
      const all = kind === 'created' || (kind === 'beforeSave' && this.#prevAt < 0);
      for (let fi = 0; fi < fields.length; fi++) {
        const bit = fi < 32 ? (this.#lo >>> fi) & 1 : (this.#hi >>> (fi - 32)) & 1;
        if (bit || all) changes[fields[fi].name] = record[fields[fi].name];
      }
    }
    this.#changes = changes;
    return changes;
  }
  set changes(v) { this.#changes = v; }

  toJSON() {
    return { type: this.type, entity: this.entity, id: this.id, record: this.record, previous: this.previous, changes: this.changes, source: this.source };
  }
}

/** Whether an event kind is one a write waits on (approved before commit). */
export const isBefore = (kind) => kind === 'beforeSave' || kind === 'beforeDelete';

/** The events of one write call. A batch of 100,000 inserts never holds
 * 100,000 event objects: `at(i)` makes event i when it is delivered, so
 * each dies young unless a handler keeps it. Array-like (`length`, `at`,
 * iteration); `source` is given to every event it makes. */
export class EventBatch {
  #byTable; #bytes; #dv; #offs;

  constructor(byTable, bytes, dv, offs) {
    this.#byTable = byTable; this.#bytes = bytes; this.#dv = dv; this.#offs = offs;
    this.source = 'local';
  }

  get length() { return this.#offs.length; }

  kind(i) { return EV_NAMES[this.#bytes[this.#offs[i] + EVL.KIND]]; }

  entity(i) {
    const at = this.#offs[i] + EVL.TABLE;
    return this.#byTable[this.#bytes[at] | (this.#bytes[at + 1] << 8)];
  }

  at(i) {
    const bytes = this.#bytes, dv = this.#dv, kind = this.kind(i), off = this.#offs[i];
    // flag SAME: the rows are those of the event `back` bytes before this one
    const same = bytes[off + EVL.FLAGS] & EVFLAG.SAME;
    let at = (same ? off - dv.getUint32(off + EVL.HEADER, true) : off) + EVL.HEADER;
    const rl = dv.getUint32(at, true);
    const recAt = rl ? at + 4 : -1;
    at += 4 + rl;
    const pl = dv.getUint32(at, true);
    // a removed record is also its own `previous` (docs/contract.md, Events: the record before the write)
    const prevAt = pl ? at + 4 : kind === 'deleted' || kind === 'expired' || kind === 'beforeDelete' ? recAt : -1;
    at = same ? off + EVL.HEADER + 4 : at + 4 + pl;
    const lo = dv.getUint32(at, true), hi = dv.getUint32(at + 4, true);
    // the id is the first stored field (a string) of the record or previous
    const idAt = recAt >= 0 ? recAt : prevAt;
    const id = readStr(bytes, idAt + 5, dv.getUint32(idAt + 1, true));
    return new EntityEvent(this.entity(i), kind, id, this.source, bytes, dv, recAt, prevAt, lo, hi);
  }

  /** The after-commit events (all but beforeSave / beforeDelete), as a batch. */
  after() {
    const keep = [];
    for (let i = 0; i < this.#offs.length; i++) if (!isBefore(this.kind(i))) keep.push(this.#offs[i]);
    if (keep.length === this.#offs.length) return this;
    const b = new EventBatch(this.#byTable, this.#bytes, this.#dv, Uint32Array.from(keep));
    b.source = this.source;
    return b;
  }

  *[Symbol.iterator]() { for (let i = 0; i < this.length; i++) yield this.at(i); }
}

const CHUNK = 64 * 1024;

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
  const offs = new Uint32Array(n);
  let p = start;
  for (let i = 0; i < n; i++) {
    offs[i] = p - start;
    if (u8[p + EVL.FLAGS] & EVFLAG.SAME) { p += EVL.HEADER + 4 + EVL.MASK_BYTES; continue; }
    p += EVL.HEADER;
    p += 4 + dv.getUint32(p, true);
    p += 4 + dv.getUint32(p, true);
    p += EVL.MASK_BYTES;
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
