// bench/templates.js - the task table of issue 6 rendered by the nitro
// template engine (WASM) and by the usual JS engines, to a string and to
// bytes, at 1,000 and 10,000 rows. Run directly (`node bench/templates.js`)
// or through the harness, which calls run(report).
//
// The records live in a nitro store (entity Task, see pages/table.js). nitro
// renders them two ways: from a query handle (`{ rows: Task.query()
// .orderBy('due').limit(n) }`, iterated inside WASM, no JS object per row)
// and from the same records as JS objects (`q.all()`, fetched once, the way
// an app holds them), which is also what every JS contender renders. Strings
// are flattened before the clock stops (see flat()); rounds alternate the
// contenders; each figure is the median round. After the tables come the
// issue's goals, PASS or FAIL, then where nitro's time goes, then the same
// measurements in Chromium (bench/templates-browser.js; skipped when
// /usr/bin/chromium is missing or NITRO_BENCH_BROWSER=0).
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import ejs from 'ejs';
import Mustache from 'mustache';
import { h } from 'preact';
import renderToString from 'preact-render-to-string';
import htm from 'htm';
import vhtml from 'vhtml';
import { html as litHtml } from 'lit';
import { render as litRender } from '@lit-labs/ssr';
import { collectResultSync } from '@lit-labs/ssr/lib/render-result.js';
import { createNitro } from '../js/nitro.js';
import { makeRows, TASK, ROW, TABLE, MUSTACHE, literalTable, flat, measure, rawRenderer, goal } from './pages/table.js';

export { makeRows };

const require = createRequire(import.meta.url);
const Handlebars = require('handlebars');

const SIZES = [1000, 10000];

// ---- the JS contenders (same markup as pages/table.js) -------------------------------------

const EJS = `<table id="tasks"><tbody>
<% for (const r of rows) { %><tr id="task-<%= r.id %>" data-on:click="@post('/tasks/<%= r.id %>/toggle')"><td class="title"><%= r.title %></td><td><span class="badge badge-<%= r.status %>"><%= r.status %></span></td><td class="prio"><%= r.priority %></td><td><% for (const t of r.tags) { %><span class="tag"><%= t %></span><% } %></td><td><time datetime="<%= r.due %>"><%= r.due %></time></td></tr>
<% } %></tbody></table>`;

const HANDLEBARS = `<table id="tasks"><tbody>
{{#each rows}}<tr id="task-{{id}}" data-on:click="@post('/tasks/{{id}}/toggle')"><td class="title">{{title}}</td><td><span class="badge badge-{{status}}">{{status}}</span></td><td class="prio">{{priority}}</td><td>{{#each tags}}<span class="tag">{{this}}</span>{{/each}}</td><td><time datetime="{{due}}">{{due}}</time></td></tr>
{{/each}}</tbody></table>`;

function preactTable({ rows }) {
  return h('table', { id: 'tasks' }, h('tbody', null, rows.map((r) => h('tr', { id: `task-${r.id}`, 'data-on:click': `@post('/tasks/${r.id}/toggle')` },
    h('td', { class: 'title' }, r.title),
    h('td', null, h('span', { class: `badge badge-${r.status}` }, r.status)),
    h('td', { class: 'prio' }, r.priority),
    h('td', null, r.tags.map((t) => h('span', { class: 'tag' }, t))),
    h('td', null, h('time', { datetime: r.due }, r.due))))));
}

const vh = htm.bind(vhtml);
function htmTable({ rows }) {
  return vh`<table id="tasks"><tbody>${rows.map((r) => vh`<tr id=${`task-${r.id}`} data-on:click=${`@post('/tasks/${r.id}/toggle')`}><td class="title">${r.title}</td><td><span class=${`badge badge-${r.status}`}>${r.status}</span></td><td class="prio">${r.priority}</td><td>${r.tags.map((t) => vh`<span class="tag">${t}</span>`)}</td><td><time datetime=${r.due}>${r.due}</time></td></tr>`)}</tbody></table>`;
}

