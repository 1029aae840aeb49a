// hardening-prototype.test.js - prototype pollution (issue 15, item 1): the
// keys `__proto__`, `constructor` and `prototype` are refused as record ids,
// ref values, json object keys, data keys and field/entity names, on the
// client and by the reference server, and no path that writes keys from data
// into objects (Datastar signals and merge patches, decoded json, sync pulls)
// can reach Object.prototype. End to end: bob pushes a shared record with id
// `__proto__` to the real server, alice pulls it into a page bound with
// ds.bind, and `({}).title` stays undefined.
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createNitro, NitroError, setup, throwsNitro } from './helpers.js';
import { connectDatastar } from '../../dist/datastar/index.js';
import { Reader } from '../../dist/record.js';
import { Encoder } from '../../dist/nval.js';
import { startServerProcess, tempDir } from '../sync/server-process.js';
import { makeClient, tokenFor } from '../sync/clients.js';
import Database from 'better-sqlite3';

const RESERVED = ['__proto__', 'constructor', 'prototype'];
const tick = () => new Promise((r) => setTimeout(r, 0));
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Fails the test (and cleans up) if anything landed on Object.prototype. */
function assertClean() {
  const polluted = Object.getOwnPropertyNames(Object.prototype).filter((k) => !CLEAN.includes(k));
  for (const k of polluted) delete Object.prototype[k];
  assert.deepEqual(polluted, [], 'Object.prototype was polluted');
  assert.equal(({}).title, undefined);
  assert.equal(({}).name, undefined);
}
const CLEAN = Object.getOwnPropertyNames(Object.prototype);
afterEach(assertClean);

/** A 1.0.x Datastar stand-in that merges patches the naive way a client
 * might (own keys, `target[k]`), so a `__proto__` key in a patch would
 * reach Object.prototype, as in the reported attack. */
class Fake1 {
  constructor() {
    this.doc = new EventTarget();
    this.state = {};
    this.sent = [];
    this.doc.addEventListener('datastar-fetch', (e) => {
      const { type, argsRaw } = e.detail;
      if (type !== 'datastar-patch-signals') return;
      this.sent.push(argsRaw.signals);
      const changed = this.merge(JSON.parse(argsRaw.signals));
      if (changed) this.doc.dispatchEvent(new CustomEvent('datastar-signal-patch', { detail: changed }));
    });
    const self = this;
    this.module = {
      action() {},
      mergePatch(p) { self.merge(p); },
      getPath(p) {
        let o = self.state;
        for (const k of p.split('.')) { if (!isObj(o) || !(k in o)) return undefined; o = o[k]; }
        return o;
      },
    };
  }

  merge(patch, target = this.state) {
    let changed = null;
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) { delete target[k]; continue; }
      if (isObj(v)) {
        if (!isObj(target[k])) target[k] = {};
        const c = this.merge(v, target[k]);
        if (c) (changed ??= {})[k] = c;
      } else if (JSON.stringify(target[k]) !== JSON.stringify(v)) {
        target[k] = v;
        (changed ??= {})[k] = v;
      }
    }
    return changed;
  }

  /** A data-bind input edit reported back to the bridge. */
  report(detail) { this.doc.dispatchEvent(new CustomEvent('datastar-signal-patch', { detail })); }
}

