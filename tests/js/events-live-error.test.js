// A live-query subscriber that throws is reported to nitro.on('error') like a
// throwing event handler; the write that triggered it still succeeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNitro } from '../../dist/nitro.js';

test("a throwing live subscriber reaches the 'error' handlers and the write succeeds", async () => {
  const nitro = await createNitro();
  const T = nitro.entity('T', { fields: { title: { type: 'string' } } });
  const got = [];
  nitro.on('error', (err, e) => { got.push([err.message, e.type]); });
  T.where({}).subscribe(() => { throw new Error('boom'); });
  const rec = T.create({ title: 'x' });
  assert.ok(T.get(rec.id));
  assert.deepEqual(got, [['boom', 'live']]);
  nitro.close();
});
