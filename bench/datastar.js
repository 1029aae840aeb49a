// bench/datastar.js - the Datastar bridge (js/datastar-client.js).
//
// 1. Node: 10,000 records bound to one signal; 1,000 of them updated in one
//    transaction. Checks that the patch sent to Datastar holds exactly those
//    1,000 records (only the changed field), and times building it: the
//    bridge's work during the transaction (its event handlers) plus the
//    flush that turns the collected events into the patch and its JSON.
//    Datastar is a stand-in that only records the patch event, so what is
//    timed is ours alone. Goal: under 10 ms.
// 2. Chromium with Datastar 1.0.2 (web/test/datastar-bench.html): time from a
//    write of 1 and of 1,000 shown rows to the DOM showing it, through
//    data-text bindings and through a live fragment re-rendered from the
//    store and morphed in (batched per animation frame, so it includes the
//    wait for the next frame). Skipped without Chromium or the 1.0.2 bundle.
//
//   node bench/datastar.js            prints a plain table
//   import { run } from './datastar.js'; await run(report)   (the bench harness)
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeReport, now } from './harness.js';
import { createNitro } from '../dist/nitro.js';
import { connectDatastar } from '../dist/datastar.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..');
const N = 10_000;
const CHANGED = 1_000;
const ROUNDS = 9;          // Chromium
const NODE_ROUNDS = 21;
const CHROMIUM = '/usr/bin/chromium';

const id = (i) => `t${String(i).padStart(5, '0')}`;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const fmtMs = (ms) => `${ms.toFixed(2)} ms`;
const row = (name, ms, note) => ({ name, opsPerSec: 1000 / ms, note: `${fmtMs(ms)}${note ? `; ${note}` : ''}` });

const def = {
  fields: {
    title: { type: 'string', required: true },
    status: { type: 'enum', values: ['open', 'done', 'blocked'], default: 'open' },
    priority: { type: 'int', min: 1, max: 5, default: 3 },
    tags: { type: 'list', of: 'string', default: [] },
  },
};

/** A Datastar 1.0 stand-in: takes the patch events and keeps the last one. */
function fakeDatastar() {
  const doc = new EventTarget();
  const fake = { doc, last: null, events: 0 };
  doc.addEventListener('datastar-fetch', (e) => { fake.events++; fake.last = e.detail.argsRaw.signals; });
  fake.module = { action() {}, mergePatch() {}, getPath() { return undefined; } };
  return fake;
}

async function store(withBridge, viaQuery = false) {
  const nitro = await createNitro();
  const Task = nitro.entity('Task', def);
  Task.insertMany(Array.from({ length: N }, (_, i) => ({ id: id(i), title: `task ${i}`, tags: ['a'] })));
  let fake = null;
  let ds = null;
  if (withBridge) {
    fake = fakeDatastar();
    ds = connectDatastar(nitro, { document: fake.doc, datastar: fake.module });
    ds.bind('tasks', viaQuery ? Task.where({ status: 'open' }) : Task);
  } else {
    // The same event capture and delivery, with a handler that does nothing.
    for (const t of ['created', 'updated', 'deleted', 'expired']) nitro.on(`Task.${t}`, () => {});
  }
  return { nitro, Task, fake, ds };
}

