// snapshot-bytes.js - test helper: splits a nitro snapshot (format in
// src/snapshot.h) into its records' fields and puts it back together with
// the CRC-32 recomputed exactly as C computes it, so that a test can tamper
// with the content and still reach the parser.
const TAG = { NULL: 0, FALSE: 1, TRUE: 2, NUM: 3, STR: 4, ARR: 5, OBJ: 6, DATE: 7, ENUM: 0x0c };

let table = null;
export function crc32(p, n = p.length) {
  if (!table) {
    table = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[i] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < n; i++) c = table[(c ^ p[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Byte span of the stored field (or NVAL value) at u8[at]. */
export function span(u8, at) {
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  switch (u8[at]) {
    case TAG.NULL: case TAG.FALSE: case TAG.TRUE: return 1;
    case TAG.NUM: case TAG.DATE: return 9;
    case TAG.ENUM: return 2;
    case TAG.STR: return 5 + dv.getUint32(at + 1, true);
    case TAG.ARR: case TAG.OBJ: {
      const n = dv.getUint32(at + 1, true);
      let off = at + 5;
      for (let i = 0; i < n; i++) {
        if (u8[at] === TAG.OBJ) off += 4 + dv.getUint32(off, true);
        off += span(u8, off);
      }
      return off - at;
    }
    default: throw new Error(`unknown tag ${u8[at]} at ${at}`);
  }
}

/** { head, tables: [{ name, hash, records: [{ expires, fields: Uint8Array[] }] }], tail } */
export function parseSnapshot(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nt = dv.getUint32(12, true);
  let at = 16;
  const tables = [];
  for (let t = 0; t < nt; t++) {
    const nl = dv.getUint32(at, true);
    const name = new TextDecoder().decode(bytes.subarray(at + 4, at + 4 + nl));
    at += 4 + nl;
    const hash = dv.getUint32(at, true);
    const n = dv.getUint32(at + 4, true);
    at += 8;
    const records = [];
    for (let k = 0; k < n; k++) {
      const expires = dv.getFloat64(at, true);
      const len = dv.getUint32(at + 8, true);
      at += 12;
      const fields = [];
      for (let off = at; off < at + len;) {
        const s = span(bytes, off);
        fields.push(bytes.slice(off, off + s));
        off += s;
      }
      records.push({ expires, fields });
      at += len;
    }
    tables.push({ name, hash, records });
  }
  return { head: bytes.slice(0, 12), tables, tail: bytes.slice(at, bytes.length - 4) };
}

export function buildSnapshot(s) {
  const parts = [s.head];
  const u32 = (v) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v, true); return b; };
  parts.push(u32(s.tables.length));
  for (const t of s.tables) {
    const name = new TextEncoder().encode(t.name);
    parts.push(u32(name.length), name, u32(t.hash), u32(t.records.length));
    for (const r of t.records) {
      const e = new Uint8Array(8); new DataView(e.buffer).setFloat64(0, r.expires, true);
      const len = r.fields.reduce((a, f) => a + f.length, 0);
      parts.push(e, u32(len), ...r.fields);
    }
  }
  parts.push(s.tail);
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(total + 4);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  new DataView(out.buffer).setUint32(total, crc32(out, total), true);
  return out;
}

/** Stored field bytes for tests: a number, a string (from bytes or text), null. */
export function num(v) { const b = new Uint8Array(9); b[0] = TAG.NUM; new DataView(b.buffer).setFloat64(1, v, true); return b; }
export function str(v) {
  const s = typeof v === 'string' ? new TextEncoder().encode(v) : Uint8Array.from(v);
  const b = new Uint8Array(5 + s.length); b[0] = TAG.STR; new DataView(b.buffer).setUint32(1, s.length, true); b.set(s, 5); return b;
}
export const NULL = Uint8Array.of(TAG.NULL);
