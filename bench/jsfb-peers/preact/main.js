// Preact with hooks and htm (no build step), keyed rows, memoised rows.
import { h, render } from 'preact';
import { useState, useCallback, useMemo } from 'preact/hooks';
import { memo } from '/node_modules/preact/compat/dist/compat.mjs';
import htm from 'htm';
import { buildData } from '../data.js';

const html = htm.bind(h);
const Row = memo(({ d, selected, onSelect, onRemove }) => html`<tr class=${selected ? 'danger' : ''}><td class="col-md-1">${d.id}</td><td class="col-md-4"><a class="lbl" onClick=${() => onSelect(d.id)}>${d.label}</a></td><td class="col-md-1"><a class="remove" onClick=${() => onRemove(d.id)}><span class="remove glyphicon glyphicon-remove" aria-hidden="true"></span></a></td><td class="col-md-6"></td></tr>`);

function App() {
  const [data, setData] = useState([]);
  const [selected, setSelected] = useState(0);
  const onSelect = useCallback((id) => setSelected(id), []);
  const onRemove = useCallback((id) => setData((d) => d.filter((x) => x.id !== id)), []);
  useMemo(() => {
    const on = (id, fn) => { document.getElementById(id).onclick = fn; };
    on('run', () => setData(buildData(1000)));
    on('runlots', () => setData(buildData(10000)));
    on('add', () => setData((d) => d.concat(buildData(1000))));
    on('update', () => setData((d) => d.map((x, i) => (i % 10 ? x : { ...x, label: x.label + ' !!!' }))));
    on('clear', () => setData([]));
    on('swaprows', () => setData((d) => { if (d.length < 999) return d; const c = d.slice(); [c[1], c[998]] = [c[998], c[1]]; return c; }));
  }, []);
  return data.map((d) => html`<${Row} key=${d.id} d=${d} selected=${d.id === selected} onSelect=${onSelect} onRemove=${onRemove} />`);
}
render(html`<${App} />`, document.getElementById('tbody'));
window.__extraBytes = () => 0;
window.__ready = true;
