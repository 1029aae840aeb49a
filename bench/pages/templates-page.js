// templates-page.js - the Chromium half of the template bench, run inside the
// page by bench/templates-browser.js through window.bench. It uses the ESM
// build from /dist/ as an app would, the same table and baseline as the Node
// bench (table.js), and records living in a nitro store.
import { createNitro } from '/dist/nitro.js';
import { makeRows, TASK, ROW, TABLE, ROWS, literalTable, flat, measure, median, decodeChunked, rawRenderer } from './table.js';

const MAX_ROWS = 10000;
const status = document.getElementById('status');
const host = document.getElementById('host');

const nitro = await createNitro();
const Task = nitro.entity('Task', TASK);
Task.insertMany(makeRows(MAX_ROWS).rows);
const row = nitro.template(ROW);
const table = nitro.template(TABLE, { partials: { row } });
const someRows = nitro.template(ROWS, { partials: { row } });
const utf8 = new TextDecoder();

const tableQuery = (n) => Task.query().orderBy('due').limit(n);

/** Whole table to a string: from the query handle, from the same records as
 * JS objects, and with template literals (the baseline). */
function strings(n, opts) {
  const q = tableQuery(n);
  const data = { rows: q.all() };
  const want = literalTable(data);
  if (table.render({ rows: q }) !== want || table.render(data) !== want) throw new Error('nitro and template-literal outputs differ');
  const bytes = new TextEncoder().encode(want).length;
  const list = [
    ['nitro: query handle -> string', () => table.render({ rows: q })],
    ['nitro: JS records -> string', () => table.render(data)],
    ['template literals + escape', () => flat(literalTable(data))],
  ];
  const ops = measure(list, opts);
  return { bytes, rows: list.map(([name], i) => ({ name, opsPerSec: ops[i] })) };
}

/** Where nitro's time goes: the query, the C render, copying and decoding
 * its output; plus decoding in 64 KiB pieces, a candidate for render(). */
function breakdown(n, opts) {
  const q = tableQuery(n);
  const out = table.renderBytes({ rows: q });
  const none = nitro.template('');
  const raw = rawRenderer(nitro, TABLE, { row: ROW }, { rows: q });
  const want = utf8.decode(out);
  if (raw && utf8.decode(raw.outView()) !== want) throw new Error('the raw render differs from renderBytes()');
  if (decodeChunked(out) !== want) throw new Error('chunked decoding differs');
  const list = [
    ['nitro: query -> string (render)', () => table.render({ rows: q })],
    ['nitro step: run the query only', () => none.renderBytes({ rows: q })],
    ...(raw ? [
      ['nitro step: query + C render, no copy', raw.render],
      ['nitro idea: C render + 64 KiB-chunk decode', () => { raw.render(); return decodeChunked(raw.outView()); }],
    ] : []),
    ['nitro step: copy output out of WASM', () => out.slice()],
    ['nitro step: TextDecoder utf-8, one call', () => utf8.decode(out)],
    ['nitro step: TextDecoder, 64 KiB chunks, join', () => decodeChunked(out)],
  ];
  const ops = measure(list, opts);
  raw?.free();
  none.free();
  return { bytes: out.length, rows: list.map(([name], i) => ({ name, opsPerSec: ops[i] })) };
}

const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));
/** Resolves after the next frame has been produced: a task queued from a
 * rAF callback runs after that frame's style, layout and paint. */
const afterPaint = () => new Promise((resolve) => requestAnimationFrame(() => {
  const t = performance.now();
  const ch = new MessageChannel();
  ch.port1.onmessage = () => resolve({ raf: t, done: performance.now() });
  ch.port2.postMessage(0);
}));

// A small deterministic PRNG, so every run changes the same rows.
function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6D2B79F5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STATUSES = TASK.fields.status.values;

/** Renders the 10,000-row table into the page once, then `trials` times:
 * updates 10 records in the store, re-renders only those rows (one render,
 * from a query handle or from getMany records: `how`), and swaps them in by
 * id. Script time is the JS work between
 * the write and the patched DOM; the frame that shows it is timed apart. */
const FETCH = {
  // a query handle, iterated inside WASM (the query runs in C)
  query: (ids) => someRows.render({ rows: Task.where({ id: { in: ids } }) }),
  // the records by primary key, as JS objects, through the same template
  getMany: (ids) => someRows.render({ rows: Task.getMany(ids) }),
};

async function patch(how = 'query', trials = 40, changed = 10) {
  const renderRows = FETCH[how];
  host.textContent = '';
  await afterPaint();
  let t0 = performance.now();
  host.innerHTML = table.render({ rows: tableQuery(MAX_ROWS) });
  const fullScript = performance.now() - t0;
  const fullFrame = (await afterPaint()).done - t0;

  const scratch = document.createElement('template');
  const rand = prng(42);
  const ids = Task.query().orderBy('due').limit(MAX_ROWS).ids();
  const s = { update: [], render: [], dom: [], script: [], toFrame: [], frameWork: [] };
  for (let k = 0; k < trials + 3; k++) {
    const pick = new Set();
    while (pick.size < changed) pick.add(ids[Math.floor(rand() * ids.length)]);
    const changedIds = [...pick];

    let t = performance.now();
    nitro.transaction(() => {
      for (const id of changedIds) Task.update(id, { title: `Edited ${k} <i>${id}</i> & "done"`, status: STATUSES[k % 3] });
    });
    const tUpdate = performance.now() - t;

    t0 = performance.now();
    const html = renderRows(changedIds);
    const t1 = performance.now();
    scratch.innerHTML = html;
    for (let el = scratch.content.firstElementChild; el; el = scratch.content.firstElementChild) {
      document.getElementById(el.id).replaceWith(el);
    }
    const t2 = performance.now();
    const frame = await afterPaint();
    if (k < 3) continue; // warm-up trials
    s.update.push(tUpdate);
    s.render.push(t1 - t0);
    s.dom.push(t2 - t1);
    s.script.push(t2 - t0);
    s.toFrame.push(frame.done - t0);
    s.frameWork.push(frame.done - frame.raf);
  }

  // the patched page equals a fresh render of the whole table
  scratch.innerHTML = table.render({ rows: tableQuery(MAX_ROWS) });
  const fresh = scratch.content.querySelector('tbody').innerHTML;
  if (host.querySelector('tbody').innerHTML !== fresh) throw new Error('the patched table differs from a fresh render');
  const rowsInDom = host.querySelectorAll('tbody > tr').length;

  const stats = (xs) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return { median: median(xs), p90: sorted[Math.floor(sorted.length * 0.9)], max: sorted[sorted.length - 1] };
  };
  return {
    how, trials, changed, rowsInDom, fullScript, fullFrame,
    update: stats(s.update), render: stats(s.render), dom: stats(s.dom),
    script: stats(s.script), toFrame: stats(s.toFrame), frameWork: stats(s.frameWork),
  };
}

window.bench = {
  info: () => ({ userAgent: navigator.userAgent, crossOriginIsolated: globalThis.crossOriginIsolated === true }),
  strings,
  breakdown,
  patch,
};
status.textContent = `ready: ${MAX_ROWS} tasks in the store`;
window.benchReady = true;
