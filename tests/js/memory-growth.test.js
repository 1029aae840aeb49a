// WebAssembly memory grows under the JS views of it: every call after a
// grow must write its input and read its output through fresh views. The
// shim notices a grow by its old views having length 0 (js/core.js
// refresh), so each kind of crossing is exercised right after one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNitro } from '../../js/nitro.js';

const wasm = new URL('../../dist/nitro.wasm', import.meta.url);

test('ids, records and queries cross correctly right after memory grows', async () => {
  const nitro = await createNitro({ wasm });
  const Note = nitro.entity('Note', { fields: { id: { type: 'id' }, text: { type: 'string' }, n: { type: 'int' } }, indexes: ['n'] });
  let grows = 0, k = 0;
  for (let round = 0; grows < 4 && round < 400; round++) {
    const before = nitro.stats().memoryBytes;
    const batch = Array.from({ length: 500 }, (_, i) => ({ id: `n${k + i}`, text: `note ${k + i} ${'x'.repeat((k + i) % 300)}`, n: (k + i) % 97 }));
    Note.insertMany(batch, { returning: 'count' });
    k += batch.length;
    if (nitro.stats().memoryBytes === before) continue;
    grows++;
    // the first calls after the grow: a get (its id sent as a string), a
    // query (an encoded spec), a write (an encoded record) and its result
    const id = `n${k - 1}`;
    assert.equal(Note.get(id).text, batch[batch.length - 1].text);
    assert.equal(Note.where({ n: { lt: 1000 } }).count(), k - (grows - 1));   // one record a grow was moved past 1000
    assert.deepEqual({ ...Note.update(id, { n: 1000 + grows }) }, { ...batch[batch.length - 1], n: 1000 + grows });
    assert.equal(Note.where({ n: 1000 + grows }).first().id, id);
  }
  assert.equal(grows, 4, 'the memory grew four times');
  nitro.close();
});
