import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, createNitro, NitroError, throwsNitro, taskFields } from './helpers.js';

test('create fills defaults, validates and returns a record instance', async () => {
  const { Task } = await setup();
  const t = Task.create({ title: 'Write <docs> & "tests"', tags: ['a', 'b'], due: '2026-01-02T03:04:05Z' });
  assert.equal(typeof t.id, 'string');
  assert.ok(t.id.length >= 16);
  assert.equal(t.title, 'Write <docs> & "tests"');
  assert.equal(t.status, 'open');
  assert.equal(t.priority, 3);
  assert.equal(t.done, false);
  assert.deepEqual(t.tags, ['a', 'b']);
  assert.equal(t.due, '2026-01-02T03:04:05.000Z');
  assert.equal(t.constructor.name, 'Task');
  assert.deepEqual(Object.keys(t), Object.keys(taskFields));
});

test('get returns an independent snapshot, null when missing', async () => {
  const { Task } = await setup();
  const t = Task.create({ title: 'a' });
  const g = Task.get(t.id);
  assert.deepEqual(g.toJSON(), t.toJSON());
  g.title = 'changed locally';
  assert.equal(Task.get(t.id).title, 'a');
  assert.equal(Task.get('nope'), null);
  assert.equal(Task.get(42), null);
});

test('generated ids sort by creation time', async () => {
  const { Task } = await setup();
  const ids = [];
  for (let i = 0; i < 200; i++) ids.push(Task.create({ title: `t${i}` }).id);
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, 200);
  assert.deepEqual(Task.all().map((r) => r.id), ids);
});

test('explicit ids, all() in primary key order, count', async () => {
  const { Task } = await setup();
  for (const id of ['c', 'a', 'b']) Task.create({ id, title: id });
  assert.deepEqual(Task.all().map((r) => r.id), ['a', 'b', 'c']);
  assert.equal(Task.count(), 3);
});

test('update changes fields, keeps the rest; NOT_FOUND when missing', async () => {
  const { Task } = await setup();
  const t = Task.create({ title: 'a', priority: 2 });
  const u = Task.update(t.id, { status: 'done', estimate: 1.5 });
  assert.equal(u.status, 'done');
  assert.equal(u.estimate, 1.5);
  assert.equal(u.priority, 2);
  assert.equal(Task.update(t.id, { estimate: null }).estimate, null);
  throwsNitro(assert, () => Task.update('missing', { title: 'x' }), { code: 'NOT_FOUND', entity: 'Task' });
});

test('delete returns whether the record existed', async () => {
  const { Task } = await setup();
  const t = Task.create({ title: 'a' });
  assert.equal(Task.delete(t.id), true);
  assert.equal(Task.delete(t.id), false);
  assert.equal(Task.get(t.id), null);
  assert.equal(Task.count(), 0);
});

test('upsert creates then updates', async () => {
  const { Task } = await setup();
  const a = Task.upsert({ id: 'x', title: 'first' });
  assert.equal(a.title, 'first');
  const b = Task.upsert({ id: 'x', title: 'second' });
  assert.equal(b.title, 'second');
  assert.equal(Task.count(), 1);
});

test('record methods: save, update, delete, toJSON', async () => {
  const nitro = await createNitro();
  const Task = nitro.entity('Task', {
    fields: taskFields,
    methods: { complete() { return this.update({ status: 'done', done: true }); } },
  });
  const t = Task.create({ title: 'a' });
  t.title = 'b';
  assert.equal(t.save(), t);
  assert.equal(Task.get(t.id).title, 'b');
  t.complete();
  assert.equal(t.status, 'done');
  assert.equal(Task.get(t.id).done, true);
  assert.deepEqual(Object.keys(t.toJSON()), Object.keys(taskFields));
  assert.equal(t.delete(), true);
  assert.equal(Task.count(), 0);
});

