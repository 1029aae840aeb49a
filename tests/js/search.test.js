import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNitro, throwsNitro } from './helpers.js';

async function docs() {
  const nitro = await createNitro();
  const Doc = nitro.entity('Doc', {
    fields: { title: { type: 'string' }, tags: { type: 'list', of: 'string', default: [] }, kind: { type: 'enum', values: ['a', 'b'], default: 'a' } },
    search: ['title', 'tags'],
  });
  Doc.insertMany([
    { id: '1', title: 'Café au lait recipe' },
    { id: '2', title: 'CAFE racer motorcycles', kind: 'b' },
    { id: '3', title: 'The naïve approach to caching', tags: ['perf'] },
    { id: '4', title: 'Cache invalidation and naming things' },
    { id: '5', title: 'cafe cafe cafe: a review of cafés' },
  ]);
  return { nitro, Doc };
}

test('case- and accent-insensitive, every word must match', async () => {
  const { Doc } = await docs();
  assert.deepEqual(Doc.search('cafe').map((d) => d.id).sort(), ['1', '2', '5']);
  assert.deepEqual(Doc.search('CAFÉ racer').map((d) => d.id), ['2']);
  assert.deepEqual(Doc.search('naive').map((d) => d.id), ['3']);
  assert.deepEqual(Doc.search('cafe motorcycle').map((d) => d.id), ['2'], 'the last word is a prefix');
  assert.deepEqual(Doc.search('motorcycle cafe').map((d) => d.id), [], 'only the last word is a prefix');
  assert.deepEqual(Doc.search('perf').map((d) => d.id), ['3'], 'list fields are searched');
  assert.deepEqual(Doc.search('').length, 0);
  assert.deepEqual(Doc.search('  !!  ').length, 0);
});

test('ranked: more and exact matches first', async () => {
  const { Doc } = await docs();
  assert.equal(Doc.search('cafe')[0].id, '5');
  const cach = Doc.search('cach').map((d) => d.id);
  assert.deepEqual(cach.sort(), ['3', '4']);
});

test('limit and where narrow the results', async () => {
  const { Doc } = await docs();
  assert.equal(Doc.search('cafe', { limit: 1 }).length, 1);
  assert.deepEqual(Doc.search('cafe', { where: { kind: 'b' } }).map((d) => d.id), ['2']);
});

test('the index follows updates and deletes, and survives rollbacks', async () => {
  const { nitro, Doc } = await docs();
  Doc.update('2', { title: 'Vintage motorbikes' });
  assert.deepEqual(Doc.search('racer').map((d) => d.id), []);
  assert.deepEqual(Doc.search('vintage').map((d) => d.id), ['2']);
  Doc.delete('5');
  assert.deepEqual(Doc.search('cafe').map((d) => d.id), ['1']);
  assert.throws(() => nitro.transaction(() => { Doc.delete('1'); Doc.create({ id: '9', title: 'cafe new' }); throw new Error('undo'); }));
  assert.deepEqual(Doc.search('cafe').map((d) => d.id), ['1']);
});

test('search without search fields or with bad arguments throws QUERY', async () => {
  const nitro = await createNitro();
  const Plain = nitro.entity('Plain', { fields: { t: { type: 'string' } } });
  throwsNitro(assert, () => Plain.search('x'), { code: 'QUERY', entity: 'Plain' });
  const { Doc } = await docs();
  throwsNitro(assert, () => Doc.search(42), { code: 'QUERY' });
  throwsNitro(assert, () => Doc.search('x', { limit: -1 }), { code: 'QUERY' });
});

test('updates keep every index and the full-text index right, also when rolled back', async () => {
  const nitro = await createNitro({ wasm: new URL('../../dist/nitro.wasm', import.meta.url) });
  const Task = nitro.entity('Task', {
    fields: { title: { type: 'string', required: true }, status: { type: 'enum', values: ['open', 'done'], default: 'open' }, priority: { type: 'int', default: 3 } },
    indexes: ['status', ['status', 'priority']], unique: ['title'], search: ['title'],
  });
  const a = Task.create({ title: 'alpha report' });
  const b = Task.create({ title: 'beta review', priority: 5 });
  Task.update(a.id, { priority: 4 });                       // title untouched: search unchanged
  assert.deepEqual(Task.search('alpha').map((r) => r.id), [a.id]);
  assert.deepEqual(Task.where({ status: 'open', priority: { gte: 4 } }).orderBy('-priority').ids(), [b.id, a.id]);
  Task.update(a.id, { title: 'gamma report', status: 'done' });
  assert.deepEqual(Task.search('alpha'), []);
  assert.deepEqual(Task.search('gam').map((r) => r.id), [a.id]);
  assert.deepEqual(Task.where({ status: 'done' }).ids(), [a.id]);
  assert.throws(() => nitro.transaction(() => {
    Task.update(a.id, { title: 'delta', status: 'open', priority: 1 });
    Task.update(b.id, { priority: 2 });
    throw new Error('undo');
  }), /undo/);
  assert.deepEqual(Task.search('gamma').map((r) => r.id), [a.id]);
  assert.deepEqual(Task.search('delta'), []);
  assert.deepEqual(Task.where({ status: 'done' }).ids(), [a.id]);
  assert.deepEqual(Task.where({ status: 'open', priority: 5 }).ids(), [b.id]);
  assert.throws(() => Task.update(b.id, { title: 'gamma report' }), (e) => e.code === 'DUPLICATE');
  Task.update(b.id, { title: 'alpha' });                     // the unique key moved with the update
  assert.ok(Task.create({ title: 'beta review' }));
  nitro.close();
});
