// hardening-server-scope.test.js - what one user can learn about or do to
// another user's private records through the real server process, on SQLite
// and on PostgreSQL (where it is installed; tests/support/postgres.js):
// unique keys of private entities hold per user, ids of private records live
// in each user's own namespace (creating an id another user has is the same
// as creating a fresh one), and deleting a shared record never cascades into
// another user's private records (CONFLICT, rule restrict).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { postgresOrSkip } from '../support/postgres.js';
import { startServerProcess, tempDir, repoRoot } from '../sync/server-process.js';
import { tokenFor } from '../sync/clients.js';

const { pg, skip: pgSkip } = await postgresOrSkip();
const schema = path.join(repoRoot, 'tests', 'sync', 'entities-scope.mjs');
const running = new Set();
after(async () => {
  await Promise.all([...running].map((s) => s.stop()));
  if (pg) await pg.stop();
});

async function start(db) {
  const s = await startServerProcess({ db, extra: ['--schema', schema] });
  running.add(s);
  return s;
}
async function stop(s) { running.delete(s); await s.stop(); }

let seq = 0;
/** One push of `mutations` ([entity, id, op, fields?]) as `user`; the results. */
async function push(srv, user, mutations) {
  const body = { client: `client-${user}`, mutations: mutations.map(([entity, id, op, fields]) => ({ seq: ++seq, entity, id, op, ...(op === 'delete' ? {} : { fields }) })) };
  const res = await fetch(`${srv.url}/push`, { method: 'POST', headers: { authorization: `Bearer ${tokenFor(user)}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200);
  return (await res.json()).results.map(({ seq: _s, version: _v, ...r }) => r);
}
/** What `user` pulls from the start: "Entity/id" -> record (null when deleted). */
async function pull(srv, user) {
  const res = await fetch(`${srv.url}/pull?limit=10000`, { headers: { authorization: `Bearer ${tokenFor(user)}` } });
  assert.equal(res.status, 200);
  const out = {};
  for (const c of (await res.json()).changes) out[`${c.entity}/${c.id}`] = c.deleted ? null : c.record;
  return out;
}
const applied = { status: 'applied' };

const storages = [
  ['SQLite', async () => path.join(tempDir(), 'scope.db'), false],
  ['PostgreSQL', () => pg.createDatabase(`scope_${process.pid}_${++seq}`), pgSkip],
];

for (const [name, makeDb, skip] of storages) {
  test(`${name}: unique keys of private entities hold per user; shared ones across users`, { skip }, async () => {
    const srv = await start(await makeDb());
    assert.deepEqual(await push(srv, 'u-ann', [['Tag', 'a1', 'create', { name: 'salary-review' }]]), [applied]);
    // bob's value equal to ann's private one: his own business, not a probe
    assert.deepEqual(await push(srv, 'u-bob', [['Tag', 'b1', 'create', { name: 'salary-review' }]]), [applied]);
    const again = await push(srv, 'u-bob', [['Tag', 'b2', 'create', { name: 'salary-review' }]]);
    assert.equal(again[0].status, 'rejected', 'within one user the key is unique');
    assert.deepEqual({ ...again[0].error, message: undefined }, { code: 'DUPLICATE', entity: 'Tag', field: 'name', rule: 'unique', message: undefined });
    assert.equal(again[0].error.message, 'Tag.name: another record has the same name');
    // the owner the server keeps is not a field a client may write
    const spoof = await push(srv, 'u-bob', [['Tag', 'b3', 'create', { name: 'salary-review', $owner: 'u-ann' }], ['Tag', 'b1', 'update', { $owner: 'u-ann' }]]);
    assert.deepEqual(spoof.map((r) => [r.status, r.error.code, r.error.rule]), [['rejected', 'VALIDATION', 'unknown'], ['rejected', 'VALIDATION', 'unknown']]);
    // a compound key with a shared reference: per user too
    await push(srv, 'u-ann', [['Project', 'p1', 'create', { name: 'P' }]]);
    assert.deepEqual(await push(srv, 'u-ann', [['Task', 'ta', 'create', { title: 'plan', projectId: 'p1' }]]), [applied]);
    assert.deepEqual(await push(srv, 'u-bob', [['Task', 'tb', 'create', { title: 'plan', projectId: 'p1' }]]), [applied]);
    // shared records are seen by everyone: their keys are global
    assert.deepEqual(await push(srv, 'u-ann', [['Label', 'l1', 'create', { name: 'urgent' }]]), [applied]);
    assert.equal((await push(srv, 'u-bob', [['Label', 'l2', 'create', { name: 'urgent' }]]))[0].error.code, 'DUPLICATE');
    assert.equal((await pull(srv, 'u-bob'))['Tag/b1'].name, 'salary-review');
    assert.equal((await pull(srv, 'u-ann'))['Tag/b1'], undefined);
    await stop(srv);
  });

  test(`${name}: an id another user has is a fresh id in each user's namespace; nothing tells it exists`, { skip }, async () => {
    const db = await makeDb();
    let srv = await start(db);
    await push(srv, 'n-ann', [['Tag', 'shared-id', 'create', { name: 'ann tag' }]]);
    // bob's writes to that id answer exactly as for an id nobody has
    const fresh = await push(srv, 'n-bob', [
      ['Tag', 'never-used', 'update', { name: 'x' }],
      ['Task', 'tb0', 'create', { title: 't', tagId: 'never-used' }],
    ]);
    const taken = await push(srv, 'n-bob', [
      ['Tag', 'shared-id', 'update', { name: 'x' }],
      ['Task', 'tb1', 'create', { title: 't', tagId: 'shared-id' }],
    ]);
    const strip = (r) => JSON.parse(JSON.stringify(r).replaceAll('never-used', 'ID').replaceAll('shared-id', 'ID'));
    assert.deepEqual(strip(taken), strip(fresh));
    assert.equal(taken[0].error.code, 'NOT_FOUND');
    assert.equal(taken[1].error.rule, 'ref');
    // and a create succeeds in bob's own namespace, as with any fresh id
    assert.deepEqual(await push(srv, 'n-bob', [['Tag', 'shared-id', 'create', { name: 'bob tag' }], ['Tag', 'bob-only', 'create', { name: 'other' }]]), [applied, applied]);
    assert.deepEqual(await push(srv, 'n-bob', [['Task', 'tb2', 'create', { title: 't', tagId: 'shared-id' }]]), [applied]);
    assert.deepEqual(await push(srv, 'n-bob', [['Tag', 'shared-id', 'update', { name: 'bob tag 2' }]]), [applied]);
    const check = async () => {
      const ann = await pull(srv, 'n-ann');
      const bob = await pull(srv, 'n-bob');
      assert.deepEqual(ann['Tag/shared-id'], { id: 'shared-id', name: 'ann tag' });
      assert.deepEqual(bob['Tag/shared-id'], { id: 'shared-id', name: 'bob tag 2' });
      assert.equal(bob['Task/tb2'].tagId, 'shared-id');
      assert.equal(ann['Task/tb2'], undefined);
    };
    await check();
    // after a restart (records loaded from storage) each still has their own
    await stop(srv);
    srv = await start(db);
    await check();
    // bob's delete takes his record only (and nullifies his own reference)
    assert.deepEqual(await push(srv, 'n-bob', [['Tag', 'shared-id', 'delete']]), [applied]);
    const bob = await pull(srv, 'n-bob');
    assert.equal(bob['Tag/shared-id'], null);
    assert.equal(bob['Task/tb2'].tagId, null);
    assert.deepEqual((await pull(srv, 'n-ann'))['Tag/shared-id'], { id: 'shared-id', name: 'ann tag' });
    // ann's own update still applies to hers
    assert.deepEqual(await push(srv, 'n-ann', [['Tag', 'shared-id', 'update', { name: 'ann 2' }]]), [applied]);
    await stop(srv);
  });

  test(`${name}: deleting a shared record never cascades into another user's private records`, { skip }, async () => {
    const srv = await start(await makeDb());
    await push(srv, 'c-ann', [['Project', 'pc', 'create', { name: 'shared' }], ['Project', 'pn', 'create', { name: 'pinned' }], ['Project', 'own', 'create', { name: 'own' }]]);
    await push(srv, 'c-bob', [['Task', 'bob-task', 'create', { title: 'his', projectId: 'pc' }], ['Pin', 'bob-pin', 'create', { projectId: 'pn' }]]);
    await push(srv, 'c-ann', [['Task', 'ann-task', 'create', { title: 'hers', projectId: 'own' }]]);
    const refused = await push(srv, 'c-ann', [['Project', 'pc', 'delete'], ['Project', 'pn', 'delete']]);
    for (const r of refused) {
      assert.equal(r.status, 'rejected');
      assert.equal(r.error.code, 'CONFLICT');
      assert.equal(r.error.rule, 'restrict');
      assert.equal(r.error.entity, 'Project');
      assert.ok(!/bob/.test(r.error.message), r.error.message);
      assert.ok(r.current, 'the shared record stands and comes back to the client');
    }
    const bob = await pull(srv, 'c-bob');
    assert.equal(bob['Task/bob-task'].projectId, 'pc');
    assert.equal(bob['Pin/bob-pin'].projectId, 'pn');
    assert.ok(bob['Project/pc'] && bob['Project/pn']);
    // through a chain of shared records (Space -> Project -> bob's Task), and
    // a restrict reference of bob's: the same answer, naming no record
    await push(srv, 'c-ann', [['Space', 's1', 'create', { name: 'S' }], ['Project', 'ps', 'create', { name: 'in S', spaceId: 's1' }], ['Project', 'pr', 'create', { name: 'marked' }]]);
    await push(srv, 'c-bob', [['Task', 'bob-deep', 'create', { title: 'deep', projectId: 'ps' }], ['Mark', 'bob-mark', 'create', { projectId: 'pr' }]]);
    const more = await push(srv, 'c-ann', [['Space', 's1', 'delete'], ['Project', 'pr', 'delete']]);
    assert.deepEqual(more.map((r) => [r.status, r.error.code, r.error.rule, r.error.entity]), [['rejected', 'CONFLICT', 'restrict', 'Space'], ['rejected', 'CONFLICT', 'restrict', 'Project']]);
    for (const r of more) assert.ok(!/bob/.test(r.error.message), r.error.message);
    assert.equal(more[1].error.message.replace('"pr"', '"pc"'), refused[0].error.message, 'a restrict reads like a blocked cascade');
    assert.ok((await pull(srv, 'c-bob'))['Task/bob-deep']);
    assert.deepEqual(await push(srv, 'c-bob', [['Space', 's1', 'delete']]), [applied], 'bob\'s own chain applies');
    const deep = await pull(srv, 'c-bob');
    assert.equal(deep['Project/ps'], null);
    assert.equal(deep['Task/bob-deep'], null);
    // a cascade into the deleting user's own records applies
    assert.deepEqual(await push(srv, 'c-ann', [['Project', 'own', 'delete']]), [applied]);
    assert.equal((await pull(srv, 'c-ann'))['Task/ann-task'], null);
    // bob may delete the project his own task hangs on: it cascades into his
    assert.deepEqual(await push(srv, 'c-bob', [['Project', 'pc', 'delete']]), [applied]);
    assert.equal((await pull(srv, 'c-bob'))['Task/bob-task'], null);
    await stop(srv);
  });
}

test('PostgreSQL, two instances: each user\'s namespace holds across instances', { skip: pgSkip }, async () => {
  const db = await pg.createDatabase(`scope2_${process.pid}`);
  const one = await start(db);
  const two = await start(db);
  await push(one, 'm-ann', [['Tag', 'same', 'create', { name: 'k' }]]);
  // instance two catches up ann's record before deciding bob's create
  assert.deepEqual(await push(two, 'm-bob', [['Tag', 'same', 'create', { name: 'k' }]]), [applied]);
  assert.deepEqual(await push(one, 'm-ann', [['Tag', 'same', 'update', { name: 'k2' }]]), [applied]);
  assert.deepEqual((await pull(two, 'm-bob'))['Tag/same'], { id: 'same', name: 'k' });
  assert.deepEqual((await pull(two, 'm-ann'))['Tag/same'], { id: 'same', name: 'k2' });
  await stop(one);
  await stop(two);
});

test('a schema whose shared entity references a private one, or that uses the reserved $owner, is refused at start', async () => {
  const { createSyncServer } = await import('../../server/index.js');
  const make = (schema) => createSyncServer({ schema, db: ':memory:', secret: 'scope-test-secret', log: false });
  await assert.rejects(make({
    Doc: { fields: { id: { type: 'id' }, title: { type: 'string' } } },
    Feed: { fields: { id: { type: 'id' }, docId: { type: 'ref', entity: 'Doc', optional: true } }, shared: true },
  }), /Feed\.docId: a shared entity cannot reference the private entity Doc/);
  await assert.rejects(make({ Doc: { fields: { id: { type: 'id' }, $owner: { type: 'string' } } } }), /Doc\.\$owner: the field name is reserved/);
  const ok = await make({ Doc: { fields: { id: { type: 'id' } } }, Feed: { fields: { id: { type: 'id' }, docId: { type: 'ref', entity: 'Doc', optional: true } } } });
  await ok.close();
});

test('PostgreSQL, group commit: many users creating the same id at once each keep their own record', { skip: pgSkip }, async () => {
  const db = await pg.createDatabase(`scope3_${process.pid}`);
  let srv = await start(db);
  const users = Array.from({ length: 20 }, (_, i) => `g-${i}`);
  const answers = await Promise.all(users.map((u) => push(srv, u, [['Tag', 'same', 'create', { name: `tag of ${u}` }]])));
  assert.ok(answers.every((r) => r[0].status === 'applied'));
  await stop(srv);
  srv = await start(db);
  for (const u of users) assert.deepEqual((await pull(srv, u))['Tag/same'], { id: 'same', name: `tag of ${u}` }, u);
  await stop(srv);
});