describe('reserved keys are refused by the store', () => {
  test('as record ids: create, upsert, insertMany, update', async () => {
    const { Task } = await setup();
    for (const id of RESERVED) {
      throwsNitro(assert, () => Task.create({ id, title: 'x' }), { code: 'VALIDATION', entity: 'Task', field: 'id', rule: 'reserved-key' });
      throwsNitro(assert, () => Task.upsert({ id, title: 'x' }), { code: 'VALIDATION', field: 'id', rule: 'reserved-key' });
      throwsNitro(assert, () => Task.insertMany([{ title: 'ok' }, { id, title: 'x' }]), { code: 'VALIDATION', field: 'id', rule: 'reserved-key', index: 1 });
      throwsNitro(assert, () => Task.update(id, { title: 'x' }), { code: 'NOT_FOUND' });
      assert.equal(Task.get(id), null);
      assert.equal(Task.delete(id), false);
    }
    assert.equal(Task.count(), 0);
  });

  test('as ref values', async () => {
    const nitro = await createNitro();
    nitro.entity('Project', { fields: { name: { type: 'string' } } });
    const Task = nitro.entity('Task', { fields: { projectId: { type: 'ref', entity: 'Project' } } });
    for (const id of RESERVED) {
      throwsNitro(assert, () => Task.create({ projectId: id }), { code: 'VALIDATION', field: 'projectId', rule: 'reserved-key' });
    }
  });

  test('as json object keys, at any depth, and as data keys', async () => {
    const { Task } = await setup();
    for (const k of RESERVED) {
      for (const meta of [`{"${k}": 1}`, `{"a": {"${k}": {"title": "x"}}}`, `[1, [{"${k}": null}]]`]) {
        throwsNitro(assert, () => Task.create({ title: 'x', meta: JSON.parse(meta) }), { code: 'VALIDATION', field: 'meta', rule: 'reserved-key' });
      }
      throwsNitro(assert, () => Task.create(JSON.parse(`{"title": "x", "${k}": {"title": "y"}}`)), { code: 'VALIDATION', entity: 'Task', rule: 'reserved-key' });
      throwsNitro(assert, () => Task.where({}).update(JSON.parse(`{"${k}": 1}`)), { code: 'VALIDATION', rule: 'reserved-key' });
    }
    // the same words are fine as values and inside longer keys
    const r = Task.create({ title: '__proto__', tags: ['constructor'], meta: { constructors: 1, proto: 'prototype', __proto: 2 } });
    assert.deepEqual(Task.get(r.id).meta, { constructors: 1, proto: 'prototype', __proto: 2 });
    assert.equal(Task.count(), 1);
  });

  test('a schema naming a reserved field or entity is SCHEMA', async () => {
    const nitro = await createNitro();
    for (const k of RESERVED) {
      throwsNitro(assert, () => nitro.entity('E', { fields: JSON.parse(`{"${k}": {"type": "string"}}`) }), { code: 'SCHEMA', entity: 'E' });
      throwsNitro(assert, () => nitro.entity(k, { fields: { a: { type: 'string' } } }), { code: 'SCHEMA' });
    }
    assert.equal(nitro.entities.size, 0);
  });
});

describe('decoding never assigns through __proto__', () => {
  test('a stored object with a __proto__ key (bypassing validation) decodes to an own key', () => {
    const enc = new Encoder();
    enc.value(JSON.parse('{"__proto__": {"title": "pwned"}, "constructor": {"prototype": {"name": "x"}}, "ok": 1}'));
    const bytes = enc.bytes().slice();
    const v = new Reader().reset(bytes, new DataView(bytes.buffer), 0).value();
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.deepEqual(Object.keys(v), ['__proto__', 'constructor', 'ok']);
    assert.equal(v.title, undefined);
    assert.deepEqual(Object.getOwnPropertyDescriptor(v, '__proto__').value, { title: 'pwned' });
  });
});

describe('the Datastar bridge never writes reserved keys', () => {
  test('patchSignals and bind refuse them with VALIDATION and send nothing', async () => {
    const { nitro, Task } = await setup();
    const ds1 = new Fake1();
    const ds = connectDatastar(nitro, { document: ds1.doc, datastar: ds1.module });
    for (const k of RESERVED) {
      const before = ds1.sent.length;
      throwsNitro(assert, () => ds.patchSignals(`{"ui": {"${k}": {"title": "pwned"}}}`), { code: 'VALIDATION', rule: 'reserved-key' });
      throwsNitro(assert, () => ds.patchSignals(JSON.parse(`{"${k}": {"title": "pwned"}}`)), { code: 'VALIDATION', rule: 'reserved-key' });
      assert.equal(ds1.sent.length, before);
    }
    for (const k of RESERVED) {
      throwsNitro(assert, () => ds.bind(k, Task), { code: 'VALIDATION', rule: 'reserved-key' });
      throwsNitro(assert, () => ds.bind(`ui.${k}`, Task), { code: 'VALIDATION', rule: 'reserved-key' });
    }
    ds.patchSignals({ ui: { constructors: 1 } });
    assert.deepEqual(ds1.state.ui, { constructors: 1 });
  });
});

