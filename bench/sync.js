// bench/sync.js - sync over loopback against the reference server running
// as its own process (SQLite): the initial pull of 100,000 records into an
// empty client (and under 1,000 unsent local edits), a push of 10,000 mutations, and write-to-visible latency
// from one client to 50 live clients (p50, p99). Goals (issue 8): initial
// pull under 1 s; latency p50 under 20 ms and p99 under 100 ms.
//
//   node bench/sync.js            prints the figures
//   import { run } from './sync.js'; await run(report)   (the bench harness)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNitro } from '../dist/nitro.js';
import { sqliteStorage } from '../server/storage/sqlite.js';
import { createToken } from '../server/auth.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECRET = 'bench-secret-0123';
const RECORDS = 100_000;
const MUTATIONS = 10_000;
const LISTENERS = 50;
const WRITES = 40;

const schema = {
  Task: {
    fields: {
      id: { type: 'id' },
      title: { type: 'string', required: true, maxLength: 200 },
      status: { type: 'enum', values: ['open', 'done', 'blocked'], default: 'open' },
      priority: { type: 'int', min: 1, max: 5, default: 3 },
      done: { type: 'bool', default: false },
      due: { type: 'datetime', optional: true },
      tags: { type: 'list', of: 'string', default: [] },
    },
    indexes: ['status'],
  },
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(s.length * p))]; };

async function startServer(dir, db) {
  const schemaFile = path.join(dir, 'schema.mjs');
  fs.writeFileSync(schemaFile, `export default ${JSON.stringify(schema)};\n`);
  const proc = spawn(process.execPath, ['server/cli.js', 'serve', '--port', '0', '--db', db, '--schema', schemaFile, '--exit-with-stdin'],
    { cwd: root, env: { ...process.env, NITRO_SECRET: SECRET }, stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((r) => proc.once('exit', r));
  const url = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => { out += d; const m = /listening on (\S+)/.exec(out); if (m) resolve(m[1]); });
    exited.then(() => reject(new Error(`server exited: ${out}`)));
  });
  return { url, stop: async () => { proc.kill('SIGTERM'); await exited; } };
}

async function client(url, user, options = {}) {
  const nitro = await createNitro();
  const { Task } = nitro.define(schema);
  const sync = nitro.sync({ url, token: createToken({ user, secret: SECRET }), ...options });
  return { nitro, Task, sync };
}

/** 100k records of one user written straight into the database. */
async function seed(db) {
  const storage = sqliteStorage(db);
  await storage.open();
  const records = [];
  const t0 = Date.parse('2024-01-01T00:00:00Z');
  for (let i = 0; i < RECORDS; i++) {
    const id = `t${String(i).padStart(6, '0')}`;
    const data = { id, title: `Task number ${i} with a realistic title`, status: ['open', 'done', 'blocked'][i % 3], priority: 1 + (i % 5), done: i % 3 === 1, due: new Date(t0 + i * 60_000).toISOString(), tags: i % 2 ? ['a', 'b'] : [] };
    records.push({ entity: 'Task', id, owner: 'reader', scope: 'reader', version: i + 1, writer: 'seed', deleted: false, data: JSON.stringify(data) });
  }
  await storage.commitPush({ user: 'seed', client: 'seed', done: 0, head: RECORDS, records, receipts: [] });
  await storage.close();
}

