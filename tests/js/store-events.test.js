// Domain events produced by C writes, delivered through the bus.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, createNitro, throwsNitro, taskFields } from './helpers.js';

test('created, updated, deleted events carry record, previous and changes', async () => {
  const { nitro, Task } = await setup();
  const seen = [];
  nitro.on('Task.*', (e) => { if (!e.type.includes('before')) seen.push(e); });
  const t = Task.create({ id: 'a', title: 'a' });
  Task.update('a', { priority: 5 });
  Task.update('a', { priority: 5 });          // no change: no event
  Task.delete('a');
  assert.deepEqual(seen.map((e) => e.type), ['Task.created', 'Task.updated', 'Task.deleted']);
  const [c, u, d] = seen;
  assert.equal(c.entity, 'Task');
  assert.equal(c.id, 'a');
  assert.equal(c.previous, null);
  assert.deepEqual(c.changes, t.toJSON());
  assert.equal(c.source, 'local');
  assert.deepEqual(u.changes, { priority: 5 });
  assert.equal(u.previous.priority, 3);
  assert.equal(u.record.priority, 5);
  assert.deepEqual(d.changes, {});
  assert.equal(d.record.priority, 5);
});

test('wildcards: *.deleted and * see the right events', async () => {
  const { nitro, Task } = await setup();
  const del = [], all = [];
  nitro.on('*.deleted', (e) => del.push(e.type));
  nitro.on('*', (e) => all.push(e.type));
  Task.create({ id: 'x', title: 'x' });
  Task.delete('x');
  assert.deepEqual(del, ['Task.deleted']);
  assert.deepEqual(all, ['Task.beforeSave', 'Task.created', 'Task.beforeDelete', 'Task.deleted']);
});

test('beforeSave cancel fails the write with CANCELLED and changes nothing', async () => {
  const { nitro, Task } = await setup();
  Task.create({ id: 'keep', title: 'keep' });
  const off = nitro.on('Task.beforeSave', (e) => { if (e.record.title === 'no') e.cancel('not allowed'); });
  throwsNitro(assert, () => Task.create({ title: 'no' }), { code: 'CANCELLED', entity: 'Task', message: /not allowed/ });
  throwsNitro(assert, () => Task.update('keep', { title: 'no' }), { code: 'CANCELLED' });
  throwsNitro(assert, () => Task.insertMany([{ title: 'fine' }, { title: 'no' }]), { code: 'CANCELLED' });
  assert.equal(Task.count(), 1);
  assert.equal(Task.get('keep').title, 'keep');
  off();
  Task.create({ title: 'no' });
  assert.equal(Task.count(), 2);
});

test('beforeDelete cancel keeps the record', async () => {
  const { nitro, Task } = await setup();
  Task.create({ id: 'a', title: 'a' });
  nitro.on('Task.beforeDelete', (e) => e.cancel());
  throwsNitro(assert, () => Task.delete('a'), { code: 'CANCELLED' });
  assert.ok(Task.get('a'));
});

test('cancel() works only on a before event while its handlers run', async () => {
  const { nitro, Task } = await setup();
  let kept = null;
  nitro.on('Task.beforeSave', (e) => { kept = e; });
  nitro.on('Task.created', (e) => e.cancel('too late'));   // an after event: nothing to cancel
  const t = Task.create({ id: 'a', title: 'a' });
  assert.equal(Task.get('a').title, t.title);
  kept.cancel('later');                                    // its write is decided: nothing happens
  Task.update('a', { title: 'b' });
  assert.equal(Task.get('a').title, 'b');
  assert.equal(nitro.stats().events['Task.beforeSave']?.cancelled ?? 0, 0);
});

