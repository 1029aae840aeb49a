// Property test: random operation sequences against a plain JS model of the
// store; every result and the final contents must agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createNitro, NitroError } from './helpers.js';

const STATUSES = ['open', 'done', 'blocked'];
const fields = {
  id: { type: 'id' },
  title: { type: 'string', required: true, maxLength: 12 },
  status: { type: 'enum', values: STATUSES, default: 'open' },
  priority: { type: 'int', min: 1, max: 5, default: 3 },
  tags: { type: 'list', of: 'string', default: [] },
};

const idArb = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
const titleArb = fc.oneof(fc.string({ maxLength: 14 }), fc.constantFrom('x', 'é😀', ''));
const prioArb = fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constant(2.5));
const dataArb = fc.record({ title: titleArb, status: fc.constantFrom(...STATUSES, 'bad'), priority: prioArb, tags: fc.array(fc.constantFrom('x', 'y', 'z'), { maxLength: 3 }) }, { requiredKeys: [] });
const whereArb = fc.oneof(
  fc.record({ status: fc.constantFrom(...STATUSES) }),
  fc.record({ priority: fc.record({ gte: fc.integer({ min: 1, max: 5 }) }) }),
  fc.record({ tags: fc.record({ contains: fc.constantFrom('x', 'y') }) }),
  fc.record({ id: fc.record({ in: fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'zz'), { maxLength: 5 }) }) }),
  fc.record({ id: fc.constantFrom('a', 'c', 'zz') }),
  fc.record({ title: fc.record({ contains: fc.constantFrom('é😀', '😀', 'abc', 'x') }) }),
  fc.record({ title: fc.record({ startsWith: fc.constantFrom('é😀', 'abc') }) }),
  fc.constant({}),
);
const orderArb = fc.constantFrom([], ['-priority'], ['status', '-id'], ['title'], ['-priority', 'id'], ['status', '-priority']);

const opArb = fc.oneof(
  fc.record({ op: fc.constant('create'), id: idArb, data: dataArb }),
  fc.record({ op: fc.constant('update'), id: idArb, data: dataArb }),
  fc.record({ op: fc.constant('delete'), id: idArb }),
  fc.record({ op: fc.constant('upsert'), id: idArb, data: dataArb }),
  fc.record({ op: fc.constant('insertMany'), items: fc.array(fc.record({ id: idArb, data: dataArb }), { maxLength: 4 }) }),
  fc.record({ op: fc.constant('query'), where: whereArb, order: orderArb, limit: fc.option(fc.integer({ min: 0, max: 4 })), offset: fc.option(fc.integer({ min: 0, max: 3 })) }),
  fc.record({ op: fc.constant('bulkUpdate'), where: whereArb, priority: prioArb }),
  fc.record({ op: fc.constant('bulkDelete'), where: whereArb }),
);

// ---- the model --------------------------------------------------------------

function cpLen(s) { return [...s].length; }

function validate(rec) {
  if (typeof rec.title !== 'string') return 'required';
  if (cpLen(rec.title) > 12) return 'maxLength';
  if (!STATUSES.includes(rec.status)) return 'values';
  if (!Number.isInteger(rec.priority)) return 'type';
  if (rec.priority < 1) return 'min';
  if (rec.priority > 5) return 'max';
  return null;
}

function norm(s) { return s.toWellFormed(); }

class Model {
  constructor() { this.rows = new Map(); }
  build(id, data, base) {
    const r = base ? { ...base } : { id, title: undefined, status: 'open', priority: 3, tags: [] };
    for (const [k, v] of Object.entries(data)) r[k] = k === 'title' ? norm(v) : v;
    return r;
  }
  create(id, data) {
    const r = this.build(id, data);
    const bad = validate(r);
    if (bad) return { err: bad };
    if (this.rows.has(id)) return { err: 'unique' };
    this.rows.set(id, r);
    return { ok: r };
  }
  update(id, data) {
    if (!this.rows.has(id)) return { err: 'NOT_FOUND' };
    const r = this.build(id, data, this.rows.get(id));
    const bad = validate(r);
    if (bad) return { err: bad };
    this.rows.set(id, r);
    return { ok: r };
  }
  matches(r, w) {
    if (w.status) return r.status === w.status;
    if (w.priority) return r.priority >= w.priority.gte;
    if (w.tags) return r.tags.includes(w.tags.contains);
    if (typeof w.id === 'string') return r.id === w.id;
    if (w.id) return w.id.in.includes(r.id);
    if (w.title && w.title.contains !== undefined) return r.title.includes(w.title.contains);
    if (w.title) return r.title.startsWith(w.title.startsWith);
    return true;
  }
  query(where, order, limit, offset) {
    const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
    const utf8cmp = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    let rows = [...this.rows.values()].filter((r) => this.matches(r, where));
    rows.sort((a, b) => {
      for (const k of order) {
        const desc = k[0] === '-';
        const f = desc ? k.slice(1) : k;
        let c = f === 'status' ? cmp(STATUSES.indexOf(a[f]), STATUSES.indexOf(b[f])) : typeof a[f] === 'string' ? utf8cmp(a[f], b[f]) : cmp(a[f], b[f]);
        if (desc) c = -c;
        if (c) return c;
      }
      return utf8cmp(a.id, b.id);
    });
    rows = rows.slice(offset ?? 0);
    if (limit !== null && limit !== undefined) rows = rows.slice(0, limit);
    return rows;
  }
}

