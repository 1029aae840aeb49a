// store.js - the entity store against plain JS and in-memory databases, on
// the workload of the entity-store issue: 100,000 task records.
import { rate, makeReport } from './harness.js';
import { createNitro } from '../dist/nitro.js';
import loki from 'lokijs';
import { createStore, createQueries } from 'tinybase';
import initSqlJs from 'sql.js';
import Database from 'better-sqlite3';
import v8 from 'node:v8';
import vm from 'node:vm';

const N = Number(process.env.BENCH_N || 100_000);
const STATUSES = ['open', 'done', 'blocked'];
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'report', 'fix', 'write', 'review', 'deploy', 'café', 'naïve', 'test',
  'server', 'client', 'index', 'query', 'render', 'patch', 'signal', 'event'];

export function makeTasks(n) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      id: `t${String(i).padStart(7, '0')}`,
      title: `${WORDS[i % 20]} <${WORDS[(i * 7) % 20]}> & "${WORDS[(i * 3) % 20]}" ${WORDS[(i * 11) % 17]} #${i}`,
      status: STATUSES[i % 3],
      priority: 1 + ((i * 7) % 5),
      tags: i % 2 ? ['a', 'b'] : ['c'],
      created: 1_700_000_000_000 + i * 1000,
    };
  }
  return out;
}

const taskDef = {
  fields: {
    id: { type: 'id' },
    title: { type: 'string', required: true },
    status: { type: 'enum', values: STATUSES, default: 'open' },
    priority: { type: 'int', min: 1, max: 5, default: 3 },
    tags: { type: 'list', of: 'string', default: [] },
    created: { type: 'datetime' },
  },
  indexes: ['status', ['status', 'priority']],
  search: ['title'],
};

// ---- contenders: each implements the same operations ------------------------

async function nitroContender() {
  let nitro, Task;
  const fresh = async () => { if (nitro) nitro.close(); nitro = await createNitro(); Task = nitro.entity('Task', taskDef); };
  await fresh();
  const q = () => Task.where({ status: 'open', priority: { gte: 3 } }).orderBy('-priority', 'id').limit(50);
  return {
    name: 'nitro',
    fresh,
    insertBulk: (data) => Task.insertMany(data),
    insertOne: (d) => Task.create(d),
    get: (id) => Task.get(id),
    query: () => q().all(),
    count: (s) => Task.count({ status: s }),
    search: typeof Task.search === 'function' ? (text) => Task.search(text, { limit: 20 }) : null,
    update: (id, p) => Task.update(id, { priority: p }),
    delete: (id) => Task.delete(id),
    bytes: () => nitro.stats().entities.Task.bytes,
  };
}