test('entity validate names rule validate and undoes the write', async () => {
  const nitro = await createNitro();
  const Task = nitro.entity('Task', {
    fields: taskFields,
    validate: (r) => (r.done && r.due ? 'a done task has no due date' : null),
  });
  Task.create({ id: 'a', title: 'a', due: '2030-01-01' });
  throwsNitro(assert, () => Task.update('a', { done: true }), { code: 'VALIDATION', rule: 'validate', entity: 'Task', message: 'Task: a done task has no due date' });
  assert.equal(Task.get('a').done, false);
  throwsNitro(assert, () => Task.insertMany([{ title: 'ok' }, { title: 'bad', done: true, due: 0 }]), { code: 'VALIDATION', rule: 'validate', index: 1 });
  assert.equal(Task.count(), 1);
});

test('events of a transaction are delivered after commit, in write order; none on rollback', async () => {
  const { nitro, Task } = await setup();
  const seen = [];
  nitro.on('Task.*', (e) => { if (!e.type.includes('before')) seen.push(`${e.type}:${e.id}:${Task.count()}`); });
  nitro.transaction(() => {
    Task.create({ id: 'a', title: 'a' });
    Task.create({ id: 'b', title: 'b' });
    Task.update('a', { priority: 1 });
    assert.equal(seen.length, 0);
  });
  assert.deepEqual(seen, ['Task.created:a:2', 'Task.created:b:2', 'Task.updated:a:2']);
  seen.length = 0;
  assert.throws(() => nitro.transaction(() => { Task.create({ id: 'c', title: 'c' }); throw new Error('no'); }));
  assert.deepEqual(seen, []);
});

test('insertMany events arrive once per record, in order, after the batch', async () => {
  const { nitro, Task } = await setup();
  const ids = [];
  nitro.on('Task.created', (e) => ids.push([e.id, Task.count()]));
  Task.insertMany([{ id: '1', title: 'a' }, { id: '2', title: 'b' }, { id: '3', title: 'c' }]);
  assert.deepEqual(ids, [['1', 3], ['2', 3], ['3', 3]]);
});

// With a before* handler the store sends an after event as a reference to
// its before event's rows (src/wire.h, EVLAYOUT flag SAME); every after
// event must still read its own record, previous and changes, in small
// writes, in a transaction (whose before events are dropped before
// delivery) and in a batch big enough to get a buffer of its own.
test('after events read their own rows when a before* handler listens too', async () => {
  const { nitro, Task } = await setup();
  const seen = [];
  nitro.on('Task.*', (e) => { if (!e.type.includes('before')) seen.push(e.toJSON()); });
  const ALL = Object.keys(taskFields).sort().join();
  const brief = (e) => [e.type, e.id, e.record?.title ?? null, e.record?.priority ?? null, e.previous?.priority ?? null, Object.keys(e.changes).sort().join()];
  Task.create({ id: 'a', title: 'one' });
  Task.update('a', { priority: 4 });
  nitro.transaction(() => {
    Task.create({ id: 'b', title: 'two' });
    Task.update('b', { priority: 1, title: 'deux' });
    Task.delete('a');
  });
  assert.deepEqual(seen.map(brief), [
    ['Task.created', 'a', 'one', 3, null, ALL],
    ['Task.updated', 'a', 'one', 4, 3, 'priority'],
    ['Task.created', 'b', 'two', 3, null, ALL],
    ['Task.updated', 'b', 'deux', 1, 3, 'priority,title'],
    ['Task.deleted', 'a', 'one', 4, 4, ''],
  ]);
  seen.length = 0;
  const many = Array.from({ length: 2000 }, (_, i) => ({ id: `m${i}`, title: `title ${i}`, priority: 1 + (i % 5) }));
  Task.insertMany(many);
  assert.equal(seen.length, many.length);
  seen.forEach((e, i) => assert.deepEqual(brief(e), ['Task.created', many[i].id, many[i].title, many[i].priority, null, ALL]));
});

