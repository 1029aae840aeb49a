// Fixture for tests/browser/datastar-*.test.js and bench/datastar.js: a Nitro
// store connected to whichever Datastar the page loaded (<html data-datastar>
// says which: "1.0" from /datastar.js, "beta" from /beta/datastar.js).
//   ?auto     connect without passing the module (found from the page)
//   ?rows=N   N extra records (bench)
import { createNitro } from '/dist/nitro.js';
import { connectDatastar } from '/dist/datastar/index.js';

const params = new URLSearchParams(location.search);
const beta = document.documentElement.dataset.datastar === 'beta';
const url = beta ? '/beta/datastar.js' : '/datastar.js';

const nitro = await createNitro();
const Task = nitro.entity('Task', {
  fields: {
    title: { type: 'string', required: true, minLength: 1, maxLength: 40 },
    status: { type: 'enum', values: ['open', 'done', 'blocked'], default: 'open' },
    priority: { type: 'int', min: 1, max: 5, default: 3 },
    estimate: { type: 'float', optional: true },
    tags: { type: 'list', of: 'string', default: [] },
  },
  methods: { complete() { return this.update({ status: 'done' }); } },
});
Task.insertMany([
  { id: 't1', title: 'first', estimate: 4 },
  { id: 't2', title: 'second', priority: 5 },
  { id: 't3', title: 'third', status: 'blocked' },
]);
const rows = Number(params.get('rows') || 0);
if (rows) Task.insertMany(Array.from({ length: rows }, (_, i) => ({ id: `r${String(i).padStart(5, '0')}`, title: `row ${i}`, status: 'blocked' })));

const ds = connectDatastar(nitro, params.has('auto') ? {} : { datastar: await import(url) });
await ds.ready;
ds.bind('tasks', Task, { writable: true });
ds.bind('open', Task.where({ status: 'open' }));
const row = nitro.template('<li id="task-{{id}}">{{title}} ({{status}})</li>');
const list = nitro.template('<ul id="list">{{#open}}{{>row}}{{/open}}</ul>', { partials: { row } });
ds.fragment(list, { open: Task.where({ status: 'open' }).orderBy('title') });

window.app = { nitro, Task, ds, connectDatastar, datastarUrl: url };
document.body.dataset.ready = 'true';