function litTable({ rows }) {
  return litHtml`<table id="tasks"><tbody>${rows.map((r) => litHtml`<tr id="task-${r.id}" data-on:click="@post('/tasks/${r.id}/toggle')"><td class="title">${r.title}</td><td><span class="badge badge-${r.status}">${r.status}</span></td><td class="prio">${r.priority}</td><td>${r.tags.map((t) => litHtml`<span class="tag">${t}</span>`)}</td><td><time datetime="${r.due}">${r.due}</time></td></tr>`)}</tbody></table>`;
}

const utf8 = new TextEncoder();
const utf8dec = new TextDecoder();

async function setup() {
  const nitro = await createNitro({ wasm: new URL('../dist/nitro.wasm', import.meta.url) });
  const Task = nitro.entity('Task', TASK);
  Task.insertMany(makeRows(Math.max(...SIZES)).rows);
  const row = nitro.template(ROW);
  const table = nitro.template(TABLE, { partials: { row } });
  const ejsFn = ejs.compile(EJS);
  // precompiled the way a build step ships it, then loaded
  // eslint-disable-next-line no-new-func
  const hbs = Handlebars.template(new Function(`return ${Handlebars.precompile(HANDLEBARS)}`)());
  Mustache.parse(MUSTACHE);
  return { nitro, Task, table, ejsFn, hbs };
}

/** The contenders for one size: `q` is the query handle, `data` the same
 * records as JS objects. */
function contenders({ table, ejsFn, hbs }, q, data) {
  return {
    strings: [
      ['nitro: query handle -> string', () => table.render({ rows: q })],
      ['nitro: JS records -> string', () => table.render(data)],
      ['template literals + escape', () => flat(literalTable(data))],
      ['ejs (compiled)', () => flat(ejsFn(data))],
      ['mustache.js', () => flat(Mustache.render(MUSTACHE, data))],
      ['handlebars (precompiled)', () => flat(hbs(data))],
      ['preact-render-to-string', () => flat(renderToString(preactTable(data)))],
      ['htm + vhtml', () => flat(htmTable(data))],
      ['@lit-labs/ssr', () => flat(collectResultSync(litRender(litTable(data))))],
    ],
    bytes: [
      ['nitro: query handle -> bytes', () => table.renderBytes({ rows: q })],
      ['nitro: JS records -> bytes', () => table.renderBytes(data)],
      ['template literals + Buffer.from', () => Buffer.from(literalTable(data))],
      ['template literals + TextEncoder', () => utf8.encode(literalTable(data))],
      ['ejs + Buffer.from', () => Buffer.from(ejsFn(data))],
      ['handlebars + Buffer.from', () => Buffer.from(hbs(data))],
    ],
  };
}

const sizeOf = (out) => (typeof out === 'string' ? Buffer.byteLength(out) : out.length);
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
const mbps = (ops, bytes) => `${((ops * bytes) / 1e6).toFixed(0)} MB/s`;

function rowsOf(list, opts) {
  const sizes = list.map(([, fn]) => sizeOf(fn()));
  const ops = measure(list, opts);
  return list.map(([name], i) => ({ name, opsPerSec: ops[i], note: `${kib(sizes[i])} out, ${mbps(ops[i], sizes[i])}, ${(1000 / ops[i]).toFixed(2)} ms` }));
}