export async function run(report) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nitro-bench-sync-'));
  const db = path.join(dir, 'bench.db');
  let server;
  try {
    await seed(db);
    let t = performance.now();
    server = await startServer(dir, db);
    const startMs = performance.now() - t;

    // 1. initial pull of 100k records into an empty client
    const pulls = [];
    for (let round = 0; round < 4; round++) {
      const c = await client(server.url, 'reader', { pullLimit: 10_000 });
      t = performance.now();
      await c.sync.pull();
      const ms = performance.now() - t;
      if (c.Task.count() !== RECORDS) throw new Error(`pulled ${c.Task.count()} records`);
      if (round > 0) pulls.push(ms);     // the first round warms both sides up
      c.nitro.close();
    }
    const pullMs = median(pulls);

    // 1b. the same pull with 1,000 unsent local creates of pulled ids (the
    // server's records arrive under them: the merge under pending edits)
    const pending = [];
    for (let round = 0; round < 3; round++) {
      const c = await client(server.url, 'reader', { pullLimit: 10_000 });
      for (let i = 0; i < RECORDS; i += 100) c.Task.create({ id: `t${String(i).padStart(6, '0')}`, title: `local ${i}`, priority: 5 });
      t = performance.now();
      await c.sync.pull();
      const ms = performance.now() - t;
      if (c.Task.count() !== RECORDS || c.Task.get('t000100').title !== 'local 100') throw new Error('pull under local edits went wrong');
      if (round > 0) pending.push(ms);
      c.nitro.close();
    }
    const pullPendingMs = median(pending);

    // 2. push of 10k mutations (creates, in batches of 1000)
    const pushes = [];
    for (let round = 0; round < 3; round++) {
      const c = await client(server.url, `writer-${round}`, { batchSize: 1000 });
      for (let i = 0; i < MUTATIONS; i++) c.Task.create({ title: `pushed ${i}`, priority: 1 + (i % 5), tags: ['x'] });
      t = performance.now();
      await c.sync.push();
      pushes.push(performance.now() - t);
      if (c.sync.status.pending !== 0) throw new Error('push left mutations behind');
      c.nitro.close();
    }
    const pushMs = median(pushes);

    // 3. write-to-visible latency: one writer, 50 live clients
    const writer = await client(server.url, 'live');
    const listeners = [];
    for (let i = 0; i < LISTENERS; i++) listeners.push(await client(server.url, 'live', { live: true }));
    await Promise.all(listeners.map((l) => new Promise((resolve) => { l.nitro.on('sync.pulled', resolve, { once: true }); l.sync.start(); })));
    writer.sync.start();
    const latencies = [];
    for (let w = 0; w < WRITES + 5; w++) {
      const id = `live-${w}`;
      const seen = listeners.map((l) => new Promise((resolve) => {
        const off = l.nitro.on('Task.created', (e) => { if (e.id === id) { off(); resolve(performance.now()); } });
      }));
      const at = performance.now();
      writer.Task.create({ id, title: `live ${w}` });
      const times = await Promise.all(seen);
      if (w >= 5) for (const x of times) latencies.push(x - at);   // 5 warm-up writes
      await sleep(20);
    }
    for (const l of [writer, ...listeners]) { await l.sync.close(); l.nitro.close(); }
    const p50 = pct(latencies, 0.5), p99 = pct(latencies, 0.99);

    const ok = (cond) => (cond ? 'goal met' : 'GOAL MISSED');
    report.table('sync (loopback, server process on SQLite)', [
      { name: 'nitro initial pull 100k records', opsPerSec: RECORDS / (pullMs / 1000), note: `${pullMs.toFixed(0)} ms (goal < 1000 ms: ${ok(pullMs < 1000)})` },
      { name: 'nitro pull 100k under 1k local edits', opsPerSec: RECORDS / (pullPendingMs / 1000), note: `${pullPendingMs.toFixed(0)} ms` },
      { name: 'nitro push 10k mutations', opsPerSec: MUTATIONS / (pushMs / 1000), note: `${pushMs.toFixed(0)} ms` },
      { name: `nitro write-to-visible, ${LISTENERS} live`, opsPerSec: 1000 / p50, note: `p50 ${p50.toFixed(1)} ms (goal < 20: ${ok(p50 < 20)}), p99 ${p99.toFixed(1)} ms (goal < 100: ${ok(p99 < 100)}), ${latencies.length} deliveries` },
    ]);
    report.line(`  server start with ${RECORDS} records: ${startMs.toFixed(0)} ms`);
    return { pullMs, pullPendingMs, pushMs, p50, p99, startMs };
  } finally {
    if (server) await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const { makeReport } = await import('./harness.js');
  await run(makeReport());
}
