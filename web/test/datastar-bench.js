// Fixture for bench/datastar.js: time from a store write to the DOM showing
// it, with Datastar 1.0.2 on the page. 10,000 records are bound to $tasks;
// 1,000 of them are shown twice: by data-text bindings, and by a live
// fragment re-rendered from the store (morphed in once per animation frame).
import { createNitro } from '/dist/nitro.js';
import { connectDatastar } from '/dist/datastar/index.js';

const N = 10_000;
const SHOWN = 1_000;
const nitro = await createNitro();
const Task = nitro.entity('Task', {
  fields: {
    title: { type: 'string', required: true },
    status: { type: 'enum', values: ['open', 'done'], default: 'open' },
    priority: { type: 'int', default: 3 },
  },
});
const id = (i) => `r${String(i).padStart(5, '0')}`;
Task.insertMany(Array.from({ length: N }, (_, i) => ({ id: id(i), title: `row ${i}` })));

const ds = connectDatastar(nitro, { datastar: await import('/datastar.js') });
ds.bind('tasks', Task);
const shown = Task.query().limit(SHOWN);
const rows = nitro.template('<ul id="rows">{{#rows}}<li data-text="$tasks[\'{{id}}\'].title"></li>{{/rows}}</ul>');
ds.patchElements(rows.render({ rows: shown }));
const frag = nitro.template('<ul id="frag">{{#rows}}<li id="f-{{id}}">{{title}}</li>{{/rows}}</ul>');
ds.fragment(frag, { rows: shown });

const rowsEl = document.getElementById('rows');
await new Promise((resolve) => {
  const check = () => (rowsEl.lastElementChild?.textContent === `row ${SHOWN - 1}` ? resolve() : requestAnimationFrame(check));
  check();
});

let round = 0;
/** Updates `n` shown records in one transaction; resolves with the ms until
 * both views show the last one. */
function write(n) {
  round++;
  const title = (i) => `round ${round} row ${i}`;
  const last = title(n - 1);
  const lastText = rowsEl.children[n - 1];
  const fragDone = new Promise((resolve) => {
    const mo = new MutationObserver(() => {
      if (document.getElementById(`f-${id(n - 1)}`)?.textContent === last) { mo.disconnect(); resolve(performance.now()); }
    });
    mo.observe(document.getElementById('frag'), { subtree: true, childList: true, characterData: true });
  });
  const t0 = performance.now();
  nitro.transaction(() => { for (let i = 0; i < n; i++) Task.update(id(i), { title: title(i) }); });
  return Promise.resolve().then(async () => {
    // The signal patch is a microtask after the write; Datastar's effects update data-text synchronously.
    const signals = lastText.textContent === last ? performance.now() : NaN;
    const fragment = await fragDone;
    return { signals: signals - t0, fragment: fragment - t0 };
  });
}

window.bench = { write };
document.body.dataset.ready = 'true';
