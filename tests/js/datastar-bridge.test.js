// The Datastar bridge (js/datastar/client.js) against fake Datastar clients
// that speak each version's document events exactly as docs/datastar.md (Patching from page JS)
// describes them: the exact patch events per version, what the signals end up
// holding, the @nitro action, data-bind write-back and error signals.
// Real Chromium with the real clients: tests/browser/datastar-bridge.test.js.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createNitro } from '../../js/nitro.js';
import { connectDatastar, DATASTAR_1, DATASTAR_BETA } from '../../js/datastar/index.js';
import { countCrossings } from './crossings.js';

const WASM = new URL('../../dist/nitro.wasm', import.meta.url);

const fields = {
  title: { type: 'string', required: true, minLength: 1, maxLength: 20 },
  status: { type: 'enum', values: ['open', 'done', 'blocked'], default: 'open' },
  priority: { type: 'int', min: 1, max: 5, default: 3 },
  estimate: { type: 'float', optional: true },
  done: { type: 'bool', default: false },
  tags: { type: 'list', of: 'string', default: [] },
  meta: { type: 'json', optional: true },
};

async function setup(def = {}) {
  const nitro = await createNitro({ wasm: WASM });
  const Task = nitro.entity('Task', {
    fields,
    methods: { complete() { return this.update({ status: 'done', done: true }); } },
    ...def,
  });
  return { nitro, Task };
}

const tick = () => new Promise((r) => setTimeout(r, 0));
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// ---------------------------------------------------------------------------
// Fake 1.0.x: listens for datastar-fetch, keeps signals as plain JSON with
// RFC 7386 semantics, reports changes with datastar-signal-patch (deletes are
// not reported, as in 1.0.x), exports action/mergePatch/getPath.
class Fake1 {
  constructor() {
    this.doc = new EventTarget();
    this.state = {};
    this.sent = [];        // every datastar-fetch detail, argsRaw as sent
    this.actions = {};
    this.doc.addEventListener('datastar-fetch', (e) => {
      const { type, argsRaw } = e.detail;
      this.sent.push({ type, argsRaw: { ...argsRaw } });
      if (type !== 'datastar-patch-signals') return;
      const changed = this.merge(JSON.parse(argsRaw.signals), argsRaw.onlyIfMissing === 'true');
      if (changed) this.doc.dispatchEvent(new CustomEvent('datastar-signal-patch', { detail: changed }));
    });
    const self = this;
    this.module = {
      action({ name, apply }) { self.actions[name] = apply; },
      mergePatch(p) { self.merge(p); },
      getPath(path) {
        let o = self.state;
        for (const k of path.split('.')) { if (!isObj(o) || !(k in o)) return undefined; o = o[k]; }
        return o;
      },
    };
  }

  /** Applies a merge patch; returns the reported change or null. */
  merge(patch, ifMissing = false, target = this.state) {
    let changed = null;
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) { if (!ifMissing) delete target[k]; continue; }
      if (isObj(v)) {
        if (!isObj(target[k]) && !Array.isArray(target[k])) target[k] = {};
        const c = this.merge(v, ifMissing, target[k]);
        if (c) (changed ??= {})[k] = c;
      } else if (!(ifMissing && k in target) && JSON.stringify(target[k]) !== JSON.stringify(v)) {
        target[k] = structuredClone(v);
        (changed ??= {})[k] = v;
      }
    }
    return changed;
  }

  /** What a data-bind input does: set a value and report it. */
  userSets(path, value) {
    const keys = path.split('.');
    let o = this.state;
    for (const k of keys.slice(0, -1)) o = o[k] ??= {};
    o[keys.at(-1)] = value;
    const detail = {};
    let d = detail;
    for (const k of keys.slice(0, -1)) d = d[k] = {};
    d[keys.at(-1)] = value;
    this.doc.dispatchEvent(new CustomEvent('datastar-signal-patch', { detail }));
  }

  signalPatches() {
    return this.sent.filter((s) => s.type === 'datastar-patch-signals').map((s) => JSON.parse(s.argsRaw.signals));
  }
}

