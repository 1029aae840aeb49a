// sync-basic.test.js - the sync client against an in-process reference
// server (SQLite in memory): outbox, push, pull with rebase, rejections,
// conflicts, idempotency, snapshots. The hard cases (real process, faults,
// crashes, many clients) are in the other sync-*.test.js files.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createNitro, NitroError } from '../../dist/nitro.js';
import { createSyncServer } from '../../server/index.js';
import { makeClient, schema, SECRET, tokenFor, dump } from '../sync/clients.js';

let server, url;
let userN = 0;
const newUser = () => `basic-${++userN}`;

before(async () => {
  server = await createSyncServer({ schema, db: ':memory:', secret: SECRET, log: false });
  ({ url } = await server.listen(0));
});
after(() => server.close());

/** Collects sync.* and entity events of an instance. */
function recorder(nitro, pattern) {
  const seen = [];
  nitro.on(pattern, (e) => { seen.push(e); });
  return seen;
}

test('every write is in the outbox; push sends it; another client pulls it as source sync', async () => {
  const user = newUser();
  const a = await makeClient(url, { user });
  const b = await makeClient(url, { user });
  const t = a.E.Task.create({ title: 'write the spec', tags: ['doc'], due: '2030-01-02T03:04:05.000Z', meta: { n: [1, 2] } });
  a.E.Task.update(t.id, { priority: 5 });
  const p = a.E.Project.create({ name: 'p' });
  a.E.Project.delete(p.id);
  // unsent writes fold per record (src/changelog.h): the task's create
  // carries the update, the project created and deleted is not sent at all
  assert.equal(a.sync.status.pending, 1);
  assert.equal(a.sync.status.online, false);
  const pushed = recorder(a.nitro, 'sync.pushed');
  assert.deepEqual(await a.sync.push(), { applied: 1, rejected: 0, conflicts: 0 });
  assert.equal(a.sync.status.pending, 0);
  assert.equal(a.sync.status.online, true);
  assert.equal(pushed.length, 1);

  const events = recorder(b.nitro, 'Task.*');
  const pulled = recorder(b.nitro, 'sync.pulled');
  assert.equal(await b.sync.pull(), 1, 'the task (the project never reached the server)');
  assert.deepEqual(b.E.Task.get(t.id).toJSON(), a.E.Task.get(t.id).toJSON());
  assert.equal(b.E.Project.count(), 0);
  assert.equal(events.length, 1);
  assert.equal(events[0].type, 'Task.created');
  assert.equal(events[0].source, 'sync');
  assert.equal(pulled.length, 1);
  assert.ok(b.sync.status.lastPulledAt > 0);
  assert.equal(b.sync.status.pending, 0, 'applied server state is not re-logged');
  assert.equal(await b.sync.pull(), 0, 'nothing new past the checkpoint');
});

test('pull applies server changes under pending local edits (field by field)', async () => {
  const user = newUser();
  const a = await makeClient(url, { user });
  const b = await makeClient(url, { user });
  const t = a.E.Task.create({ title: 'one', priority: 1 });
  await a.sync.push();
  await b.sync.pull();
  b.E.Task.update(t.id, { title: 'two (b)' });           // pending on b
  a.E.Task.update(t.id, { priority: 4, tags: ['a'] });   // pushed by a
  await a.sync.push();
  await b.sync.pull();
  const got = b.E.Task.get(t.id);
  assert.equal(got.title, 'two (b)', 'b keeps its own pending title');
  assert.equal(got.priority, 4, 'and takes a\'s fields');
  assert.deepEqual(got.tags, ['a']);
  assert.equal(b.sync.status.pending, 1);
  await b.sync.push();
  await a.sync.pull();
  assert.deepEqual(a.E.Task.get(t.id).toJSON(), b.E.Task.get(t.id).toJSON());
  assert.equal(a.E.Task.get(t.id).title, 'two (b)');
});

