// bench/templates.js - a task table rendered from plain JS data by the nitro
// template engine (WASM) and by the usual JS engines, to a string and to
// bytes. Run directly (`node bench/templates.js`) or through the harness,
// which calls run(report).
//
// Every contender renders the same table (title escaped with <&"', status
// badge, priority, tags, <time>, a data-on:click attribute) from the same
// rows, the way records come out of the store (dates as ISO strings).
// Strings are flattened before the clock stops (indexOf scans the whole
// string, which makes V8 flatten a rope first), so lazy concatenation gets no
// free pass. Rounds interleave the contenders; each figure is the median.
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
import { Core } from '../js/core.js';
import { compileTemplate } from '../js/template.js';

const require = createRequire(import.meta.url);
const Handlebars = require('handlebars');

const STATUSES = ['open', 'done', 'blocked'];

export function makeRows(n) {
  const rows = [];
  const t0 = Date.UTC(2025, 0, 1);
  for (let i = 0; i < n; i++) {
    rows.push({
      id: `t${String(i).padStart(6, '0')}`,
      title: `Task ${i}: fix <b> & "quotes" in Bob's form`,
      status: STATUSES[i % 3],
      priority: 1 + (i % 5),
      tags: i % 4 ? ['ui', `p${i % 3}`] : [],
      due: new Date(t0 + i * 3_600_000).toISOString(),
    });
  }
  return { rows };
}

// ---- the contenders ---------------------------------------------------------------------

const MUSTACHE = `<table id="tasks"><tbody>
{{#rows}}
<tr id="task-{{id}}" data-on:click="@post('/tasks/{{id}}/toggle')"><td class="title">{{title}}</td><td><span class="badge badge-{{status}}">{{status}}</span></td><td class="prio">{{priority}}</td><td>{{#tags}}<span class="tag">{{.}}</span>{{/tags}}</td><td><time datetime="{{due}}">{{due}}</time></td></tr>
{{/rows}}
</tbody></table>`;

const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };
const escapeHtml = (s) => String(s).replace(/[&<>"'`]/g, (c) => ESC[c]);

function literalTable({ rows }) {
  let s = '<table id="tasks"><tbody>\n';
  for (const r of rows) {
    s += `<tr id="task-${escapeHtml(r.id)}" data-on:click="@post('/tasks/${escapeHtml(r.id)}/toggle')"><td class="title">${escapeHtml(r.title)}</td><td><span class="badge badge-${escapeHtml(r.status)}">${escapeHtml(r.status)}</span></td><td class="prio">${r.priority}</td><td>${r.tags.map((t) => `<span class="tag">${escapeHtml(t)}</span>`).join('')}</td><td><time datetime="${escapeHtml(r.due)}">${escapeHtml(r.due)}</time></td></tr>\n`;
  }
  return `${s}</tbody></table>`;
}

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

const flat = (s) => { s.indexOf('\u0000'); return s; };
const utf8 = new TextEncoder();

async function contenders() {
  const core = await Core.create({ wasm: new URL('../dist/nitro.wasm', import.meta.url) });
  const nitro = compileTemplate(core, MUSTACHE);
  const ejsFn = ejs.compile(EJS);
  // precompiled the way a build step ships it, then loaded
  // eslint-disable-next-line no-new-func
  const hbs = Handlebars.template(new Function(`return ${Handlebars.precompile(HANDLEBARS)}`)());
  Mustache.parse(MUSTACHE);
  return {
    strings: [
      ['nitro template (WASM)', (d) => nitro.render(d)],
      ['template literals + escape', (d) => flat(literalTable(d))],
      ['ejs (compiled)', (d) => flat(ejsFn(d))],
      ['mustache.js', (d) => flat(Mustache.render(MUSTACHE, d))],
      ['handlebars (precompiled)', (d) => flat(hbs(d))],
      ['preact-render-to-string', (d) => flat(renderToString(preactTable(d)))],
      ['htm + vhtml', (d) => flat(htmTable(d))],
      ['@lit-labs/ssr', (d) => flat(collectResultSync(litRender(litTable(d))))],
    ],
    bytes: [
      ['nitro template (WASM) -> bytes', (d) => nitro.renderBytes(d)],
      ['template literals + TextEncoder', (d) => utf8.encode(literalTable(d))],
      ['ejs + TextEncoder', (d) => utf8.encode(ejsFn(d))],
      ['handlebars + TextEncoder', (d) => utf8.encode(hbs(d))],
    ],
    check(data) {
      // nitro and the hand-written literals produce the very same markup
      const a = nitro.render(data);
      const b = literalTable(data);
      if (a !== b) throw new Error('nitro and template-literal outputs differ');
    },
  };
}

// ---- measuring ------------------------------------------------------------------------------

function opsPerSec(fn, data, ms) {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  do { fn(data); n++; t = performance.now(); } while (t - t0 < ms);
  return (n * 1000) / (t - t0);
}

function measure(list, data, { rounds = 7, ms = 150 } = {}) {
  const sizes = list.map(([, fn]) => { const out = fn(data); return typeof out === 'string' ? utf8.encode(out).length : out.length; });
  for (const [, fn] of list) opsPerSec(fn, data, ms);           // warm up
  const samples = list.map(() => []);
  for (let r = 0; r < rounds; r++) {
    list.forEach(([, fn], i) => samples[i].push(opsPerSec(fn, data, ms)));
  }
  return list.map(([name], i) => {
    const s = samples[i].sort((a, b) => a - b);
    const ops = s[s.length >> 1];
    const mb = (ops * sizes[i]) / 1e6;
    return { name, opsPerSec: ops, note: `${(sizes[i] / 1024).toFixed(0)} KiB out, ${mb.toFixed(0)} MB/s` };
  });
}

export async function run(report) {
  const c = await contenders();
  for (const n of [1000, 10000]) {
    const data = makeRows(n);
    c.check(data);
    const opts = n > 1000 ? { rounds: 7, ms: 250 } : { rounds: 7, ms: 120 };
    report.table(`templates: ${n.toLocaleString('en')}-row task table -> string`, measure(c.strings, data, opts));
    report.table(`templates: ${n.toLocaleString('en')}-row task table -> UTF-8 bytes`, measure(c.bytes, data, opts));
  }
}

// ---- direct run: a plain table -----------------------------------------------------------

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await run({
    table(title, rows) {
      const best = Math.max(...rows.map((r) => r.opsPerSec));
      console.log(`\n${title}`);
      for (const r of rows) {
        console.log(`  ${r.name.padEnd(34)} ${r.opsPerSec.toFixed(1).padStart(9)} ops/s  ${(r.opsPerSec / best).toFixed(2).padStart(5)}x  ${r.note ?? ''}`);
      }
    },
  });
}
