// The outbox is bounded: unsent writes fold per record (src/changelog.h),
// so create+delete pairs leave nothing behind and memory returns to a steady
// state. bench/outbox.js measures the same with 1M pairs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNitro } from './helpers.js';

const PAIRS = 100_000, BATCH = 1000;

async function churn(options) {
  const nitro = await createNitro(options);
  const Task = nitro.entity('Task', { fields: { title: { type: 'string' }, n: { type: 'int' } } });
  const rows = Array.from({ length: BATCH }, (_, i) => ({ title: `a task title ${i}`, n: i }));
  for (let done = 0; done < PAIRS; done += BATCH) {
    const made = Task.insertMany(rows);
    nitro.transaction(() => { for (const r of made) r.delete(); });
  }
  assert.equal(Task.count(), 0);
  return { nitro, memory: nitro.stats().memoryBytes, heap: nitro.stats().heapBytes };
}

test(`${PAIRS} create+delete pairs with the outbox on stay within 2x of the outbox-off memory`, async () => {
  const off = await churn({ outbox: false });
  const on = await churn({});
  assert.ok(on.memory <= 2 * off.memory, `WASM memory ${on.memory} with the outbox, ${off.memory} without`);
  assert.ok(on.heap <= 2 * off.heap + (1 << 20), `C heap ${on.heap} with the outbox, ${off.heap} without`);
  const sync = on.nitro.sync({ url: 'http://127.0.0.1:9/sync' });
  assert.equal(sync.status.pending, 0, 'nothing left to send');
});

test('coalescing keeps what the server needs: create+update is one create with the new values', async () => {
  const nitro = await createNitro();
  const Task = nitro.entity('Task', { fields: { title: { type: 'string' }, n: { type: 'int' } } });
  const sync = nitro.sync({ url: 'http://127.0.0.1:9/sync' });
  const t = Task.create({ title: 'a', n: 1 });
  Task.update(t.id, { n: 2 });
  Task.update(t.id, { title: 'b' });
  assert.equal(sync.status.pending, 1);
  const gone = Task.create({ title: 'gone' });
  Task.delete(gone.id);
  assert.equal(sync.status.pending, 1);
  // a rolled-back transaction leaves the folded entry as it was
  assert.throws(() => nitro.transaction(() => { Task.update(t.id, { n: 3 }); throw new Error('no'); }));
  const snap = nitro.snapshot();
  const other = await createNitro();
  other.entity('Task', { fields: { title: { type: 'string' }, n: { type: 'int' } } });
  other.restore(snap);
  const s2 = other.sync({ url: 'http://127.0.0.1:9/sync' });
  assert.equal(s2.status.pending, 1);
  assert.deepEqual(Task.get(t.id).toJSON(), { id: t.id, title: 'b', n: 2 });
});