// Fake 1.0.0-beta.11: datastar-sse events, a store of leaf signal objects in
// plain namespaces where null is a value (not a delete), datastar-signals
// reporting paths, load() for plugins.
class Leaf { constructor(value) { this.value = value; } }
class FakeBeta {
  constructor() {
    this.doc = new EventTarget();
    this.tree = {};
    this.sent = [];
    this.actions = {};
    const self = this;
    this.store = {
      signal(path) {
        const keys = path.split('.');
        let o = self.tree;
        for (const k of keys.slice(0, -1)) { if (!o[k]) return null; o = o[k]; }
        const s = o[keys.at(-1)];
        if (!s) throw new Error('SignalNotFound');
        return s;
      },
    };
    this.doc.addEventListener('datastar-sse', (e) => {
      const { type, argsRaw } = e.detail;
      this.sent.push({ type, argsRaw: { ...argsRaw } });
      if (type === 'datastar-merge-signals') {
        const r = { added: [], removed: [], updated: [] };
        this.merge(this.tree, JSON.parse(argsRaw.signals), '', r, argsRaw.onlyIfMissing === 'true');
        if (r.added.length || r.updated.length) this.report(r);
      } else if (type === 'datastar-remove-signals') {
        const paths = argsRaw.paths.split('\n');
        for (const p of paths) {
          const keys = p.split('.');
          let o = this.tree;
          for (const k of keys.slice(0, -1)) o = o?.[k];
          if (o) delete o[keys.at(-1)];
        }
        this.report({ added: [], removed: paths, updated: [] });
      }
    });
    this.module = {
      load(...plugins) {
        for (const p of plugins) {
          if (p.type === 3) self.actions[p.name] = p.fn;
          if (p.type === 2) p.onGlobalInit?.({ signals: self.store });
        }
      },
      apply() {},
    };
  }

  report(detail) { this.doc.dispatchEvent(new CustomEvent('datastar-signals', { detail })); }

  merge(t, patch, prefix, r, ifMissing) {
    for (const [k, v] of Object.entries(patch)) {
      if (isObj(v)) {
        if (!t[k] || t[k] instanceof Leaf) t[k] = {};
        this.merge(t[k], v, `${prefix}${k}.`, r, ifMissing);
      } else if (t[k] instanceof Leaf) {
        if (ifMissing) continue;
        if (JSON.stringify(t[k].value) !== JSON.stringify(v)) { t[k].value = v; r.updated.push(prefix + k); }
      } else {
        t[k] = new Leaf(v);
        r.added.push(prefix + k);
      }
    }
  }

  values(node = this.tree) {
    const o = {};
    for (const [k, v] of Object.entries(node)) o[k] = v instanceof Leaf ? v.value : this.values(v);
    return o;
  }

  /** An expression assignment: beta reports only the leaf key. */
  userSets(path, value, reportedAs = path) {
    this.store.signal(path).value = value;
    this.report({ added: [], removed: [], updated: [reportedAs] });
  }
}

const json = (rec) => rec.toJSON();
const withoutNulls = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null));

// ---------------------------------------------------------------------------
describe('connectDatastar: finding Datastar', () => {
  test('without a document, or with no Datastar listening, it throws NOT_FOUND saying what to do', async () => {
    const { nitro } = await setup();
    for (const opts of [{}, { document: new EventTarget() }]) {
      assert.throws(() => connectDatastar(nitro, opts), (err) => err.name === 'NitroError' && err.code === 'NOT_FOUND' && /Datastar|document/.test(err.message));
    }
    assert.throws(() => connectDatastar(nitro, { document: new EventTarget(), datastar: { foo() {} } }), { code: 'NOT_FOUND' });
    assert.throws(() => connectDatastar({}), TypeError);
  });

  test('detects 1.0.x by its events and leaves no probe signal behind', async () => {
    const { nitro } = await setup();
    const ds1 = new Fake1();
    const a = connectDatastar(nitro, { document: ds1.doc });
    assert.equal(a.version, DATASTAR_1);
    assert.deepEqual(ds1.state, {});
    assert.equal(a.actions, false, 'no module given and none on the page');
  });

  test('detects beta.11 by its events and leaves no probe signal behind', async () => {
    const { nitro } = await setup();
    const beta = new FakeBeta();
    const b = connectDatastar(nitro, { document: beta.doc });
    assert.equal(b.version, DATASTAR_BETA);
    assert.deepEqual(beta.values(), {});
  });

  test('a module passed in decides the version and registers @nitro', async () => {
    const { nitro } = await setup();
    const ds1 = new Fake1();
    const a = connectDatastar(nitro, { document: ds1.doc, datastar: ds1.module });
    assert.equal(a.version, DATASTAR_1);
    assert.equal(a.actions, true);
    assert.equal(typeof ds1.actions.nitro, 'function');
    assert.equal(ds1.sent.length, 0, 'no probing when the module is known');
    const beta = new FakeBeta();
    const b = connectDatastar(nitro, { document: beta.doc, datastar: beta.module, action: 'store' });
    assert.equal(b.version, DATASTAR_BETA);
    assert.equal(typeof beta.actions.store, 'function');
    assert.equal(await b.ready, b);
  });
});

