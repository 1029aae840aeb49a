// hardening-contract.test.js - contract gaps an adversarial review found
// (issue 15, items 9-14): a leading U+FEFF read back, `rec instanceof Task`,
// `previous` on deleted events, `index` on a CANCELLED batch item, entity
// definitions refused with SCHEMA and leaving nothing behind, and every
// failure a NitroError (huge limits, deep values, getMany misuse).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createNitro, NitroError, setup, throwsNitro } from './helpers.js';

describe('a leading U+FEFF survives read-back', () => {
  test('ids and strings keep their BOM, and "\\uFEFFk" and "k" stay different records', async () => {
    const { Task } = await setup();
    const long = `\uFEFF${'x'.repeat(40)}`;
    Task.create({ id: '\uFEFFk', title: '\uFEFFbom', tags: ['\uFEFFa'], meta: { '\uFEFFkey': '\uFEFFv' } });
    Task.create({ id: 'k', title: 'plain' });
    Task.create({ id: 'long', title: long });
    const a = Task.get('\uFEFFk');
    assert.equal(a.id, '\uFEFFk');
    assert.equal(a.title, '\uFEFFbom');
    assert.deepEqual(a.tags, ['\uFEFFa']);
    assert.deepEqual(a.meta, { '\uFEFFkey': '\uFEFFv' });
    assert.equal(Task.get('k').title, 'plain');
    assert.equal(Task.get('long').title, long);
    assert.deepEqual(Task.all().map((r) => r.id).sort(), ['k', 'long', '\uFEFFk'].sort());
    assert.deepEqual(Task.where({ title: { startsWith: '\uFEFF' } }).ids().sort(), ['long', '\uFEFFk'].sort());
  });

  test('templates, events and snapshots keep it too', async () => {
    const { nitro, Task } = await setup();
    const seen = [];
    nitro.on('Task.created', (e) => seen.push(e.id, e.record.title));
    Task.create({ id: '\uFEFFe', title: '\uFEFFt' });
    assert.deepEqual(seen, ['\uFEFFe', '\uFEFFt']);
    assert.equal(nitro.template('{{x}}').render({ x: '\uFEFFhi' }), '\uFEFFhi');
    const snap = nitro.snapshot();
    const other = await createNitro();
    other.entity('Task', { fields: Task.def.fields });
    other.restore(snap);
    assert.equal(other.entities.get('Task').get('\uFEFFe').title, '\uFEFFt');
  });
});

describe('records are instances of their entity', () => {
  test('rec instanceof Task, and not of another entity', async () => {
    const { nitro, Task } = await setup();
    const Project = nitro.entity('Project', { fields: { name: { type: 'string' } } });
    const t = Task.create({ title: 'a' });
    assert.equal(t instanceof Task, true);
    assert.equal(Task.get(t.id) instanceof Task, true);
    assert.equal(Task.all()[0] instanceof Task, true);
    assert.equal(Task.where({}).first() instanceof Task, true);
    assert.equal(t instanceof Project, false);
    assert.equal(Project.create({ name: 'p' }) instanceof Project, true);
    assert.equal({ ...t } instanceof Task, false);
    assert.equal(null instanceof Task, false);
    assert.equal(t instanceof Object, true);
  });
});

