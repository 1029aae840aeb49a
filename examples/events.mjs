// Domain events: patterns, priorities, cancelling a write, async handlers.
// Run: node examples/events.mjs
import { createNitro } from 'nitro-wasm';

const nitro = await createNitro();
const Task = nitro.entity('Task', { fields: { title: { type: 'string', required: true } } });
const controller = new AbortController();

const off = nitro.on('Task.created', (e) => console.log('created', e.record.title), { priority: 10, once: false, signal: controller.signal, filter: (e) => e.record.title !== 'quiet' });
nitro.on('Task.*', (e) => e.type.endsWith('ed') && console.log('Task.*', e.type)); nitro.on('*.deleted', (e) => console.log('deleted a', e.entity));
nitro.on('Task.beforeSave', (e) => { if (e.record.title === 'forbidden') e.cancel('not this one'); });   // the write fails with CANCELLED
nitro.on('invoice.sent', (e) => console.log('invoice', e.payload.number));   // custom events: { type, payload }
nitro.on('invoice.sent', () => { throw new Error('boom'); });
nitro.on('error', (err) => console.log('a handler threw:', err.message));   // a throwing handler never stops the others

const t = Task.create({ title: 'Write docs' });
Task.create({ title: 'quiet' });
try { Task.create({ title: 'forbidden' }); } catch (e) { console.log(e.code, e.message); }
t.delete();
nitro.emit('invoice.sent', { number: 7 });  await nitro.emitAsync('invoice.sent', { number: 8 });
off(); controller.abort();
Task.create({ title: 'after off' });