test('computed values are own enumerable getters, not stored', async () => {
  const nitro = await createNitro();
  const Task = nitro.entity('Task', { fields: taskFields, computed: { loud: (r) => r.title.toUpperCase() } });
  const t = Task.create({ title: 'hey' });
  assert.equal(t.loud, 'HEY');
  assert.ok(Object.keys(t).includes('loud'));
  assert.equal(t.toJSON().loud, undefined);
  t.save();
});

test('insertMany and getMany cross once and keep order', async () => {
  const { Task } = await setup();
  const recs = Task.insertMany([{ title: 'a' }, { title: 'b' }, { id: 'z', title: 'c' }]);
  assert.deepEqual(recs.map((r) => r.title), ['a', 'b', 'c']);
  const got = Task.getMany([recs[1].id, 'missing', 'z']);
  assert.equal(got[0].title, 'b');
  assert.equal(got[1], null);
  assert.equal(got[2].title, 'c');
});

test('every field type round-trips', async () => {
  const { Task } = await setup();
  const due = new Date(Date.UTC(2030, 4, 6, 7, 8, 9, 10));
  const t = Task.create({
    title: 'ünïcödé 😀 e\u0301', status: 'blocked', priority: 5, estimate: -0.25, done: true,
    due, tags: ['x', 'y z'], meta: { a: [1, 2.5, null, true, 'q'], b: { c: {} } },
  });
  const g = Task.get(t.id);
  assert.equal(g.title, 'ünïcödé 😀 e\u0301');
  assert.equal(g.status, 'blocked');
  assert.equal(g.estimate, -0.25);
  assert.equal(g.due, due.toISOString());
  assert.deepEqual(g.meta, { a: [1, 2.5, null, true, 'q'], b: { c: {} } });
  assert.equal(Task.create({ title: 'epoch', due: 0 }).due, '1970-01-01T00:00:00.000Z');
  assert.equal(Task.create({ title: 'offset', due: '2026-01-01T10:00:00+02:00' }).due, '2026-01-01T08:00:00.000Z');
});

test('large strings, NUL bytes and lone surrogates are handled', async () => {
  const nitro = await createNitro();
  const Doc = nitro.entity('Doc', { fields: { body: { type: 'string' } } });
  const big = 'x'.repeat(3 * 1024 * 1024) + '€';
  const d = Doc.create({ body: big });
  assert.equal(Doc.get(d.id).body, big);
  assert.equal(Doc.create({ body: 'a\u0000b' }).body, 'a\u0000b');
  assert.equal(Doc.create({ body: 'bad \ud800 pair' }).body, 'bad \ufffd pair');
});

test('string lengths count code points', async () => {
  const nitro = await createNitro();
  const E = nitro.entity('E', { fields: { s: { type: 'string', maxLength: 2 } } });
  E.create({ s: '😀😀' });
  throwsNitro(assert, () => E.create({ s: 'abc' }), { code: 'VALIDATION', rule: 'maxLength', field: 's' });
});

// ---- bad input: a clear NitroError, and nothing changes ------------------------------

const badCases = [
  ['wrong type for int', { title: 'a', priority: 'high' }, { field: 'priority', rule: 'type' }],
  ['fraction for int', { title: 'a', priority: 2.5 }, { field: 'priority', rule: 'type' }],
  ['above max', { title: 'a', priority: 9 }, { field: 'priority', rule: 'max', message: 'Task.priority: must be <= 5 (got 9)' }],
  ['below min', { title: 'a', priority: 0 }, { field: 'priority', rule: 'min' }],
  ['missing required', { priority: 2 }, { field: 'title', rule: 'required' }],
  ['null required', { title: null }, { field: 'title', rule: 'required' }],
  ['too short', { title: '' }, { field: 'title', rule: 'minLength' }],
  ['too long', { title: 'x'.repeat(201) }, { field: 'title', rule: 'maxLength' }],
  ['not in enum', { title: 'a', status: 'gone' }, { field: 'status', rule: 'values' }],
  ['unknown field', { title: 'a', colour: 'red' }, { field: 'colour', rule: 'unknown' }],
  ['bool as string', { title: 'a', done: 'yes' }, { field: 'done', rule: 'type' }],
  ['bad date', { title: 'a', due: 'tomorrow' }, { field: 'due', rule: 'type' }],
  ['list item type', { title: 'a', tags: ['ok', 3] }, { field: 'tags', rule: 'type' }],
  ['list not array', { title: 'a', tags: 'x' }, { field: 'tags', rule: 'type' }],
  ['NaN float', { title: 'a', estimate: NaN }, { field: 'estimate', rule: 'type' }],
  ['function value', { title: 'a', meta: () => 1 }, { field: 'meta', rule: 'type' }],
  ['bigint value', { title: 'a', estimate: 10n }, { field: 'estimate', rule: 'type' }],
];