test('a mutation the server refuses is reported with its NitroError and undone locally; the rest apply', async () => {
  const user = newUser();
  // This client's definition is looser than the server's (title up to 200).
  const loose = { ...schema, Task: { ...schema.Task, fields: { ...schema.Task.fields, title: { type: 'string', required: true } } } };
  const a = await makeClient(url, { user, schemaOverride: loose });
  const rejected = recorder(a.nitro, 'sync.rejected');
  const ok = a.E.Task.create({ title: 'fine' });
  const bad = a.E.Task.create({ title: 'x'.repeat(300) });
  const later = a.E.Task.create({ title: 'also fine' });
  assert.deepEqual(await a.sync.push(), { applied: 2, rejected: 1, conflicts: 0 });
  assert.equal(rejected.length, 1);
  const { payload } = rejected[0];
  assert.equal(payload.entity, 'Task');
  assert.equal(payload.id, bad.id);
  assert.ok(payload.error instanceof NitroError);
  assert.equal(payload.error.code, 'VALIDATION');
  assert.equal(payload.error.field, 'title');
  assert.equal(payload.error.rule, 'maxLength');
  assert.equal(a.E.Task.get(bad.id), null, 'the server has no such record, so neither has the client');
  assert.ok(a.E.Task.get(ok.id) && a.E.Task.get(later.id));
  assert.equal(a.sync.status.pending, 0);
});

test('conflict: reject reports both versions, keeps the local change, and resolves three ways', async () => {
  const user = newUser();
  const a = await makeClient(url, { user });
  const b = await makeClient(url, { user });
  const n = a.E.Note.create({ text: 'v1' });
  await a.sync.push();
  await b.sync.pull();
  a.E.Note.update(n.id, { text: 'a2', rev: 1 });
  a.E.Note.update(n.id, { rev: 2 });                 // a's second edit follows its own first
  await a.sync.push();
  b.E.Note.update(n.id, { text: 'b2' });
  const conflicts = recorder(b.nitro, 'sync.conflict');
  assert.deepEqual(await b.sync.push(), { applied: 0, rejected: 0, conflicts: 1 });
  assert.equal(conflicts.length, 1);
  const c = conflicts[0].payload;
  assert.equal(c.local.text, 'b2');
  assert.deepEqual({ text: c.server.text, rev: c.server.rev }, { text: 'a2', rev: 2 });
  assert.equal(b.E.Note.get(n.id).text, 'b2', 'the local change stays until resolved');
  assert.equal(b.sync.status.pending, 1);
  assert.deepEqual(await b.sync.push(), { applied: 0, rejected: 0, conflicts: 0 }, 'not sent again meanwhile');
  assert.equal(b.sync.conflicts().length, 1);

  // 'local': sent again over the server's version
  assert.equal(await b.sync.resolve('Note', n.id, 'local'), true);
  assert.deepEqual(await b.sync.push(), { applied: 1, rejected: 0, conflicts: 0 });
  await a.sync.pull();
  assert.equal(a.E.Note.get(n.id).text, 'b2');

  // 'server': the local change is dropped
  await b.sync.pull();
  a.E.Note.update(n.id, { text: 'a3' });
  await a.sync.push();
  b.E.Note.update(n.id, { text: 'b3' });
  await b.sync.push();
  assert.equal(await b.sync.resolve(b.E.Note, n.id, 'server'), true);
  assert.equal(b.E.Note.get(n.id).text, 'a3');
  assert.equal(b.sync.status.pending, 0);

  // a merged record: a new local write over the server's version
  a.E.Note.update(n.id, { text: 'a4' });
  await a.sync.push();
  b.E.Note.update(n.id, { text: 'b4' });
  await b.sync.push();
  await b.sync.resolve('Note', n.id, { text: 'a4 + b4' });
  assert.deepEqual(await b.sync.push(), { applied: 1, rejected: 0, conflicts: 0 });
  await a.sync.pull();
  assert.equal(a.E.Note.get(n.id).text, 'a4 + b4');
  assert.equal(await b.sync.resolve('Note', n.id, 'server'), false, 'nothing left to resolve');
});