function outcome(fn) {
  try { return { ok: fn() }; } catch (err) {
    if (!(err instanceof NitroError)) throw err;
    return { err: err.code === 'NOT_FOUND' ? 'NOT_FOUND' : err.rule, code: err.code };
  }
}

const plain = (r) => (r ? { id: r.id, title: r.title, status: r.status, priority: r.priority, tags: r.tags } : r);

test('random operation sequences match a JS model', async () => {
  await fc.assert(fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), async (ops) => {
    const nitro = await createNitro();
    const Task = nitro.entity('Task', { fields, indexes: ['status', ['status', 'priority'], 'priority', 'title', ['status', '-priority', 'id']], search: ['title'] });
    const m = new Model();
    const live = [];   // every query asked is also subscribed: a live result must equal the model after each operation
    for (const o of ops) {
      if (o.op === 'create' || o.op === 'upsert') {
        const exists = m.rows.has(o.id);
        const want = o.op === 'upsert' && exists ? m.update(o.id, o.data) : m.create(o.id, o.data);
        const got = outcome(() => (o.op === 'upsert' ? Task.upsert({ id: o.id, ...o.data }) : Task.create({ id: o.id, ...o.data })));
        if (want.err) {
          assert.ok(got.err, `${o.op} should fail with ${want.err}`);
          assert.equal(got.err, want.err);
        } else {
          assert.deepEqual(plain(got.ok), plain(want.ok));
        }
      } else if (o.op === 'update') {
        const want = m.update(o.id, o.data);
        const got = outcome(() => Task.update(o.id, o.data));
        if (want.err) assert.equal(got.err, want.err); else assert.deepEqual(plain(got.ok), plain(want.ok));
      } else if (o.op === 'delete') {
        assert.equal(Task.delete(o.id), m.rows.delete(o.id));
      } else if (o.op === 'insertMany') {
        const snapshot = new Map(m.rows);
        let failed = null;
        o.items.forEach((it, i) => { if (!failed) { const r = m.create(it.id, it.data); if (r.err) failed = { ...r, index: i }; } });
        if (failed) m.rows = snapshot;
        const got = outcome(() => Task.insertMany(o.items.map((it) => ({ id: it.id, ...it.data }))));
        if (failed) assert.equal(got.err, failed.err); else assert.equal(got.ok.length, o.items.length);
      } else if (o.op === 'query') {
        let q = Task.where(o.where);
        if (o.order.length) q = q.orderBy(...o.order);
        if (o.limit !== null) q = q.limit(o.limit);
        if (o.offset !== null) q = q.offset(o.offset);
        assert.deepEqual(q.all().map(plain), m.query(o.where, o.order, o.limit, o.offset));
        assert.equal(q.count(), m.query(o.where, [], null, null).length);
        if (live.length < 8) live.push({ o, sub: q.subscribe(() => {}) });
      } else if (o.op === 'bulkUpdate') {
        const targets = m.query(o.where, [], null, null);
        const before = new Map(m.rows);
        let err = null;
        for (const r of targets) { const res = m.update(r.id, { priority: o.priority }); if (res.err) { err = res.err; break; } }
        if (err) m.rows = before;
        const got = outcome(() => Task.where(o.where).update({ priority: o.priority }));
        if (err) assert.equal(got.err, err); else assert.equal(got.ok, targets.length);
      } else if (o.op === 'bulkDelete') {
        const targets = m.query(o.where, [], null, null);
        for (const r of targets) m.rows.delete(r.id);
        assert.equal(Task.where(o.where).delete(), targets.length);
      }
      assert.deepEqual(Task.all().map(plain), m.query({}, [], null, null));
      for (const { o: lo, sub } of live) assert.deepEqual(sub.result().map(plain), m.query(lo.where, lo.order, lo.limit, lo.offset), 'live query result');
    }
    nitro.close();
  }), { numRuns: 150 });
});
