// query-plans.js - times the planner's early-stopping and trigram plans at
// 100k records against plain JS scans of the same data, and prints each
// plan's explain(). Not a benchmark suite (bench/ is): a check of issue 16
// items 3 and 4. Run after `bash build.sh`: node scripts/query-plans.js
import { createNitro } from '../dist/nitro.js';

const N = Number(process.env.N || 100000);
const WORDS = ['alpha', 'beta', 'Review', 'signal', 'patch', 'café', 'omega', 'deploy', 'rollback', 'Cache', 'index', 'query'];
const STATUSES = ['open', 'done', 'blocked'];

function records() {
  let seed = 42;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 16) % n; };
  const out = [];
  for (let i = 0; i < N; i++) {
    const words = Array.from({ length: 3 + rnd(3) }, () => WORDS[rnd(WORDS.length)]);
    out.push({ id: `t${String(i).padStart(6, '0')}`, title: `${words.join(' ')} #${i}`, status: STATUSES[rnd(3)], priority: 1 + rnd(5) });
  }
  return out;
}

/** Median and min of fn's time in ms over `runs` runs (after 3 warm-ups). */
function time(fn, runs = 200) {
  for (let i = 0; i < 3; i++) fn();
  const t = [];
  for (let i = 0; i < runs; i++) { const t0 = performance.now(); fn(); t.push(performance.now() - t0); }
  t.sort((a, b) => a - b);
  return { median: t[t.length >> 1], min: t[0] };
}

const fmt = (x) => `median ${x.median.toFixed(4)} ms, min ${x.min.toFixed(4)} ms`;

const nitro = await createNitro();
const Task = nitro.entity('Task', {
  fields: { id: { type: 'id' }, title: { type: 'string' }, status: { type: 'enum', values: STATUSES }, priority: { type: 'int', min: 1, max: 5 } },
  indexes: [['status', '-priority', 'id']],
  search: ['title'],
});
const data = records();
Task.insertMany(data);
const plain = data.map((r) => ({ ...r }));

const rows = [];
function report(name, query, scan) {
  const plan = query.explain();
  const q = time(() => query.ids());
  const s = scan ? time(scan, 30) : null;
  rows.push({ name, plan, nitro: fmt(q), scan: s ? fmt(s) : '', ratio: s ? (s.median / q.median).toFixed(1) + 'x' : '' });
}

const byPrioId = (a, b) => b.priority - a.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
report('top-50: where({ status }).orderBy(-priority, id).limit(50)',
  Task.where({ status: 'open' }).orderBy('-priority', 'id').limit(50),
  () => plain.filter((r) => r.status === 'open').sort(byPrioId).slice(0, 50));
report('top-50 with a range: status, priority >= 3',
  Task.where({ status: 'open', priority: { gte: 3 } }).orderBy('-priority', 'id').limit(50),
  () => plain.filter((r) => r.status === 'open' && r.priority >= 3).sort(byPrioId).slice(0, 50));
report('limit without orderBy: where({ priority: 4 }).limit(50)',
  Task.where({ priority: 4 }).limit(50),
  () => { const out = []; for (const r of plain) if (r.priority === 4 && out.push(r) === 50) break; return out; });
for (const text of ['rollback', 'Cache inde', 'café']) {
  report(`contains '${text}' (all matches, ids)`, Task.where({ title: { contains: text } }),
    () => plain.filter((r) => r.title.toLowerCase().includes(text.toLowerCase())).map((r) => r.id));
  report(`contains '${text}' count()`, { explain: () => Task.where({ title: { contains: text } }).explain(), ids: () => Task.where({ title: { contains: text } }).count() },
    () => plain.filter((r) => r.title.toLowerCase().includes(text.toLowerCase())).length);
}
report("contains '#4242' (a rare substring)", Task.where({ title: { contains: '#4242' } }),
  () => plain.filter((r) => r.title.toLowerCase().includes('#4242')).map((r) => r.id));
report("startsWith 'signal patch'", Task.where({ title: { startsWith: 'signal patch' } }),
  () => plain.filter((r) => r.title.startsWith('signal patch')).map((r) => r.id));

console.log(`query plans at ${N} records (node ${process.version}; the machine may be shared: compare ratios, not absolute times)`);
for (const r of rows) {
  console.log(`\n${r.name}\n  plan:  ${JSON.stringify(r.plan)}\n  nitro: ${r.nitro}`);
  if (r.scan) console.log(`  JS:    ${r.scan}   (${r.ratio} faster)`);
}
nitro.close();