describe('deleted events carry the removed record as previous', () => {
  test('Task.delete, query delete and a cascade', async () => {
    const nitro = await createNitro();
    const Project = nitro.entity('Project', { fields: { name: { type: 'string' } } });
    const Task = nitro.entity('Task', { fields: { title: { type: 'string' }, projectId: { type: 'ref', entity: 'Project', onDelete: 'cascade' } } });
    const events = [];
    nitro.on('*.deleted', (e) => events.push(e));
    const p = Project.create({ id: 'p1', name: 'P' });
    Task.create({ id: 't1', title: 'one', projectId: p.id });
    Task.create({ id: 't2', title: 'two' });
    Task.delete('t2');
    Project.delete('p1');
    assert.deepEqual(events.map((e) => [e.type, e.id, e.previous && e.previous.toJSON()]).sort((a, b) => a[1].localeCompare(b[1])), [
      ['Project.deleted', 'p1', { id: 'p1', name: 'P' }],
      ['Task.deleted', 't1', { id: 't1', title: 'one', projectId: 'p1' }],
      ['Task.deleted', 't2', { id: 't2', title: 'two', projectId: null }],
    ]);
    for (const e of events) {
      assert.deepEqual(e.previous.toJSON(), e.record.toJSON());
      assert.deepEqual(e.changes, {});
      assert.deepEqual(e.toJSON().previous.toJSON(), e.record.toJSON());
    }
    Task.create({ id: 't3', title: 'three' });
    events.length = 0;
    assert.equal(Task.where({ title: 'three' }).delete(), 1);
    assert.equal(events[0].previous.title, 'three');
  });
});

describe('a CANCELLED item of a batch carries its index', () => {
  test('insertMany and upsert batches say which item was cancelled', async () => {
    const { nitro, Task } = await setup();
    nitro.on('Task.beforeSave', (e) => { if (e.record.title === 'bad') e.cancel('no bad titles'); });
    throwsNitro(assert, () => Task.insertMany([{ title: 'ok' }, { title: 'fine' }, { title: 'bad' }]), { code: 'CANCELLED', index: 2, entity: 'Task', message: /\[2\]/ });
    throwsNitro(assert, () => Task.insertMany([{ title: 'bad' }]), { code: 'CANCELLED', index: 0 });
    throwsNitro(assert, () => Task.insertMany([{ id: 'a', title: 'x' }, { id: 'b', title: 'bad' }], { upsert: true }), { code: 'CANCELLED', index: 1 });
    assert.equal(Task.count(), 0);
    // a single write has no index
    const err = throwsNitro(assert, () => Task.create({ title: 'bad' }), { code: 'CANCELLED' });
    assert.equal(err.index, undefined);
  });
});