// ---------------------------------------------------------------------------
describe('bind(): exact patches, Datastar 1.0.x', () => {
  test('initial state, then only the changed fields / records; deletes send null', async () => {
    const { nitro, Task } = await setup();
    const a = Task.create({ title: 'a', tags: ['x'] });
    const b = Task.create({ title: 'b', estimate: 2.5 });
    const fake = new Fake1();
    const ds = connectDatastar(nitro, { document: fake.doc, datastar: fake.module });
    ds.bind('tasks', Task);
    assert.deepEqual(fake.signalPatches(), [{ tasks: { [a.id]: json(a), [b.id]: json(b) } }]);

    Task.update(a.id, { title: 'a2', priority: 5 });
    ds.flush();
    assert.deepEqual(fake.signalPatches().at(-1), { tasks: { [a.id]: { title: 'a2', priority: 5 } } });

    Task.update(a.id, { tags: ['x', 'y'] });
    ds.flush();
    assert.deepEqual(fake.signalPatches().at(-1), { tasks: { [a.id]: { tags: ['x', 'y'] } } }, 'lists go whole');

    Task.delete(b.id);
    ds.flush();
    assert.deepEqual(fake.signalPatches().at(-1), { tasks: { [b.id]: null } });

    const c = Task.create({ title: 'c' });
    ds.flush();
    assert.deepEqual(fake.signalPatches().at(-1), { tasks: { [c.id]: json(c) } });
    assert.deepEqual(fake.state.tasks, { [a.id]: withoutNulls(json(Task.get(a.id))), [c.id]: withoutNulls(json(c)) });
  });

  test('a transaction is one patch, sent in a microtask without flush()', async () => {
    const { nitro, Task } = await setup();
    const a = Task.create({ title: 'a' });
    const fake = new Fake1();
    const ds = connectDatastar(nitro, { document: fake.doc, datastar: fake.module });
    ds.bind('tasks', Task);
    fake.sent.length = 0;
    let c;
    nitro.transaction(() => {
      Task.update(a.id, { title: 'a1' });
      Task.update(a.id, { title: 'a2', done: true });
      c = Task.create({ title: 'c' });
      Task.update(c.id, { priority: 1 });
    });
    assert.equal(fake.sent.length, 0, 'nothing yet: the flush is a microtask');
    await Promise.resolve();
    assert.deepEqual(fake.signalPatches(), [{ tasks: { [a.id]: { title: 'a2', done: true }, [c.id]: json(Task.get(c.id)) } }]);

    // created and deleted between two flushes: nothing to say
    nitro.transaction(() => { Task.delete(Task.create({ title: 'tmp' }).id); });
    await Promise.resolve();
    assert.equal(fake.signalPatches().length, 1);
  });

  test('json fields patch as nested merge patches, removed keys as null', async () => {
    const { nitro, Task } = await setup();
    const a = Task.create({ title: 'a', meta: { color: 'red', size: { w: 1, h: 2 }, n: [1] } });
    const fake = new Fake1();
    const ds = connectDatastar(nitro, { document: fake.doc, datastar: fake.module });
    ds.bind('tasks', Task);
    Task.update(a.id, { meta: { size: { w: 1, h: 3 }, n: [1, 2], extra: true } });
    ds.flush();
    assert.deepEqual(fake.signalPatches().at(-1), { tasks: { [a.id]: { meta: { color: null, size: { h: 3 }, n: [1, 2], extra: true } } } });
    assert.deepEqual(fake.state.tasks[a.id].meta, { size: { w: 1, h: 3 }, n: [1, 2], extra: true });
  });

  test('a field that becomes null is first set to "" (1.0 does not refresh a deleted signal), then deleted', async () => {
    const { nitro, Task } = await setup();
    const a = Task.create({ title: 'a', estimate: 4 });
    const fake = new Fake1();
    const ds = connectDatastar(nitro, { document: fake.doc, datastar: fake.module });
    ds.bind('tasks', Task);
    fake.sent.length = 0;
    Task.update(a.id, { estimate: null });
    ds.flush();
    assert.deepEqual(fake.signalPatches(), [{ tasks: { [a.id]: { estimate: '' } } }, { tasks: { [a.id]: { estimate: null } } }]);
    assert.equal('estimate' in fake.state.tasks[a.id], false);
  });

  test('a query binding: records enter, change, leave when they stop matching, and come back', async () => {
    const { nitro, Task } = await setup();
    const a = Task.create({ title: 'a' });
    const b = Task.create({ title: 'b', status: 'done' });
    const fake = new Fake1();
    const ds = connectDatastar(nitro, { document: fake.doc, datastar: fake.module });
    ds.bind('open', Task.where({ status: 'open' }));
    assert.deepEqual(fake.signalPatches().at(-1), { open: { [a.id]: json(a) } });

    Task.update(a.id, { status: 'done' });
    ds.flush();
    assert.deepEqual(fake.signalPatches().at(-1), { open: { [a.id]: null } });
    Task.update(b.id, { status: 'open' });
    ds.flush();
    assert.deepEqual(fake.signalPatches().at(-1), { open: { [b.id]: json(Task.get(b.id)) } });
    const n = fake.sent.length;
    Task.update(a.id, { title: 'still done' });
    ds.flush();
    assert.equal(fake.sent.length, n, 'a change to a record outside the query sends nothing');
    Task.update(b.id, { priority: 1 });
    ds.flush();
    assert.deepEqual(fake.signalPatches().at(-1), { open: { [b.id]: { priority: 1 } } });
  });

  test('a limit/offset query keeps its window: a record pushed out leaves, the next one enters', async () => {
    const { nitro, Task } = await setup();
    const recs = [1, 2, 3, 4].map((p) => Task.create({ title: `p${p}`, priority: p }));
    const fake = new Fake1();
    const ds = connectDatastar(nitro, { document: fake.doc, datastar: fake.module });
    ds.bind('top', Task.query().orderBy('-priority').limit(2));
    assert.deepEqual(Object.keys(fake.state.top).sort(), [recs[2].id, recs[3].id].sort());
    Task.update(recs[0].id, { priority: 5 });
    ds.flush();
    assert.deepEqual(fake.signalPatches().at(-1), { top: { [recs[0].id]: json(Task.get(recs[0].id)), [recs[2].id]: null } });
    Task.delete(recs[3].id);
    ds.flush();
    assert.deepEqual(fake.signalPatches().at(-1), { top: { [recs[3].id]: null, [recs[2].id]: json(recs[2]) } });
  });

  test('a nested signal path, bindRecord, unbind, and stale keys of an earlier value', async () => {
    const { nitro, Task } = await setup();
    const a = Task.create({ title: 'a' });
    const fake = new Fake1();
    fake.merge({ ui: { tasks: { gone: { title: 'old' } } } });
    const ds = connectDatastar(nitro, { document: fake.doc, datastar: fake.module });
    const unbind = ds.bind('ui.tasks', Task);
    assert.deepEqual(fake.signalPatches().at(-1), { ui: { tasks: { gone: null, [a.id]: json(a) } } });
    assert.deepEqual(Object.keys(fake.state.ui.tasks), [a.id]);
    const unRec = ds.bindRecord('edit', Task, a.id);
    assert.deepEqual(fake.signalPatches().at(-1), { edit: json(a), errors: { Task: { [a.id]: {} } } },
      'writable: an error slot per record, so $errors.Task.<id>.title needs no declaration');
    Task.update(a.id, { title: 'a2' });
    ds.flush();
    assert.deepEqual(fake.signalPatches().at(-1), { ui: { tasks: { [a.id]: { title: 'a2' } } }, edit: { title: 'a2' } });
    unbind();
    unRec();
    const n = fake.sent.length;
    Task.update(a.id, { title: 'a3' });
    ds.flush();
    assert.equal(fake.sent.length, n);
    assert.throws(() => ds.bindRecord('edit', Task, 'nope'), { code: 'NOT_FOUND' });
    assert.throws(() => ds.bind('bad path!', Task), TypeError);
    assert.throws(() => ds.bind('x', 'Nope'), { code: 'NOT_FOUND' });
  });

  test('a flush crosses into WebAssembly a fixed number of times, however many records changed', async () => {
    const { nitro, Task } = await setup();
    const recs = Task.insertMany(Array.from({ length: 50 }, (_, i) => ({ title: `t${i}`, priority: 1 + (i % 5) })));
    const fake = new Fake1();
    const ds = connectDatastar(nitro, { document: fake.doc, datastar: fake.module });
    ds.bind('tasks', Task);
    ds.bind('open', Task.where({ status: 'open' }));
    ds.bind('top', Task.query().orderBy('-priority').limit(3));
    const flushCalls = (n) => {
      for (const r of recs.slice(0, n)) Task.update(r.id, { status: 'done' });
      return countCrossings(nitro, () => ds.flush()).calls;
    };
    const one = flushCalls(1);
    const many = flushCalls(40);
    assert.ok(one <= 3, `one changed record: ${one} calls (at most one per query binding)`);
    assert.equal(many, one, 'forty changed records cost the same calls as one');
    assert.equal(Object.values(fake.state.open).filter(Boolean).length, 10);
  });
});