for (const [name, data, want] of badCases) {
  test(`bad input: ${name} -> VALIDATION, store unchanged`, async () => {
    const { Task } = await setup();
    const keep = Task.create({ id: 'keep', title: 'keep' });
    const props = { code: 'VALIDATION', entity: 'Task', field: want.field, rule: want.rule };
    if (want.message) props.message = want.message;
    const err = throwsNitro(assert, () => Task.create(data), props);
    assert.match(err.message, new RegExp(`^Task\\.${want.field}: `));
    assert.equal(Task.count(), 1);
    assert.deepEqual(Task.all().map((r) => r.toJSON()), [keep.toJSON()]);
  });
}

test('bad update leaves the record as it was', async () => {
  const { Task } = await setup();
  const t = Task.create({ title: 'a', priority: 2 });
  throwsNitro(assert, () => Task.update(t.id, { priority: 7, title: 'b' }), { code: 'VALIDATION', rule: 'max' });
  assert.deepEqual(Task.get(t.id).toJSON(), t.toJSON());
  throwsNitro(assert, () => Task.update(t.id, { id: 'other' }), { code: 'VALIDATION', field: 'id' });
});

test('duplicate ids -> DUPLICATE naming the id field', async () => {
  const { Task } = await setup();
  Task.create({ id: 'a', title: 'a' });
  throwsNitro(assert, () => Task.create({ id: 'a', title: 'again' }), { code: 'DUPLICATE', entity: 'Task', field: 'id', rule: 'unique' });
  assert.equal(Task.get('a').title, 'a');
});

test('insertMany is all-or-nothing and names the index', async () => {
  const { Task } = await setup();
  Task.create({ id: 'x', title: 'x' });
  const err = throwsNitro(assert, () => Task.insertMany([{ title: 'ok' }, { title: 'ok2' }, { title: 'bad', priority: 10 }, { title: 'later' }]),
    { code: 'VALIDATION', index: 2, field: 'priority', rule: 'max' });
  assert.match(err.message, /\[2\]/);
  assert.equal(Task.count(), 1);
  throwsNitro(assert, () => Task.insertMany([{ id: 'n', title: 'n' }, { id: 'n', title: 'dup' }]), { code: 'DUPLICATE', index: 1 });
  assert.equal(Task.count(), 1);
  assert.equal(Task.get('n'), null);
});

test('schema errors: bad types, redefinition, unknown keys', async () => {
  const nitro = await createNitro();
  throwsNitro(assert, () => nitro.entity('A', { fields: { x: { type: 'money' } } }), { code: 'SCHEMA', field: 'x' });
  throwsNitro(assert, () => nitro.entity('B', { fields: { s: { type: 'enum' } } }), { code: 'SCHEMA', field: 's' });
  throwsNitro(assert, () => nitro.entity('C', { fields: { n: { type: 'int', default: 'x' } } }), { code: 'SCHEMA', field: 'n' });
  throwsNitro(assert, () => nitro.entity('D', { fields: {}, indexes: ['nope'] }), { code: 'SCHEMA' });
  nitro.entity('Task', { fields: taskFields });
  throwsNitro(assert, () => nitro.entity('Task', { fields: taskFields }), { code: 'SCHEMA', entity: 'Task' });
  throwsNitro(assert, () => nitro.entity('E', { feilds: {} }), { code: 'SCHEMA' });
});

