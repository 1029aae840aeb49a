// Templates over the store: nitro.template() renders records and lazy
// queries inside WebAssembly, with the same results as rendering the same
// records fetched into JS first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNitro, NitroError, Template } from '../../js/nitro.js';
import { countCrossings } from './crossings.js';

const wasm = new URL('../../dist/nitro.wasm', import.meta.url);

async function setup() {
  const nitro = await createNitro({ wasm });
  const Project = nitro.entity('Project', { fields: { name: { type: 'string', required: true } } });
  const Task = nitro.entity('Task', {
    fields: {
      title: { type: 'string', required: true },
      status: { type: 'enum', values: ['open', 'done'], default: 'open' },
      priority: { type: 'int', default: 3 },
      due: { type: 'datetime', optional: true },
      tags: { type: 'list', of: 'string', default: [] },
      projectId: { type: 'ref', entity: 'Project', optional: true },
    },
    indexes: ['status', ['status', 'priority']],
  });
  return { nitro, Project, Task };
}

test('a query in the data renders its records inside WASM, in query order', async () => {
  const { nitro, Task } = await setup();
  Task.insertMany([
    { title: 'low <b>', priority: 1 },
    { title: 'high & mighty', priority: 5, tags: ['a', 'b'] },
    { title: 'closed', priority: 4, status: 'done' },
    { title: 'mid', priority: 3 },
  ]);
  const row = nitro.template('<li id="task-{{id}}" class="{{status}}">{{title}}{{#tags}} #{{.}}{{/tags}}</li>');
  const list = nitro.template('<ul id="tasks">{{#tasks}}{{>row}}{{/tasks}}{{^tasks}}<li>none</li>{{/tasks}}</ul>', { partials: { row } });
  assert.ok(list instanceof Template);
  const q = Task.where({ status: 'open' }).orderBy('-priority').limit(50);
  const viaQuery = list.render({ tasks: q });
  const viaRecords = list.render({ tasks: q.all() });
  assert.equal(viaQuery, viaRecords);
  const ids = q.ids();
  assert.equal(viaQuery, `<ul id="tasks"><li id="task-${ids[0]}" class="open">high &amp; mighty #a #b</li>`
    + `<li id="task-${ids[1]}" class="open">mid</li><li id="task-${ids[2]}" class="open">low &lt;b&gt;</li></ul>`);
  // an empty query is falsy for inverted sections
  assert.equal(list.render({ tasks: Task.where({ priority: 99 }) }), '<ul id="tasks"><li>none</li></ul>');
  nitro.close();
});

test('several queries, limit/offset and a query inside nested data', async () => {
  const { nitro, Task } = await setup();
  for (let i = 0; i < 30; i++) Task.create({ title: `t${i}`, priority: i % 5, status: i % 3 ? 'open' : 'done' });
  const t = nitro.template('{{#a}}{{title}},{{/a}}|{{#page.b}}{{title}}:{{priority}},{{/page.b}}|{{n}}');
  const a = Task.where({ status: 'done' }).orderBy('title').limit(3);
  const b = Task.query().orderBy('-priority', 'title').offset(2).limit(4);
  const expected = `${a.all().map((r) => `${r.title},`).join('')}|${b.all().map((r) => `${r.title}:${r.priority},`).join('')}|7`;
  assert.equal(t.render({ a, page: { b }, n: 7 }), expected);
  nitro.close();
});

test('records, datetimes (ISO strings, as records hold them) and refs render like their JSON values', async () => {
  const { nitro, Project, Task } = await setup();
  const p = Project.create({ name: 'Apollo' });
  const due = new Date('2026-03-04T05:06:07.089Z');
  const rec = Task.create({ title: 'x', due, projectId: p.id });
  const t = nitro.template('{{title}} {{due}} {{projectId}}');
  assert.equal(t.render(rec), `x ${due.toISOString()} ${p.id}`);
  assert.equal(t.render(Task.where({ projectId: p.id })), '  ', 'a query is a list, not a context with fields');
  const each = nitro.template('{{#q}}{{due}}{{/q}}');
  assert.equal(each.render({ q: Task.query() }), due.toISOString());
  nitro.close();
});

test('a query sees writes made before render, and expired records stay hidden', async () => {
  const { nitro, Task } = await setup();
  const t = nitro.template('{{#q}}{{title}};{{/q}}');
  const q = Task.where({ status: 'open' }).orderBy('title');
  assert.equal(t.render({ q }), '');
  Task.create({ title: 'b' });
  const short = Task.create({ title: 'a' }, { ttl: 300 });   // long enough for a loaded machine
  assert.equal(t.render({ q }), 'a;b;');
  await new Promise((r) => setTimeout(r, 350));
  assert.equal(t.render({ q }), 'b;');
  Task.update(Task.findBy({ title: 'b' }).id, { status: 'done' });
  assert.equal(t.render({ q }), '');
  assert.equal(Task.get(short.id), null);
  nitro.close();
});

test('bad queries and foreign queries fail with one typed error and the template still works', async () => {
  const { nitro, Task } = await setup();
  const other = await setup();
  Task.create({ title: 'only' });
  const t = nitro.template('{{#q}}{{title}}{{/q}}');
  assert.throws(() => t.render({ q: Task.where({ nope: 1 }) }), (e) => e instanceof NitroError && e.code === 'QUERY' && e.entity === 'Task');
  assert.throws(() => t.render({ q: other.Task.query() }), (e) => e instanceof NitroError && e.code === 'ARG');
  assert.equal(t.render({ q: Task.query() }), 'only');
  nitro.close();
  assert.throws(() => t.render({ q: Task.query() }), (e) => e instanceof NitroError && e.code === 'CLOSED');
  assert.throws(() => nitro.template('x'), (e) => e instanceof NitroError && e.code === 'CLOSED');
  other.nitro.close();
});

test('template syntax errors carry line and column', async () => {
  const { nitro } = await setup();
  assert.throws(() => nitro.template('<p>\n  {{#a}}x</p>'), (e) => e instanceof NitroError && e.code === 'TEMPLATE' && e.line === 2 && e.column > 0);
  nitro.close();
});

test('a render with queries in its data is one call into WebAssembly', async () => {
  const { nitro, Task } = await setup();
  Task.insertMany([{ title: 'a', priority: 2 }, { title: 'b', priority: 1 }]);
  const t = nitro.template('{{#open}}{{title}}{{/open}}|{{#top}}{{title}}{{/top}}');
  const { counts, out: html } = countCrossings(nitro, () =>
    t.render({ open: Task.where({ status: 'open' }).orderBy('title'), top: Task.query().orderBy('priority').limit(1) }));
  assert.equal(html, 'ab|b');
  const calls = Object.entries(counts).filter(([name]) => /render|query/.test(name));
  assert.deepEqual(calls, [['nw_template_render_queries', 1]]);
  nitro.close();
});
