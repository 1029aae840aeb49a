// bench/events.js - emitting custom events: nitro-wasm's EventBus against the
// usual JS emitters. Three scenarios, 1,000,000 events each: one handler, ten
// handlers, one wildcard handler ('*'; only mitt has one among the peers).
//
// Every contender gets its own loop and handler function literals so that one
// library's call sites do not make another's megamorphic. Contenders run
// interleaved, round by round, in one process; the median round is reported.
// Each scenario runs in a fresh worker thread (its own V8 isolate): type
// feedback left by an earlier scenario, or by other benchmarks run by the
// harness in the same process, would otherwise slow down whichever libraries
// happened to run before, and the ranking would depend on the order.
//
//   node bench/events.js            prints a plain table
//   import { run } from './events.js'; await run(report)   (the bench harness)

import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import mitt from 'mitt';
import { createNanoEvents } from 'nanoevents';
import EventEmitter3 from 'eventemitter3';
import { EventBus } from '../js/events.js';

const EVENTS = 1_000_000;
const INSERTS = 100_000;
const WARMUP_ROUNDS = 2;
const ROUNDS = 7;
const TYPE = 'invoice.sent';

// Handlers add into this so the work cannot be optimised away.
let sink = 0;

// EventTarget needs an Event per dispatch; a plain subclass carrying the
// payload is cheaper than CustomEvent and just as fair.
class PayloadEvent extends Event {
  constructor(type, payload) {
    super(type);
    this.payload = payload;
  }
}

// Each factory takes the handler count and returns `loop(n)` that emits n events.
const contenders = {
  'nitro-wasm EventBus.emit': (k) => {
    const bus = new EventBus();
    for (let i = 0; i < k; i++) bus.on(TYPE, (e) => { sink += e.payload; });
    return (n) => { for (let i = 0; i < n; i++) bus.emit(TYPE, i); };
  },
  'node:events EventEmitter': (k) => {
    const ee = new EventEmitter();
    ee.setMaxListeners(0);
    for (let i = 0; i < k; i++) ee.on(TYPE, (p) => { sink += p; });
    return (n) => { for (let i = 0; i < n; i++) ee.emit(TYPE, i); };
  },
  'EventTarget + Event subclass': (k) => {
    const et = new EventTarget();
    // Distinct closures: EventTarget ignores a second add of the same function.
    for (let i = 0; i < k; i++) et.addEventListener(TYPE, (e) => { sink += e.payload; });
    return (n) => { for (let i = 0; i < n; i++) et.dispatchEvent(new PayloadEvent(TYPE, i)); };
  },
  mitt: (k) => {
    const m = mitt();
    for (let i = 0; i < k; i++) m.on(TYPE, (p) => { sink += p; });
    return (n) => { for (let i = 0; i < n; i++) m.emit(TYPE, i); };
  },
  nanoevents: (k) => {
    const ne = createNanoEvents();
    for (let i = 0; i < k; i++) ne.on(TYPE, (p) => { sink += p; });
    return (n) => { for (let i = 0; i < n; i++) ne.emit(TYPE, i); };
  },
  eventemitter3: (k) => {
    const ee = new EventEmitter3();
    for (let i = 0; i < k; i++) ee.on(TYPE, (p) => { sink += p; });
    return (n) => { for (let i = 0; i < n; i++) ee.emit(TYPE, i); };
  },
};

// Wildcard: a handler for every type. Peers without wildcards are listed as n/a.
const wildcard = {
  'nitro-wasm EventBus.emit': () => {
    const bus = new EventBus();
    bus.on('*', (e) => { sink += e.payload; });
    return (n) => { for (let i = 0; i < n; i++) bus.emit(TYPE, i); };
  },
  mitt: () => {
    const m = mitt();
    m.on('*', (type, p) => { sink += p; });
    return (n) => { for (let i = 0; i < n; i++) m.emit(TYPE, i); };
  },
  'node:events EventEmitter': null,
  'EventTarget + Event subclass': null,
  nanoevents: null,
  eventemitter3: null,
};

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function measure(factories, handlers) {
  const loops = [];
  for (const [name, make] of Object.entries(factories)) {
    if (make) loops.push({ name, loop: make(handlers), rates: [] });
  }
  for (let r = 0; r < WARMUP_ROUNDS; r++) for (const c of loops) c.loop(EVENTS);
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of loops) {
      const t0 = performance.now();
      c.loop(EVENTS);
      const ms = performance.now() - t0;
      c.rates.push(EVENTS / (ms / 1000));
    }
  }
  const rows = [];
  for (const [name, make] of Object.entries(factories)) {
    const c = loops.find((x) => x.name === name);
    rows.push(c
      ? { name, opsPerSec: Math.round(median(c.rates)) }
      : { name, opsPerSec: null, note: 'n/a: no wildcard subscription' });
  }
  return rows;
}