describe('bind(): exact patches, Datastar 1.0.0-beta.11', () => {
  test('merge for values, remove-signals for deletes, null kept as a field value', async () => {
    const { nitro, Task } = await setup();
    const a = Task.create({ title: 'a', estimate: 1, meta: { k: 1, j: 2 } });
    const fake = new FakeBeta();
    const ds = connectDatastar(nitro, { document: fake.doc, datastar: fake.module });
    ds.bind('tasks', Task.where({ status: 'open' }));
    assert.deepEqual(fake.sent, [{ type: 'datastar-merge-signals', argsRaw: { signals: JSON.stringify({ tasks: { [a.id]: json(a) } }) } }]);

    fake.sent.length = 0;
    Task.update(a.id, { estimate: null, meta: { k: 1 } });
    ds.flush();
    assert.deepEqual(fake.sent, [
      { type: 'datastar-remove-signals', argsRaw: { paths: `tasks.${a.id}.meta.j` } },
      { type: 'datastar-merge-signals', argsRaw: { signals: JSON.stringify({ tasks: { [a.id]: { estimate: null } } }) } },
    ]);
    assert.equal(fake.values().tasks[a.id].estimate, null);

    fake.sent.length = 0;
    const b = Task.create({ title: 'b' });
    Task.update(a.id, { status: 'done' });
    ds.flush();
    assert.deepEqual(fake.sent, [
      { type: 'datastar-remove-signals', argsRaw: { paths: `tasks.${a.id}` } },
      { type: 'datastar-merge-signals', argsRaw: { signals: JSON.stringify({ tasks: { [b.id]: json(b) } }) } },
    ]);
    assert.deepEqual(fake.values(), { tasks: { [b.id]: json(b) } });
  });
});

