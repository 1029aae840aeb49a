// Strings are read back from WASM memory as they were written, whatever
// their length and bytes: js/record.js reads 1 to 12 bytes with one
// String.fromCharCode call, longer ones with a native slice (Node) or a
// loop (browsers), and any non-ASCII string with TextDecoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readStr } from '../../js/record.js';
import { createNitro } from '../../js/nitro.js';

const wasm = new URL('../../dist/nitro.wasm', import.meta.url);
const PIECES = ['a', 'Z', '0', ' ', '~', '\u00e9', '\u20ac', '\u{1F600}', '<', '"', '\u0000', '\u007f'];

function strings() {
  const out = [''];
  for (let len = 1; len <= 40; len++) {
    out.push('x'.repeat(len));                               // ASCII of every length
    out.push(Array.from({ length: len }, (_, i) => String.fromCharCode(33 + ((i * 7 + len) % 90))).join(''));
    for (const p of PIECES.slice(5)) out.push('y'.repeat(Math.max(0, len - 1)) + p);   // one wide character last
    out.push(PIECES[len % PIECES.length] + 'z'.repeat(len - 1));                      // or first
  }
  return out;
}

test('readStr decodes UTF-8 of every length from 0 to 40 bytes, ASCII or not', () => {
  const enc = new TextEncoder();
  const u8 = new Uint8Array(4096);
  for (const s of strings()) {
    const b = enc.encode(s);
    u8.fill(0xff);                      // bytes past the string must not leak in
    u8.set(b, 100);
    assert.equal(readStr(u8, 100, b.length), s, JSON.stringify(s));
  }
});

test('records keep ids and text of every length through insert, get and a query', async () => {
  const nitro = await createNitro({ wasm });
  const Note = nitro.entity('Note', { fields: { id: { type: 'id' }, text: { type: 'string' }, tags: { type: 'list', of: 'string', default: [] } } });
  const all = strings().filter((s) => s !== '' && !s.includes('\u0000'));
  const head = (s, n) => Array.from(s).slice(0, n).join('');   // whole code points
  const rows = all.map((s, i) => ({ id: `${head(s, 10)}-${i}`, text: s, tags: [head(s, 3), s] }));
  Note.insertMany(rows, { returning: 'count' });
  for (const r of rows) assert.deepEqual({ ...Note.get(r.id) }, r);
  const got = new Map(Note.where({}).all().map((r) => [r.id, { ...r }]));
  for (const r of rows) assert.deepEqual(got.get(r.id), r);
  nitro.close();
});
