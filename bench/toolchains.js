// bench/toolchains.js - the two WebAssembly builds of the same C side by side
// (docs/toolchains.md): dist/nitro.wasm (clang + wasi-libc, the default) and
// build/emcc/nitro.wasm (Emscripten, `bash build.sh --emscripten`). Size raw
// and compressed, then the store workloads of bench/store.js and the table
// renders of bench/templates.js on each. Rounds alternate the builds; each
// figure is the median round (ops/s, higher is better). Time is this
// process's CPU time, not the wall clock, so that other work on a shared
// machine slows both builds alike instead of whichever round it hits.
//
//   node bench/toolchains.js            (BENCH_N=100000 tasks, BENCH_ROUNDS=7)
//   BENCH_WASMS='a=x.wasm,b=y.wasm' node bench/toolchains.js   other builds
import fs from 'node:fs';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { createNitro } from '../dist/nitro.js';
import { makeRows, TASK, ROW, TABLE } from './pages/table.js';

const N = Number(process.env.BENCH_N || 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 7);
const BUILDS = process.env.BENCH_WASMS
  ? process.env.BENCH_WASMS.split(',').map((s) => s.split('=')).map(([n, f]) => [n, new URL(f, `file://${process.cwd()}/`)])
  : [['clang + wasi-libc', new URL('../dist/nitro.wasm', import.meta.url)],
    ['emscripten', new URL('../build/emcc/nitro.wasm', import.meta.url)]];
const STATUSES = ['open', 'done', 'blocked'];
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'report', 'fix', 'write', 'review', 'deploy', 'café'];

/** The tasks of bench/store.js (same shape and schema). */
function makeTasks(n) {
  return Array.from({ length: n }, (_, i) => ({
    id: `t${String(i).padStart(7, '0')}`,
    title: `${WORDS[i % 10]} <${WORDS[(i * 7) % 10]}> & "${WORDS[(i * 3) % 10]}" #${i}`,
    status: STATUSES[i % 3],
    priority: 1 + ((i * 7) % 5),
    tags: i % 2 ? ['a', 'b'] : ['c'],
    created: 1_700_000_000_000 + i * 1000,
  }));
}
const STORE_TASK = {
  fields: {
    id: { type: 'id' }, title: { type: 'string', required: true },
    status: { type: 'enum', values: STATUSES, default: 'open' },
    priority: { type: 'int', min: 1, max: 5, default: 3 },
    tags: { type: 'list', of: 'string', default: [] }, created: { type: 'datetime' },
  },
  indexes: ['status', ['status', 'priority']],
  search: ['title'],
};

/** CPU milliseconds used by this process so far. */
function cpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Calls of fn per CPU second, over `ms` of CPU time after a short warm-up. */
function rate(fn, ms) {
  const warm = cpuMs() + Math.min(30, ms / 4);
  while (cpuMs() < warm) fn();
  let n = 0;
  const start = cpuMs();
  let t = start;
  while (t - start < ms) { fn(); n++; t = cpuMs(); }
  return (n / (t - start)) * 1000;
}

function sizes(url) {
  const raw = fs.readFileSync(url);
  return {
    raw: raw.length,
    gzip: zlib.gzipSync(raw, { level: 9 }).length,
    brotli: zlib.brotliCompressSync(raw).length,
  };
}

/** One build loaded twice: a store of N tasks, and the template table. */
async function load(wasm, tasks) {
  const store = await createNitro({ wasm });
  const Task = store.entity('Task', STORE_TASK);
  Task.insertMany(tasks);
  const pages = await createNitro({ wasm });
  const Row = pages.entity('Task', TASK);
  Row.insertMany(makeRows(10_000).rows);
  const row = pages.template(ROW);
  const table = pages.template(TABLE, { partials: { row } });
  return { wasm, store, Task, pages, Row, table };
}

/** The operations, each returning ops/s for one round. */
function operations(tasks) {
  const ids = tasks.map((t) => t.id);
  // a counter per build, so that every build reads and writes the same records
  const next = (b) => (b.k = (b.k ?? 0) + 1);
  const pick = (b) => ids[(next(b) * 7919) % N];
  return [
    ['insertMany, 100k tasks (fresh store)', async (b) => {
      const nitro = await createNitro({ wasm: b.wasm });
      const T = nitro.entity('Task', STORE_TASK);
      const t0 = cpuMs();
      T.insertMany(tasks);
      const ms = cpuMs() - t0;
      nitro.close();
      return (N / ms) * 1000;
    }],
    ['get by id', (b) => rate(() => b.Task.get(pick(b)), 150)],
    ['query where/orderBy/limit 50', (b) => rate(() => b.Task.where({ status: 'open', priority: { gte: 3 } }).orderBy('-priority', 'id').limit(50).all(), 200)],
    ['count by status', (b) => rate(() => b.Task.count({ status: STATUSES[next(b) % 3] }), 150)],
    ['full-text search, 20 results', (b) => rate(() => b.Task.search(['rev', 'alpha rep', 'café de'][next(b) % 3], { limit: 20 }), 200)],
    ['update one field', (b) => rate(() => b.Task.update(pick(b), { priority: 1 + (b.k % 5) }), 150)],
    ['render 1,000 rows -> string', (b) => rate(() => b.table.render({ rows: b.Row.where({}).orderBy('due').limit(1000) }), 200)],
    ['render 10,000 rows -> bytes', (b) => rate(() => b.table.renderBytes({ rows: b.Row.where({}).orderBy('due').limit(10_000) }), 300)],
  ];
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const fmt = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(1));

export async function run(say = console.log) {
  for (const [, url] of BUILDS) {
    if (!fs.existsSync(url)) throw new Error(`${fileURLToPath(url)} is missing: run bash build.sh --emscripten first`);
  }
  say('size (bytes)                     raw       gzip -9   brotli');
  for (const [name, url] of BUILDS) {
    const s = sizes(url);
    say(`  ${name.padEnd(22)} ${String(s.raw).padStart(10)} ${String(s.gzip).padStart(10)} ${String(s.brotli).padStart(10)}`);
  }
  const tasks = makeTasks(N);
  const builds = [];
  for (const [name, url] of BUILDS) builds.push({ name, ...(await load(url, tasks)) });
  const ops = operations(tasks);
  const results = ops.map(() => builds.map(() => []));
  for (let r = 0; r < ROUNDS; r++) {
    for (let o = 0; o < ops.length; o++) {
      const order = r % 2 ? [...builds.keys()].reverse() : [...builds.keys()];
      for (const b of order) results[o][b].push(await ops[o][1](builds[b]));
    }
  }
  say(`\nops/s, median of ${ROUNDS} rounds (${N.toLocaleString('en')} tasks)`);
  say(`  ${'operation'.padEnd(38)} ${builds.map((b) => b.name.padStart(18)).join(' ')}  2nd/1st`);
  ops.forEach(([name], o) => {
    const m = builds.map((_, b) => median(results[o][b]));
    say(`  ${name.padEnd(38)} ${m.map((x) => fmt(x).padStart(18)).join(' ')}  ${(m[1] / m[0]).toFixed(2)}x`);
  });
  say('\nspread of the rounds (slowest..fastest round / median), a gauge of the noise');
  ops.forEach(([name], o) => {
    const spread = builds.map((_, b) => {
      const r = results[o][b], m = median(r);
      return `${(Math.min(...r) / m).toFixed(2)}..${(Math.max(...r) / m).toFixed(2)}`.padStart(18);
    });
    say(`  ${name.padEnd(38)} ${spread.join(' ')}`);
  });
  for (const b of builds) { b.store.close(); b.pages.close(); }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await run();