test('property: after any sequence of writes the signal equals the query result, on both versions', async () => {
  const { nitro, Task } = await setup();
  const fakes = [new Fake1(), new FakeBeta()];
  const bridges = fakes.map((f) => connectDatastar(nitro, { document: f.doc, datastar: f.module }));
  const q = Task.where({ priority: { gte: 3 } });
  bridges.forEach((b) => b.bind('sel', q));
  const op = fc.oneof(
    fc.record({ k: fc.constant('create'), p: fc.integer({ min: 1, max: 5 }), e: fc.option(fc.double({ min: 0, max: 9, noNaN: true })) }),
    fc.record({ k: fc.constant('update'), i: fc.nat(), p: fc.integer({ min: 1, max: 5 }), e: fc.option(fc.double({ min: 0, max: 9, noNaN: true })), m: fc.option(fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.oneof(fc.integer(), fc.dictionary(fc.constantFrom('x', 'y'), fc.integer())))) }),
    fc.record({ k: fc.constant('delete'), i: fc.nat() }),
    fc.record({ k: fc.constant('tx'), n: fc.integer({ min: 1, max: 4 }), p: fc.integer({ min: 1, max: 5 }) }),
  );
  await fc.assert(fc.asyncProperty(fc.array(op, { maxLength: 12 }), async (ops) => {
    for (const o of ops) {
      const ids = Task.query().ids();
      const pick = (i) => ids[i % ids.length];
      if (o.k === 'create') Task.create({ title: 't', priority: o.p, estimate: o.e });
      else if (o.k === 'tx') nitro.transaction(() => { for (let i = 0; i < o.n; i++) Task.create({ title: 'x', priority: o.p }); if (ids.length) Task.update(ids[0], { priority: o.p }); });
      else if (!ids.length) continue;
      else if (o.k === 'update') Task.update(pick(o.i), { priority: o.p, estimate: o.e, meta: o.m });
      else Task.delete(pick(o.i));
      if (o.i % 3 === 0) await Promise.resolve();   // sometimes flush between writes, sometimes batch
    }
    await Promise.resolve();
    const want = Object.fromEntries(q.all().map((r) => [r.id, json(r)]));
    const strip = (v) => (isObj(v) ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, strip(x)])) : v);
    assert.deepEqual(fakes[0].state.sel ?? {}, strip(want), '1.0: null fields are absent');
    assert.deepEqual(fakes[1].values().sel ?? {}, Object.fromEntries(Object.entries(want).map(([id, r]) => [id, { ...r, meta: r.meta === null ? null : r.meta }])));
  }), { numRuns: 60 });
});

