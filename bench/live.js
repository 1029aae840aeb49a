// live.js - what live queries cost a write: single-record updates over
// 100,000 records with 0 and with 100 subscribed queries (each a project's
// open tasks, top 20 by priority), and the same against a plain JS
// re-filter per query as a peer would do without live queries (the Map
// approach: re-run every query after every write).
import { createNitro } from '../dist/nitro.js';
import { rate } from './harness.js';

const N = 100_000, QUERIES = 100;

async function store(subscribe) {
  const nitro = await createNitro({ outbox: false });
  const Task = nitro.entity('Task', {
    fields: { title: { type: 'string' }, project: { type: 'int' }, priority: { type: 'int' }, status: { type: 'enum', values: ['open', 'done'] } },
    indexes: [['project', 'priority']],
  });
  const rows = [];
  for (let i = 0; i < N; i++) rows.push({ id: `t${i}`, title: `task ${i}`, project: i % 1000, priority: i % 5, status: i % 3 ? 'open' : 'done' });
  Task.insertMany(rows);
  let calls = 0;
  const subs = [];
  if (subscribe) {
    for (let p = 0; p < QUERIES; p++) subs.push(Task.where({ project: p, status: 'open' }).orderBy('-priority').limit(20).subscribe(() => { calls++; }));
  }
  return { nitro, Task, subs, calls: () => calls };
}

export async function run(report) {
  const bare = await store(false);
  const live = await store(true);
  let i = 0;
  // writes land in the subscribed projects (0..99) half of the time
  const write = (s) => () => { const k = (i++ * 7919) % N; s.Task.update(`t${k}`, { priority: (i % 5) }); };
  const r0 = rate(write(bare), 400);
  const r1 = rate(write(live), 400);
  // the peer: a JS Map re-filtering 100 queries after each write (no live queries)
  const map = new Map();
  for (let k = 0; k < N; k++) map.set(`t${k}`, { id: `t${k}`, project: k % 1000, priority: k % 5, status: k % 3 ? 'open' : 'done' });
  const byProject = new Map();
  for (const r of map.values()) { if (!byProject.has(r.project)) byProject.set(r.project, []); byProject.get(r.project).push(r); }
  const rPeer = rate(() => {
    const k = (i++ * 7919) % N;
    const r = map.get(`t${k}`);
    map.set(r.id, { ...r, priority: i % 5 });
    const list = byProject.get(r.project);
    list[list.indexOf(r)] = map.get(r.id);
    if (r.project < QUERIES) list.filter((x) => x.status === 'open').sort((a, b) => b.priority - a.priority || (a.id < b.id ? -1 : 1)).slice(0, 20);
  }, 400);
  report.table(`live queries: single-record update, ${N.toLocaleString('en')} records`, [
    { name: 'nitro, no live queries', opsPerSec: r0, note: '' },
    { name: `nitro, ${QUERIES} live queries`, opsPerSec: r1, note: `${live.calls()} callbacks; cost ${(r0 / r1).toFixed(2)}x the bare write` },
    { name: 'Map + index, re-run the affected query', opsPerSec: rPeer, note: 'by hand, per project list' },
  ]);
  const ratio = r0 / r1;
  report.line(`goal: a write with ${QUERIES} live queries costs at most 2x one with none: ${ratio.toFixed(2)}x ${ratio <= 2 ? 'met' : 'MISSED'}`);
  for (const s of live.subs) s.unsubscribe();
  bare.nitro.close();
  live.nitro.close();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { makeReport } = await import('./harness.js');
  await run(makeReport());
}
