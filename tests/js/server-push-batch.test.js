// server-push-batch.test.js - the sync server decides a push in one call
// into WebAssembly (nw_write_batch, src/batch.h): every write in its own
// savepoint, the rows to store (cascades included) in the one answer. A
// push touching entities with validate functions adds one call to approve
// (nw_guard_end), and a refusal re-runs only what followed it; before*
// handlers take one call per write. The answers are those of a write at a
// time through the entity API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNitro } from '../../dist/nitro.js';
import { Authority } from '../../dist/server/authority.js';
import { countCrossings } from './crossings.js';

const schema = {
  Project: { fields: { id: { type: 'id' }, name: { type: 'string', required: true, maxLength: 20 } } },
  Task: {
    fields: {
      id: { type: 'id' },
      title: { type: 'string', required: true },
      projectId: { type: 'ref', entity: 'Project', optional: true, onDelete: 'cascade' },
    },
  },
  Note: { fields: { id: { type: 'id' }, text: { type: 'string' }, n: { type: 'int', max: 9 } }, validate: (r) => (r.n === 7 ? 'no sevens' : null) },
  Board: { fields: { id: { type: 'id' }, title: { type: 'string' } }, shared: true },
};

async function authority() {
  const a = new Authority(() => createNitro({ outbox: false }), schema);
  await a.load({ async loadRecords() {}, async head() { return 0; } });
  return a;
}

const crossings = countCrossings;

const push = (a, muts, user = 'ann') => a.applyPush(user, `${user}-1`, muts.map((m, i) => ({ seq: i + 1, ...m })), new Map(), 0);

test('a push of N mutations is one call into WebAssembly', async () => {
  const a = await authority();
  const muts = [{ entity: 'Project', id: 'p1', op: 'create', fields: { name: 'One' } }];
  for (let i = 0; i < 200; i++) muts.push({ entity: 'Task', id: `t${i}`, op: 'create', fields: { title: `task ${i}`, projectId: 'p1' } });
  muts.push({ entity: 'Task', id: 't0', op: 'update', fields: { title: 'renamed' } });
  muts.push({ entity: 'Board', id: 'b1', op: 'create', fields: { title: 'shared' } });
  const { counts, out } = crossings(a.nitro, () => push(a, muts));
  assert.deepEqual(counts, { nw_write_batch: 1 });
  assert.ok(out.results.every((r) => r.status === 'applied'));
  assert.equal(out.records.length, 202, 'one row per record (t0 created, then updated)');
  assert.equal(JSON.parse(out.records.find((r) => r.id === 't0').data).title, 'renamed');
  assert.equal(out.head, 203);
  a.close();
});

test('a failed write is undone alone; a delete returns the rows its cascade changed', async () => {
  const a = await authority();
  push(a, [
    { entity: 'Project', id: 'p1', op: 'create', fields: { name: 'One' } },
    { entity: 'Task', id: 't1', op: 'create', fields: { title: 'a', projectId: 'p1' } },
    { entity: 'Task', id: 't2', op: 'create', fields: { title: 'b', projectId: 'p1' } },
  ]);
  const { counts, out } = crossings(a.nitro, () => push(a, [
    { entity: 'Project', id: 'p2', op: 'create', fields: { name: 'x'.repeat(30) } },
    { entity: 'Task', id: 't3', op: 'create', fields: { title: 'c', projectId: 'p2' } },
    { entity: 'Task', id: 't4', op: 'update', fields: { title: 'd' } },
    { entity: 'Project', id: 'p1', op: 'delete' },
  ]));
  assert.equal(counts.nw_write_batch, 1);
  const [long, ref, missing, del] = out.results;
  assert.equal(long.status, 'rejected');
  assert.equal(long.error.rule, 'maxLength');
  assert.deepEqual(ref.error, { code: 'VALIDATION', message: 'Task.projectId: no Project with id "p2"', entity: 'Task', field: 'projectId', rule: 'ref' });
  assert.deepEqual(missing.error, { code: 'NOT_FOUND', message: 'Task.id: no record with id "t4"', entity: 'Task', field: 'id' });
  assert.equal(del.status, 'applied');
  assert.deepEqual(out.records.map((r) => [r.entity, r.id, r.deleted]).sort(), [['Project', 'p1', true], ['Task', 't1', true], ['Task', 't2', true]]);
  assert.equal(a.current('ann', 'Task', 't1').current, null);
  a.close();
});

