// A snapshot is input: restore() checks every record against its entity's
// rules and the store's invariants (refs resolve, keys are unique), all or
// nothing. Each case tampers with a valid snapshot and recomputes the CRC
// exactly as C does, so the bytes reach the parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNitro, throwsNitro } from './helpers.js';
import { parseSnapshot, buildSnapshot, num, str, NULL } from './snapshot-bytes.js';

// Field order is declaration order after the id.
const defs = {
  Project: { fields: { name: { type: 'string', required: true } }, unique: ['name'] },
  Task: {
    fields: {
      title: { type: 'string', required: true, maxLength: 20 },   // 1
      priority: { type: 'int', min: 1, max: 5, default: 3 },       // 2
      estimate: { type: 'float', optional: true },                 // 3
      due: { type: 'datetime', optional: true },                   // 4
      project: { type: 'ref', entity: 'Project', optional: true }, // 5
      tags: { type: 'list', of: 'string', default: [] },           // 6
    },
  },
};

async function fixture() {
  const nitro = await createNitro();
  const { Project, Task } = nitro.define(defs);
  Project.insertMany([{ id: 'p1', name: 'one' }, { id: 'p2', name: 'two' }]);
  Task.insertMany([
    { id: 't1', title: 'first', priority: 2, due: '2024-05-01T00:00:00Z', project: 'p1', tags: ['a'] },
    { id: 't2', title: 'second', project: 'p2' },
  ]);
  return { nitro, Project, Task, snap: nitro.snapshot() };
}

const state = (nitro) => JSON.stringify([...nitro.entities.values()].map((e) => e.all().map((r) => r.toJSON())));

/** Restores `tamper(parsed)` into a second instance holding other data:
 * it must throw CORRUPT naming entity/field/rule, and leave that store as it was. */
async function refused(tamper, expect) {
  const { snap } = await fixture();
  const parsed = parseSnapshot(snap);
  tamper(parsed, Object.fromEntries(parsed.tables.map((t) => [t.name, t.records])));
  const bad = buildSnapshot(parsed);
  const other = await createNitro();
  const { Project } = other.define(defs);
  Project.create({ id: 'keep', name: 'kept' });
  const before = state(other);
  const err = throwsNitro(assert, () => other.restore(bad), { code: 'CORRUPT', ...expect });
  assert.equal(state(other), before, 'the store is unchanged');
  return err;
}

test('the helper rebuilds an untouched snapshot byte for byte', async () => {
  const { snap } = await fixture();
  assert.deepEqual(buildSnapshot(parseSnapshot(snap)), snap);
});

test('a non-integer in an int field is refused', async () => {
  await refused((s, r) => { r.Task[0].fields[2] = num(2.5); }, { entity: 'Task', field: 'priority', rule: 'type' });
});

test('an out-of-range int is refused', async () => {
  await refused((s, r) => { r.Task[0].fields[2] = num(9); }, { entity: 'Task', field: 'priority', rule: 'max' });
});

test('a non-finite float is refused', async () => {
  await refused((s, r) => { r.Task[0].fields[3] = num(NaN); }, { entity: 'Task', field: 'estimate', rule: 'type' });
});

test('an out-of-range date is refused (it made every later all() throw RangeError)', async () => {
  await refused((s, r) => { r.Task[0].fields[4] = num(1e300); }, { entity: 'Task', field: 'due', rule: 'type' });
  await refused((s, r) => { r.Task[0].fields[4] = num(0.5); }, { entity: 'Task', field: 'due', rule: 'type' });
});

test('a dangling ref is refused', async () => {
  await refused((s, r) => { r.Task[1].fields[5] = str('nope'); }, { entity: 'Task', field: 'project', rule: 'ref' });
});

test('an invalid UTF-8 id is refused', async () => {
  await refused((s, r) => { r.Task[1].fields[0] = str([0x74, 0xff, 0x32]); }, { entity: 'Task', field: 'id', rule: 'type' });
});

test('invalid UTF-8 in a string field or a list item is refused', async () => {
  await refused((s, r) => { r.Task[1].fields[1] = str([0xc3, 0x28]); }, { entity: 'Task', field: 'title', rule: 'type' });
  await refused((s, r) => {
    const item = str([0xed, 0xa0, 0x80]);   // an encoded surrogate
    const list = new Uint8Array(5 + item.length); list[0] = 5; list[1] = 1; list.set(item, 5);
    r.Task[0].fields[6] = list;
  }, { entity: 'Task', field: 'tags', rule: 'type' });
});

test('a missing required field and a too-long string are refused', async () => {
  await refused((s, r) => { r.Task[0].fields[1] = NULL; }, { entity: 'Task', field: 'title', rule: 'required' });
  await refused((s, r) => { r.Task[0].fields[1] = str('x'.repeat(21)); }, { entity: 'Task', field: 'title', rule: 'maxLength' });
});

test('a duplicate unique value is refused', async () => {
  await refused((s, r) => { r.Project[1].fields[1] = str('one'); }, { entity: 'Project', field: 'name', rule: 'unique' });
});

test('a duplicate id is refused', async () => {
  await refused((s, r) => { r.Task[1].fields[0] = str('t1'); }, { entity: 'Task', field: 'id', rule: 'unique' });
});

test('after a refused restore the store keeps working and a valid snapshot still restores', async () => {
  const { nitro, Task, snap } = await fixture();
  const parsed = parseSnapshot(snap);
  parsed.tables[1].records[0].fields[4] = num(1e300);
  assert.throws(() => nitro.restore(buildSnapshot(parsed)));
  assert.equal(Task.all().length, 2);
  nitro.restore(snap);
  assert.equal(Task.get('t1').priority, 2);
});