describe('the bridge\'s own guard (store events it is handed)', () => {
  test('events naming a reserved id never reach a signal patch or Object.prototype', async () => {
    // The store cannot hold such a record any more; this hands the bridge
    // events for one directly, as a store from before the fix would have.
    const { nitro, Task } = await setup();
    const ds1 = new Fake1();
    const ds = connectDatastar(nitro, { document: ds1.doc, datastar: ds1.module });
    ds.bind('tasks', Task, { writable: true });
    await tick();
    const rec = (title) => Object.assign(Task.create({ title }), { id: '__proto__' });
    const first = rec('first'), second = rec('pwned');
    Task.where({}).delete();
    await tick();
    const sent = ds1.sent.length;
    nitro.bus.dispatchBatch([{ type: 'Task.created', entity: 'Task', id: '__proto__', record: first, previous: null, changes: {} }]);
    await tick();
    nitro.bus.dispatchBatch([{ type: 'Task.updated', entity: 'Task', id: '__proto__', record: second, previous: first, changes: { title: 'pwned' } }]);
    await tick();
    ds.flush();
    assert.equal(({}).title, undefined);
    for (const text of ds1.sent.slice(sent)) assert.ok(!text.includes('__proto__'), text);
    assert.deepEqual(Object.keys(ds1.state.tasks ?? {}), []);
  });
});

describe('sync pulls', () => {
  test('a pulled record with a reserved id or json key is skipped, the rest applies', async () => {
    const changes = [
      { entity: 'Board', id: '__proto__', version: 1, record: { id: '__proto__', title: 'pwned' } },
      { entity: 'Board', id: 'constructor', version: 2, record: { id: 'constructor', title: 'pwned' } },
      { entity: 'Task', id: 't1', version: 3, record: { id: 't1', title: 'x', meta: JSON.parse('{"__proto__": {"title": "pwned"}}') } },
      { entity: 'Board', id: 'b1', version: 4, record: { id: 'b1', title: 'fine' } },
    ];
    const body = JSON.stringify({ changes, checkpoint: '4', more: false }).replace('"meta":{}', '"meta":{"__proto__":{"title":"pwned"}}');
    const fetch = async () => new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
    for (const pendingFirst of [false, true]) {
      const c = await makeClient('http://sync.invalid', { fetch });
      if (pendingFirst) c.E.Task.create({ id: 'local', title: 'pending' });   // the JS path of a pull
      const ds1 = new Fake1();
      const ds = connectDatastar(c.nitro, { document: ds1.doc, datastar: ds1.module });
      ds.bind('boards', c.E.Board);
      const errors = [];
      c.nitro.on('sync.error', (e) => errors.push(e.payload.error));
      await c.sync.pull();
      await tick();
      assert.deepEqual(c.E.Board.all().map((b) => b.id), ['b1']);
      assert.equal(c.E.Task.get('t1'), null);
      assert.ok(errors.length >= 3 && errors.every((e) => e instanceof NitroError && e.rule === 'reserved-key'), errors.map((e) => e.message).join('; '));
      assert.deepEqual(Object.keys(ds1.state.boards), ['b1']);
      c.sync.close?.();
      c.nitro.close();
    }
  });
});