async function nodePart(report) {
  const bridged = await store(true);
  const plain = await store(false);
  const queried = await store(true, true);
  let round = 0;
  const write = ({ nitro, Task }) => {
    round++;
    const start = (round * 7919) % (N - CHANGED);   // a different slice each round
    nitro.transaction(() => {
      for (let i = 0; i < CHANGED; i++) Task.update(id(start + i), { title: `round ${round} #${i}` });
    });
    return start;
  };

  const txBridge = [];
  const flush = [];
  const txPlain = [];
  const flushQuery = [];
  for (let r = 0; r < NODE_ROUNDS + 2; r++) {
    let t = now();
    write(plain);
    const tp = now() - t;

    t = now();
    const start = write(bridged);
    const t1 = now();
    bridged.ds.flush();
    const t2 = now();

    // The patch holds the 1,000 changed records, and only their title.
    const patch = JSON.parse(bridged.fake.last);
    const ids = Object.keys(patch.tasks);
    if (ids.length !== CHANGED || ids[0] !== id(start) || ids.at(-1) !== id(start + CHANGED - 1)) {
      throw new Error(`bench/datastar: the patch holds ${ids.length} records, expected the ${CHANGED} changed ones`);
    }
    if (Object.keys(patch.tasks[ids[0]]).join() !== 'title' || Object.keys(patch).join() !== 'tasks') {
      throw new Error(`bench/datastar: the patch holds more than the changed field: ${JSON.stringify(patch.tasks[ids[0]])}`);
    }
    write(queried);
    const t3 = now();
    queried.ds.flush();
    const tq = now() - t3;
    if (Object.keys(JSON.parse(queried.fake.last).tasks).length !== CHANGED) throw new Error('bench/datastar: query binding patch size');
    if (r < 2) continue;   // warm-up
    flushQuery.push(tq);
    txPlain.push(tp);
    txBridge.push(t1 - t);
    flush.push(t2 - t1);
  }
  // The handlers' share is the transaction's extra time over the no-op
  // listener (medians: a per-round difference is mostly noise).
  const build = Math.max(0, median(txBridge) - median(txPlain)) + median(flush);
  const bytes = Buffer.byteLength(bridged.fake.last);
  report.table(`Datastar bridge: ${CHANGED.toLocaleString('en')} of ${N.toLocaleString('en')} bound records updated in one transaction (median of ${NODE_ROUNDS})`, [
    row('nitro patch build (handlers + flush)', build, `goal < 10 ms; ${(bytes / 1024).toFixed(0)} KB JSON, ${CHANGED} records`),
    row('nitro flush (diff, JSON)', median(flush)),
    row('nitro flush, query binding', median(flushQuery), "where status = 'open': + which changed records still match"),
    row('nitro transaction, bridge bound', median(txBridge), 'writes + events + bridge handlers'),
    row('nitro transaction, no-op listener', median(txPlain), 'the same writes and events, no bridge'),
  ]);
  bridged.nitro.close();
  queried.nitro.close();
  plain.nitro.close();
  return build;
}

async function browserPart(report) {
  const bundle = path.resolve(repoRoot, '..', 'shared', 'datastar-1.0.2', 'datastar.js');
  if (!fs.existsSync(CHROMIUM) || !fs.existsSync(bundle)) {
    report.line?.(`\nDatastar bridge in Chromium: skipped (${!fs.existsSync(CHROMIUM) ? `${CHROMIUM} missing` : '../shared/datastar-1.0.2 missing'})`);
    return;
  }
  const { staticHandler, defaultRootMap } = await import('../scripts/serve.js');
  const { chromium } = await import('playwright-core');
  const statics = staticHandler(defaultRootMap(repoRoot));
  const server = http.createServer((req, res) => statics(req, res));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(`http://127.0.0.1:${server.address().port}/test/datastar-bench.html`);
    await page.waitForSelector('body[data-ready="true"]', { state: 'attached', timeout: 60_000 });
    const rows = [];
    for (const n of [1, CHANGED]) {
      const results = await page.evaluate(async ({ n, rounds }) => {
        const out = [];
        for (let i = 0; i < rounds + 2; i++) out.push(await window.bench.write(n));
        return out.slice(2);
      }, { n, rounds: ROUNDS });
      if (results.some((r) => !(r.signals >= 0) || !(r.fragment >= 0))) throw new Error('bench/datastar: the DOM did not show the write');
      rows.push(row(`nitro write -> data-text, ${n} row${n > 1 ? 's' : ''}`, median(results.map((r) => r.signals)), 'signal patch, Datastar effects'));
      rows.push(row(`nitro write -> fragment morph, ${n} row${n > 1 ? 's' : ''}`, median(results.map((r) => r.fragment)), '1,000-row template, next animation frame'));
    }
    if (errors.length) throw new Error(`bench/datastar: page errors: ${errors.join('; ')}`);
    report.table(`Datastar bridge in Chromium (Datastar 1.0.2): write to DOM updated, ${N.toLocaleString('en')} records bound (median of ${ROUNDS})`, rows);
  } finally {
    await browser.close();
    await new Promise((r) => { server.close(r); server.closeAllConnections(); });
  }
}

export async function run(report) {
  await nodePart(report);
  await browserPart(report);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await run(makeReport());
}
