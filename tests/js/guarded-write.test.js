// guarded-write.test.js - a write that JS must approve (an entity with
// `validate`, or a beforeSave/beforeDelete handler) crosses into WebAssembly
// once for the write and once to approve or refuse it, and its savepoint
// nests: writes made from a handler, refusals inside nitro.transaction(),
// and failures in C all leave the store as the contract says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNitro } from '../../dist/nitro.js';
import { countCrossings } from './crossings.js';

async function world() {
  const nitro = await createNitro();
  const Log = nitro.entity('Log', { fields: { msg: { type: 'string' } }, validate: (l) => l.msg === 'bad' ? 'no bad logs' : null });
  const Task = nitro.entity('Task', { fields: { title: { type: 'string', maxLength: 10 } } });
  return { nitro, Log, Task };
}

const crossings = (nitro, fn) => countCrossings(nitro, fn).counts;

test('a guarded write is one call to write and one to approve', async () => {
  const { nitro, Log } = await world();
  const counts = crossings(nitro, () => Log.create({ msg: 'hello' }));
  assert.equal(counts.nw_create, 1);
  assert.equal(counts.nw_guard_end, 1);
  assert.equal(counts.nw_tx_begin, undefined, 'no separate savepoint call');
  assert.equal(counts.nw_tx_commit, undefined);
  assert.equal(Log.count(), 1);
});

test('a refused guarded write leaves nothing, with the refusal as the error', async () => {
  const { Log } = await world();
  assert.throws(() => Log.create({ msg: 'bad' }), { code: 'VALIDATION', entity: 'Log' });
  assert.equal(Log.count(), 0);
  Log.create({ msg: 'fine' });
  assert.deepEqual(Log.all().map((l) => l.msg), ['fine']);
});

test('writes a handler makes are kept or undone with the write it approves', async () => {
  const { nitro, Log, Task } = await world();
  nitro.on('Task.beforeSave', (e) => {
    Log.create({ msg: `saving ${e.record.title}` });          // itself a guarded write
    if (e.record.title === 'no') e.cancel('not this one');
  });
  Task.create({ title: 'yes' });
  assert.throws(() => Task.create({ title: 'no' }), { code: 'CANCELLED' });
  assert.deepEqual(Task.all().map((t) => t.title), ['yes']);
  assert.deepEqual(Log.all().map((l) => l.msg), ['saving yes']);
});

test('inside a transaction a refused write undoes only itself', async () => {
  const { nitro, Log, Task } = await world();
  nitro.transaction(() => {
    Task.create({ title: 'kept' });
    assert.throws(() => Log.create({ msg: 'bad' }), { code: 'VALIDATION' });
    Log.create({ msg: 'also kept' });
  });
  assert.equal(Task.count(), 1);
  assert.deepEqual(Log.all().map((l) => l.msg), ['also kept']);
  assert.throws(() => nitro.transaction(() => { Log.create({ msg: 'gone' }); throw new Error('abort'); }), /abort/);
  assert.deepEqual(Log.all().map((l) => l.msg), ['also kept']);
});

test('a guarded write C refuses closes its savepoint', async () => {
  const { nitro, Task } = await world();
  nitro.on('Task.beforeSave', () => {});
  assert.throws(() => Task.create({ title: 'far too long a title' }), { code: 'VALIDATION', rule: 'maxLength' });
  // a later transaction that fails must still undo everything it did
  assert.throws(() => nitro.transaction(() => { Task.create({ title: 'x' }); throw new Error('abort'); }), /abort/);
  assert.equal(Task.count(), 0);
  Task.create({ title: 'ok' });
  assert.equal(Task.count(), 1);
});