describe('end to end through the reference server', () => {
  let srv;
  before(async () => { srv = await startServerProcess({ db: path.join(tempDir(), 'proto.db') }); });
  after(() => srv.stop());

  async function rawPush(user, mutations) {
    const res = await fetch(`${srv.url}/push`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokenFor(user)}`, 'content-type': 'application/json' },
      body: typeof mutations === 'string' ? mutations : JSON.stringify({ client: `raw-${user}`, done: 0, mutations }),
    });
    return { status: res.status, json: await res.json() };
  }

  test('bob cannot pollute alice\'s page with a shared record named __proto__', async () => {
    const alice = await makeClient(srv.url, { user: 'alice' });
    const ds1 = new Fake1();
    const ds = connectDatastar(alice.nitro, { document: ds1.doc, datastar: ds1.module });
    ds.bind('boards', alice.E.Board);
    alice.E.Board.create({ id: 'a1', title: 'alice board' });
    await alice.sync.push();

    let seq = 0;
    const results = [];
    for (const id of RESERVED) {
      // alice pulls after each write: the update is what reached
      // Object.prototype through the signal patch before the fix
      const r1 = await rawPush('bob', [{ seq: ++seq, entity: 'Board', id, op: 'create', fields: { title: 'first' } }]);
      await alice.sync.pull();
      await tick();
      const r2 = await rawPush('bob', [{ seq: ++seq, entity: 'Board', id, op: 'update', fields: { title: 'pwned-by-bob' } }]);
      await alice.sync.pull();
      await tick();
      results.push(r1, r2);
    }
    assert.equal(({}).title, undefined, 'Object.prototype polluted in alice\'s process');
    // field names and json keys in a push are refused too
    const r3 = await rawPush('bob', `{"client":"raw-bob","done":0,"mutations":[{"seq":${++seq},"entity":"Board","id":"b2","op":"create","fields":{"title":"t","__proto__":{"title":"pwned-by-bob"}}}]}`);
    const r4 = await rawPush('bob', `{"client":"raw-bob","done":0,"mutations":[{"seq":${++seq},"entity":"Task","id":"t2","op":"create","fields":{"title":"t","meta":{"__proto__":{"title":"pwned-by-bob"}}}}]}`);
    const r5 = await rawPush('bob', [{ seq: ++seq, entity: 'Board', id: '__proto__', op: 'delete' }]);
    results.push(r3, r4, r5);
    for (const r of results) {
      assert.equal(r.status, 200, JSON.stringify(r.json));
      const [res] = r.json.results;
      assert.equal(res.status, 'rejected', JSON.stringify(r.json));
      assert.equal(res.error.code, res.error.rule === 'reserved-key' ? 'VALIDATION' : 'NOT_FOUND', JSON.stringify(res.error));
    }
    for (const [i, id] of RESERVED.entries()) {
      const { error } = results[i * 2].json.results[0];
      assert.deepEqual([error.code, error.entity, error.field, error.rule], ['VALIDATION', 'Board', 'id', 'reserved-key'], id);
    }
    assert.equal(r3.json.results[0].error.rule, 'reserved-key');
    assert.equal(r4.json.results[0].error.rule, 'reserved-key');
    assert.equal(r4.json.results[0].error.field, 'meta');
    assert.deepEqual([r5.json.results[0].error.code, r5.json.results[0].error.rule], ['VALIDATION', 'reserved-key']);

    await alice.sync.pull();
    await tick();
    assert.equal(({}).title, undefined);
    assert.deepEqual(alice.E.Board.all().map((b) => b.id), ['a1']);
    assert.deepEqual(Object.keys(ds1.state.boards), ['a1']);

    // the server stored none of them: a fresh client pulls only alice's board
    const carol = await makeClient(srv.url, { user: 'carol' });
    await carol.sync.pull();
    assert.deepEqual(carol.E.Board.all().map((b) => b.id), ['a1']);
    const pull = await fetch(`${srv.url}/pull?since=0`, { headers: { authorization: `Bearer ${tokenFor('carol')}` } }).then((r) => r.text());
    for (const k of RESERVED) assert.ok(!pull.includes(`"${k}"`), pull);
    for (const c of [alice, carol]) { c.sync.close?.(); c.nitro.close(); }
  });
});

test('a server whose database holds a reserved id from before the fix starts, and clients refuse that row', async () => {
  const db = path.join(tempDir(), 'legacy.db');
  let srv = await startServerProcess({ db });
  const alice = await makeClient(srv.url, { user: 'alice' });
  alice.E.Board.create({ id: 'ok', title: 'fine' });
  await alice.sync.push();
  alice.nitro.close();
  await srv.stop();
  const sql = new Database(db);
  sql.prepare(`INSERT INTO records (entity, id, owner, scope, version, writer, deleted, data) VALUES ('Board', '__proto__', 'bob', '*', 99, 'bob\nx', 0, '{"id":"__proto__","title":"pwned-by-bob"}')`).run();
  sql.prepare(`UPDATE meta SET value = '99' WHERE key = 'head'`).run();
  sql.close();
  srv = await startServerProcess({ db });
  try {
    const carol = await makeClient(srv.url, { user: 'carol' });
    const ds1 = new Fake1();
    connectDatastar(carol.nitro, { document: ds1.doc, datastar: ds1.module }).bind('boards', carol.E.Board);
    await carol.sync.pull();
    await tick();
    assert.deepEqual(carol.E.Board.all().map((b) => b.id), ['ok']);
    assert.deepEqual(Object.keys(ds1.state.boards), ['ok']);
    assert.equal(({}).title, undefined);
    carol.nitro.close();
  } finally {
    await srv.stop();
  }
});