// ---------------------------------------------------------------------------
describe('@nitro action and error signals', () => {
  test('create, update, methods and delete; the signal changes before the action returns', async () => {
    const { nitro, Task } = await setup();
    const fake = new Fake1();
    const ds = connectDatastar(nitro, { document: fake.doc, datastar: fake.module });
    ds.bind('tasks', Task);
    const act = (...args) => fake.actions.nitro({ el: null, evt: null }, ...args);
    const created = act('Task.create', { title: 'new', tags: ['a'] });
    assert.equal(created.title, 'new');
    assert.equal(fake.state.tasks[created.id].title, 'new', 'flushed synchronously');
    assert.equal(act('Task.update', created.id, { priority: 1 }).priority, 1);
    assert.equal(act('Task.complete', created.id).status, 'done');
    assert.deepEqual(fake.state.tasks[created.id], withoutNulls(json(Task.get(created.id))));
    assert.equal(act('Task.delete', created.id), true);
    assert.deepEqual(fake.state.tasks, {});
    assert.throws(() => act('Nope.update', 'x', {}), { code: 'NOT_FOUND' });
    assert.throws(() => act('Task.explode', 'x'), { code: 'NOT_FOUND' });
  });

  test('a validation error becomes $errors.Task.<id>.<field> and clears on a later valid write', async () => {
    const { nitro, Task } = await setup();
    const a = Task.create({ title: 'a' });
    const fake = new Fake1();
    const ds = connectDatastar(nitro, { document: fake.doc, datastar: fake.module });
    const act = (...args) => fake.actions.nitro({}, ...args);
    assert.equal(act('Task.update', a.id, { priority: 9 }), undefined, 'no exception');
    assert.deepEqual(fake.signalPatches().at(-1), { errors: { Task: { [a.id]: { priority: 'must be <= 5 (got 9)' } } } });
    assert.equal(Task.get(a.id).priority, 3);
    act('Task.update', a.id, { priority: 4 });
    assert.deepEqual(fake.signalPatches().at(-1), { errors: { Task: { [a.id]: { priority: '' } } } });
    const n = fake.sent.length;
    act('Task.update', a.id, { priority: 2 });
    assert.equal(fake.sent.length, n, 'no error to clear: nothing sent');
    act('Task.create', { title: '' });
    assert.match(fake.state.errors.Task._new.title, /length|least/);
    act('Task.update', 'missing', { title: 'x' });
    assert.ok(fake.state.errors.Task.missing._record);
  });

  test('two stores on one page: @nitro goes to the store that has the entity; other names register too', async () => {
    const a = await setup();
    const b = await createNitro({ wasm: WASM });
    const Note = b.entity('Note', { fields: { body: { type: 'string' } } });
    const fake = new Fake1();
    const dsA = connectDatastar(a.nitro, { document: fake.doc, datastar: fake.module });
    connectDatastar(b, { document: fake.doc, datastar: fake.module });
    connectDatastar(b, { document: fake.doc, datastar: fake.module, action: 'notes' });
    assert.equal(fake.actions.nitro({}, 'Task.create', { title: 'to a' }).title, 'to a');
    assert.equal(fake.actions.nitro({}, 'Note.create', { body: 'to b' }).body, 'to b');
    assert.equal(fake.actions.notes({}, 'Note.create', { body: 'by name' }).body, 'by name');
    assert.deepEqual([a.Task.count(), Note.count()], [1, 2]);
    dsA.close();
    assert.throws(() => fake.actions.nitro({}, 'Task.create', { title: 'x' }), { code: 'NOT_FOUND' }, 'b has no Task');
  });

  test('beta.11: the action is a type-3 plugin; errors are merged, cleared with ""', async () => {
    const { nitro, Task } = await setup();
    const a = Task.create({ title: 'a' });
    const fake = new FakeBeta();
    connectDatastar(nitro, { document: fake.doc, datastar: fake.module });
    fake.actions.nitro({}, 'Task.update', a.id, { title: '' });
    assert.match(fake.values().errors.Task[a.id].title, /length|least/);
    fake.actions.nitro({}, 'Task.update', a.id, { title: 'ok' });
    assert.equal(fake.values().errors.Task[a.id].title, '');
    assert.equal(Task.get(a.id).title, 'ok');
  });
});

