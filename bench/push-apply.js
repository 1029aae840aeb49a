// push-apply.js - times Authority.applyPush (the sync server deciding one
// push on its in-memory store: no HTTP, no storage) for pushes of N
// mutations, median of RUNS pushes. With a second build's dist/ directory
// (e.g. one built from an older commit) it times both in one process,
// pushes alternating, so drift and noise hit both alike.
//   node bench/push-apply.js [N=500] [RUNS=150] [BEFORE_DIST]
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';

const N = Number(process.argv[2] || 500);
const RUNS = Number(process.argv[3] || 150);
const here = path.dirname(fileURLToPath(import.meta.url));
const dists = [['after', path.join(here, '..', 'dist')]];
if (process.argv[4]) dists.unshift(['before', path.resolve(process.argv[4])]);
const schema = (await import(pathToFileURL(path.join(here, '..', 'tests', 'sync', 'entities.mjs')))).default;
const builds = [];
for (const [name, dir] of dists) {
  const { createNitro } = await import(pathToFileURL(path.join(dir, 'nitro.js')));
  const { Authority } = await import(pathToFileURL(path.join(dir, 'server', 'authority.js')));
  builds.push({ name, createNitro, Authority });
}
const storage = { async loadRecords() {}, async head() { return 0; } };

/** Push `r` of a kind: creates (Task has a validate function, Note has
 * conflict: 'reject'), creates then updates, or tasks referring to projects. */
function pushOf(kind, r) {
  const muts = [];
  for (let i = 0; i < N; i++) {
    const seq = i + 1;
    if (kind === 'Task') muts.push({ seq, entity: 'Task', id: `t${r}-${i}`, op: 'create', fields: { title: `task ${i}`, priority: 1 + (i % 5), tags: ['a', 'b'] } });
    else if (kind === 'Note') muts.push({ seq, entity: 'Note', id: `n${r}-${i}`, op: 'create', fields: { text: `note ${i}`, rev: i } });
    else if (kind === 'Note c+u') muts.push({ seq, entity: 'Note', id: `m${r}-${i % (N / 2)}`, op: i < N / 2 ? 'create' : 'update', fields: { text: `note ${i}`, rev: i } });
    else muts.push(i % 10 === 0 ? { seq, entity: 'Project', id: `p${r}-${i}`, op: 'create', fields: { name: `p${i}` } } : { seq, entity: 'Task', id: `u${r}-${i}`, op: 'create', fields: { title: `t${i}`, projectId: `p${r}-${i - (i % 10)}` } });
  }
  return muts;
}

const median = (a) => { a.sort((x, y) => x - y); return a[a.length >> 1]; };

for (const kind of ['Task', 'Note', 'Note c+u', 'Project+Task refs']) {
  const runs = [];
  for (const b of builds) {
    const a = new b.Authority(() => b.createNitro({ outbox: false }), schema);
    await a.load(storage);
    runs.push({ name: b.name, a, ms: [] });
  }
  for (let r = 0; r < RUNS + 5; r++) {
    for (const run of r % 2 ? runs : [...runs].reverse()) {
      const muts = pushOf(kind, r);
      const t0 = performance.now();
      const out = run.a.applyPush('alice', `c${r}`, muts, new Map(), 0);
      const ms = performance.now() - t0;
      if (out.results.some((x) => x.status !== 'applied')) throw new Error(`${kind}: ${JSON.stringify(out.results.find((x) => x.status !== 'applied'))}`);
      if (r >= 5) run.ms.push(ms);   // the first pushes warm up
    }
  }
  console.log(`${kind.padEnd(18)} ${runs.map((x) => `${x.name} ${median(x.ms).toFixed(2)} ms`).join('  ')}  (${N} mutations, median of ${RUNS})`);
  for (const x of runs) x.a.close();
}
