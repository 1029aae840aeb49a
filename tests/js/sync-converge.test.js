// sync-converge.test.js - three clients make random concurrent edits and
// deletes of the same records (fast-check, seeded), pushing and pulling in
// random order, some exchanges overlapping; once everyone has pushed and
// pulled, all stores are identical to the server's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fc from 'fast-check';
import { startServerProcess, tempDir } from '../sync/server-process.js';
import { makeClient, dump, drain } from '../sync/clients.js';

let srv;
before(async () => { srv = await startServerProcess({ db: path.join(tempDir(), 'converge.db') }); });
after(() => srv.stop());

const IDS = ['r0', 'r1', 'r2'];
const client = fc.integer({ min: 0, max: 2 });
const id = fc.constantFrom(...IDS);
const command = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('put'), c: client, id, title: fc.string({ minLength: 1, maxLength: 8 }), priority: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('update'), c: client, id, patch: fc.oneof(
    fc.record({ title: fc.string({ minLength: 1, maxLength: 8 }) }),
    fc.record({ priority: fc.integer({ min: 1, max: 5 }) }),
    fc.record({ tags: fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 3 }), done: fc.constant(false) }),
  ) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete'), c: client, id }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('push'), c: client, wait: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('pull'), c: client, wait: fc.boolean() }) },
);

let run = 0;

test('random concurrent edits and deletes on three clients converge to the server state', async () => {
  await fc.assert(fc.asyncProperty(fc.array(command, { minLength: 5, maxLength: 50 }), async (commands) => {
    const user = `converge-${++run}`;
    const clients = [];
    for (let i = 0; i < 3; i++) clients.push(await makeClient(srv.url, { user }));
    const inFlight = [];
    try {
      for (const cmd of commands) {
        const { E, sync } = clients[cmd.c];
        // ids are global on the server: each run has its own
        const rid = `${user}-${cmd.id}`;
        if (cmd.op === 'put') {
          E.Task.upsert({ id: rid, title: cmd.title, priority: cmd.priority });
        } else if (cmd.op === 'update') {
          if (E.Task.get(rid)) E.Task.update(rid, cmd.patch);
        } else if (cmd.op === 'delete') {
          E.Task.delete(rid);
        } else {
          const p = cmd.op === 'push' ? sync.push() : sync.pull();
          if (cmd.wait) await p; else inFlight.push(p);
        }
      }
      await Promise.all(inFlight);
      for (let round = 0; round < 2; round++) for (const c of clients) await drain(c.sync);
      const server = await makeClient(srv.url, { user });
      await server.sync.pull();
      const want = dump(server.E);
      for (const [i, c] of clients.entries()) {
        assert.equal(c.sync.status.pending, 0, `client ${i} has nothing pending`);
        assert.deepEqual(dump(c.E), want, `client ${i} holds the server's state`);
      }
      server.nitro.close();
    } finally {
      for (const c of clients) c.nitro.close();
    }
  }), { numRuns: 30, seed: 424242 });
});
