// Benchmark: a 1,000-row task table rendered to an HTML string by
// nitro-wasm/html builders and by the usual alternatives.
//   node bench/html.js            (or through bench/run.js: export run(report))
// Every contender renders the same markup from the same data; a sanity check
// runs before timing so a broken contender cannot post a fast number.

import { pathToFileURL } from 'node:url';
import { parseFragment } from 'parse5';
import { Table, Thead, Tbody, Tr, Th, Td, Span, Time, on, get } from '../js/html.js';
import { title } from './pages/data.js';

const ROWS = 1000;
const STATUSES = ['open', 'done', 'blocked'];
const TAGS = ['ui', 'api', 'r&d', '<urgent>', 'docs'];

function makeTasks(n) {
  const tasks = [];
  const start = Date.UTC(2025, 0, 1);
  for (let i = 0; i < n; i++) {
    tasks.push({
      id: 't' + String(i).padStart(5, '0'),
      title: title(i),  // the shared generator: ~40% need escaping
      status: STATUSES[i % 3],
      priority: (i % 5) + 1,
      tags: TAGS.slice(i % 4, (i % 4) + 1 + (i % 3)),
      due: new Date(start + i * 3_600_000).toISOString(),
    });
  }
  return tasks;
}

// ---- contenders ----

function nitroTable(tasks) {
  return String(Table({ class: 'tasks' },
    Thead(Tr(Th('Title'), Th('Status'), Th('Priority'), Th('Tags'), Th('Due'))),
    Tbody(tasks.map((t) => Tr({ id: 'task-' + t.id, ...on('click', get('/tasks/' + t.id)) },
      Td({ class: 'title' }, t.title),
      Td(Span({ class: ['badge', 'badge-' + t.status] }, t.status)),
      Td({ class: 'num' }, t.priority),
      Td(t.tags.map((g) => Span({ class: 'tag' }, g))),
      Td(Time({ datetime: t.due }, t.due.slice(0, 10))),
    ))),
  ));
}

const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ESC[c]);

function literalTable(tasks) {
  let rows = '';
  for (const t of tasks) {
    rows += `<tr id="task-${esc(t.id)}" data-on:click="${esc(`@get('/tasks/${t.id}')`)}">` +
      `<td class="title">${esc(t.title)}</td>` +
      `<td><span class="badge badge-${esc(t.status)}">${esc(t.status)}</span></td>` +
      `<td class="num">${t.priority}</td>` +
      `<td>${t.tags.map((g) => `<span class="tag">${esc(g)}</span>`).join('')}</td>` +
      `<td><time datetime="${esc(t.due)}">${esc(t.due.slice(0, 10))}</time></td></tr>`;
  }
  return '<table class="tasks"><thead><tr><th>Title</th><th>Status</th><th>Priority</th><th>Tags</th><th>Due</th></tr></thead>' +
    `<tbody>${rows}</tbody></table>`;
}

