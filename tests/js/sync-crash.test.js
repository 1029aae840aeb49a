// sync-crash.test.js - the server process is killed with SIGKILL while
// pushes are in flight (some before their commit, some after it but before
// the answer), then restarted on the same database. Nothing acknowledged is
// lost, nothing is applied twice, and the clients converge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startServerProcess, tempDir } from '../sync/server-process.js';
import { startFaultProxy, seededRandom } from '../sync/fault-proxy.js';
import { makeClient, dump, drain, recordingFetch } from '../sync/clients.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('kill -9 in the middle of pushes, restart: nothing lost, nothing applied twice', async () => {
  const db = path.join(tempDir(), 'crash.db');
  const random = seededRandom(99);
  let srv = await startServerProcess({ db });
  let pushes = 0, killAt = 8, kills = 0, restarting = null;
  const proxy = await startFaultProxy({
    target: new URL(srv.url).origin,
    faults: {},
    onForward(method, url) {
      if (method !== 'POST' || !url.endsWith('/push') || restarting || kills >= 3 || ++pushes < killAt) return;
      // Some kills land before the commit, some after it and before the answer.
      const victim = srv;
      restarting = (async () => {
        await sleep(random() * 4);
        await victim.kill('SIGKILL');
        kills++;
        srv = await startServerProcess({ db });
        proxy.setTarget(new URL(srv.url).origin);
        killAt = pushes + 3 + Math.floor(random() * 6);
        restarting = null;
      })();
    },
  });
  const user = 'crashy';
  const url = `${proxy.origin}/sync`;
  try {
    const clients = [];
    const sent = new Set();
    for (let i = 0; i < 2; i++) clients.push(await makeClient(url, { user, timeout: 3000, fetch: recordingFetch(sent) }));
    for (const c of clients) c.sync.start();
    const model = new Map();
    let writes = 0;
    await Promise.all(clients.map(async (c, ci) => {
      const own = [];
      for (let step = 0; step < 2000 && (kills < 3 || step < 150); step++) {
        const r = random();
        const tag = `c${ci}-s${step}`;
        if (r < 0.4 || own.length === 0) {
          const id = `k-${ci}-${step}`;
          c.E.Task.create({ id, title: tag });
          own.push(id);
          model.set(id, tag);
        } else if (r < 0.9) {
          const id = own[Math.floor(random() * own.length)];
          c.E.Task.update(id, { title: tag });
          model.set(id, tag);
        } else {
          const id = own.splice(Math.floor(random() * own.length), 1)[0];
          c.E.Task.delete(id);
          model.set(id, null);
        }
        writes++;
        await sleep(random() * 6);
      }
    }));
    while (restarting) await restarting;
    assert.equal(kills, 3, 'the server was killed three times during pushes');
    for (const c of clients) await drain(c.sync);
    for (const c of clients) await drain(c.sync);
    for (const c of clients) await c.sync.close();

    const reader = await makeClient(srv.url, { user });
    await reader.sync.pull();
    for (const [id, title] of model) {
      const got = reader.E.Task.get(id);
      assert.equal(got && got.title, title === null ? null : title, id);
    }
    for (const c of clients) assert.deepEqual(dump(c.E), dump(reader.E));
    await srv.stop();
    const check = new Database(db, { readonly: true });
    const head = Number(check.prepare(`SELECT value FROM meta WHERE key = 'head'`).get().value);
    check.close();
    // The outbox folds writes to one record into one mutation while unsent:
    // one version per distinct mutation sent, none lost, none twice.
    assert.ok(sent.size <= writes && sent.size > 0);
    assert.equal(head, sent.size, 'one version per mutation sent: none lost, none twice');
  } finally {
    await proxy.close();
    if (srv.proc.exitCode === null) await srv.kill();
  }
});
