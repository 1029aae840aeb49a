// table.js - the task table every template contender renders, shared by the
// Node bench (bench/templates.js) and the Chromium page (templates.html), so
// both measure exactly the same markup from the same rows.
//
// A row: title (~40% need escaping, see data.js), status badge, priority, tags, a <time>,
// a data-on:click attribute. Rows look the way records come out of the
// store (dates as ISO strings), and the store schema below holds them.

import { title, STATUSES } from './data.js';

/** `n` task rows as plain objects, in `due` order (which is also id order). */
export function makeRows(n) {
  const rows = [];
  const t0 = Date.UTC(2025, 0, 1);
  for (let i = 0; i < n; i++) {
    rows.push({
      id: `t${String(i).padStart(6, '0')}`,
      title: title(i),  // the shared generator: ~40% need escaping
      status: STATUSES[i % 3],
      priority: 1 + (i % 5),
      tags: i % 4 ? ['ui', `p${i % 3}`] : [],
      due: new Date(t0 + i * 3_600_000).toISOString(),
    });
  }
  return { rows };
}

/** The Task entity the rows are stored in; `due` is indexed so that
 * `orderBy('due')` walks an index, as an app listing by date would. */
export const TASK = {
  fields: {
    id: { type: 'id' },
    title: { type: 'string', required: true },
    status: { type: 'enum', values: STATUSES, default: 'open' },
    priority: { type: 'int', min: 1, max: 5, default: 3 },
    tags: { type: 'list', of: 'string', default: [] },
    due: { type: 'datetime', optional: true },
  },
  indexes: ['due'],
};

/** One row, a Mustache partial (with its line break). */
export const ROW = `<tr id="task-{{id}}" data-on:click="@post('/tasks/{{id}}/toggle')"><td class="title">{{title}}</td><td><span class="badge badge-{{status}}">{{status}}</span></td><td class="prio">{{priority}}</td><td>{{#tags}}<span class="tag">{{.}}</span>{{/tags}}</td><td><time datetime="{{due}}">{{due}}</time></td></tr>
`;
/** The whole table through the row partial (what nitro renders). */
export const TABLE = '<table id="tasks"><tbody>\n{{#rows}}{{>row}}{{/rows}}</tbody></table>';
/** Only some rows, for patching a page in place. */
export const ROWS = '{{#rows}}{{>row}}{{/rows}}';

/** The same table as one Mustache source (for mustache.js, which renders the
 * same bytes as TABLE + ROW). */
export const MUSTACHE = `<table id="tasks"><tbody>
{{#rows}}
${ROW}{{/rows}}
</tbody></table>`;