test('the server applies a mutation once: a repeated push gets the same answers, an acknowledged one is stale', async () => {
  const user = newUser();
  const token = tokenFor(user);
  const send = async (body) => {
    const res = await fetch(`${url}/push`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 200);
    return res.json();
  };
  const mutations = [
    { seq: 1, entity: 'Task', id: 't1', op: 'create', fields: { title: 'first' } },
    { seq: 2, entity: 'Task', id: 't1', op: 'update', fields: { title: 'second' } },
    { seq: 3, entity: 'Task', id: 't2', op: 'create', fields: { title: '' } },
  ];
  const first = await send({ client: 'c1', done: 0, mutations });
  const head = server.head;
  assert.deepEqual(first.results.map((r) => r.status), ['applied', 'applied', 'rejected']);
  // someone else changes t1, then the old batch arrives again
  await send({ client: 'c2', done: 0, mutations: [{ seq: 1, entity: 'Task', id: 't1', op: 'update', fields: { title: 'third' } }] });
  const again = await send({ client: 'c1', done: 0, mutations });
  // t1's answers are not replayed as 'applied': c2 wrote since, and c1 may
  // have pulled that while its writes were pending, so it gets the record
  // as it stands; t2's rejection is replayed as it was
  assert.deepEqual(again.results.map((r) => r.status), ['stale', 'stale', 'rejected']);
  assert.equal(again.results[0].current.title, 'third');
  assert.equal(again.results[1].version, server.head);
  assert.deepEqual(again.results[2].error, first.results[2].error);
  assert.equal(server.head, head + 1, 'only c2\'s write added a version');
  const b = await makeClient(url, { user });
  await b.sync.pull();
  assert.equal(b.E.Task.get('t1').title, 'third', 'the repeated batch did not overwrite the later write');
  const stale = await send({ client: 'c1', done: 3, mutations: [mutations[1]] });
  assert.equal(stale.results[0].status, 'stale');
  assert.equal(stale.results[0].current.title, 'third');
});

test('deletes, cascades and re-creations reach other clients', async () => {
  const user = newUser();
  const a = await makeClient(url, { user });
  const b = await makeClient(url, { user });
  const p = a.E.Project.create({ name: 'p' });
  const t1 = a.E.Task.create({ title: 't1', projectId: p.id });
  a.E.Task.create({ title: 't2', projectId: p.id });
  await a.sync.push();
  await b.sync.pull();
  assert.equal(b.E.Task.count(), 2);
  const deleted = recorder(b.nitro, '*.deleted');
  a.E.Project.delete(p.id);                              // cascades to both tasks
  await a.sync.push();
  await b.sync.pull();
  assert.equal(b.E.Project.count(), 0);
  assert.equal(b.E.Task.count(), 0);
  assert.equal(deleted.length, 3);
  assert.ok(deleted.every((e) => e.source === 'sync'));
  a.E.Task.create({ id: t1.id, title: 'back' });
  await a.sync.push();
  await b.sync.pull();
  assert.equal(b.E.Task.get(t1.id).title, 'back');
});

test('a failed push rejects with SYNC, sets status.error, and loses nothing', async () => {
  const nitro = await createNitro();
  const E = nitro.define(schema);
  const dead = nitro.sync({ url: 'http://127.0.0.1:9/sync', token: 'x', timeout: 2000 });
  const errors = recorder(nitro, 'sync.error');
  E.Task.create({ title: 'kept' });
  await assert.rejects(dead.push(), (err) => err instanceof NitroError && err.code === 'SYNC');
  assert.equal(dead.status.pending, 1);
  assert.equal(dead.status.online, false);
  assert.equal(dead.status.error.code, 'SYNC');
  assert.equal(errors.length, 1);
  await dead.close();
  // the same outbox goes out through a working sync
  const ok = nitro.sync({ url, token: tokenFor(newUser()) });
  assert.deepEqual(await ok.push(), { applied: 1, rejected: 0, conflicts: 0 });
  assert.equal(ok.status.error, null);
  await assert.rejects(async () => nitro.sync({ url }), (err) => err.code === 'SYNC', 'one sync per instance');
});

