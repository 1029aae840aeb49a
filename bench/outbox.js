// outbox.js - memory of the outbox under churn (issue 15, item 7): 1M
// create+delete pairs (insertMany of 1,000, then their deletes in one
// transaction) with the outbox on and off. Unsent writes fold per record
// (src/changelog.h), so the outbox-on run must stay within 2x of the
// outbox-off run. Run: bash build.sh && node bench/outbox.js [pairs]
import { createNitro } from '../dist/nitro.js';

const PAIRS = Number(process.argv[2] || process.env.BENCH_N || 1_000_000), BATCH = 1000;

async function run(options) {
  const nitro = await createNitro(options);
  const Task = nitro.entity('Task', { fields: { title: { type: 'string' }, n: { type: 'int' } } });
  const rows = Array.from({ length: BATCH }, (_, i) => ({ title: `a task title ${i}`, n: i }));
  const t0 = performance.now();
  for (let done = 0; done < PAIRS; done += BATCH) {
    const made = Task.insertMany(rows);
    nitro.transaction(() => { for (const r of made) r.delete(); });
  }
  const ms = performance.now() - t0;
  const s = nitro.stats();
  nitro.close();
  return { ms: Math.round(ms), wasmBytes: s.memoryBytes, heapBytes: s.heapBytes, records: s.entities.Task.records };
}

const off = await run({ outbox: false });
const on = await run({});
console.log(JSON.stringify({ pairs: PAIRS, outboxOff: off, outboxOn: on, ratio: +(on.wasmBytes / off.wasmBytes).toFixed(2) }, null, 1));
if (on.wasmBytes > 2 * off.wasmBytes) { console.error('outbox memory above 2x of the outbox-off run'); process.exitCode = 1; }
