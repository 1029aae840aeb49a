// lit-html, keyed with the repeat() directive, as its documentation shows.
import { html, render } from '/node_modules/lit-html/lit-html.js';
import { repeat } from '/node_modules/lit-html/directives/repeat.js';
import { buildData } from '../data.js';

const tbody = document.getElementById('tbody');
let data = [], selected = 0;
const select = (id) => { selected = id; draw(); };
const remove = (id) => { data = data.filter((d) => d.id !== id); draw(); };
const row = (d) => html`<tr class=${d.id === selected ? 'danger' : ''}><td class="col-md-1">${d.id}</td><td class="col-md-4"><a class="lbl" @click=${() => select(d.id)}>${d.label}</a></td><td class="col-md-1"><a class="remove" @click=${() => remove(d.id)}><span class="remove glyphicon glyphicon-remove" aria-hidden="true"></span></a></td><td class="col-md-6"></td></tr>`;
function draw() { render(repeat(data, (d) => d.id, row), tbody); }
const actions = {
  run: () => { data = buildData(1000); draw(); },
  runlots: () => { data = buildData(10000); draw(); },
  add: () => { data = data.concat(buildData(1000)); draw(); },
  update: () => { data = data.map((d, i) => (i % 10 ? d : { ...d, label: d.label + ' !!!' })); draw(); },
  clear: () => { data = []; draw(); },
  swaprows: () => { if (data.length < 999) return; const d = data.slice(); [d[1], d[998]] = [d[998], d[1]]; data = d; draw(); },
};
for (const [id, fn] of Object.entries(actions)) document.getElementById(id).addEventListener('click', fn);
window.__extraBytes = () => 0;
window.__ready = true;
