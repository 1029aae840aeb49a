// Mustache templates compiled in C, rendered from queries inside WebAssembly,
// and the HTML builders (same escaping rules). Run: node examples/templates.mjs
import { createNitro } from 'nitro-wasm';
import { h, raw, Page, Div, Span } from 'nitro-wasm/html';

const nitro = await createNitro();
const Task = nitro.entity('Task', { fields: {
  title: { type: 'string', required: true }, status: { type: 'enum', values: ['open', 'done'], default: 'open' },
  priority: { type: 'int', default: 3 },
} });
Task.insertMany([{ title: 'Ship <b>it</b>', priority: 5 }, { title: 'Rest', status: 'done' }]);

const row = nitro.template('<li id="task-{{id}}" class="{{status}}">{{title}}</li>');
const list = nitro.template('<ul id="tasks">{{#tasks}}{{>row}}{{/tasks}}</ul>', { partials: { row } });
console.log(list.render({ tasks: Task.where({ status: 'open' }).orderBy('-priority').limit(50) }).replace(/task-[0-9a-z]+/g, 'task-…'));   // string
console.log(list.renderBytes({ tasks: Task.query() }).length > 0);                                                 // UTF-8 bytes for a socket

const done = true;
console.log(String(Div({ class: ['card', done && 'done'], 'data-on:click': "@post('/x')" }, Span('a < b'), raw('<hr>'), h('a', { href: 'javascript:alert(1)' }, 'link'))));
console.log(String(Page({ title: 'Tasks', datastar: true }, Div('body'))).length > 100);
