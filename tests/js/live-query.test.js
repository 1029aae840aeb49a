// live-query.test.js - Query.subscribe: C keeps subscribed results current
// from each committed write batch. Model-based: after every random
// operation each subscribed result equals a fresh run of its query, and the
// changes reported add up to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createNitro } from '../../dist/nitro.js';

async function setup() {
  const nitro = await createNitro();
  const T = nitro.entity('T', {
    fields: { title: { type: 'string' }, pri: { type: 'int', default: 0 }, status: { type: 'enum', values: ['open', 'done'], default: 'open' } },
    indexes: ['status', ['status', 'pri']],
  });
  return { nitro, T };
}

const QUERIES = [
  (T) => T.query(),
  (T) => T.where({ status: 'open' }),
  (T) => T.where({ status: 'open' }).orderBy('-pri', 'title').limit(3),
  (T) => T.query().orderBy('title').limit(2),
  (T) => T.where({ pri: { gte: 2 } }).orderBy('pri').offset(1).limit(2),
  (T) => T.where({ $or: [{ title: { startsWith: 'b' } }, { pri: 4 }] }).orderBy('-title'),
];

/** Applies one reported change to a model of the id list. */
function applyChange(model, change, fresh) {
  const set = new Set(model);
  for (const id of change.removed) { assert.ok(set.has(id), `removed ${id} was not in the result`); set.delete(id); }
  for (const id of change.added) { assert.ok(!set.has(id), `added ${id} was already in the result`); set.add(id); }
  assert.deepEqual([...set].sort(), [...fresh].sort(), 'added/removed add up to the new result');
  // what did not move keeps its relative order
  const moved = new Set([...change.moved, ...change.added]);
  const stay = fresh.filter((id) => !moved.has(id));
  const before = model.filter((id) => stay.includes(id));
  assert.deepEqual(stay, before, 'ids not reported as moved keep their order');
  return fresh;
}

const op = fc.oneof(
  fc.record({ k: fc.constant('create'), title: fc.constantFrom('a', 'b', 'bb', 'c', 'd'), pri: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ k: fc.constant('update'), i: fc.nat(), title: fc.constantFrom('a', 'b', 'c', 'e'), pri: fc.integer({ min: 0, max: 4 }), status: fc.constantFrom('open', 'done') }),
  fc.record({ k: fc.constant('delete'), i: fc.nat() }),
  fc.record({ k: fc.constant('tx'), i: fc.nat(), n: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ k: fc.constant('bulk'), pri: fc.integer({ min: 0, max: 4 }) }),
);

test('subscribed results equal a fresh query after every random operation; reported changes add up', async () => {
  await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), async (ops) => {
    const { nitro, T } = await setup();
    let next = 0;
    const subs = QUERIES.map((make) => {
      const q = make(T);
      const s = { q, model: [], calls: 0 };
      s.sub = q.subscribe((c) => { s.calls++; s.model = applyChange(s.model, c, c.result().map((r) => r.id)); });
      return s;
    });
    for (const o of ops) {
      const ids = T.query().ids();
      if (o.k === 'create') T.create({ id: `r${next++}`, title: o.title, pri: o.pri });
      else if (o.k === 'update' && ids.length) T.update(ids[o.i % ids.length], { title: o.title, pri: o.pri, status: o.status });
      else if (o.k === 'delete' && ids.length) T.delete(ids[o.i % ids.length]);
      else if (o.k === 'tx') {
        nitro.transaction(() => {
          for (let j = 0; j < o.n; j++) {
            const l = T.query().ids();
            if (l.length && j % 2) T.update(l[(o.i + j) % l.length], { pri: (o.i + j) % 5 });
            else T.create({ id: `r${next++}`, title: 'c', pri: j });
          }
        });
      } else if (o.k === 'bulk') T.where({ status: 'open' }).update({ pri: o.pri });
      for (const s of subs) {
        const fresh = s.q.ids();
        assert.deepEqual(s.sub.result().map((r) => r.id), fresh);
        assert.deepEqual(s.model, fresh);
      }
    }
    for (const s of subs) s.sub.unsubscribe();
    nitro.close();
  }), { numRuns: 60 });
});

test('one callback per committed batch: a transaction of many writes reports once; unsubscribe stops it', async () => {
  const { nitro, T } = await setup();
  const changes = [];
  const sub = T.where({ status: 'open' }).orderBy('title').subscribe((c) => changes.push(c));
  nitro.transaction(() => { T.create({ id: 'x', title: 'x' }); T.create({ id: 'y', title: 'y' }); T.update('x', { pri: 2 }); });
  assert.equal(changes.length, 1);
  assert.deepEqual(changes[0].added, ['x', 'y']);
  T.update('x', { title: 'z' });
  assert.equal(changes.length, 2);
  assert.deepEqual(changes[1].updated, ['x']);
  assert.equal(changes[1].moved.length, 1, 'one of the two moved (the fewest moves)');
  assert.deepEqual(changes[1].result().map((r) => r.id), ['y', 'x']);
  T.update('x', { status: 'done' });
  assert.deepEqual(changes[2].removed, ['x']);
  T.create({ id: 'q', title: 'q', status: 'done' });   // not in the result: no call
  assert.equal(changes.length, 3);
  sub.unsubscribe();
  T.create({ id: 'w', title: 'w' });
  assert.equal(changes.length, 3);
  nitro.close();
});

test('restore() re-runs subscriptions against the restored store', async () => {
  const { nitro, T } = await setup();
  T.create({ id: 'a', title: 'a' });
  const snap = nitro.snapshot();
  T.create({ id: 'b', title: 'b' });
  const sub = T.query().subscribe(() => {});
  assert.deepEqual(sub.result().map((r) => r.id), ['a', 'b']);
  nitro.restore(snap);
  assert.deepEqual(sub.result().map((r) => r.id), ['a']);
  T.create({ id: 'c', title: 'c' });
  assert.deepEqual(sub.result().map((r) => r.id), ['a', 'c']);
  nitro.close();
});

test('server state applied by sync (a pull) reaches subscriptions as one batch', async () => {
  const { applyServerState } = await import('../../dist/sync.js');
  const { nitro, T } = await setup();
  T.create({ id: 'local', title: 'a', pri: 1 });
  const changes = [];
  const sub = T.where({ status: 'open' }).orderBy('-pri').subscribe((c) => changes.push(c));
  applyServerState(nitro, [
    { entity: T, id: 's1', version: 1, record: { id: 's1', title: 's', pri: 3, status: 'open' } },
    { entity: T, id: 's2', version: 1, record: { id: 's2', title: 't', pri: 0, status: 'done' } },
    { entity: T, id: 'local', version: 2, record: null },
  ]);
  assert.equal(changes.length, 1, 'one callback for the pull');
  assert.deepEqual(changes[0].added, ['s1']);
  assert.deepEqual(changes[0].removed, ['local']);
  assert.deepEqual(sub.result().map((r) => r.id), ['s1']);
  nitro.close();
});
