// sync-faults.test.js - three clients sync through a proxy that drops,
// delays, duplicates and resets requests and responses and answers 500 and
// 429 (tests/sync/fault-proxy.js, seeded), while a real server process
// stores the changes. Afterwards every write is on the server exactly once
// and every client holds the server's state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startServerProcess, tempDir } from '../sync/server-process.js';
import { startFaultProxy, seededRandom, DEFAULT_FAULTS } from '../sync/fault-proxy.js';
import { makeClient, dump, drain, recordingFetch } from '../sync/clients.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('through a faulty network, every write lands exactly once and all clients converge', async () => {
  const db = path.join(tempDir(), 'faults.db');
  const srv = await startServerProcess({ db });
  const proxy = await startFaultProxy({ target: new URL(srv.url).origin, seed: 20240611 });
  const url = `${proxy.origin}/sync`;
  const random = seededRandom(7);
  const user = 'faulty';
  try {
    const clients = [];
    const sent = new Set();
    for (let i = 0; i < 3; i++) clients.push(await makeClient(url, { user, live: true, timeout: 3000, streamIdle: 2000, fetch: recordingFetch(sent) }));

    // Records every client updates (last writer wins), made before the faults.
    const commonIds = [];
    for (let k = 0; k < 3; k++) commonIds.push(clients[0].E.Task.create({ id: `common-${k}`, title: 'common' }).id);
    let writes = 3;
    proxy.setFaults({});
    await drain(clients[0].sync);
    for (const c of clients) await drain(c.sync);
    proxy.setFaults(DEFAULT_FAULTS);

    // What each client last wrote to the records only it writes.
    const model = new Map();
    for (const c of clients) c.sync.start();
    await Promise.all(clients.map(async (c, ci) => {
      const own = [];
      for (let step = 0; step < 200; step++) {
        const r = random();
        const tag = `c${ci}-s${step}`;
        if (r < 0.35 || own.length === 0) {
          const id = `own-${ci}-${step}`;
          c.E.Task.create({ id, title: tag, priority: 1 + (step % 5) });
          own.push(id);
          model.set(id, { title: tag, priority: 1 + (step % 5) });
        } else if (r < 0.75) {
          const id = own[Math.floor(random() * own.length)];
          const priority = 1 + Math.floor(random() * 5);
          c.E.Task.update(id, { title: tag, priority });
          model.set(id, { title: tag, priority });
        } else if (r < 0.85) {
          const id = own.splice(Math.floor(random() * own.length), 1)[0];
          c.E.Task.delete(id);
          model.set(id, null);
        } else {
          c.E.Task.update(commonIds[Math.floor(random() * commonIds.length)], { title: tag });
        }
        writes++;
        if (random() < 0.6) await sleep(random() * 12);
      }
    }));

    // Heal the network; let every outbox drain, then everyone catches up.
    await sleep(100);
    proxy.setFaults({});
    for (const c of clients) await drain(c.sync);
    for (const c of clients) await drain(c.sync);
    for (const c of clients) await c.sync.close();

    if (process.env.SYNC_DEBUG) console.log(proxy.stats);
    const faults = Object.keys(proxy.stats).filter((k) => !['requests', 'forwarded'].includes(k));
    assert.ok(faults.length >= 6, `the proxy injected several kinds of faults: ${JSON.stringify(proxy.stats)}`);

    // A fresh client on a clean connection is the server's view.
    const reader = await makeClient(srv.url, { user });
    await reader.sync.pull();
    const server = dump(reader.E);
    for (const [id, want] of model) {
      const got = reader.E.Task.get(id);
      if (want === null) assert.equal(got, null, `${id} deleted`);
      else assert.deepEqual({ title: got && got.title, priority: got && got.priority }, want, id);
    }
    for (const [i, c] of clients.entries()) {
      assert.equal(c.sync.status.pending, 0, `client ${i} outbox empty`);
      assert.deepEqual(dump(c.E), server, `client ${i} converged`);
    }

    // Exactly once: each mutation changed its record, so the global version
    // counter moved once per distinct mutation sent (the outbox folds
    // unsent writes to one record into one: src/changelog.h); a lost one
    // leaves it short, one applied twice after a later one moves it further.
    await srv.stop();
    const check = new Database(db, { readonly: true });
    const head = Number(check.prepare(`SELECT value FROM meta WHERE key = 'head'`).get().value);
    check.close();
    assert.ok(sent.size <= writes);
    assert.equal(head, sent.size);
  } finally {
    await proxy.close();
    if (srv.proc.exitCode === null) await srv.kill();
  }
});
