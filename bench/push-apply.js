// push-apply.js - times Authority.applyPush for one push of N mutations on
// the server's in-memory mirror (no HTTP, no storage): median of several runs.
//   node bench/push-apply.js [N=500] [runs=15]
import { createNitro } from '../dist/nitro.js';
import { Authority } from '../dist/server/authority.js';
import schema from '../tests/sync/entities.mjs';

const N = Number(process.argv[2] || 500);
const RUNS = Number(process.argv[3] || 15);
const storage = { async loadRecords() {}, async head() { return 0; } };

function pushOf(kind, n, round) {
  const muts = [];
  for (let i = 0; i < n; i++) {
    const seq = i + 1;
    if (kind === 'Task') muts.push({ seq, entity: 'Task', id: `t${round}-${i}`, op: 'create', fields: { title: `task ${i}`, priority: 1 + (i % 5), tags: ['a', 'b'] } });
    else if (kind === 'Note') muts.push({ seq, entity: 'Note', id: `n${round}-${i}`, op: 'create', fields: { text: `note ${i}`, rev: i } });
    else muts.push({ seq, entity: 'Note', id: `n${round}-${i % (n / 2)}`, op: i < n / 2 ? 'create' : 'update', fields: { text: `note ${i}`, rev: i } });
  }
  return muts;
}

async function time(kind) {
  const a = new Authority(() => createNitro({ outbox: false }), schema);
  await a.load(storage);
  const ms = [];
  for (let r = 0; r < RUNS + 3; r++) {
    const muts = pushOf(kind, N, r);
    const t0 = performance.now();
    const out = a.applyPush('alice', `c${r}`, muts, new Map(), 0);
    const t = performance.now() - t0;
    if (out.results.some((x) => x.status !== 'applied')) throw new Error(JSON.stringify(out.results.find((x) => x.status !== 'applied')));
    if (r >= 3) ms.push(t);
  }
  a.close();
  ms.sort((x, y) => x - y);
  return ms[ms.length >> 1];
}

for (const kind of ['Task', 'Note', 'Note create+update']) {
  console.log(`${kind} (${N} mutations): median ${(await time(kind)).toFixed(2)} ms`);
}