describe('entity definitions: mistakes are SCHEMA and leave nothing behind', () => {
  const bad = {
    'duplicate enum values': { fields: { s: { type: 'enum', values: ['a', 'b', 'a'] } } },
    'min > max': { fields: { n: { type: 'int', min: 5, max: 1 } } },
    'minLength > maxLength': { fields: { s: { type: 'string', minLength: 5, maxLength: 1 } } },
    'NaN min': { fields: { n: { type: 'float', min: NaN } } },
    'NaN max': { fields: { n: { type: 'int', max: NaN } } },
    'two id fields': { fields: { a: { type: 'id' }, b: { type: 'id' } } },
    'a non-function computed': { fields: { a: { type: 'string' } }, computed: { x: 1 } },
    'a non-function validate': { fields: { a: { type: 'string' } }, validate: 'no' },
    'a non-function method': { fields: { a: { type: 'string' } }, methods: { go: 42 } },
    'methods not an object': { fields: { a: { type: 'string' } }, methods: 7 },
    'a field named save': { fields: { save: { type: 'string' } } },
    'a field named update': { fields: { update: { type: 'string' } } },
    'a field named delete': { fields: { delete: { type: 'string' } } },
    'a field named toJSON': { fields: { toJSON: { type: 'string' } } },
    'a field named toString': { fields: { toString: { type: 'string' } } },
    'a field named like a method': { fields: { go: { type: 'string' } }, methods: { go() {} } },
    'a computed named like a field': { fields: { a: { type: 'string' } }, computed: { a: () => 1 } },
    'a computed named save': { fields: { a: { type: 'string' } }, computed: { save: () => 1 } },
    'a method named like a computed': { fields: { a: { type: 'string' } }, computed: { c: () => 1 }, methods: { c() {} } },
    'a method named update': { fields: { a: { type: 'string' } }, methods: { update() {} } },
    'a field named __proto__': { fields: JSON.parse('{"__proto__": {"type": "string"}}') },
    'a field named constructor': { fields: { constructor: { type: 'string' } } },
    'a field named prototype': { fields: { prototype: { type: 'string' } } },
    'an id field named constructor': { fields: { constructor: { type: 'id' } } },
    'an unknown index field': { fields: { a: { type: 'string' } }, indexes: ['nope'] },
  };
  for (const [what, def] of Object.entries(bad)) {
    test(`${what} is refused with SCHEMA; the name can be defined again`, async () => {
      const nitro = await createNitro();
      throwsNitro(assert, () => nitro.entity('Thing', def), { code: 'SCHEMA', entity: 'Thing' });
      assert.equal(nitro.entities.has('Thing'), false);
      const Thing = nitro.entity('Thing', { fields: { a: { type: 'string' } } });
      assert.equal(Thing.create({ a: 'x' }).a, 'x');
      assert.deepEqual(Object.keys(nitro.stats().entities), ['Thing']);
    });
  }

  test('reserved entity names are SCHEMA', async () => {
    const nitro = await createNitro();
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      throwsNitro(assert, () => nitro.entity(name, { fields: { a: { type: 'string' } } }), { code: 'SCHEMA' });
    }
    throwsNitro(assert, () => nitro.define(JSON.parse('{"__proto__": {"fields": {"a": {"type": "string"}}}}')), { code: 'SCHEMA' });
    assert.equal(nitro.entities.size, 0);
  });

  test('a ref may name an entity defined later; a write through it before then is SCHEMA', async () => {
    const nitro = await createNitro();
    const Task = nitro.entity('Task', { fields: { title: { type: 'string' }, projectId: { type: 'ref', entity: 'Project', optional: true } } });
    Task.create({ title: 'no ref' });
    throwsNitro(assert, () => Task.create({ title: 'x', projectId: 'p1' }), { code: 'SCHEMA', entity: 'Task', field: 'projectId', rule: 'ref' });
    const Project = nitro.entity('Project', { fields: { name: { type: 'string' } } });
    Project.create({ id: 'p1', name: 'P' });
    assert.equal(Task.create({ title: 'x', projectId: 'p1' }).projectId, 'p1');
    throwsNitro(assert, () => Task.create({ title: 'y', projectId: 'p2' }), { code: 'VALIDATION', rule: 'ref' });
  });

  test('valid definitions still work: equal min and max, methods and computed', async () => {
    const nitro = await createNitro();
    const E = nitro.entity('E', {
      fields: { n: { type: 'int', min: 2, max: 2, default: 2 }, s: { type: 'enum', values: ['a', 'b'] } },
      methods: { twice() { return this.n * 2; } },
      computed: { big: (r) => r.n > 1 },
      validate: () => null,
    });
    const r = E.create({ s: 'a' });
    assert.equal(r.twice(), 4);
    assert.equal(r.big, true);
  });
});