export async function run(report) {
  const say = (s) => (report.line ? report.line(s) : console.log(s));
  const env = await setup();
  const { Task, table } = env;
  let breakdownData = null;
  for (const n of SIZES) {
    const q = Task.query().orderBy('due').limit(n);
    const data = { rows: q.all() };
    // same bytes from every path nitro takes and from the baseline
    const want = literalTable(data);
    if (table.render({ rows: q }) !== want || table.render(data) !== want || Mustache.render(MUSTACHE, data) !== want
        || utf8dec.decode(table.renderBytes({ rows: q })) !== want) {
      throw new Error('nitro, mustache.js and template-literal outputs differ');
    }
    const c = contenders(env, q, data);
    const opts = n > 1000 ? { rounds: 7, ms: 250 } : { rounds: 7, ms: 120 };
    const label = `${n.toLocaleString('en')}-row task table`;
    const s = rowsOf(c.strings, opts);
    report.table(`templates (Node ${process.version}): ${label} -> string`, s);
    const b = rowsOf(c.bytes, opts);
    report.table(`templates (Node ${process.version}): ${label} -> UTF-8 bytes`, b);

    const ops = Object.fromEntries([...s, ...b].map((r) => [r.name, r.opsPerSec]));
    const query = ops['nitro: query handle -> string'];
    const viaJs = ops['nitro: JS records -> string'];
    const lit = ops['template literals + escape'];
    const litBytes = Math.max(ops['template literals + Buffer.from'], ops['template literals + TextEncoder']);
    say(`\ngoals, Node, ${label} (nitro / contender, ops/s ratio):`);
    say(goal('query handle -> string vs template literals', query / lit, 1.5));
    say(goal('query handle -> bytes vs literals + best encoder', ops['nitro: query handle -> bytes'] / litBytes, 4));
    say(goal('JS records -> string vs template literals', viaJs / lit, 1 / 1.2));
    for (const [peer, need] of [['ejs (compiled)', 3], ['mustache.js', 10], ['handlebars (precompiled)', 10]]) {
      say(goal(`query handle -> string vs ${peer}`, query / ops[peer], need));
      say(goal(`JS records -> string vs ${peer}`, viaJs / ops[peer], need));
    }
    breakdownData = { q, data };
  }
  breakdown(report, env, breakdownData);
  env.nitro.close();

  if (process.env.NITRO_BENCH_BROWSER === '0') return;
  if (!fs.existsSync('/usr/bin/chromium')) {
    say('\ntemplates in Chromium: skipped (/usr/bin/chromium not found)');
    return;
  }
  const browser = await import('./templates-browser.js');
  await browser.run(report);
}

/** Where nitro's time goes for the biggest table: each step on its own.
 * "C only" uses instance internals (see rawRenderer) and is left out if
 * they change. */
function breakdown(report, { nitro, table }, { q, data }) {
  const out = table.renderBytes({ rows: q });
  const core = nitro.core;
  const none = nitro.template('');
  const raw = rawRenderer(nitro, TABLE, { row: ROW }, { rows: q });
  if (raw && !Buffer.from(raw.outView()).equals(out)) throw new Error('the raw render differs from renderBytes()');
  const reuse = new Uint8Array(out.length);
  const steps = [
    ['nitro: query -> bytes (renderBytes)', () => table.renderBytes({ rows: q })],
    ['nitro: query -> string (render)', () => table.render({ rows: q })],
    ['nitro step: run the query only', () => none.renderBytes({ rows: q })],
    ...(raw ? [
      ['nitro step: query + C render, no copy', raw.render],
      // bytes without a fresh allocation: copied into a buffer the caller reuses
      ['nitro idea: C render + copy into reused buffer', () => { raw.render(); reuse.set(raw.outView()); return reuse; }],
    ] : []),
    ['nitro step: copy output out of WASM', () => out.slice()],
    ['nitro step: TextDecoder utf-8 -> string', () => utf8dec.decode(out)],
    // what render() uses in Node for big pure-ASCII outputs (an external string)
    ['nitro step: Buffer latin1Slice -> string', () => Buffer.prototype.latin1Slice.call(out, 0, out.length)],
    ['nitro: JS records -> bytes (renderBytes)', () => table.renderBytes(data)],
    // the JS half of the line above: records encoded into the bytes C reads
    ['nitro step: encode JS records (nval)', () => core.enc.reset().value(data)],
  ];
  const ops = measure(steps, { rounds: 7, ms: 200 });
  raw?.free();
  none.free();
  report.table(`templates (Node): where the time goes, ${data.rows.length.toLocaleString('en')} rows, ${kib(out.length)} of output`,
    steps.map(([name], i) => ({ name, opsPerSec: ops[i], note: `${(1000 / ops[i]).toFixed(2)} ms` })));
}

// ---- direct run: a plain table -----------------------------------------------------------

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { makeReport } = await import('./harness.js');
  await run(makeReport());
}