test('validate functions: one call to approve; a refusal re-runs only the writes after it', async () => {
  const a = await authority();
  let r = crossings(a.nitro, () => push(a, [
    { entity: 'Note', id: 'n1', op: 'create', fields: { text: 'a', n: 1 } },
    { entity: 'Project', id: 'p1', op: 'create', fields: { name: 'One' } },
  ]));
  assert.deepEqual(r.counts, { nw_write_batch: 1, nw_guard_end: 1 });
  r = crossings(a.nitro, () => push(a, [
    { entity: 'Project', id: 'p2', op: 'create', fields: { name: 'Two' } },
    { entity: 'Note', id: 'n2', op: 'create', fields: { text: 'b', n: 2 } },
    { entity: 'Note', id: 'n3', op: 'create', fields: { text: 'c', n: 7 } },
    { entity: 'Note', id: 'n3', op: 'update', fields: { text: 'd' } },
    { entity: 'Note', id: 'n3', op: 'create', fields: { text: 'e', n: 3 } },
  ]));
  assert.equal(r.counts.nw_write_batch, 2, 'the refused write ends the first call');
  assert.deepEqual(r.out.results.map((x) => x.status), ['applied', 'applied', 'rejected', 'rejected', 'applied']);
  assert.equal(r.out.results[2].error.rule, 'validate');
  assert.equal(r.out.results[3].error.code, 'NOT_FOUND', 'n3 was never created');
  assert.equal(a.current('ann', 'Note', 'n3').current.text, 'e');
  assert.deepEqual(r.out.records.map((x) => x.id).sort(), ['n2', 'n3', 'p2']);
  a.close();
});

test('before* handlers: one call per write, refusals answered as before', async () => {
  const a = await authority();
  a.nitro.on('Task.beforeSave', (e) => { if (e.record.title === 'no') e.cancel('not this one'); });
  const { counts, out } = crossings(a.nitro, () => push(a, [
    { entity: 'Task', id: 't1', op: 'create', fields: { title: 'yes' } },
    { entity: 'Task', id: 't2', op: 'create', fields: { title: 'no' } },
    { entity: 'Board', id: 'b1', op: 'create', fields: { title: 'x' } },
  ]));
  assert.equal(counts.nw_write_batch, 3);
  assert.equal(counts.nw_guard_end, 3);
  assert.deepEqual(out.results.map((x) => x.status), ['applied', 'rejected', 'applied']);
  assert.equal(out.results[1].error.code, 'CANCELLED');
  a.close();
});

test('deleting a shared record never reaches another user\'s records', async () => {
  const s = {
    Space: { fields: { id: { type: 'id' } }, shared: true },
    Doc: { fields: { id: { type: 'id' }, spaceId: { type: 'ref', entity: 'Space', onDelete: 'cascade' } } },
  };
  const a = new Authority(() => createNitro({ outbox: false }), s);
  await a.load({ async loadRecords() {}, async head() { return 0; } });
  push(a, [{ entity: 'Space', id: 's1', op: 'create', fields: {} }, { entity: 'Doc', id: 'd1', op: 'create', fields: { spaceId: 's1' } }], 'ann');
  const out = push(a, [{ entity: 'Space', id: 's1', op: 'delete' }], 'bob');
  assert.equal(out.results[0].status, 'rejected');
  assert.equal(out.results[0].error.rule, 'restrict');
  assert.deepEqual(out.records, []);
  assert.ok(a.current('ann', 'Doc', 'd1').current, 'ann\'s record stays');
  assert.equal(push(a, [{ entity: 'Space', id: 's1', op: 'delete' }], 'ann').results[0].status, 'applied');
  a.close();
});

test('a version conflict is decided on the record as the push\'s earlier writes left it', async () => {
  const s = { Note: { fields: { id: { type: 'id' }, text: { type: 'string' } }, conflict: 'reject' } };
  const a = new Authority(() => createNitro({ outbox: false }), s);
  await a.load({ async loadRecords() {}, async head() { return 0; } });
  const by = (client, muts) => a.applyPush('ann', client, muts, new Map(), 0);
  const v1 = by('c1', [{ seq: 1, entity: 'Note', id: 'n1', op: 'create', fields: { text: 'one' } }]).results[0].version;
  const { counts, out } = crossings(a.nitro, () => by('c2', [
    { seq: 1, entity: 'Note', id: 'n1', op: 'update', fields: { text: 'stale base' }, base: 0 },
    { seq: 2, entity: 'Note', id: 'n1', op: 'update', fields: { text: 'two' }, base: v1 },
    // made on an older version, but after this client's own write: no conflict
    { seq: 3, entity: 'Note', id: 'n1', op: 'update', fields: { text: 'three' }, base: 0 },
  ]));
  assert.deepEqual(counts, { nw_write_batch: 1, nw_get: 1 });
  assert.deepEqual(out.results.map((r) => r.status), ['conflict', 'applied', 'applied']);
  assert.equal(out.results[0].current.text, 'three', 'a refused mutation gets the record as the push left it');
  a.close();
});