test('a ref to an entity not defined (yet) is a SCHEMA error with rule ref at first write', async () => {
  const nitro = await createNitro();
  const T = nitro.entity('T', { fields: { projectId: { type: 'ref', entity: 'Nowhere', optional: true } } });
  throwsNitro(assert, () => T.create({ projectId: 'p1' }), { code: 'SCHEMA', field: 'projectId', rule: 'ref' });
  assert.equal(T.count(), 0);
  assert.equal(T.create({}).projectId, null);
});

test('calls after close() throw CLOSED', async () => {
  const { nitro, Task } = await setup();
  const t = Task.create({ title: 'a' });
  nitro.close();
  for (const fn of [() => Task.create({ title: 'b' }), () => Task.get(t.id), () => Task.all(), () => Task.count(),
    () => Task.update(t.id, { title: 'c' }), () => Task.delete(t.id), () => nitro.entity('X', { fields: {} }), () => nitro.stats()]) {
    throwsNitro(assert, fn, { code: 'CLOSED' });
  }
});

test('instances are independent', async () => {
  const a = await setup();
  const b = await setup();
  a.Task.create({ title: 'only in a' });
  assert.equal(a.Task.count(), 1);
  assert.equal(b.Task.count(), 0);
});

test('NitroError is an Error subclass with a name', async () => {
  const { Task } = await setup();
  const err = throwsNitro(assert, () => Task.create({}), { code: 'VALIDATION' });
  assert.ok(err instanceof Error);
  assert.equal(err.name, 'NitroError');
});

test('createNitro accepts an explicit wasm source (bytes, path, module)', async () => {
  const { readFile } = await import('node:fs/promises');
  const url = new URL('../../dist/nitro.wasm', import.meta.url);
  const bytes = await readFile(url);
  for (const wasm of [bytes, url, url.pathname, await WebAssembly.compile(bytes)]) {
    const n = await createNitro({ wasm });
    assert.equal(n.entity('X', { fields: { a: { type: 'int' } } }).create({ a: 1 }).a, 1);
  }
  await assert.rejects(createNitro({ wasm: new Uint8Array([0, 1, 2]) }), NitroError);
});

test('transaction commits together or not at all', async () => {
  const { nitro, Task } = await setup();
  const out = nitro.transaction(() => { Task.create({ id: 'a', title: 'a' }); Task.create({ id: 'b', title: 'b' }); return 7; });
  assert.equal(out, 7);
  assert.equal(Task.count(), 2);
  assert.throws(() => nitro.transaction(() => {
    Task.create({ id: 'c', title: 'c' });
    Task.update('a', { title: 'changed' });
    Task.delete('b');
    throw new Error('boom');
  }), /boom/);
  assert.deepEqual(Task.all().map((r) => [r.id, r.title]), [['a', 'a'], ['b', 'b']]);
});

test('stats reports memory and per-entity counts', async () => {
  const { nitro, Task } = await setup();
  Task.insertMany([{ title: 'a' }, { title: 'b' }]);
  const s = nitro.stats();
  assert.ok(s.memoryBytes > 0);
  assert.equal(s.entities.Task.records, 2);
});

test('length messages count in the right number: 1 character, 2 characters, 1 item', async () => {
  const nitro = await createNitro();
  const Note = nitro.entity('Note', { fields: {
    a: { type: 'string', minLength: 1, optional: true },
    b: { type: 'string', minLength: 2, optional: true },
    c: { type: 'list', of: 'string', maxLength: 1, optional: true },
  } });
  const msg = (data) => { try { Note.create(data); } catch (e) { return e.message; } return null; };
  assert.match(msg({ a: '' }), /must have at least 1 character \(got 0\)/);
  assert.match(msg({ b: 'x' }), /must have at least 2 characters \(got 1\)/);
  assert.match(msg({ c: ['x', 'y'] }), /must have at most 1 item \(got 2\)/);
});
