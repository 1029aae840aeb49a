// store.js - the entity store against plain JS and in-memory databases.
import { opsPerSec, makeReport } from './harness.js';
import { createNitro } from '../dist/nitro.js';

const N = 100_000;

function makeData(n) {
  const statuses = ['open', 'done', 'blocked'];
  const words = ['alpha', 'beta', 'gamma', 'delta', 'report', 'fix', 'write', 'review', 'deploy', 'café', 'naïve', 'test'];
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      id: `t${String(i).padStart(7, '0')}`,
      title: `${words[i % 12]} <${words[(i * 7) % 12]}> & "${words[(i * 3) % 12]}" #${i}`,
      status: statuses[i % 3],
      priority: 1 + (i % 5),
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
    status: { type: 'enum', values: ['open', 'done', 'blocked'], default: 'open' },
    priority: { type: 'int', min: 1, max: 5, default: 3 },
    tags: { type: 'list', of: 'string', default: [] },
    created: { type: 'datetime' },
  },
};

export async function run(report) {
  const data = makeData(N);
  const ids = data.map((d) => d.id);
  const rows = { insert: [], get: [], update: [], delete: [] };

  // --- nitro ---
  {
    let nitro, Task;
    const fresh = async () => { nitro = await createNitro(); Task = nitro.entity('Task', taskDef); };
    await fresh();
    // one-by-one create into a fresh store each round
    const insertRounds = [];
    for (let r = 0; r < 4; r++) {
      await fresh();
      const a = performance.now();
      for (let i = 0; i < N; i++) Task.create(data[i]);
      insertRounds.push(performance.now() - a);
    }
    insertRounds.sort((x, y) => x - y);
    rows.insert.push({ name: 'nitro create (one by one)', opsPerSec: N / insertRounds[1] * 1000 });
    const bulk = [];
    for (let r = 0; r < 4; r++) {
      await fresh();
      const a = performance.now();
      Task.insertMany(data);
      bulk.push(performance.now() - a);
    }
    bulk.sort((x, y) => x - y);
    rows.insert.push({ name: 'nitro insertMany (bulk)', opsPerSec: N / bulk[1] * 1000 });
    let sink = 0;
    rows.get.push({ name: 'nitro get', opsPerSec: opsPerSec(() => { for (let i = 0; i < N; i++) sink += Task.get(ids[i]).priority; }, N) });
    let flip = 0;
    rows.update.push({ name: 'nitro update', opsPerSec: opsPerSec(() => { flip ^= 1; for (let i = 0; i < N; i++) Task.update(ids[i], { priority: 1 + ((i + flip) % 5) }); }, N) });
    const before = nitro.stats();
    report.memNitro = before.heapBytes / N;
    const del = [];
    for (let r = 0; r < 3; r++) {
      await fresh();
      Task.insertMany(data);
      const a = performance.now();
      for (let i = 0; i < N; i++) Task.delete(ids[i]);
      del.push(performance.now() - a);
    }
    del.sort((x, y) => x - y);
    rows.delete.push({ name: 'nitro delete', opsPerSec: N / del[1] * 1000 });
    if (sink < 0) console.log(sink);
  }

  // --- plain JS Map of objects (snapshots copied on the way in and out, as nitro's records are) ---
  {
    let map;
    const ins = [];
    for (let r = 0; r < 4; r++) {
      map = new Map();
      const a = performance.now();
      for (let i = 0; i < N; i++) { const d = data[i]; map.set(d.id, { ...d, tags: [...d.tags] }); }
      ins.push(performance.now() - a);
    }
    ins.sort((x, y) => x - y);
    rows.insert.push({ name: 'JS Map (copy in)', opsPerSec: N / ins[1] * 1000 });
    let sink = 0;
    rows.get.push({ name: 'JS Map get (shared object)', opsPerSec: opsPerSec(() => { for (let i = 0; i < N; i++) sink += map.get(ids[i]).priority; }, N) });
    rows.get.push({ name: 'JS Map get + copy (snapshot)', opsPerSec: opsPerSec(() => { for (let i = 0; i < N; i++) { const o = map.get(ids[i]); sink += { ...o, tags: [...o.tags] }.priority; } }, N) });
    let flip = 0;
    rows.update.push({ name: 'JS Map update (replace object)', opsPerSec: opsPerSec(() => { flip ^= 1; for (let i = 0; i < N; i++) { const o = map.get(ids[i]); map.set(ids[i], { ...o, priority: 1 + ((i + flip) % 5) }); } }, N) });
    const del = [];
    for (let r = 0; r < 3; r++) {
      const m = new Map(map);
      const a = performance.now();
      for (let i = 0; i < N; i++) m.delete(ids[i]);
      del.push(performance.now() - a);
    }
    del.sort((x, y) => x - y);
    rows.delete.push({ name: 'JS Map delete', opsPerSec: N / del[1] * 1000 });
    if (sink < 0) console.log(sink);
  }

  report.table(`store: insert ${N.toLocaleString('en')} task records`, rows.insert);
  report.table(`store: get by id x${N.toLocaleString('en')}`, rows.get);
  report.table(`store: update one field x${N.toLocaleString('en')}`, rows.update);
  report.table(`store: delete x${N.toLocaleString('en')}`, rows.delete);
  report.line(`  nitro heap per record: ${report.memNitro.toFixed(0)} bytes (C heap, rows + primary key)`);
}

if (import.meta.url === `file://${process.argv[1]}`) await run(makeReport());