test('a handler that writes sees its change; its events follow the current ones', async () => {
  const { nitro, Task } = await setup();
  const log = [];
  nitro.on('Task.created', (e) => {
    log.push(`created ${e.id}`);
    if (e.id === 'a') { Task.create({ id: 'b', title: 'from handler' }); log.push(`b exists: ${!!Task.get('b')}`); }
  });
  nitro.on('Task.created', (e) => log.push(`second ${e.id}`));
  Task.create({ id: 'a', title: 'a' });
  assert.deepEqual(log, ['created a', 'b exists: true', 'second a', 'created b', 'second b']);
});

test('a throwing handler does not stop others; the error goes to error handlers', async () => {
  const { nitro, Task } = await setup();
  const errors = [];
  let ran = false;
  nitro.on('error', (err, e) => errors.push([err.message, e.type]));
  nitro.on('Task.created', () => { throw new Error('handler broke'); });
  nitro.on('Task.created', () => { ran = true; });
  const t = Task.create({ title: 'a' });
  assert.ok(ran);
  assert.deepEqual(errors, [['handler broke', 'Task.created']]);
  assert.ok(Task.get(t.id), 'the write stands');
});

test('expired events and TTL', async () => {
  const { nitro, Task } = await setup({ ttl: 50 });
  const seen = [];
  nitro.on('Task.expired', (e) => seen.push(e.id));
  const t = Task.create({ id: 'a', title: 'a' });
  Task.create({ id: 'b', title: 'b' }, { ttl: 0 });
  assert.ok(Task.get('a'));
  assert.equal(Task.expire(Date.now() + 1000), 1);
  assert.deepEqual(seen, ['a']);
  assert.equal(Task.get(t.id), null);
  assert.ok(Task.get('b'));
});

test('expired records are hidden before expire() runs', async () => {
  const { Task } = await setup({ ttl: 1 });
  Task.create({ id: 'a', title: 'a' });
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(Task.get('a'), null);
  assert.equal(Task.count(), 0);
  assert.deepEqual(Task.all(), []);
  Task.create({ id: 'a', title: 'again' }, { ttl: 60_000 });   // a loaded machine may take > 1 ms to the next line
  assert.equal(Task.get('a').title, 'again');
});

test('stats count events per type', async () => {
  const { nitro, Task } = await setup();
  nitro.on('Task.created', () => {});
  Task.create({ title: 'a' });
  assert.equal(nitro.stats().events['Task.created'].delivered, 1);
});

test('events a handler keeps still read their own records after thousands of later writes', async () => {
  const nitro = await createNitro();
  const Note = nitro.entity('Note', { fields: { title: { type: 'string' }, n: { type: 'int' } } });
  const kept = [];
  nitro.on('Note.*', (e) => { kept.push(e); });
  // one by one (small batches share chunks), then one big batch (its own buffer)
  for (let i = 0; i < 3000; i++) Note.create({ id: `n${i}`, title: `note ${i} ${'x'.repeat(i % 50)}`, n: i });
  Note.insertMany(Array.from({ length: 2000 }, (_, i) => ({ id: `m${i}`, title: `many ${i}`, n: -i })));
  for (let i = 0; i < 3000; i += 7) Note.update(`n${i}`, { n: i + 1 });
  const created = kept.filter((e) => e.type === 'Note.created');
  assert.equal(created.length, 5000);
  for (const e of created) {
    const i = Number(e.id.slice(1));
    assert.deepEqual({ ...e.record }, e.id[0] === 'n' ? { id: e.id, title: `note ${i} ${'x'.repeat(i % 50)}`, n: i } : { id: e.id, title: `many ${i}`, n: -i });
  }
  const updated = kept.filter((e) => e.type === 'Note.updated');
  assert.equal(updated.length, 429);
  for (const e of updated) assert.deepEqual([e.previous.n, e.record.n, e.changes], [Number(e.id.slice(1)), Number(e.id.slice(1)) + 1, { n: Number(e.id.slice(1)) + 1 }]);
  nitro.close();
});
