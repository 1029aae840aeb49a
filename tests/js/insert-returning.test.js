// insertMany's `returning` option: 'ids' and 'count' write the same records
// as the default 'records' (checked against a plain JS model over random
// batches, with upserts, failures and rollbacks), without sending them back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNitro, NitroError } from '../../js/nitro.js';

const wasm = new URL('../../dist/nitro.wasm', import.meta.url);
const fields = {
  title: { type: 'string', required: true, maxLength: 8 },
  n: { type: 'int', min: 0, default: 1 },
  tags: { type: 'list', of: 'string', default: [] },
};

function random(seed) {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

test('insertMany with returning ids / count / records matches a JS model', async () => {
  const nitro = await createNitro({ wasm });
  const Task = nitro.entity('Task', { fields, indexes: ['n'] });
  const model = new Map();
  const rnd = random(18);
  const modes = ['records', 'ids', 'count', undefined];
  for (let round = 0; round < 60; round++) {
    const size = Math.floor(rnd() * 20);
    const upsert = rnd() < 0.3;
    const batch = [];
    for (let i = 0; i < size; i++) {
      const id = `k${Math.floor(rnd() * 40)}`;
      const bad = rnd() < 0.03;
      batch.push({ id, title: bad ? 'much too long' : `t${round}-${i}`, n: Math.floor(rnd() * 5), tags: rnd() < 0.5 ? ['a'] : [] });
    }
    // the model: all or nothing, in order; a new id twice in one batch is a duplicate unless upserting
    const next = new Map(model);
    let fails = -1;
    batch.forEach((b, i) => {
      if (fails >= 0) return;
      if (b.title.length > 8 || (!upsert && next.has(b.id))) { fails = i; return; }
      next.set(b.id, { ...b });
    });
    const mode = modes[round % 4];
    let got, err;
    try { got = Task.insertMany(batch, { upsert, returning: mode }); } catch (e) { err = e; }
    if (fails >= 0) {
      assert.ok(err instanceof NitroError, `round ${round}: expected a failure at ${fails}`);
      assert.equal(err.index, fails, `round ${round}`);
    } else {
      assert.equal(err, undefined, `round ${round}: ${err?.message}`);
      for (const [k, v] of next) model.set(k, v);
      if (mode === 'count') assert.equal(got, batch.length);
      else if (mode === 'ids') assert.deepEqual(got, batch.map((b) => b.id));
      else {
        assert.deepEqual(got.map((r) => r.id), batch.map((b) => b.id));
        got.forEach((r, i) => assert.equal(r.title, batch[i].title));
      }
    }
    assert.equal(Task.count(), model.size, `round ${round}`);
    for (const [id, m] of model) {
      const r = Task.get(id);
      assert.deepEqual({ id: r.id, title: r.title, n: r.n, tags: r.tags }, m, `round ${round} ${id}`);
    }
    assert.equal(Task.where({ n: 3 }).count(), [...model.values()].filter((m) => m.n === 3).length);
  }
});

test('returning ids still runs validation and delivers events', async () => {
  const nitro = await createNitro({ wasm });
  const seen = [];
  const Task = nitro.entity('Task', { fields, validate: (r) => (r.n === 4 ? 'n may not be 4' : undefined) });
  nitro.on('Task.created', (e) => seen.push(e.record.id));
  assert.deepEqual(Task.insertMany([{ id: 'a', title: 'x' }, { id: 'b', title: 'y' }], { returning: 'ids' }), ['a', 'b']);
  assert.deepEqual(seen, ['a', 'b']);
  assert.throws(() => Task.insertMany([{ id: 'c', title: 'x' }, { id: 'd', title: 'y', n: 4 }], { returning: 'count' }), (e) => e instanceof NitroError && e.index === 1);
  assert.equal(Task.count(), 2);
  assert.throws(() => Task.insertMany([], { returning: 'rows' }), (e) => e instanceof NitroError && e.code === 'VALIDATION');
});

test('a batch of several MiB gives its buffers back: the live heap is the store, not the batch', async () => {
  const nitro = await createNitro({ wasm, outbox: false });
  const Task = nitro.entity('Note', { fields: { title: { type: 'string' } } });
  const title = 'x'.repeat(200);
  for (const returning of ['records', 'ids']) {
    const batch = Array.from({ length: 20_000 }, (_, i) => ({ id: `${returning}-${i}`, title }));
    Task.insertMany(batch, { returning });
    const s = nitro.stats();
    // 4 MiB of records went in; what stays beside the table is under 1 MiB
    assert.ok(s.heapBytes - s.entities.Note.bytes < 1 << 20, `${s.heapBytes - s.entities.Note.bytes} B beside the table`);
  }
  // and a failed batch gives them back too
  const bad = Array.from({ length: 20_000 }, (_, i) => ({ id: `bad-${i}`, title: i === 19_999 ? 7 : title }));
  assert.throws(() => Task.insertMany(bad), NitroError);
  const s = nitro.stats();
  assert.ok(s.heapBytes - s.entities.Note.bytes < 1 << 20);
  assert.equal(Task.count(), 40_000);
  assert.equal(Task.get('ids-19999').title, title);
  nitro.close();
});
