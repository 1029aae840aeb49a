// record.js - decoding stored records (src/record.h layout) into JS values,
// and the record classes users get back.
import { utf8 } from './core.js';
import { TAG, HINT } from './wire.js';

// Stored field tags (src/wire.h).
const { NULL, FALSE, TRUE, NUM, STR, ARR, OBJ, DATE, ENUM } = TAG;

// Strings of up to 12 bytes take one String.fromCharCode call; longer ones
// Node's Buffer#utf8Slice (a native UTF-8 slice without TextDecoder's
// per-call overhead) or, in browsers, a plain loop up to 32 ASCII bytes,
// several times cheaper than TextDecoder's fixed cost (docs/boundary.md,
// What a crossing costs), and TextDecoder past that.
const nodeUtf8Slice = typeof Buffer === 'function' && typeof Buffer.prototype.utf8Slice === 'function' ? Buffer.prototype.utf8Slice : null;

// In Chromium 156 the loop was 3x cheaper than TextDecoder for 20-byte
// ASCII strings (0.16 vs 0.47 us).
const LOOP_MAX = 32;

/** UTF-8 bytes u8[at, at + n) as a string. */
export function readStr(u8, at, n) {
  if (n === 0) return '';
  if (n <= 12) return readShort(u8, at, n);
  if (nodeUtf8Slice !== null) return nodeUtf8Slice.call(u8, at, at + n);
  if (n <= LOOP_MAX) {
    let s = '';
    for (let i = 0; i < n; i++) {
      const c = u8[at + i];
      if (c > 0x7f) return utf8.decode(u8.subarray(at, at + n));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8.decode(u8.subarray(at, at + n));
}

const fc = String.fromCharCode;

/** 1 to 12 bytes (ids, enum-like tokens): one fromCharCode call of that
 * arity makes one string, where appending a character at a time makes one
 * per character (in Node 20: 32 ns against 86 ns for an 8-byte id). */
function readShort(u8, at, n) {
  let hi = 0;
  for (let i = 0; i < n; i++) hi |= u8[at + i];
  if (hi > 0x7f) return utf8.decode(u8.subarray(at, at + n));
  const a = u8[at], b = u8[at + 1], c = u8[at + 2], d = u8[at + 3];
  switch (n) {
    case 1: return fc(a);
    case 2: return fc(a, b);
    case 3: return fc(a, b, c);
    case 4: return fc(a, b, c, d);
    case 5: return fc(a, b, c, d, u8[at + 4]);
    case 6: return fc(a, b, c, d, u8[at + 4], u8[at + 5]);
    case 7: return fc(a, b, c, d, u8[at + 4], u8[at + 5], u8[at + 6]);
    case 8: return fc(a, b, c, d, u8[at + 4], u8[at + 5], u8[at + 6], u8[at + 7]);
    case 9: return fc(a, b, c, d, u8[at + 4], u8[at + 5], u8[at + 6], u8[at + 7], u8[at + 8]);
    case 10: return fc(a, b, c, d, u8[at + 4], u8[at + 5], u8[at + 6], u8[at + 7], u8[at + 8], u8[at + 9]);
    case 11: return fc(a, b, c, d, u8[at + 4], u8[at + 5], u8[at + 6], u8[at + 7], u8[at + 8], u8[at + 9], u8[at + 10]);
    default: return fc(a, b, c, d, u8[at + 4], u8[at + 5], u8[at + 6], u8[at + 7], u8[at + 8], u8[at + 9], u8[at + 10], u8[at + 11]);
  }
}

const P2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
// Two ASCII digit codes per number 0..99: D2[2n], D2[2n + 1].
const D2 = Uint8Array.from(P2.join(''), (c) => c.charCodeAt(0));

/** The calendar part ("YYYY-MM-DDT") of a day since 1970 (civil-from-days,
 * H. Hinnant), or null outside years 1000..9999. */
function dayPrefix(days) {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  let y = yoe + era * 400;
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) y++;
  return y >= 1000 && y <= 9999 ? `${y}-${P2[m]}-${P2[d]}T` : null;   // NaN too
}

// The last day iso() formatted and its "YYYY-MM-DDT" as character codes:
// records written together share their day, so most calls only format the
// time. A memo, not state anything reads.
let lastDay = NaN;
const day = new Uint8Array(11);

/** Date#toISOString without a Date object: about twice cheaper than the
 * calendar arithmetic alone, and datetime fields are decoded on every read.
 * One fromCharCode call makes the string flat at once: joining its pieces
 * made a rope V8 flattens on first read, 40 ns a date more (Node 20). */
export function iso(value) {
  const ms = Math.trunc(value) + 0;   // a Date's time value: whole ms, no -0
  const days = Math.floor(ms / 86400000);
  if (days !== lastDay) {
    const p = dayPrefix(days);
    if (p === null) return new Date(ms).toISOString();   // throws RangeError for NaN, as Date does
    for (let i = 0; i < 11; i++) day[i] = p.charCodeAt(i);
    lastDay = days;
  }
  let rem = ms - days * 86400000;
  const h = (rem / 3600000) | 0; rem -= h * 3600000;
  const mi = (rem / 60000) | 0; rem -= mi * 60000;
  const sec = (rem / 1000) | 0; rem -= sec * 1000;
  const cs = (rem / 100) | 0, r2 = rem - cs * 100;
  const p = day;
  return fc(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10],
    D2[2 * h], D2[2 * h + 1], 58, D2[2 * mi], D2[2 * mi + 1], 58, D2[2 * sec], D2[2 * sec + 1],
    46, 48 + cs, D2[2 * r2], D2[2 * r2 + 1], 90);   // ':' '.' 'Z'
}