const scenarios = [
  { title: `events: emit ${EVENTS.toLocaleString('en')} custom events to 1 handler`, set: 'contenders', handlers: 1 },
  { title: `events: emit ${EVENTS.toLocaleString('en')} custom events to 10 handlers`, set: 'contenders', handlers: 10 },
  { title: `events: emit ${EVENTS.toLocaleString('en')} custom events to a '*' handler`, set: 'wildcard', handlers: 1 },
  { title: `events: insert ${INSERTS.toLocaleString('en')} records with and without a 'Task.*' handler (goal: <= 1.5x the time without)`, set: 'store' },
];

// Store writes with events: the same inserts into a fresh store, once with no
// subscriber (C then captures no events at all) and once with one 'Task.*'
// handler (C captures every event and JS delivers it). Alternating rounds.
async function measureStore() {
  const { createNitro } = await import('../dist/nitro.js');
  const rows = Array.from({ length: INSERTS }, (_, i) => ({ title: `task ${i} <${i % 7}>`, status: i % 3 ? 'open' : 'done', priority: 1 + (i % 5), tags: ['a', `t${i % 10}`] }));
  const fields = { title: { type: 'string', required: true }, status: { type: 'enum', values: ['open', 'done'], default: 'open' }, priority: { type: 'int', min: 1, max: 5 }, tags: { type: 'list', of: 'string', default: [] } };
  const variants = {
    'one by one, no handler': { handler: false, bulk: false },
    "one by one, 'Task.*' handler": { handler: true, bulk: false },
    'insertMany, no handler': { handler: false, bulk: true },
    "insertMany, 'Task.*' handler": { handler: true, bulk: true },
  };
  const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let r = 0; r < 2 + 5; r++) {
    for (const [name, v] of Object.entries(variants)) {
      const nitro = await createNitro();
      const Task = nitro.entity('Task', { fields });
      let seen = 0;
      if (v.handler) nitro.on('Task.*', (e) => { seen += e.type.length; });
      const t0 = performance.now();
      if (v.bulk) Task.insertMany(rows);
      else for (let i = 0; i < rows.length; i++) Task.create(rows[i]);
      const ms = performance.now() - t0;
      if (v.handler && seen === 0) throw new Error('handler never ran');
      nitro.close();
      if (r >= 2) times[name].push(ms);
    }
  }
  const med = (a) => median(a);
  const out = [];
  for (const name of Object.keys(variants)) {
    const ms = med(times[name]);
    const base = name.startsWith('one') ? med(times['one by one, no handler']) : med(times['insertMany, no handler']);
    const ratio = ms / base;
    out.push({ name, opsPerSec: Math.round(INSERTS / (ms / 1000)), note: variants[name].handler ? `${ratio.toFixed(2)}x the time without: ${ratio <= 1.5 ? 'goal met' : 'GOAL MISSED'}` : undefined });
  }
  return out;
}

function inWorker(index) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { eventsBenchScenario: index } });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => { if (code !== 0) reject(new Error(`bench worker exited with ${code}`)); });
  });
}

/** Harness entry: one table per scenario. */
export async function run(report) {
  for (let i = 0; i < scenarios.length; i++) report.table(scenarios[i].title, await inWorker(i));
}

if (!isMainThread && workerData && workerData.eventsBenchScenario !== undefined) {
  const { set, handlers } = scenarios[workerData.eventsBenchScenario];
  const rows = set === 'store' ? await measureStore() : measure(set === 'wildcard' ? wildcard : contenders, handlers);
  if (sink === -1) console.log(sink);  // keep `sink` observable
  parentPort.postMessage(rows);
}

// Plain-table report for running this file directly.
const plainReport = {
  table(title, rows) {
    const best = Math.max(...rows.map((r) => r.opsPerSec ?? 0));
    console.log(`\n${title}`);
    for (const r of rows) {
      const ops = r.opsPerSec == null ? 'n/a' : `${(r.opsPerSec / 1e6).toFixed(2)} M ops/s`;
      const ratio = r.opsPerSec == null ? '' : `${(best / r.opsPerSec).toFixed(2)}x`;
      console.log(`  ${r.name.padEnd(32)} ${ops.padStart(16)} ${ratio.padStart(8)}${r.note ? `  ${r.note}` : ''}`);
    }
  },
};

if (isMainThread && process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await run(plainReport);
}
