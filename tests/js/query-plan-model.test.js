// Property test of the query planner: compound indexes with descending keys,
// early-stopping walks (with and without orderBy), and the trigram index of
// `search` fields, against a plain JS model. Results must equal the model
// exactly (order and ties included) after random writes, rolled-back
// transactions, failed batches and snapshot restores (the index upkeep and
// undo paths).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createNitro, NitroError } from './helpers.js';

const STATUSES = ['open', 'done', 'blocked'];
const fields = {
  id: { type: 'id' },
  title: { type: 'string', required: true, maxLength: 10 },
  notes: { type: 'string', optional: true },
  status: { type: 'enum', values: STATUSES, default: 'open' },
  priority: { type: 'int', min: 1, max: 5, optional: true },
};
const def = { fields, indexes: [['status', '-priority', 'id'], '-priority', ['status', 'title']], search: ['title', 'notes'] };

const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'B', 'ab', 'a0'];
const idArb = fc.constantFrom(...ids);
const textArb = fc.stringMatching(/^[abcAé]{0,8}$/);
const patArb = fc.stringMatching(/^[abcAé]{1,4}$/);
const prioArb = fc.oneof({ arbitrary: fc.integer({ min: 1, max: 5 }), weight: 8 }, { arbitrary: fc.constant(null), weight: 1 }, { arbitrary: fc.constant(9), weight: 1 });
const dataArb = fc.record({ title: textArb, notes: fc.option(textArb), status: fc.constantFrom(...STATUSES), priority: prioArb }, { requiredKeys: [] });
// creates carry a title (most succeed, so the stores hold enough records for ties and ranges)
const newArb = fc.record({ title: textArb, notes: fc.option(textArb), status: fc.constantFrom(...STATUSES), priority: prioArb }, { requiredKeys: ['title', 'status', 'priority'] });
const k = fc.integer({ min: 0, max: 6 });
const whereArb = fc.oneof(
  fc.constant({}),
  fc.record({ status: fc.constantFrom(...STATUSES) }),
  fc.record({ status: fc.constantFrom(...STATUSES), priority: fc.record({ gte: k }) }),
  fc.record({ status: fc.constantFrom(...STATUSES), priority: fc.record({ lt: k }) }),
  fc.record({ status: fc.constantFrom(...STATUSES), priority: fc.record({ gt: k, lte: k }) }),
  fc.record({ priority: fc.record({ lte: k }) }),
  fc.record({ priority: fc.constantFrom(1, 3, 5) }),
  fc.record({ title: fc.record({ contains: patArb }) }),
  fc.record({ title: fc.record({ startsWith: patArb }) }),
  fc.record({ status: fc.constantFrom(...STATUSES), title: fc.record({ contains: patArb }) }),
  fc.record({ $or: fc.tuple(fc.record({ title: fc.record({ contains: patArb }) }), fc.record({ notes: fc.record({ contains: patArb }) })) }),
  fc.record({ notes: fc.record({ startsWith: patArb }) }),
);
const orderArb = fc.constantFrom([], ['-priority', 'id'], ['-priority'], ['priority'], ['status', '-priority'], ['-priority', '-id'], ['id'], ['-id'], ['status', 'title'], ['status', '-title']);
const queryArb = fc.record({ where: whereArb, more: fc.option(whereArb), order: orderArb, limit: fc.option(fc.integer({ min: 0, max: 6 })), offset: fc.option(fc.integer({ min: 0, max: 3 })) });

const opArb = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('create'), id: idArb, data: newArb }), weight: 5 },
  { arbitrary: fc.record({ op: fc.constant('update'), id: idArb, data: dataArb }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('delete'), id: idArb }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('insertMany'), items: fc.array(fc.record({ id: idArb, data: newArb }), { maxLength: 4 }) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('rollback'), id: idArb, data: dataArb, del: idArb }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('restore') }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('snap') }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('restoreSnap') }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('query'), q: queryArb }), weight: 6 },
);

// ---- the model --------------------------------------------------------------

const utf8 = (s) => Buffer.from(s);
const cmpBytes = (a, b) => Buffer.compare(utf8(a), utf8(b));
// stored order: null first, enums by declaration, strings by UTF-8 bytes
function cmpField(f, a, b) {
  if (a === null || a === undefined || b === null || b === undefined) {
    const an = a === null || a === undefined, bn = b === null || b === undefined;
    return an === bn ? 0 : an ? -1 : 1;
  }
  if (f === 'status') return STATUSES.indexOf(a) - STATUSES.indexOf(b);
  if (typeof a === 'string') return cmpBytes(a, b);
  return a < b ? -1 : a > b ? 1 : 0;
}

function valid(r) {
  if (typeof r.title !== 'string' || [...r.title].length > 10) return false;
  return r.priority === null || (Number.isInteger(r.priority) && r.priority >= 1 && r.priority <= 5);
}

