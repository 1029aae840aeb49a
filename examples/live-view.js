// A template mounted on the page follows the store: writes patch the DOM in place.
import { createNitro } from 'nitro-wasm';

const nitro = await createNitro();
const Row = nitro.entity('Row', { fields: {
  id: { type: 'id' }, pos: { type: 'int' }, label: { type: 'string' }, selected: { type: 'bool', default: false },
} });
Row.insertMany(Array.from({ length: 10 }, (_, i) => ({ id: String(i + 1), pos: i, label: `row ${i + 1}` })));
const log = (line) => { document.getElementById('log').textContent += `${line}; `; };

const rows = nitro.template('{{#rows}}<tr class="{{#selected}}danger{{/selected}}"><td>{{id}}</td><td><a class="lbl">{{label}}</a></td></tr>{{/rows}}');
const view = rows.mount(document.getElementById('tbody'), { rows: Row.query().orderBy('pos') });
Row.update('7', { label: 'changed' });      // before the next frame: one text node changes, nothing else
view.on('click', 'a.lbl', (e, id) => Row.update(id, { selected: true }));   // delegated; id = the row's record id
view.update({ rows: Row.where({ selected: false }).orderBy('pos') });   // new data: only what differs is patched
view.flush();

const sub = Row.where({ selected: true }).orderBy('pos').limit(50).subscribe((change) => {
  log(`selected +${change.added.join(',')} -${change.removed.join(',')}`);   // ids, once per committed write batch
  log(`now ${change.result().map((r) => r.id).join(',')}`);                 // the records, on demand
});
window.example = { Row, view, sub, nitro };
log('mounted');
