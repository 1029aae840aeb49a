// The js-framework-benchmark app for nitro-wasm, written the way the README
// teaches: a Row entity, one template over a query, mounted on <tbody>;
// every button is a store write and the live view patches the table.
import { createNitro } from '../../dist/nitro.js';

const A = ['pretty', 'large', 'big', 'small', 'tall', 'short', 'long', 'handsome', 'plain', 'quaint', 'clean', 'elegant', 'easy', 'angry', 'crazy', 'helpful', 'mushy', 'odd', 'unsightly', 'adorable', 'important', 'inexpensive', 'cheap', 'expensive', 'fancy'];
const C = ['red', 'yellow', 'blue', 'green', 'pink', 'brown', 'purple', 'brown', 'white', 'black', 'orange'];
const N = ['table', 'chair', 'house', 'bbq', 'desk', 'car', 'pony', 'cookie', 'sandwich', 'burger', 'pizza', 'mouse', 'keyboard'];
const pick = (a) => a[Math.round(Math.random() * 1000) % a.length];

const nitro = await createNitro({ outbox: false });   // a local-only store (README: Sync)
const Row = nitro.entity('Row', {
  fields: { label: { type: 'string' }, pos: { type: 'int' }, selected: { type: 'bool', default: false } },
  indexes: ['pos'],
});
const rows = nitro.template(`{{#rows}}<tr class="{{#selected}}danger{{/selected}}"><td class="col-md-1">{{id}}</td><td class="col-md-4"><a class="lbl">{{label}}</a></td><td class="col-md-1"><a class="remove"><span class="remove glyphicon glyphicon-remove" aria-hidden="true"></span></a></td><td class="col-md-6"></td></tr>{{/rows}}`);
const byPos = Row.query().orderBy('pos');
const view = rows.mount(document.getElementById('tbody'), { rows: byPos });

let nextId = 1, nextPos = 1;
const build = (n) => Array.from({ length: n }, () => ({ id: String(nextId++), pos: nextPos++, label: `${pick(A)} ${pick(C)} ${pick(N)}` }));

const actions = {
  run: () => nitro.transaction(() => { Row.query().delete(); Row.insertMany(build(1000)); }),
  runlots: () => nitro.transaction(() => { Row.query().delete(); Row.insertMany(build(10000)); }),
  add: () => Row.insertMany(build(1000)),
  update: () => nitro.transaction(() => {
    const all = byPos.all();
    for (let i = 0; i < all.length; i += 10) all[i].update({ label: all[i].label + ' !!!' });
  }),
  clear: () => Row.query().delete(),
  swaprows: () => {
    const ids = byPos.ids();
    if (ids.length < 999) return;
    const a = Row.get(ids[1]), b = Row.get(ids[998]);
    const pa = a.pos, pb = b.pos;
    nitro.transaction(() => { a.update({ pos: pb }); b.update({ pos: pa }); });
  },
};
for (const [id, fn] of Object.entries(actions)) document.getElementById(id).addEventListener('click', fn);

view.on('click', 'a.lbl', (e, id) => nitro.transaction(() => {
  Row.where({ selected: true }).update({ selected: false });
  Row.update(id, { selected: true });
}));
view.on('click', 'span.remove', (e, id) => Row.delete(id));

window.__extraBytes = () => nitro.stats().memoryBytes;
window.__ready = true;