function opMatch(v, op, x) {
  if (op === 'contains') return typeof v === 'string' && utf8(v).includes(utf8(x));
  if (op === 'startsWith') return typeof v === 'string' && utf8(v).subarray(0, utf8(x).length).equals(utf8(x));
  if (v === null) return false;
  if (op === 'gte') return v >= x;
  if (op === 'gt') return v > x;
  if (op === 'lt') return v < x;
  if (op === 'lte') return v <= x;
  throw new Error(op);
}

function matches(r, w) {
  return Object.entries(w).every(([f, c]) => {
    if (f === '$or') return c.some((x) => matches(r, x));
    if (c === null || typeof c !== 'object') return r[f] === c;
    return Object.entries(c).every(([op, x]) => opMatch(r[f], op, x));
  });
}

function modelQuery(rows, q) {
  const out = [...rows.values()].filter((r) => matches(r, q.where) && (!q.more || matches(r, q.more)));
  out.sort((a, b) => {
    for (const key of q.order) {
      const desc = key[0] === '-';
      const f = desc ? key.slice(1) : key;
      const c = cmpField(f, a[f], b[f]);
      if (c) return desc ? -c : c;
    }
    return cmpBytes(a.id, b.id);
  });
  const from = q.offset ?? 0;
  return q.limit === null || q.limit === undefined ? out.slice(from) : out.slice(from, from + q.limit);
}

function build(base, id, data) {
  const r = base ? { ...base } : { id, title: undefined, notes: null, status: 'open', priority: null };
  for (const [f, v] of Object.entries(data)) r[f] = v === undefined ? null : v;
  return r;
}

const plain = (r) => ({ id: r.id, title: r.title, notes: r.notes ?? null, status: r.status, priority: r.priority ?? null });

function attempt(fn) {
  try { fn(); return true; } catch (err) {
    if (!(err instanceof NitroError)) throw err;
    return false;
  }
}

function runQuery(Task, q) {
  let query = Task.where(q.where);
  if (q.more) query = query.where(q.more);
  if (q.order.length) query = query.orderBy(...q.order);
  if (q.limit !== null) query = query.limit(q.limit);
  if (q.offset !== null) query = query.offset(q.offset);
  return query;
}

function applyWrite(Task, rows, o) {
  if (o.op === 'create') {
    const r = build(null, o.id, o.data);
    const ok = valid(r) && !rows.has(o.id);
    assert.equal(attempt(() => Task.create({ id: o.id, ...o.data })), ok, `create ${o.id}`);
    if (ok) rows.set(o.id, r);
  } else if (o.op === 'update') {
    const r = rows.has(o.id) && build(rows.get(o.id), o.id, o.data);
    const ok = !!r && valid(r);
    assert.equal(attempt(() => Task.update(o.id, o.data)), ok, `update ${o.id}`);
    if (ok) rows.set(o.id, r);
  } else if (o.op === 'delete') {
    assert.equal(Task.delete(o.id), rows.delete(o.id));
  } else if (o.op === 'insertMany') {
    const next = new Map(rows);
    const ok = o.items.every((it) => { const r = build(null, it.id, it.data); if (!valid(r) || next.has(it.id)) return false; next.set(it.id, r); return true; });
    assert.equal(attempt(() => Task.insertMany(o.items.map((it) => ({ id: it.id, ...it.data })))), ok, 'insertMany');
    if (ok) return next;
  }
  return rows;
}

test('query plans (descending compound keys, early stops, trigram candidates) match a JS model', async () => {
  await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 60, size: 'max' }), async (ops) => {
    let nitro = await createNitro();
    let Task = nitro.entity('Task', def);
    let rows = new Map();
    let saved = null;   // { bytes, rows }: restored into the same instance (its indexes already built)
    for (const o of ops) {
      if (o.op === 'query') {
        const query = runQuery(Task, o.q);
        const want = modelQuery(rows, o.q);
        assert.deepEqual(query.all().map(plain), want.map(plain), JSON.stringify(o.q));
        assert.equal(query.count(), modelQuery(rows, { ...o.q, limit: null, offset: null }).length, 'count');
        assert.equal(query.explain().results, want.length, 'explain results');
      } else if (o.op === 'rollback') {
        // writes inside a transaction that throws: every index is undone
        assert.throws(() => nitro.transaction(() => {
          attempt(() => Task.upsert({ id: o.id, ...o.data }));
          Task.delete(o.del);
          throw new Error('abort');
        }), /abort/);
      } else if (o.op === 'snap') {
        saved = { bytes: nitro.snapshot(), rows: new Map(rows) };
      } else if (o.op === 'restoreSnap') {
        if (saved) { nitro.restore(saved.bytes); rows = new Map(saved.rows); }
      } else if (o.op === 'restore') {
        const bytes = nitro.snapshot();
        nitro.close();
        nitro = await createNitro();
        Task = nitro.entity('Task', def);
        nitro.restore(bytes);
      } else {
        rows = applyWrite(Task, rows, o);
      }
    }
    assert.deepEqual(Task.all().map(plain), modelQuery(rows, { where: {}, order: [], limit: null, offset: null }).map(plain));
    nitro.close();
  }), { numRuns: 200 });
});
