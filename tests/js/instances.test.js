// Several createNitro() instances from one compiled module stay independent:
// stores, templates, transactions and errors never leak between them
// (src/instance.h: all C state lives in the instance each one holds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNitro, NitroError } from '../../js/nitro.js';
import { compileModule } from '../../js/core.js';

const wasm = await compileModule(new URL('../../dist/nitro.wasm', import.meta.url));
const fields = {
  title: { type: 'string', required: true, maxLength: 10 },
  n: { type: 'int', min: 0, default: 0 },
};

async function two() {
  const a = await createNitro({ wasm });
  const b = await createNitro({ wasm });
  return { a, b, A: a.entity('Task', { fields }), B: b.entity('Task', { fields }) };
}

test('records written in one instance are not in another', async () => {
  const { a, b, A, B } = await two();
  const t = A.create({ title: 'only a' });
  assert.equal(B.get(t.id), null);
  assert.equal(B.count(), 0);
  A.insertMany([{ title: 'x' }, { title: 'y' }]);
  B.create({ title: 'only b' });
  assert.equal(A.count(), 3);
  assert.equal(B.count(), 1);
  assert.deepEqual(B.all().map((r) => r.title), ['only b']);
  assert.equal(a.stats().entities.Task.records, 3);
  assert.equal(b.stats().entities.Task.records, 1);
  a.close();
  assert.equal(B.count(), 1);
});

test('a transaction in one instance does not hold writes of another', async () => {
  const { a, A, B } = await two();
  assert.throws(() => a.transaction(() => {
    A.create({ title: 'undone' });
    B.create({ title: 'kept' });
    throw new Error('abort');
  }), /abort/);
  assert.equal(A.count(), 0);
  assert.equal(B.count(), 1);
});

test('templates of one instance render in it alone', async () => {
  const { a, b, A, B } = await two();
  A.create({ title: 'from a' });
  B.create({ title: 'from b' });
  const ta = a.template('<p>{{#tasks}}{{title}}{{/tasks}}</p>');
  const tb = b.template('<i>{{#tasks}}{{title}}{{/tasks}}</i>');
  assert.equal(ta.render({ tasks: A.where({}) }), '<p>from a</p>');
  assert.equal(tb.render({ tasks: B.where({}) }), '<i>from b</i>');
  assert.equal(ta.render({ tasks: A.where({}) }), '<p>from a</p>');
});

test('an error in one instance is not seen by another', async () => {
  const { A, B } = await two();
  let ea;
  try { A.create({ title: 'far too long a title' }); } catch (err) { ea = err; }
  assert.ok(ea instanceof NitroError);
  assert.equal(ea.code, 'VALIDATION');
  assert.equal(ea.field, 'title');
  const ok = B.create({ title: 'fine' });
  assert.equal(B.get(ok.id).title, 'fine');
  let eb;
  try { B.create({ title: 'x', n: -1 }); } catch (err) { eb = err; }
  assert.equal(eb.field, 'n');
  assert.equal(ea.field, 'title');
});
