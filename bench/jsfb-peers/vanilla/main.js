// Vanilla JS, keyed: a cloned row template, direct DOM edits (the approach
// of the benchmark's own vanillajs app, written here from scratch).
import { buildData } from '../data.js';

const tbody = document.getElementById('tbody');
const tpl = document.createElement('template');
tpl.innerHTML = '<tr><td class="col-md-1"> </td><td class="col-md-4"><a class="lbl"> </a></td><td class="col-md-1"><a class="remove"><span class="remove glyphicon glyphicon-remove" aria-hidden="true"></span></a></td><td class="col-md-6"></td></tr>';
const proto = tpl.content.firstChild;
let data = [], rows = [], selected = null;

function makeRow(d) {
  const tr = proto.cloneNode(true);
  tr.firstChild.firstChild.nodeValue = d.id;
  tr.childNodes[1].firstChild.firstChild.nodeValue = d.label;
  tr.__d = d;
  return tr;
}
function append(items) {
  const frag = document.createDocumentFragment();
  for (const d of items) { const tr = makeRow(d); rows.push(tr); frag.appendChild(tr); }
  tbody.appendChild(frag);
}
function clear() { tbody.textContent = ''; data = []; rows = []; selected = null; }
const actions = {
  run: () => { clear(); data = buildData(1000); append(data); },
  runlots: () => { clear(); data = buildData(10000); append(data); },
  add: () => { const more = buildData(1000); data = data.concat(more); append(more); },
  update: () => { for (let i = 0; i < data.length; i += 10) { data[i].label += ' !!!'; rows[i].childNodes[1].firstChild.firstChild.nodeValue = data[i].label; } },
  clear,
  swaprows: () => {
    if (data.length < 999) return;
    const a = rows[1], b = rows[998];
    const after = b.nextSibling;
    tbody.insertBefore(b, a);
    tbody.insertBefore(a, after);
    [rows[1], rows[998]] = [b, a];
    [data[1], data[998]] = [data[998], data[1]];
  },
};
for (const [id, fn] of Object.entries(actions)) document.getElementById(id).addEventListener('click', fn);
tbody.addEventListener('click', (e) => {
  const tr = e.target.closest('tr');
  if (!tr) return;
  if (e.target.matches('.lbl')) {
    if (selected) selected.className = '';
    tr.className = 'danger';
    selected = tr;
  } else if (e.target.matches('.remove')) {
    const i = rows.indexOf(tr);
    rows.splice(i, 1);
    data.splice(i, 1);
    if (selected === tr) selected = null;
    tr.remove();
  }
});
window.__extraBytes = () => 0;
window.__ready = true;