/** A decoding cursor over WASM memory (re-pointed after each call). */
export class Reader {
  constructor() { this.u8 = null; this.dv = null; this.at = 0; }
  reset(u8, dv, at) { this.u8 = u8; this.dv = dv; this.at = at; return this; }
  u32() { const v = this.dv.getUint32(this.at, true); this.at += 4; return v; }
  /** u32 length + UTF-8 bytes (no tag). */
  value0Str() { const n = this.u32(); const s = readStr(this.u8, this.at, n); this.at += n; return s; }

  /** Any NVAL value (json fields, list items). Dates become ISO strings, as JSON would. */
  value() {
    const u8 = this.u8, tag = u8[this.at++];
    switch (tag) {
      case NULL: return null;
      case FALSE: return false;
      case TRUE: return true;
      case NUM: { const v = this.dv.getFloat64(this.at, true); this.at += 8; return v; }
      case DATE: { const v = this.dv.getFloat64(this.at, true); this.at += 8; return iso(v); }
      case STR: { const n = this.u32(); const s = readStr(u8, this.at, n); this.at += n; return s; }
      case ARR: {
        const n = this.u32();
        const a = new Array(n);
        for (let i = 0; i < n; i++) a[i] = this.value();
        return a;
      }
      case OBJ: {
        const n = this.u32();
        const o = {};
        for (let i = 0; i < n; i++) {
          const kl = this.u32();
          const k = readStr(u8, this.at, kl);
          this.at += kl;
          // C never stores reserved keys (src/record.h); should one arrive
          // anyway it becomes an own property, never the prototype.
          if (k === '__proto__') Object.defineProperty(o, k, { value: this.value(), writable: true, enumerable: true, configurable: true });
          else o[k] = this.value();
        }
        return o;
      }
      case ENUM: return u8[this.at++];
      default: throw new Error(`nitro-wasm: corrupt record (tag ${tag})`);
    }
  }
}

/** Builds the per-entity decoder: stored field bytes -> a fresh record,
 * driven by the decode hint C gives each field (src/wire.h NW_WIRE_HINT;
 * nw_entity_define returns them), so no type name is looked at here.
 * Where the page allows it (no CSP forbidding eval), the decoder is
 * generated as straight-line code with constant property names, which V8
 * compiles to monomorphic stores: about twice as fast as the generic loop.
 * Both read the same bytes the same way: `fields` is [{ name, hint, values }]. */