function mapContender() {
  let map;
  const fold = (s) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  return {
    name: 'JS Map + filter/sort',
    fresh: () => { map = new Map(); },
    insertBulk: (data) => { for (const d of data) map.set(d.id, { ...d, tags: [...d.tags] }); },
    insertOne: (d) => map.set(d.id, { ...d, tags: [...d.tags] }),
    get: (id) => { const o = map.get(id); return o ? { ...o, tags: [...o.tags] } : null; },
    query: () => {
      const rows = [];
      for (const r of map.values()) if (r.status === 'open' && r.priority >= 3) rows.push(r);
      rows.sort((a, b) => b.priority - a.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return rows.slice(0, 50).map((o) => ({ ...o, tags: [...o.tags] }));
    },
    count: (s) => { let n = 0; for (const r of map.values()) if (r.status === s) n++; return n; },
    search: (text) => {
      const words = fold(text).split(/\s+/).filter(Boolean);
      const out = [];
      for (const r of map.values()) {
        const t = fold(r.title);
        if (words.every((w) => t.includes(w))) { out.push(r); if (out.length === 20) break; }
      }
      return out;
    },
    update: (id, p) => { const o = map.get(id); map.set(id, { ...o, priority: p }); },
    delete: (id) => map.delete(id),
  };
}

function lokiContender() {
  let db, coll;
  return {
    name: 'LokiJS (indexed)',
    fresh: () => {
      db = new loki('bench.db');
      coll = db.addCollection('tasks', { unique: ['id'], indices: ['status', 'priority'], clone: true, disableMeta: true });
    },
    insertBulk: (data) => coll.insert(data.map((d) => ({ ...d, tags: [...d.tags] }))),
    insertOne: (d) => coll.insert({ ...d, tags: [...d.tags] }),
    get: (id) => coll.by('id', id),
    query: () => coll.chain().find({ status: 'open', priority: { $gte: 3 } }).compoundsort([['priority', true], 'id']).limit(50).data(),
    count: (s) => coll.count({ status: s }),
    search: null,
    update: (id, p) => { const o = coll.by('id', id); o.priority = p; coll.update(o); },
    delete: (id) => { const o = coll.by('id', id); if (o) coll.remove(o); },
  };
}

function tinybaseContender() {
  let store, queries;
  return {
    name: 'TinyBase (queries)',
    fresh: () => {
      store = createStore();
      queries = createQueries(store);
      queries.setQueryDefinition('q', 'tasks', ({ select, where }) => {
        select('title'); select('status'); select('priority'); select('tags'); select('created');
        where('status', 'open');
        where((getCell) => getCell('priority') >= 3);
      });
    },
    insertBulk: (data) => store.transaction(() => { for (const d of data) store.setRow('tasks', d.id, { title: d.title, status: d.status, priority: d.priority, tags: JSON.stringify(d.tags), created: d.created }); }),
    insertOne: (d) => store.setRow('tasks', d.id, { title: d.title, status: d.status, priority: d.priority, tags: JSON.stringify(d.tags), created: d.created }),
    get: (id) => store.getRow('tasks', id),
    query: () => queries.getResultSortedRowIds('q', 'priority', true, 0, 50).map((id) => queries.getResultRow('q', id)),
    count: (s) => { let n = 0; store.forEachRow('tasks', (id) => { if (store.getCell('tasks', id, 'status') === s) n++; }); return n; },
    search: null,
    update: (id, p) => store.setCell('tasks', id, 'priority', p),
    delete: (id) => store.delRow('tasks', id),
  };
}

function sqlContender(name, open, fts) {
  let db, st;
  const run = (sql) => (db.exec ? db.exec(sql) : db.run(sql));
  return {
    name,
    fresh: () => {
      if (db) db.close();
      db = open();
      run('CREATE TABLE tasks (id TEXT PRIMARY KEY, title TEXT NOT NULL, status TEXT NOT NULL, priority INTEGER NOT NULL, tags TEXT, created INTEGER) WITHOUT ROWID');
      run('CREATE INDEX tasks_status_priority ON tasks (status, priority)');
      run(`CREATE VIRTUAL TABLE tasks_fts USING ${fts}(id UNINDEXED, title)`);
      st = {
        ins: db.prepare('INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?)'),
        insFts: db.prepare('INSERT INTO tasks_fts VALUES (?, ?)'),
        get: db.prepare('SELECT * FROM tasks WHERE id = ?'),
        q: db.prepare("SELECT * FROM tasks WHERE status = 'open' AND priority >= 3 ORDER BY priority DESC, id LIMIT 50"),
        count: db.prepare('SELECT count(*) AS n FROM tasks WHERE status = ?'),
        search: db.prepare('SELECT t.* FROM tasks_fts f JOIN tasks t ON t.id = f.id WHERE tasks_fts MATCH ? LIMIT 20'),
        upd: db.prepare('UPDATE tasks SET priority = ? WHERE id = ?'),
        del: db.prepare('DELETE FROM tasks WHERE id = ?'),
      };
    },
    db: () => db,
    st: () => st,
  };
}

function sqljsContender(SQL) {
  const c = sqlContender('sql.js (SQLite WASM, prepared)', () => new SQL.Database(), 'fts4');
  const one = (stmt, params) => { stmt.bind(params); const r = stmt.step() ? stmt.getAsObject() : null; stmt.reset(); return r; };
  const all = (stmt, params) => { if (params) stmt.bind(params); const out = []; while (stmt.step()) out.push(stmt.getAsObject()); stmt.reset(); return out; };
  const exec = (stmt, params) => { stmt.run(params); };
  const ins = (d) => { exec(c.st().ins, [d.id, d.title, d.status, d.priority, JSON.stringify(d.tags), d.created]); exec(c.st().insFts, [d.id, d.title]); };
  return {
    ...c,
    insertBulk: (data) => { c.db().run('BEGIN'); for (const d of data) ins(d); c.db().run('COMMIT'); },
    insertOne: ins,
    get: (id) => one(c.st().get, [id]),
    query: () => all(c.st().q),
    count: (s) => one(c.st().count, [s]).n,
    search: (text) => all(c.st().search, [ftsQuery(text)]),
    update: (id, p) => exec(c.st().upd, [p, id]),
    delete: (id) => exec(c.st().del, [id]),
  };
}

function betterSqliteContender() {
  const c = sqlContender('better-sqlite3 (native, :memory:)', () => new Database(':memory:'), 'fts5');
  const ins = (d) => { c.st().ins.run(d.id, d.title, d.status, d.priority, JSON.stringify(d.tags), d.created); c.st().insFts.run(d.id, d.title); };
  return {
    ...c,
    insertBulk: (data) => c.db().transaction(() => { for (const d of data) ins(d); })(),
    insertOne: ins,
    get: (id) => c.st().get.get(id),
    query: () => c.st().q.all(),
    count: (s) => c.st().count.get(s).n,
    search: (text) => c.st().search.all(ftsQuery(text)),
    update: (id, p) => c.st().upd.run(p, id),
    delete: (id) => c.st().del.run(id),
  };
}

function ftsQuery(text) {
  const words = text.split(/\s+/).filter(Boolean).map((w) => `"${w.replace(/"/g, '""')}"`);
  if (words.length) words[words.length - 1] += '*';
  return words.join(' ');
}

// ---- the run -----------------------------------------------------------------------

export async function run(report) {
  const data = makeTasks(N);
  if (process.env.BENCH_ONLY === 'memory') return memoryTable(report, data);
  const ids = data.map((d) => d.id);
  const SQL = await initSqlJs();
  const contenders = [await nitroContender(), mapContender(), lokiContender(), tinybaseContender(), sqljsContender(SQL), betterSqliteContender()];
  const rows = {};
  const add = (op, name, opsPerSec, note) => (rows[op] ||= []).push({ name, opsPerSec, note });
  const sample = (k) => ids[(k * 7919) % N];

  const progress = (c, what) => { if (process.env.BENCH_VERBOSE) process.stderr.write(`  ${c.name}: ${what} ${(performance.now() / 1000).toFixed(1)}s\n`); };
  for (const c of contenders) {
    progress(c, 'start');
    // bulk insert: fresh store each round, median of 3
    const times = [];
    for (let r = 0; r < 3; r++) {
      await c.fresh();
      const a = performance.now();
      c.insertBulk(data);
      times.push(performance.now() - a);
    }
    times.sort((x, y) => x - y);
    add('insertBulk', c.name, (N / times[1]) * 1000);
    await c.fresh();
    let a = performance.now();
    for (let i = 0; i < N; i++) c.insertOne(data[i]);
    progress(c, 'insertOne');
    add('insertOne', c.name, (N / (performance.now() - a)) * 1000);
    let k = 0;
    progress(c, 'get');
    add('get', c.name, rate(() => c.get(sample(k++))));
    progress(c, 'query');
    add('query', c.name, rate(() => c.query(), 500));
    progress(c, 'count');
    add('count', c.name, rate(() => c.count(STATUSES[k++ % 3]), 300));
    if (c.search) add('search', c.name, rate(() => c.search(['rev', 'alpha rep', 'café de', 'signal patch'][k++ % 4]), 500));
    else add('search', c.name, 0, 'no full-text index');
    k = 0;
    a = performance.now();
    for (let i = 0; i < 10_000; i++) c.update(sample(i), 1 + (i % 5));
    progress(c, 'update');
    add('update', c.name, (10_000 / (performance.now() - a)) * 1000);
    const D = Math.min(10_000, Math.floor(N / 3));
    a = performance.now();
    for (let i = 0; i < D; i++) c.delete(ids[i * 3]);
    progress(c, 'delete');
    add('delete', c.name, (D / (performance.now() - a)) * 1000);
    if (c.bytes) report.nitroBytesPerRecord = c.bytes() / (N - D);
  }
  const title = (s) => `store (${N.toLocaleString('en')} tasks): ${s}`;
  report.table(title('insert all, one batch'), rows.insertBulk);
  report.table(title('insert one by one'), rows.insertOne);
  report.table(title('get by id'), rows.get);
  report.table(title("query status='open' AND priority>=3 ORDER BY -priority, id LIMIT 50"), rows.query);
  report.table(title('count by status'), rows.count);
  report.table(title('full-text search (prefix on last word), 20 results'), rows.search);
  report.table(title('update one field x10,000'), rows.update);
  report.table(title(`delete x${Math.min(10_000, Math.floor(N / 3)).toLocaleString('en')}`), rows.delete);
  if (report.nitroBytesPerRecord) report.line(`  nitro memory per record: ${report.nitroBytesPerRecord.toFixed(0)} bytes (rows, keys, indexes in WASM memory)`);
  await memoryTable(report, data);
}

// ---- memory per record ---------------------------------------------------------------
// Records arrive as JSON text (as from a server) in chunks of 1,000, so every
// store owns its strings. JS stores: V8 heap growth after a full GC. nitro:
// growth of its WebAssembly memory (rows, keys, indexes, allocator overhead;
// chunks keep the call buffers small) plus the JS heap it keeps.
async function memoryTable(report, data) {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  const chunks = [];
  for (let i = 0; i < data.length; i += 1000) chunks.push(JSON.stringify(data.slice(i, i + 1000)));
  const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed; };
  const rows = [];
  const measure = async (name, load) => {
    const before = heap();
    const keep = await load();
    const wasm = keep.wasmBytes ? keep.wasmBytes() : 0;
    const bytes = heap() - before + wasm;
    rows.push({ name, bytes: bytes / data.length, keep });
  };
  const plainDef = { fields: taskDef.fields };
  // The sync outbox keeps every unsynced write (createNitro's default, so
  // nothing written offline is lost); a local-only store turns it off.
  const variants = [
    ['nitro (no indexes, as the Map)', plainDef, false],
    ['nitro (2 indexes + full-text)', taskDef, false],
    ['nitro (no indexes, outbox kept)', plainDef, true],
  ];
  for (const [name, def, outbox] of variants) {
    await measure(name, async () => {
      const nitro = await createNitro({ outbox });
      const Task = nitro.entity('Task', def);
      const m0 = nitro.core.memoryBytes();
      for (const c of chunks) Task.insertMany(JSON.parse(c));
      return { nitro, wasmBytes: () => nitro.core.memoryBytes() - m0 };
    });
  }
  await measure('JS Map of objects', () => {
    const map = new Map();
    for (const c of chunks) for (const d of JSON.parse(c)) map.set(d.id, d);
    return { map };
  });
  await measure('LokiJS (indexed)', () => {
    const db = new loki('mem.db');
    const coll = db.addCollection('tasks', { unique: ['id'], indices: ['status', 'priority'], disableMeta: true });
    for (const c of chunks) coll.insert(JSON.parse(c));
    return { db };
  });
  await measure('TinyBase', () => {
    const store = createStore();
    for (const c of chunks) store.transaction(() => { for (const d of JSON.parse(c)) store.setRow('tasks', d.id, { title: d.title, status: d.status, priority: d.priority, tags: JSON.stringify(d.tags), created: d.created }); });
    return { store };
  });
  const map = rows.find((r) => r.name === 'JS Map of objects').bytes;
  report.line(`\nstore (${data.length.toLocaleString('en')} tasks): memory per record (lower is better; goal: nitro <= half the JS Map)`);
  for (const r of rows) {
    const note = r.name.startsWith('nitro') ? `  ${(r.bytes / map).toFixed(2)}x the Map: ${r.bytes <= map / 2 ? 'goal met' : 'GOAL MISSED'}` : '';
    report.line(`  ${r.name.padEnd(34)} ${`${r.bytes.toFixed(0)} B`.padStart(10)}${note}`);
  }
  for (const r of rows) if (r.keep.nitro) r.keep.nitro.close();
}

if (import.meta.url === `file://${process.argv[1]}`) await run(makeReport());
