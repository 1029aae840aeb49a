// bench/events.js - emitting custom events: nitro-wasm's public `nitro.emit`
// against the usual JS emitters, each used as its README shows (handlers get
// the payload; EventTarget an Event subclass carrying it). Three scenarios,
// 4,000,000 events per round (1,000,000 with ten handlers): one handler, ten handlers, and wildcard
// patterns ('*', 'invoice.*'; only mitt has one, '*', among the peers).
// nitro-wasm runs twice: handlers subscribed with `{ payload: true }` (they
// take the payload, as every peer's do: nothing to allocate per emit) and
// plain `(e) => e.payload` handlers (an event object per emit).
//
// Every contender gets its own loop and handler function literals so that one
// library's call sites do not make another's megamorphic. Contenders run
// interleaved, round by round, in one process; times are CPU time, median and
// min of the rounds. Each scenario runs in a fresh worker thread (its own V8
// isolate): type feedback left by an earlier scenario, or by other benchmarks
// run by the harness in the same process, would otherwise slow down whichever
// libraries happened to run before, and the ranking would depend on the order.
//
//   node bench/events.js            this suite alone (also BENCH_SUITE=events npm run bench)
//   import { run } from './events.js'; await run(report)   (the bench harness)

import { EventEmitter } from 'node:events';
import v8 from 'node:v8';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import mitt from 'mitt';
import { createNanoEvents } from 'nanoevents';
import EventEmitter3 from 'eventemitter3';
import { createNitro } from '../dist/nitro.js';
import { compare, cpuMs, stats, ratioOf, makeReport } from './harness.js';

// Events per round: 1M for ten handlers; 4M with one handler, so that a round
// of a few-nanosecond emit lasts long enough (tens of ms) to time reliably.
const EVENTS = 1_000_000;
const eventsFor = (handlers) => (handlers >= 10 ? EVENTS : 4 * EVENTS);
const INSERTS = 100_000;
const WARMUP_ROUNDS = 2;
const ROUNDS = 7;
const TYPE = 'invoice.sent';
const NANO = 'nanoevents';
const PAYLOAD = 'nitro-wasm nitro.emit, { payload: true } handlers';
const EVENT = 'nitro-wasm nitro.emit, (e) => e.payload handlers';

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

// Each factory takes the handler count and which of two handler functions to
// subscribe (`alt`), and returns `loop(n)` that emits n events. An app has
// more than one handler, and nitro-wasm's two contenders share its emit, so
// its call into handlers always sees several functions: every contender is
// warmed up with a second instance subscribed with the other function, so
// that no library's call site is measured monomorphic while another's is not.
const H = [(p) => { sink += p; }, (p) => { sink -= p; }];
const E = [(e) => { sink += e.payload; }, (e) => { sink -= e.payload; }];
const contenders = {
  [PAYLOAD]: async (k, alt) => {
    const nitro = await createNitro();
    for (let i = 0; i < k; i++) nitro.on(TYPE, H[alt], { payload: true });
    return (n) => { for (let i = 0; i < n; i++) nitro.emit(TYPE, i); };
  },
  [EVENT]: async (k, alt) => {
    const nitro = await createNitro();
    for (let i = 0; i < k; i++) nitro.on(TYPE, E[alt]);
    return (n) => { for (let i = 0; i < n; i++) nitro.emit(TYPE, i); };
  },
  'node:events EventEmitter': (k, alt) => {
    const ee = new EventEmitter();
    ee.setMaxListeners(0);
    for (let i = 0; i < k; i++) ee.on(TYPE, H[alt]);
    return (n) => { for (let i = 0; i < n; i++) ee.emit(TYPE, i); };
  },
  'EventTarget + Event subclass': (k, alt) => {
    const et = new EventTarget();
    // Distinct functions: EventTarget ignores a second add of the same one.
    const fn = E[alt];
    for (let i = 0; i < k; i++) et.addEventListener(TYPE, (e) => fn(e));
    return (n) => { for (let i = 0; i < n; i++) et.dispatchEvent(new PayloadEvent(TYPE, i)); };
  },
  mitt: (k, alt) => {
    const m = mitt();
    for (let i = 0; i < k; i++) m.on(TYPE, H[alt]);
    return (n) => { for (let i = 0; i < n; i++) m.emit(TYPE, i); };
  },
  [NANO]: (k, alt) => {
    const ne = createNanoEvents();
    for (let i = 0; i < k; i++) ne.on(TYPE, H[alt]);
    return (n) => { for (let i = 0; i < n; i++) ne.emit(TYPE, i); };
  },
  eventemitter3: (k, alt) => {
    const ee = new EventEmitter3();
    for (let i = 0; i < k; i++) ee.on(TYPE, H[alt]);
    return (n) => { for (let i = 0; i < n; i++) ee.emit(TYPE, i); };
  },
};

