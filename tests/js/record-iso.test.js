// Datetime fields are read back as Date#toISOString would write them; the
// reader formats them itself (js/record.js iso) with a memo of the last day.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { iso } from '../../js/record.js';
import { createNitro } from '../../js/nitro.js';

const wasm = new URL('../../dist/nitro.wasm', import.meta.url);
const DAY = 86_400_000;

function random(seed) {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

test('iso() equals Date#toISOString: days, edges of days and years, fractions, negatives', () => {
  const rnd = random(5);
  const values = [0, -0, 1, -1, 0.5, -0.5, 1.999, -1.999, DAY - 1, DAY, -DAY, -DAY - 1,
    Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(1000, 0, 1), Date.UTC(1000, 0, 1) - 1,
    Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(9999, 11, 31, 23, 59, 59, 999) + 1, 8.64e15, -8.64e15];
  for (let i = 0; i < 20_000; i++) {
    const span = [DAY * 3, DAY * 4000, 4e14][i % 3];
    values.push(Math.floor((rnd() - 0.5) * span) + (i % 7 === 0 ? rnd() : 0));
  }
  // each value alone, and after values of other days (the memo must not leak)
  for (const v of values) assert.equal(iso(v), new Date(v).toISOString(), `for ${v}`);
  for (const v of [...values].reverse()) assert.equal(iso(v), new Date(v).toISOString(), `for ${v}`);
  for (const bad of [NaN, Infinity, 8.64e15 + 1]) assert.throws(() => iso(bad), RangeError);
});

test('datetime fields of stored records read back as their ISO strings', async () => {
  const nitro = await createNitro({ wasm });
  const Ev = nitro.entity('Ev', { fields: { at: { type: 'datetime' } } });
  const times = [Date.UTC(2026, 11, 7, 13, 0, 0, 5), Date.UTC(2026, 11, 8), Date.UTC(1969, 6, 20, 20, 17, 40), Date.UTC(2026, 11, 7, 23, 59, 59, 999)];
  Ev.insertMany(times.map((t, i) => ({ id: `e${i}`, at: new Date(t) })));
  assert.deepEqual(Ev.all().map((e) => e.at), times.map((t) => new Date(t).toISOString()));
  nitro.close();
});
