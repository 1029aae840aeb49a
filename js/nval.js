// nval.js - encodes plain JS values into the byte format C reads in place
// (src/nval.h). One encoder per instance, reused for every call: it grows
// but never shrinks, so a steady workload allocates nothing.
import { NitroError } from './errors.js';
import { TAG } from './wire.js';

/** The value tags (src/wire.h). */
export const T = TAG;

const utf8 = new TextEncoder();

/** A value the encoder cannot write: code LIMIT (rule depth) when it nests
 * deeper than `maxDepth`, VALIDATION (rule type) for functions, symbols,
 * bigints. Callers may re-word it for their context (entity.js, template.js). */
export class EncodeError extends NitroError {}

export class Encoder {
  constructor(size = 4096) {
    this.u8 = new Uint8Array(size);
    this.dv = new DataView(this.u8.buffer);
    this.len = 0;
    /** The deepest a value may nest: C's NVAL_MAX_DEPTH, set from
     * nw_constants when the instance loads (core.js). */
    this.maxDepth = 64;
    /** Resolves objects that are not plain data (query handles) to a u32
     * handle; set by the owner. Returns undefined when `v` is not one. */
    this.handleOf = null;
  }

  reset() { this.len = 0; return this; }

  ensure(n) {
    const need = this.len + n;
    if (need <= this.u8.length) return;
    this.grow(need);
  }

  /** Makes room for `need` bytes, keeping those written (core.js's
   * InputEncoder grows the WASM input buffer instead). */
  grow(need) {
    let size = Math.max(this.u8.length * 2, 64);
    while (size < need) size *= 2;
    const u8 = new Uint8Array(size);
    u8.set(this.u8.subarray(0, this.len));
    this.u8 = u8;
    this.dv = new DataView(u8.buffer);
  }

  byte(b) { this.ensure(1); this.u8[this.len++] = b; }

  u32(v) { this.ensure(4); this.dv.setUint32(this.len, v, true); this.len += 4; }

  f64(v) { this.ensure(8); this.dv.setFloat64(this.len, v, true); this.len += 8; }

  /** Writes u32 byte length + UTF-8 bytes. */
  str(s) {
    const at = this.len;
    this.len += 4;
    const n = this.raw(s);
    this.dv.setUint32(at, n, true);
  }

  /** Writes the UTF-8 bytes of s (no length); returns the byte count. Short
   * ASCII strings are copied by a plain loop: for them it beats TextEncoder
   * (docs/boundary.md, What a crossing costs). Lone surrogates become U+FFFD, as TextEncoder does. */
  raw(s) {
    const n = s.length;
    this.ensure(n * 3 + 1);
    const u8 = this.u8;
    const at = this.len;
    let i = 0;
    if (n < 64) {
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        u8[at + i] = c;
      }
    }
    let written = i;
    if (i < n) written += utf8.encodeInto(i ? s.slice(i) : s, u8.subarray(at + i)).written;
    this.len = at + written;
    return written;
  }

  /** Encodes any plain value: null/undefined, booleans, numbers, strings,
   * Dates, arrays and plain objects (keys with undefined values are skipped,
   * as JSON does). Throws EncodeError for functions, symbols, bigints and
   * values nested deeper than maxDepth (cycles among them). */
  value(v, depth = 0) {
    if (depth > this.maxDepth) throw new EncodeError('LIMIT', `value nested too deeply (limit ${this.maxDepth})`, { rule: 'depth' });
    switch (typeof v) {
      case 'string': this.byte(T.STR); this.str(v); return;
      case 'number': this.byte(T.NUM); this.f64(v); return;
      case 'boolean': this.byte(v ? T.TRUE : T.FALSE); return;
      case 'undefined': this.byte(T.NULL); return;
      case 'object': break;
      default: throw new EncodeError('VALIDATION', `cannot encode a ${typeof v}`, { rule: 'type' });
    }
    if (v === null) { this.byte(T.NULL); return; }
    if (Array.isArray(v)) {
      this.byte(T.ARR); this.u32(v.length);
      for (let i = 0; i < v.length; i++) this.value(v[i], depth + 1);
      return;
    }
    if (v instanceof Date) { this.byte(T.DATE); this.f64(v.getTime()); return; }
    if (this.handleOf) {
      const h = this.handleOf(v);
      if (h !== undefined) { this.byte(T.QUERY); this.u32(h); return; }
    }
    if (typeof v.toJSON === 'function') { this.value(v.toJSON(), depth + 1); return; }
    this.byte(T.OBJ);
    const countAt = this.len;
    this.u32(0);
    let count = 0;
    for (const k in v) {
      if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
      const x = v[k];
      if (x === undefined || typeof x === 'function') continue;
      this.str(k);
      this.value(x, depth + 1);
      count++;
    }
    this.dv.setUint32(countAt, count, true);
  }

  bytes() { return this.u8.subarray(0, this.len); }
}