test('rolled-back writes never reach the outbox; sync: false entities are not logged', async () => {
  const nitro = await createNitro();
  const { Task } = nitro.define(schema);
  const Local = nitro.entity('Local', { fields: { x: { type: 'int' } }, sync: false });
  assert.throws(() => nitro.transaction(() => { Task.create({ title: 'a' }); Task.create({ title: '' }); }));
  assert.throws(() => Task.create({ title: 'b', priority: 9 }));
  Local.create({ x: 1 });
  const s = nitro.sync({ url, token: tokenFor(newUser()) });
  assert.equal(s.status.pending, 0);
  Task.create({ title: 'c' });
  assert.equal(s.status.pending, 1);
  assert.ok(!s.entities.includes(Local));
});

test('a snapshot carries the outbox and client id; restoring never reuses a sequence number', async () => {
  const user = newUser();
  const a = await makeClient(url, { user });
  a.E.Task.create({ title: 'one' });
  const snap = a.nitro.snapshot();
  a.E.Task.create({ title: 'two' });
  await a.sync.push();
  a.nitro.restore(snap);                     // back to one pending write
  assert.equal(a.sync.status.pending, 1);
  a.E.Task.create({ title: 'three' });
  // "one" keeps its seq and gets its earlier answer again; "three" must not
  // take the seq of "two", or the server would answer it with two's receipt
  assert.deepEqual(await a.sync.push(), { applied: 2, rejected: 0, conflicts: 0 });
  const b = await makeClient(url, { user });
  await b.sync.pull();
  assert.deepEqual(b.E.Task.all().map((t) => t.title).sort(), ['one', 'three', 'two']);

  const other = await createNitro();
  other.define(schema);
  other.restore(snap);
  const s = other.sync({ url, token: tokenFor(user) });
  assert.equal(s.clientId, a.sync.clientId);
  assert.equal(s.status.pending, 1);
  assert.deepEqual(dump(b.E).Board, []);
});

test('a pull read by WebAssembly (nothing pending) and one read in JavaScript (pending writes) give the same store', async () => {
  const user = newUser();
  const w = await makeClient(url, { user });
  const odd = ['quote " back \\ slash', 'emoji 😀 é ß \u2028 line', 'tab\tnew\nline', '</script>', '\u0000nul'];
  odd.forEach((title, i) => w.E.Task.create({ title, tags: [title, 'x'], due: new Date(Date.UTC(2030, 0, i + 1)), meta: { i, nested: [{ a: title, b: [1.5, -2, 1e21, null, true] }] } }));
  const p = w.E.Project.create({ name: 'p' });
  w.E.Task.create({ title: 'in p', projectId: p.id, status: 'blocked', priority: 1, done: false });
  await w.sync.push();
  const gone = w.E.Task.create({ title: 'gone' });
  await w.sync.push();
  w.E.Task.delete(gone.id);
  await w.sync.push();

  const fast = await makeClient(url, { user, pullLimit: 3 });
  const events = recorder(fast.nitro, 'Task.created');
  const careful = await makeClient(url, { user, pullLimit: 3 });
  careful.E.Board.create({ title: 'pending here' });        // forces the JavaScript path
  assert.equal(await fast.sync.pull(), 8, 'seven records and a tombstone, in pages of three');
  await careful.sync.pull();
  assert.deepEqual(dump(fast.E).Task, dump(w.E).Task);
  assert.deepEqual(dump(careful.E).Task, dump(w.E).Task);
  assert.deepEqual(dump(fast.E).Project, dump(w.E).Project);
  assert.equal(events.length, 6);
  assert.ok(events.every((e) => e.source === 'sync'));
  assert.equal(fast.sync.status.pending, 0);
});