// Wildcards: one handler for every type. Peers without wildcards: n/a.
const wildcard = {
  "nitro-wasm '*', { payload: true }": async () => {
    const nitro = await createNitro();
    nitro.on('*', (p, type) => { sink += p + type.length; }, { payload: true });
    return (n) => { for (let i = 0; i < n; i++) nitro.emit(TYPE, i); };
  },
  "nitro-wasm 'invoice.*', { payload: true }": async () => {
    const nitro = await createNitro();
    nitro.on('invoice.*', (p, type) => { sink += p + type.length; }, { payload: true });
    return (n) => { for (let i = 0; i < n; i++) nitro.emit(TYPE, i); };
  },
  "nitro-wasm '*', (e) handler": async () => {
    const nitro = await createNitro();
    nitro.on('*', (e) => { sink += e.payload + e.type.length; });
    return (n) => { for (let i = 0; i < n; i++) nitro.emit(TYPE, i); };
  },
  "mitt '*'": () => {
    const m = mitt();
    m.on('*', (type, p) => { sink += p + type.length; });
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

async function measure(factories, handlers) {
  const loops = [];
  for (const [name, make] of Object.entries(factories)) {
    if (make) loops.push({ name, loop: await make(handlers, 0), other: await make(handlers, 1), times: [] });
  }
  const n = eventsFor(handlers);
  for (let r = 0; r < WARMUP_ROUNDS; r++) for (const c of loops) { c.other(n); c.loop(n); }
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of loops) {
      const t0 = cpuMs();
      c.loop(n);
      c.times.push(cpuMs() - t0);
    }
  }
  const out = {};
  for (const [name, make] of Object.entries(factories)) {
    out[name] = make ? stats(loops.find((x) => x.name === name).times, n) : 'n/a: no wildcard';
  }
  return out;
}

const within = (k) => ({
  text: `nitro.emit within 1.2x of nanoevents with ${k} handler${k > 1 ? 's' : ''} ({ payload: true } handlers)`,
  met: (r) => ratioOf(r, PAYLOAD, NANO) <= 1.2,
  why: (r) => `${ratioOf(r, PAYLOAD, NANO).toFixed(2)}x; (e) handlers ${ratioOf(r, EVENT, NANO).toFixed(2)}x`,
});
const ahead = {
  text: 'wildcard patterns ahead of every peer',
  met: (r) => Object.keys(r).filter((k) => k.startsWith('nitro') && k.includes('payload')).every((k) => ratioOf(r, k, "mitt '*'") < 1),
  why: (r) => Object.keys(r).filter((k) => k.startsWith('nitro')).map((k) => `${k.slice(11)} ${ratioOf(r, k, "mitt '*'").toFixed(2)}x mitt`).join('; '),
};
const scenarios = [
  { title: `events: emit ${eventsFor(1).toLocaleString('en')} custom events per round to 1 handler`, set: 'contenders', handlers: 1, ref: NANO, goals: [within(1)] },
  { title: `events: emit ${EVENTS.toLocaleString('en')} custom events per round to 10 handlers`, set: 'contenders', handlers: 10, ref: NANO, goals: [within(10)] },
  { title: `events: emit ${eventsFor(1).toLocaleString('en')} custom events per round to a wildcard handler`, set: 'wildcard', handlers: 1, ref: "mitt '*'", goals: [ahead] },
  { title: `events: insert ${INSERTS.toLocaleString('en')} records with and without a 'Task.*' handler`, set: 'store' },
];

// Store writes with events: the same inserts into a fresh store, once with no
// subscriber (C then captures no events at all) and once with one 'Task.*'
// handler (C captures every event and JS delivers it). Alternating rounds,
// the garbage of the variant before collected first: CPU time counts the
// background threads that would otherwise collect it during the next
// variant's inserts (a run with the handler left enough to make the bare
// inserts after it 1.2-1.8x slower, and the ratio of one by one look met).
async function measureStore() {
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
      await settle();
      const nitro = await createNitro();
      const Task = nitro.entity('Task', { fields });
      let seen = 0;
      if (v.handler) nitro.on('Task.*', (e) => { seen += e.type.length; });
      const t0 = cpuMs();
      if (v.bulk) Task.insertMany(rows);
      else for (let i = 0; i < rows.length; i++) Task.create(rows[i]);
      const ms = cpuMs() - t0;
      if (v.handler && seen === 0) throw new Error('handler never ran');
      nitro.close();
      if (r >= 2) times[name].push(ms);
    }
  }
  return Object.fromEntries(Object.keys(variants).map((k) => [k, stats(times[k], INSERTS)]));
}

// CPU time is per process: garbage an earlier suite left in the main
// isolate would be collected by background threads while a worker measures.
// Collect it first and give the sweeper a moment.
async function settle() {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  gc();
  gc();
  await new Promise((resolve) => setTimeout(resolve, 200));
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
  await settle();
  for (let i = 0; i < scenarios.length; i++) {
    const sc = scenarios[i];
    const res = await inWorker(i);
    if (sc.set !== 'store') {
      compare(report, sc.title, res, { ref: sc.ref, goals: sc.goals });
      continue;
    }
    const pick = (keys) => Object.fromEntries(keys.map((k) => [k, res[k]]));
    const keys = Object.keys(res);
    for (const base of [keys[0], keys[2]]) {
      const other = keys[keys.indexOf(base) + 1];
      compare(report, `${sc.title}: ${base.split(',')[0]}`, pick([base, other]), {
        ref: base,
        goals: [{ text: `${other} <= 1.5x the time without`, met: (r) => ratioOf(r, other, base) <= 1.5, why: (r) => `${ratioOf(r, other, base).toFixed(2)}x` }],
      });
    }
  }
}

if (!isMainThread && workerData && workerData.eventsBenchScenario !== undefined) {
  const { set, handlers } = scenarios[workerData.eventsBenchScenario];
  const rows = set === 'store' ? await measureStore() : await measure(set === 'wildcard' ? wildcard : contenders, handlers);
  if (sink === -1) console.log(sink);  // keep `sink` observable
  parentPort.postMessage(rows);
}

if (isMainThread && process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await run(makeReport());
}