// A hand-written escape as a careful app would write it: one regex scan for
// the common case (nothing to escape, returned as is), then a char loop.
// Faster than `replace(/[&<>"'`]/g, fn)`, so the baseline is not a straw man.
const SPECIAL = /[&<>"'`]/;
export function escapeHtml(value) {
  const s = `${value}`;
  const m = SPECIAL.exec(s);
  if (m === null) return s;
  let out = '';
  let last = 0;
  for (let i = m.index; i < s.length; i++) {
    let e;
    switch (s.charCodeAt(i)) {
      case 38: e = '&amp;'; break;
      case 60: e = '&lt;'; break;
      case 62: e = '&gt;'; break;
      case 34: e = '&quot;'; break;
      case 39: e = '&#39;'; break;
      case 96: e = '&#96;'; break;
      default: continue;
    }
    if (last !== i) out += s.slice(last, i);
    out += e;
    last = i + 1;
  }
  return last < s.length ? out + s.slice(last) : out;
}

/** One row with template literals. */
export function literalRow(r) {
  let tags = '';
  for (const t of r.tags) tags += `<span class="tag">${escapeHtml(t)}</span>`;
  return `<tr id="task-${escapeHtml(r.id)}" data-on:click="@post('/tasks/${escapeHtml(r.id)}/toggle')"><td class="title">${escapeHtml(r.title)}</td><td><span class="badge badge-${escapeHtml(r.status)}">${escapeHtml(r.status)}</span></td><td class="prio">${r.priority}</td><td>${tags}</td><td><time datetime="${escapeHtml(r.due)}">${escapeHtml(r.due)}</time></td></tr>\n`;
}

/** The table with template literals. */
export function literalTable({ rows }) {
  let s = '<table id="tasks"><tbody>\n';
  for (const r of rows) s += literalRow(r);
  return `${s}</tbody></table>`;
}

/** Makes V8 flatten a rope string, so lazy concatenation pays before the
 * clock stops: the string must be usable. charCodeAt on a rope flattens it
 * (and costs nothing on a flat string); the result goes to a sink because an
 * unused result was seen optimised away. */
let sink = 0;
export function flat(s) {
  sink ^= s.charCodeAt(0);
  return s;
}
/** Keeps `flat` results observable (never called in the loops). */
export const flatSink = () => sink;

/** UTF-8 bytes to one string through TextDecoder in `chunk`-byte pieces
 * (streaming, so a character split between pieces stays whole), joined.
 * Measured here as a candidate for big outputs in browsers. */
const chunkDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
export function decodeChunked(u8, chunk = 65536) {
  const parts = [];
  for (let i = 0; i < u8.length; i += chunk) {
    const end = Math.min(u8.length, i + chunk);
    parts.push(chunkDecoder.decode(u8.subarray(i, end), { stream: end < u8.length }));
  }
  return parts.join('');
}

/** For the where-the-time-goes tables only: the C side of
 * `template.render(data)` without copying or decoding the output, through
 * the instance internals that js/template.js uses (#renderInto). Returns
 * { render(), outView(), free() } or null when those internals are not there. */
export function rawRenderer(nitro, src, partials, data) {
  try {
    const core = nitro.core;
    const enc = core.enc;
    enc.reset().value({ src, partials, strict: false });
    core.call0('nw_template_compile', core.send(enc));
    const id = core.dv.getUint32(core.x.nw_out_ptr(core.I), true);
    const queries = [];
    enc.reset();
    enc.handleOf = (v) => (v && typeof v.spec === 'function' && v.entity ? queries.push(v) - 1 : undefined);
    try { enc.value(data); } finally { enc.handleOf = null; }
    const dataBytes = enc.u8.slice(0, enc.len);
    enc.reset().value(queries.map((q) => ({ table: q.entity.table, query: q.spec() })));
    const queryBytes = enc.u8.slice(0, enc.len);
    const render = () => {
      if (queries.length) core.call0('nw_query_prepare', core.sendBytes(queryBytes));
      core.call0('nw_template_render', id, core.sendBytes(dataBytes));
    };
    const outView = () => core.outView();
    const free = () => core.x.nw_template_free(core.I, id);
    render();
    return { render, outView, free };
  } catch {
    return null;
  }
}

/** ops/s of fn(), called repeatedly for about `ms`. */
export function opsPerSec(fn, ms) {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  do { fn(); n++; t = performance.now(); } while (t - t0 < ms);
  return (n * 1000) / (t - t0);
}

/** Runs the contenders ([name, fn]) side by side: one warm-up pass,
 * then `rounds` rounds that alternate them; returns the median ops/s each. */
export function measure(list, { rounds = 7, ms = 150 } = {}) {
  for (const [, fn] of list) opsPerSec(fn, ms);
  const samples = list.map(() => []);
  for (let r = 0; r < rounds; r++) {
    // alternate the order too, so no contender always runs after the same one
    const order = r % 2 ? [...list.keys()].reverse() : [...list.keys()];
    for (const i of order) samples[i].push(opsPerSec(list[i][1], ms));
  }
  return samples.map((s) => median(s));
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One PASS/FAIL line: `ratio` is how many times faster nitro is. */
export function goal(label, ratio, need) {
  const ok = ratio >= need;
  const want = need >= 1 ? `>= ${need}x` : `within ${(1 / need).toFixed(1)}x (>= ${need.toFixed(2)}x)`;
  return `  ${ok ? 'PASS' : 'FAIL'}  ${label.padEnd(52)} ${ratio.toFixed(2).padStart(6)}x   goal ${want}`;
}