describe('write-back from data-bind (writable bindings)', () => {
  test('1.0: a bound field typed into updates the entity, with type coercion; errors come and go', async () => {
    const { nitro, Task } = await setup();
    const a = Task.create({ title: 'a' });
    const fake = new Fake1();
    const ds = connectDatastar(nitro, { document: fake.doc, datastar: fake.module });
    ds.bind('tasks', Task, { writable: true });
    fake.userSets(`tasks.${a.id}.title`, 'typed');
    assert.equal(Task.get(a.id).title, 'typed');
    fake.userSets(`tasks.${a.id}.priority`, '5');
    assert.equal(Task.get(a.id).priority, 5, 'the input string becomes an int');
    await tick();
    assert.equal(fake.state.tasks[a.id].priority, 5, 'and the signal gets the stored number back');
    fake.userSets(`tasks.${a.id}.priority`, '7');
    await tick();
    assert.equal(Task.get(a.id).priority, 5);
    assert.equal(fake.state.errors.Task[a.id].priority, 'must be <= 5 (got 7)');
    assert.equal(fake.state.tasks[a.id].priority, '7', 'the input keeps what was typed');
    fake.userSets(`tasks.${a.id}.priority`, '5');
    await tick();
    assert.equal(fake.state.errors.Task[a.id].priority, '', 'typing the stored value back is valid again');
    fake.userSets(`tasks.${a.id}.meta`, { x: 1 });
    assert.deepEqual(Task.get(a.id).meta, { x: 1 });
    fake.userSets(`tasks.${a.id}.meta.y`, 2);
    assert.deepEqual(Task.get(a.id).meta, { x: 1, y: 2 }, 'a nested change is merged into the json field');
    await tick();
    // '5' typed back equals the stored 5: no write, and the input keeps its text
    assert.deepEqual(fake.state.tasks[a.id], { ...withoutNulls(json(Task.get(a.id))), priority: '5' });
  });

  test('bindRecord writes through; read-only bindings and unknown records are left alone', async () => {
    const { nitro, Task } = await setup();
    const a = Task.create({ title: 'a' });
    const fake = new Fake1();
    const ds = connectDatastar(nitro, { document: fake.doc, datastar: fake.module });
    ds.bindRecord('draft', Task, a.id);
    ds.bind('view', Task);
    fake.userSets('draft.title', 'via draft');
    assert.equal(Task.get(a.id).title, 'via draft');
    fake.userSets(`view.${a.id}.title`, 'via view');
    assert.equal(Task.get(a.id).title, 'via draft', 'bind() is read-only unless writable');
    ds.bind('tasks', Task, { writable: true });
    fake.userSets('tasks.unknown.title', 'x');
    assert.equal(Task.count(), 1);
  });

  test('beta.11: full paths and leaf-only reports both write through', async () => {
    const { nitro, Task } = await setup();
    const a = Task.create({ title: 'a' });
    const fake = new FakeBeta();
    const ds = connectDatastar(nitro, { document: fake.doc, datastar: fake.module });
    ds.bind('tasks', Task, { writable: true });
    fake.userSets(`tasks.${a.id}.title`, 'bound');
    assert.equal(Task.get(a.id).title, 'bound');
    fake.userSets(`tasks.${a.id}.done`, true, 'done');
    assert.equal(Task.get(a.id).done, true);
  });
});