describe('every failure is a NitroError', () => {
  test('limit(1e20) and limit(2**32 + 1) mean no limit', async () => {
    const { Task } = await setup({ search: ['title'] });
    Task.insertMany([{ title: 'a' }, { title: 'b' }, { title: 'c' }]);
    for (const n of [1e20, 2 ** 32 + 1, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
      assert.equal(Task.where({}).limit(n).all().length, 3, `limit(${n})`);
      assert.equal(Task.where({}).orderBy('-title').limit(n).all().length, 3, `ordered limit(${n})`);
      assert.equal(Task.where({ status: 'open' }).limit(n).ids().length, 3, `ids limit(${n})`);
      assert.equal(Task.where({}).limit(n).offset(1).all().length, 2, `limit(${n}).offset(1)`);
      assert.equal(Task.where({}).offset(n).all().length, 0, `offset(${n})`);
      assert.equal(Task.search('a', { limit: n }).length, 1, `search limit(${n})`);
    }
    assert.equal(Task.where({}).limit(2 ** 32 - 1).all().length, 3);
  });

  test('a 33-deep $or, getMany misuse and over-deep values throw NitroError', async () => {
    const { nitro, Task } = await setup();
    let w = { title: 'a' };
    for (let i = 0; i < 33; i++) w = { $or: [w] };
    throwsNitro(assert, () => Task.where(w).all(), { code: 'LIMIT', rule: 'depth' });
    throwsNitro(assert, () => Task.where(w).count(), { code: 'LIMIT', rule: 'depth' });
    for (const ids of ['x', 5, null, { 0: 'a' }]) throwsNitro(assert, () => Task.getMany(ids), { code: 'QUERY', entity: 'Task' });
    let deep = 1;
    for (let i = 0; i < 80; i++) deep = [deep];
    throwsNitro(assert, () => Task.where({ meta: { eq: deep } }).all(), { code: 'LIMIT', rule: 'depth' });
    throwsNitro(assert, () => Task.create({ title: 'd', meta: deep }), { code: 'VALIDATION', field: 'meta', rule: 'depth' });
    throwsNitro(assert, () => Task.insertMany([{ title: 'ok' }, { title: 'd', meta: deep }]), { code: 'VALIDATION', field: 'meta', rule: 'depth', index: 1 });
    throwsNitro(assert, () => nitro.template('{{x}}').render({ x: deep }), { code: 'LIMIT', rule: 'depth' });
    throwsNitro(assert, () => Task.where({ title: 1n }).all(), { code: 'QUERY', entity: 'Task' });
    throwsNitro(assert, () => nitro.transaction(5), { code: 'VALIDATION' });
    assert.equal(Task.count(), 0);
  });

  test('one depth limit, defined in C, shared by the JS encoder and C', async () => {
    const { nitro, Task } = await setup();
    const max = nitro.core.constants.maxDepth;
    assert.equal(typeof max, 'number');
    assert.equal(nitro.core.enc.maxDepth, max);
    const nest = (n) => { let v = 'leaf'; for (let i = 0; i < n; i++) v = [v]; return v; };
    // exactly max levels of nesting below the value fit, as a field value
    // alone, inside an insertMany batch and in an update
    const r = Task.create({ title: 'deep', meta: nest(max) });
    assert.deepEqual(Task.get(r.id).meta, nest(max));
    Task.insertMany([{ title: 'a', meta: nest(max) }]);
    Task.update(r.id, { meta: { a: nest(max - 1) } });
    throwsNitro(assert, () => Task.update(r.id, { meta: { a: nest(max) } }), { code: 'VALIDATION', field: 'meta', rule: 'depth' });
    // C refuses the same depth when the JS encoder lets it through
    nitro.core.enc.maxDepth = max + 10;
    throwsNitro(assert, () => Task.create({ title: 'c', meta: nest(max + 1) }), { code: 'VALIDATION', field: 'meta', rule: 'depth' });
    throwsNitro(assert, () => Task.insertMany([{ title: 'c' }, { title: 'c', meta: nest(max + 1) }]), { code: 'VALIDATION', field: 'meta', rule: 'depth', index: 1 });
    nitro.core.enc.maxDepth = max;
    assert.equal(Task.count(), 2);
  });

  test('errors thrown are NitroError instances with a code', async () => {
    const { nitro, Task } = await setup();
    for (const fn of [
      () => nitro.on(5, () => {}),
      () => nitro.on('Task.created', 5),
      () => nitro.on('Task.created', () => {}, { priority: NaN }),
      () => nitro.emit(5),
      () => nitro.emit('error', 1),
      () => nitro.emit('a*'),
      () => Task.where({}).subscribe(5),
      () => Task.where({}).limit(-1),
      () => Task.where({}).limit(1.5),
      () => Task.where({ nope: 1 }).all(),
      () => Task.create(null),
      () => Task.update('', {}),
    ]) {
      let caught = null;
      try { fn(); } catch (err) { caught = err; }
      assert.ok(caught instanceof NitroError, String(caught));
      assert.equal(typeof caught.code, 'string');
    }
    await assert.rejects(nitro.emitAsync(5), NitroError);
  });
});