async function loadPeers() {
  const peers = [];
  try {
    const { h } = await import('preact');
    const { render } = await import('preact-render-to-string');
    const row = (t) => h('tr', { id: 'task-' + t.id, 'data-on:click': `@get('/tasks/${t.id}')` },
      h('td', { class: 'title' }, t.title),
      h('td', null, h('span', { class: 'badge badge-' + t.status }, t.status)),
      h('td', { class: 'num' }, t.priority),
      h('td', null, t.tags.map((g) => h('span', { class: 'tag' }, g))),
      h('td', null, h('time', { dateTime: t.due }, t.due.slice(0, 10))));
    peers.push(['preact-render-to-string', (tasks) => render(
      h('table', { class: 'tasks' },
        h('thead', null, h('tr', null, h('th', null, 'Title'), h('th', null, 'Status'), h('th', null, 'Priority'), h('th', null, 'Tags'), h('th', null, 'Due'))),
        h('tbody', null, tasks.map(row))))]);
  } catch (e) {
    peers.push(['preact-render-to-string', null, e.message]);
  }
  try {
    const htm = (await import('htm')).default;
    const vhtml = (await import('vhtml')).default;
    const html = htm.bind(vhtml);
    const row = (t) => html`<tr id=${'task-' + t.id} data-on:click=${`@get('/tasks/${t.id}')`}>
<td class="title">${t.title}</td><td><span class=${'badge badge-' + t.status}>${t.status}</span></td>
<td class="num">${t.priority}</td><td>${t.tags.map((g) => html`<span class="tag">${g}</span>`)}</td>
<td><time datetime=${t.due}>${t.due.slice(0, 10)}</time></td></tr>`;
    peers.push(['htm + vhtml', (tasks) => html`<table class="tasks"><thead><tr><th>Title</th><th>Status</th><th>Priority</th><th>Tags</th><th>Due</th></tr></thead><tbody>${tasks.map(row)}</tbody></table>`]);
  } catch (e) {
    peers.push(['htm + vhtml', null, e.message]);
  }
  try {
    const { html } = await import('lit');
    const { render } = await import('@lit-labs/ssr');
    const { collectResultSync } = await import('@lit-labs/ssr/lib/render-result.js');
    const row = (t) => html`<tr id="task-${t.id}" data-on:click="${`@get('/tasks/${t.id}')`}"><td class="title">${t.title}</td><td><span class="badge badge-${t.status}">${t.status}</span></td><td class="num">${t.priority}</td><td>${t.tags.map((g) => html`<span class="tag">${g}</span>`)}</td><td><time datetime="${t.due}">${t.due.slice(0, 10)}</time></td></tr>`;
    peers.push(['lit (@lit-labs/ssr)', (tasks) => collectResultSync(render(html`<table class="tasks"><thead><tr><th>Title</th><th>Status</th><th>Priority</th><th>Tags</th><th>Due</th></tr></thead><tbody>${tasks.map(row)}</tbody></table>`))]);
  } catch (e) {
    peers.push(['lit (@lit-labs/ssr)', null, e.message]);
  }
  return peers;
}

// What a browser would build from the markup (comments such as lit's part
// markers and whitespace-only text ignored), so contenders can be compared.
function domSignature(markup) {
  const parts = [];
  const walk = (n) => {
    if (n.tagName) parts.push('<' + n.tagName + ' ' + n.attrs.map((a) => `${a.name}=${JSON.stringify(a.value)}`).sort().join(' ') + '>');
    else if (n.nodeName === '#text' && n.value.trim() !== '') parts.push(n.value);
    for (const c of n.childNodes ?? []) walk(c);
  };
  walk(parseFragment(markup));
  return parts.join('');
}

// Before timing: every contender must build the same DOM, titles escaped.
function check(name, out, reference) {
  if (out.includes('<alpha>')) throw new Error(`${name}: title not escaped`);  // record 0's title holds <alpha>
  if (domSignature(out) !== reference) throw new Error(`${name}: renders different markup from nitro-wasm/html`);
}

function opsPerSec(fn, arg, ms) {
  let n = 0;
  let sink = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    sink += fn(arg).length;
    n++;
    t = performance.now();
  }
  if (sink === 0) throw new Error('empty output');
  return (n * 1000) / (t - t0);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run(report, { rounds = 7, roundMs = 250 } = {}) {
  const tasks = makeTasks(ROWS);
  const contenders = [
    ['nitro-wasm/html builders', nitroTable],
    ['template literals + escape', literalTable],
    ...(await loadPeers()),
  ];
  const live = [];
  const rows = [];
  const reference = domSignature(nitroTable(tasks));
  for (const [name, fn, error] of contenders) {
    if (!fn) {
      rows.push({ name, opsPerSec: 0, note: 'unavailable: ' + error });
      continue;
    }
    const out = fn(tasks);
    check(name, out, reference);
    for (let i = 0; i < 30; i++) fn(tasks); // warm up the JIT
    live.push({ name, fn, size: out.length, samples: [] });
  }
  // Side by side: every round runs each contender once, so drift hits all alike.
  for (let r = 0; r < rounds; r++) {
    for (const c of live) c.samples.push(opsPerSec(c.fn, tasks, roundMs));
  }
  for (const c of live) {
    rows.push({ name: c.name, opsPerSec: median(c.samples), note: `${(c.size / 1024).toFixed(0)} KiB output, median of ${rounds}` });
  }
  rows.sort((a, b) => b.opsPerSec - a.opsPerSec);
  report.table(`HTML: ${ROWS}-row task table to a string`, rows);
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { makeReport } = await import('./harness.js');
  await run(makeReport());
}