export function makeDecoder(fields, Rec) {
  try {
    return makeFastDecoder(fields, Rec);
  } catch {
    return makeLoopDecoder(fields, Rec);
  }
}

// The fast path of each hint: a tag test and the statement that reads it;
// anything else (null, or a value of another form) goes to Reader.value().
const FAST = {
  [HINT.STR]: (key) => [`tag === ${STR}`, `n = dv.getUint32(at + 1, true); ${key} = readStr(u8, at + 5, n); at += 5 + n;`],
  [HINT.NUM]: (key) => [`tag === ${NUM}`, `${key} = dv.getFloat64(at + 1, true); at += 9;`],
  [HINT.DATE]: (key) => [`tag === ${NUM}`, `${key} = iso(dv.getFloat64(at + 1, true)); at += 9;`],
  [HINT.ENUM]: (key, i) => [`tag === ${ENUM}`, `${key} = enums[${i}][u8[at + 1]]; at += 2;`],
  [HINT.BOOL]: (key) => [`tag === ${TRUE} || tag === ${FALSE}`, `${key} = tag === ${TRUE}; at += 1;`],
  [HINT.STRLIST]: (key) => [`tag === ${ARR}`, `n = dv.getUint32(at + 1, true); at += 5; const a = new Array(n); for (let k = 0; k < n; k++) { const l = dv.getUint32(at + 1, true); a[k] = readStr(u8, at + 5, l); at += 5 + l; } ${key} = a;`],
};
FAST[HINT.TOKEN] = FAST[HINT.STR];

function makeFastDecoder(fields, Rec) {
  const lines = ['const rec = new Rec(); let at = r.at, n = 0, tag = 0;'];
  fields.forEach((f, i) => {
    const key = `rec[${JSON.stringify(f.name)}]`;
    const fast = FAST[f.hint];
    const [test, read] = fast ? fast(key, i) : ['false', ''];
    lines.push(`tag = u8[at]; if (${test}) { ${read} }`);
    lines.push(`else if (tag === ${NULL}) { ${key} = null; at += 1; } else { r.at = at; ${key} = r.value(); at = r.at; }`);
  });
  lines.push('r.at = at; return rec;');
  const body = `return function decode(r) { const u8 = r.u8, dv = r.dv; ${lines.join('\n')} };`;
  // eslint-disable-next-line no-new-func
  const build = new Function('Rec', 'readStr', 'iso', 'enums', body);
  return build(Rec, readStr, iso, fields.map((f) => f.values || null));
}

function makeLoopDecoder(fields, Rec) {
  const n = fields.length;
  const names = fields.map((f) => f.name);
  const dates = fields.map((f) => f.hint === HINT.DATE);
  const enums = fields.map((f) => f.values || null);
  return function decode(r) {
    const rec = new Rec();
    const u8 = r.u8;
    for (let i = 0; i < n; i++) {
      const tag = u8[r.at];
      let v;
      if (tag === NUM && dates[i]) {
        v = iso(r.dv.getFloat64(r.at + 1, true));
        r.at += 9;
      } else if (tag === ENUM) {
        v = enums[i][u8[r.at + 1]];
        r.at += 2;
      } else {
        v = r.value();
      }
      rec[names[i]] = v;
    }
    return rec;
  };
}

/** Skips one stored record's fields (used to walk past records nobody reads). */
export function skipValue(r) {
  const u8 = r.u8, tag = u8[r.at++];
  switch (tag) {
    case NULL: case FALSE: case TRUE: return;
    case NUM: case DATE: r.at += 8; return;
    case STR: r.at += 4 + r.dv.getUint32(r.at, true); return;
    case ENUM: r.at += 1; return;
    case ARR: { const n = r.u32(); for (let i = 0; i < n; i++) skipValue(r); return; }
    case OBJ: { const n = r.u32(); for (let i = 0; i < n; i++) { r.at += 4 + r.dv.getUint32(r.at, true); skipValue(r); } return; }
    default: throw new Error(`nitro-wasm: corrupt record (tag ${tag})`);
  }
}