// ---------------------------------------------------------------------------
describe('patchSignals / patchElements per version', () => {
  test('patchSignals: 1.0 sends the patch; beta.11 turns nulls into removals', async () => {
    const { nitro } = await setup();
    const f1 = new Fake1();
    const fb = new FakeBeta();
    const d1 = connectDatastar(nitro, { document: f1.doc, datastar: f1.module });
    const db = connectDatastar(nitro, { document: fb.doc, datastar: fb.module });
    const patch = { filter: { q: 'x', old: null }, gone: null, n: 1 };
    d1.patchSignals(patch);
    d1.patchSignals({ n: 2 }, { onlyIfMissing: true });
    assert.deepEqual(f1.sent, [
      { type: 'datastar-patch-signals', argsRaw: { signals: JSON.stringify(patch) } },
      { type: 'datastar-patch-signals', argsRaw: { signals: '{"n":2}', onlyIfMissing: 'true' } },
    ]);
    assert.equal(f1.state.n, 1);
    db.patchSignals(patch);
    assert.deepEqual(fb.sent, [
      { type: 'datastar-remove-signals', argsRaw: { paths: 'filter.old\ngone' } },
      { type: 'datastar-merge-signals', argsRaw: { signals: '{"filter":{"q":"x"},"n":1}' } },
    ]);
    assert.throws(() => d1.patchSignals([1]), TypeError);
  });

  test('patchElements: 1.0 argsRaw as the SSE event has them; beta.11 merge modes', async () => {
    const { nitro } = await setup();
    const f1 = new Fake1();
    const fb = new FakeBeta();
    const d1 = connectDatastar(nitro, { document: f1.doc, datastar: f1.module });
    const db = connectDatastar(nitro, { document: fb.doc, datastar: fb.module });
    d1.patchElements('<li id="a">a</li>');
    d1.patchElements({ toString: () => '<li>b</li>' }, { selector: '#list', mode: 'append', useViewTransition: true });
    d1.removeElements('#a');
    assert.deepEqual(f1.sent, [
      { type: 'datastar-patch-elements', argsRaw: { elements: '<li id="a">a</li>' } },
      { type: 'datastar-patch-elements', argsRaw: { elements: '<li>b</li>', selector: '#list', mode: 'append', useViewTransition: 'true' } },
      { type: 'datastar-patch-elements', argsRaw: { elements: '', selector: '#a', mode: 'remove' } },
    ]);
    db.patchElements('<li id="a">a</li>');
    db.patchElements('<p>x</p>', { selector: '#box', mode: 'replace' });
    db.patchElements('<li>b</li>', { selector: '#list', mode: 'prepend' });
    db.removeElements('#a');
    assert.deepEqual(fb.sent, [
      { type: 'datastar-merge-fragments', argsRaw: { fragments: '<li id="a">a</li>', mergeMode: 'morph' } },
      { type: 'datastar-merge-fragments', argsRaw: { fragments: '<p>x</p>', mergeMode: 'outer', selector: '#box' } },
      { type: 'datastar-merge-fragments', argsRaw: { fragments: '<li>b</li>', mergeMode: 'prepend', selector: '#list' } },
      { type: 'datastar-remove-fragments', argsRaw: { selector: '#a' } },
    ]);
    assert.throws(() => d1.patchElements('<p>', { mode: 'sideways' }), TypeError);
    assert.throws(() => d1.patchElements('<p>', { mode: 'inner' }), TypeError, 'inner needs a selector');
  });
});

describe('fragment(): re-render from the store, one patch per frame', () => {
  test('renders now, then once after a burst of writes, only for the entities it shows', async () => {
    const { nitro, Task } = await setup();
    const Other = nitro.entity('Other', { fields: { name: { type: 'string' } } });
    const fake = new Fake1();
    const ds = connectDatastar(nitro, { document: fake.doc, datastar: fake.module });
    const list = nitro.template('<ul id="tasks">{{#tasks}}<li id="task-{{id}}">{{title}}</li>{{/tasks}}</ul>');
    const count = nitro.template('<b id="count">{{n}}</b>');
    const open = Task.where({ status: 'open' }).orderBy('title');
    const live = ds.fragment(list, { tasks: open });
    ds.fragment(count, () => ({ n: Task.count() }), { entities: [Task] });
    const elements = () => fake.sent.filter((s) => s.type === 'datastar-patch-elements').map((s) => s.argsRaw);
    assert.deepEqual(elements(), [{ elements: '<ul id="tasks"></ul>' }, { elements: '<b id="count">0</b>' }]);

    Task.create({ title: 'b' });
    Task.create({ title: 'a' });
    Other.create({ name: 'x' });
    await tick();
    assert.deepEqual(elements().slice(2).map((a) => a.elements.replace(/task-\w+/g, 'task-ID')),
      ['<ul id="tasks"><li id="task-ID">a</li><li id="task-ID">b</li></ul>\n<b id="count">2</b>'], 'one patch for both fragments');

    Other.create({ name: 'y' });
    await tick();
    assert.equal(elements().length, 3, 'Other is not shown: no re-render');
    live.stop();
    Task.create({ title: 'c' });
    await tick();
    assert.deepEqual(elements().slice(3), [{ elements: '<b id="count">3</b>' }]);
  });
});

test('close() stops everything and the action reports no store', async () => {
  const { nitro, Task } = await setup();
  const fake = new Fake1();
  const ds = connectDatastar(nitro, { document: fake.doc, datastar: fake.module });
  ds.bind('tasks', Task, { writable: true });
  ds.close();
  const n = fake.sent.length;
  Task.create({ title: 'x' });
  await tick();
  assert.equal(fake.sent.length, n);
  assert.throws(() => ds.bind('t', Task), { code: 'CLOSED' });
  assert.throws(() => fake.actions.nitro({}, 'Task.create', { title: 'y' }), { code: 'CLOSED' });
});
