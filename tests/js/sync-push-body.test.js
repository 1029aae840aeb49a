// sync-push-body.test.js - the push body C writes from the outbox
// (src/sync_json.h nw_sync_push) is byte for byte what the JavaScript
// client built before (the outbox decoded field by field, then
// JSON.stringify), for a mixed outbox: creates, folded and separate
// updates, deletes, enums, datetimes, lists, json with escapes, numbers in
// exponent form, object keys JS reorders, and a conflict: 'reject' entity
// whose mutations carry a base.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeClient } from '../sync/clients.js';
import { Reader, iso } from '../../dist/record.js';
import { T } from '../../dist/nval.js';

/** The previous client's body: decodes the outbox in the arena layout of
 * changelog.c (nw_sync_outbox) and stringifies it, as js/sync.js did. */
function oldBody(nitro, client, done) {
  const core = nitro.core;
  const mask = new Uint8Array(nitro.byTable.length).fill(1);
  core.sendBytes(mask);
  core.call0('nw_sync_outbox', 0xFFFFFFFF, mask.length, 0);
  const r = new Reader().reset(core.u8, core.dv, core.outView().byteOffset);
  const n = r.u32();
  const mutations = [];
  for (let i = 0; i < n; i++) {
    const start = r.at;
    const size = r.u32();
    const op = r.u8[r.at];
    r.at += 4;
    const table = r.u32();
    const seq = r.dv.getFloat64(r.at, true), base = r.dv.getFloat64(r.at + 8, true);
    r.at += 16;
    const lo = r.u32(), hi = r.u32();
    const id = r.value0Str();
    r.at += 4;
    const entity = nitro.byTable[table];
    let fields = null;
    if (op !== 3) {
      fields = {};
      entity.fields.forEach((f, fi) => {
        const bit = fi < 32 ? (lo >>> fi) & 1 : (hi >>> (fi - 32)) & 1;
        if (!bit) return;
        const tag = r.u8[r.at];
        if (tag === 0x0c) { fields[f.name] = f.values[r.u8[r.at + 1]]; r.at += 2; } else if (f.type === 'datetime' && tag === T.NUM) { fields[f.name] = iso(r.dv.getFloat64(r.at + 1, true)); r.at += 9; } else fields[f.name] = r.value();
      });
    }
    r.at = start + size;
    const w = { seq, entity: entity.name, id, op: [null, 'create', 'update', 'delete'][op] };
    if (fields) w.fields = fields;
    if (entity.def.conflict === 'reject') w.base = base;
    mutations.push(w);
  }
  return JSON.stringify({ client, done, mutations });
}

test('the push body C writes equals the one JavaScript built, for a mixed outbox', async () => {
  const bodies = [];
  const fetch = async (url, init) => {
    bodies.push(init.body);
    return new Response(JSON.stringify({ results: [] }), { status: 200 });
  };
  const { nitro, E, sync } = await makeClient('http://sync.invalid', { fetch });
  await sync.ready;
  const p = E.Project.create({ name: 'p "quoted" \\ back' });
  const t = E.Task.create({
    title: 'tab\tnew\nline \u0001 </script> 😀 \u2028', status: 'blocked', priority: 5, done: false,
    due: new Date(Date.UTC(2031, 4, 6, 7, 8, 9, 10)), tags: ['a', 'b "c"'],
    meta: { z: 1, 10: 'ten', 2: 'two', nested: [1.5, -2, 1e21, 1e-7, 0.1, null, true, { k: 'v' }] }, projectId: p.id,
  });
  E.Task.update(t.id, { priority: 1 });
  const gone = E.Task.create({ title: 'gone soon' });
  const n = E.Note.create({ text: 'versioned', rev: 2 });
  E.Note.update(n.id, { rev: 3 });
  E.Task.create({ title: 'old date', due: new Date(Date.UTC(200, 0, 1)) });
  nitro.core.x.nw_sync_sent(nitro.core.I, nitro.core.x.nw_sync_pending(nitro.core.I) + 10);   // nothing folds from here on
  E.Task.update(t.id, { title: 'after send', status: 'done', done: true });
  E.Task.delete(gone.id);
  E.Note.update(n.id, { rev: 4 });

  const expected = oldBody(nitro, sync.clientId, 0);
  assert.equal(nitro.core.x.nw_sync_pending(nitro.core.I), 8);
  await sync.push().catch(() => {});             // the fake server answers nothing: the body is what counts
  assert.ok(bodies.length >= 1);
  assert.equal(bodies[0], expected);
  const parsed = JSON.parse(bodies[0]);
  assert.deepEqual(parsed.mutations.map((m) => m.op), ['create', 'create', 'create', 'create', 'create', 'update', 'delete', 'update']);
  nitro.close();
});
