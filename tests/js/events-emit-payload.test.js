// nitro.emit on its fast paths: handlers subscribed with `payload: true` get
// (payload, type); results keep their slots; a throwing handler never stops
// the others and always reaches 'error'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNitro } from '../../dist/nitro.js';

test('payload: true handlers get (payload, type), also through wildcards', async () => {
  const nitro = await createNitro();
  const got = [];
  nitro.on('invoice.sent', (p, t) => { got.push(['exact', p, t]); }, { payload: true });
  nitro.on('invoice.*', (p, t) => { got.push(['prefix', p, t]); }, { payload: true });
  nitro.on('*', (p, t) => { got.push(['all', p, t]); }, { payload: true });
  nitro.emit('invoice.sent', { n: 1 });
  assert.deepEqual(got, [['exact', { n: 1 }, 'invoice.sent'], ['prefix', { n: 1 }, 'invoice.sent'], ['all', { n: 1 }, 'invoice.sent']]);
  nitro.close();
});

test('payload and event handlers mixed, with priority, once and filter', async () => {
  const nitro = await createNitro();
  const got = [];
  nitro.on('a.b', (e) => { got.push(['event', e.type, e.payload]); });
  nitro.on('a.b', (p) => { got.push(['first', p]); }, { payload: true, priority: 5 });
  nitro.on('a.b', (p) => { got.push(['once', p]); }, { payload: true, once: true });
  nitro.on('a.b', (p) => { got.push(['odd', p]); }, { payload: true, filter: (e) => e.payload % 2 === 1 });
  nitro.emit('a.b', 1);
  nitro.emit('a.b', 2);
  assert.deepEqual(got, [['first', 1], ['event', 'a.b', 1], ['once', 1], ['odd', 1], ['first', 2], ['event', 'a.b', 2]]);
  nitro.close();
});

test('results keep one slot per handler, values where handlers returned them', async () => {
  const nitro = await createNitro();
  nitro.on('x.y', () => undefined, { payload: true });
  assert.deepEqual(nitro.emit('x.y', 1), [undefined]);
  nitro.on('x.y', (p) => p * 2, { payload: true });
  nitro.on('x.y', () => {}, { payload: true });
  nitro.on('x.y', (e) => e.payload + 1);
  assert.deepEqual(nitro.emit('x.y', 5), [undefined, 10, undefined, 6]);
  const quiet = nitro.emit('z.z', 1);
  assert.deepEqual(quiet, []);
  nitro.close();
});

test('a throwing handler: the others run, its slot is undefined, the error reaches error handlers with the event', async () => {
  for (const payload of [true, false]) {
    const nitro = await createNitro();
    const errors = [];
    nitro.on('error', (err, e) => { errors.push([err.message, e.type, e.payload]); });
    const ran = [];
    for (let i = 0; i < 5; i++) {
      nitro.on('job.done', payload
        ? (p) => { ran.push(i); if (i % 2 === 0) throw new Error(`h${i}`); return i; }
        : (e) => { ran.push(i); if (i % 2 === 0) throw new Error(`h${i}`); return i; }, { payload });
    }
    assert.deepEqual(nitro.emit('job.done', 7), [undefined, 1, undefined, 3, undefined]);
    assert.deepEqual(ran, [0, 1, 2, 3, 4]);
    assert.deepEqual(errors, [['h0', 'job.done', 7], ['h2', 'job.done', 7], ['h4', 'job.done', 7]]);
    assert.equal(nitro.stats().events['job.done'].failed, 3);
    nitro.close();
  }
});

test('a single throwing payload handler reaches error handlers', async () => {
  const nitro = await createNitro();
  const errors = [];
  nitro.on('error', (err, e) => { errors.push([err.message, e.type, e.payload]); });
  nitro.on('one.only', () => { throw new Error('x'); }, { payload: true });
  assert.deepEqual(nitro.emit('one.only', 3), [undefined]);
  assert.deepEqual(errors, [['x', 'one.only', 3]]);
  nitro.close();
});

test('payload: true on a domain event passes the event itself and its type', async () => {
  const nitro = await createNitro();
  const T = nitro.entity('T', { fields: { title: { type: 'string' } } });
  const got = [];
  nitro.on('T.created', (e, type) => { got.push([type, e.record.title]); }, { payload: true });
  nitro.on('T.beforeSave', (e, type) => { got.push([type, e.record.title]); }, { payload: true });
  T.create({ title: 'a' });
  assert.deepEqual(got, [['T.beforeSave', 'a'], ['T.created', 'a']]);
  nitro.close();
});

test('bad types are still refused as VALIDATION, also after the type was emitted once', async () => {
  const nitro = await createNitro();
  nitro.on('*', () => {}, { payload: true });
  nitro.emit('ok.type', 1);
  for (const bad of ['', 'error', 'a.*', 42, null, undefined]) {
    assert.throws(() => nitro.emit(bad, 1), (err) => err.code === 'VALIDATION' && err.rule === 'type', String(bad));
    await assert.rejects(nitro.emitAsync(bad, 1), (err) => err.code === 'VALIDATION', String(bad));
  }
  nitro.close();
});

test('emitAsync passes the payload to payload: true handlers', async () => {
  const nitro = await createNitro();
  nitro.on('a.sync', async (p, t) => `${t}:${p}`, { payload: true });
  nitro.on('a.sync', async (e) => e.payload * 2);
  assert.deepEqual(await nitro.emitAsync('a.sync', 4), ['a.sync:4', 8]);
  nitro.close();
});
