// sync-postgres.test.js - the sync server on a real PostgreSQL that the test
// starts itself (tests/support/postgres.js): migrations, the global change
// order under concurrent pushes from two instances, LISTEN/NOTIFY between
// instances, and two server processes on one database (live updates cross
// over; every client's pull sequence has no gap or repeat; kill -9 of one
// instance mid-push loses and duplicates nothing).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { postgresOrSkip } from '../support/postgres.js';
import { postgresStorage, StaleHeadError, MIGRATIONS } from '../../server/storage/postgres.js';
import { startServerProcess } from '../sync/server-process.js';
import { makeClient, tokenFor } from '../sync/clients.js';
import { seededRandom } from '../sync/fault-proxy.js';

const { pg, skip } = await postgresOrSkip();
after(() => pg && pg.stop());

const quiet = { warn() {} };
let dbCount = 0;
const freshDb = () => pg.createDatabase(`sync_pg_${process.pid}_${++dbCount}`);

async function openStorage(url) {
  const s = postgresStorage(url, { logger: quiet, poolSize: 4 });
  await s.open();
  return s;
}

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves when cond() holds, polling; fails after `ms` with `what`. */
async function until(cond, what, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await pause(5);
  }
}

const boardRow = (id, version, writer = 'w') => ({ entity: 'Board', id, owner: 'u', scope: '*', version, writer, deleted: false, data: JSON.stringify({ id, title: id }) });

test('migrations run once, are recorded, and instances starting together do not race', { skip }, async () => {
  const url = await freshDb();
  const three = await Promise.all([openStorage(url), openStorage(url), openStorage(url)]);
  const { rows } = await three[0].pool.query('SELECT version FROM nitro_migrations ORDER BY version');
  assert.deepEqual(rows.map((r) => r.version), MIGRATIONS.map((_, i) => i + 1));
  assert.equal(await three[0].head(), 0);
  await Promise.all(three.map((s) => s.close()));
  const again = await openStorage(url);
  assert.equal((await again.pool.query('SELECT count(*)::int AS n FROM nitro_migrations')).rows[0].n, MIGRATIONS.length);
  await again.pool.query('INSERT INTO nitro_migrations (version) VALUES (999)');
  await again.close();
  await assert.rejects(openStorage(url), /migrated by a newer version \(schema 999\)/);
});

test('the storage interface round-trips records, receipts and watermarks', { skip }, async () => {
  const url = await freshDb();
  const s = await openStorage(url);
  try {
    await s.commitPush({
      user: 'ann', client: 'c1', done: 1, head: 2,
      records: [
        { entity: 'Task', id: 't1', owner: 'ann', scope: 'ann', version: 1, writer: 'ann\nc1', deleted: false, data: '{"id":"t1","title":"a"}' },
        { entity: 'Task', id: 't2', owner: 'ann', scope: 'ann', version: 2, writer: 'ann\nc1', deleted: true, data: null },
      ],
      receipts: [{ seq: 1, result: '{"s":1}' }, { seq: 2, result: '{"s":2}' }, { seq: 3, result: '{"s":3}' }],
    });
    assert.equal(await s.watermark('ann', 'c1'), 1);
    assert.equal(await s.watermark('ann', 'other'), 0);
    assert.deepEqual([...await s.receipts('ann', 'c1', 1, 3)], [[2, '{"s":2}'], [3, '{"s":3}']], 'receipts at or below done are dropped');
    const loaded = [];
    await s.loadRecords((r) => loaded.push(r));
    assert.deepEqual(loaded.map((r) => [r.id, r.version, r.deleted, r.data]), [['t1', 1, false, '{"id":"t1","title":"a"}'], ['t2', 2, true, null]]);
    assert.equal(await s.head(), 2);
    assert.deepEqual((await s.changesSince({ scope: 'ann', since: 1, limit: 10 })).map((r) => [r.id, r.version, r.deleted]), [['t2', 2, true]]);
    assert.deepEqual(await s.changesSince({ scope: 'bob', since: 0, limit: 10 }), []);
  } finally {
    await s.close();
  }
});

test('group commit: several clients\' pushes in one transaction, their states read in one round trip', { skip }, async () => {
  const url = await freshDb();
  const s = await openStorage(url);
  try {
    const { head } = await s.beginPush(0);
    await s.commitPushes({
      head: head + 3,
      records: [boardRow('g1', 1), boardRow('g2', 2), { ...boardRow('t1', 3), entity: 'Task', owner: 'bo', scope: 'bo' }],
      clients: [
        { user: 'al', client: 'a', done: 0, receipts: [{ seq: 1, result: 'a1' }, { seq: 2, result: 'a2' }] },
        { user: 'bo', client: 'b', done: 4, receipts: [{ seq: 5, result: 'b5' }] },
        // the same client twice in one group: one row, the later answer, the higher watermark
        { user: 'al', client: 'a', done: 1, receipts: [{ seq: 2, result: 'a2 again' }, { seq: 3, result: 'a3' }] },
      ],
    });
    const states = await s.clientStates([
      { user: 'al', client: 'a', from: 1, to: 10 },
      { user: 'bo', client: 'b', from: 5, to: 5 },
      { user: 'cy', client: 'c', from: 1, to: 1 },
    ]);
    assert.deepEqual(states.map((x) => [x.done, [...x.receipts]]), [
      [1, [[2, 'a2 again'], [3, 'a3']]],
      [4, [[5, 'b5']]],
      [0, []],
    ]);
    assert.equal(await s.head(), 3);
    const { rows } = await s.pool.query('SELECT id FROM nitro_records ORDER BY version');
    assert.deepEqual(rows.map((r) => r.id), ['g1', 'g2', 't1']);
  } finally {
    await s.close();
  }
});

test('two instances pushing at once get one gap-free order, and a reader never sees a gap', { skip }, async () => {
  const url = await freshDb();
  const [a, b, reader] = await Promise.all([openStorage(url), openStorage(url), openStorage(url)]);
  const random = seededRandom(9);
  const known = [0, 0];
  const own = [[], []];
  const caughtUp = [[], []];
  let writing = 2;
  // Each push holds the lock for a random moment: without the lock, a later
  // version would often commit first and a reader would step over it.
  async function writer(s, w, pushes) {
    for (let i = 0; i < pushes; i++) {
      const { head, rows } = await s.beginPush(known[w]);
      caughtUp[w].push(...rows.map((r) => r.version));
      await pause(random() * 3);
      const n = 1 + (i % 3);
      const records = Array.from({ length: n }, (_, j) => boardRow(`w${w}-${i}-${j}`, head + j + 1));
      await s.commitPush({ user: 'u', client: `w${w}`, done: 0, head: head + n, records, receipts: [] });
      own[w].push(...records.map((r) => r.version));
      known[w] = head + n;
    }
    writing--;
  }
  async function read(limit) {
    const seen = [];
    let since = 0;
    for (;;) {
      const stillWriting = writing > 0;
      const rows = await reader.changesSince({ scope: '*', since, limit });
      for (const r of rows) seen.push(r.version);
      if (rows.length) since = rows[rows.length - 1].version;
      else if (!stillWriting) return seen;
      else await pause(random());
    }
  }
  const range = (n) => Array.from({ length: n }, (_, i) => i + 1);
  try {
    const [, , seen1, seen2] = await Promise.all([writer(a, 0, 40), writer(b, 1, 40), read(3), read(7)]);
    const total = own[0].length + own[1].length;
    assert.equal(total, 2 * 79);
    assert.deepEqual(seen1, range(total), 'reader 1: every version once, in order');
    assert.deepEqual(seen2, range(total), 'reader 2: every version once, in order');
    assert.deepEqual([...own[0], ...own[1]].sort((x, y) => x - y), range(total), 'the instances never handed out one version twice');
    for (const w of [0, 1]) {
      // what an instance caught up with is exactly what the other wrote before its last push
      assert.deepEqual([...own[w], ...caughtUp[w]].sort((x, y) => x - y), range(known[w]));
      assert.ok(caughtUp[w].every((v) => own[1 - w].includes(v)));
    }
  } finally {
    await Promise.all([a.close(), b.close(), reader.close()]);
  }
});

test('a push decided on a stale mirror is refused, not written (server without beginPush)', { skip }, async () => {
  const url = await freshDb();
  const [a, b] = await Promise.all([openStorage(url), openStorage(url)]);
  try {
    assert.equal(await a.head(), 0);
    assert.equal(await b.head(), 0);
    await a.commitPush({ user: 'u', client: 'a', done: 0, head: 1, records: [boardRow('from-a', 1)], receipts: [] });
    // b still believes the head is 0 and would hand out version 1 again
    await assert.rejects(
      b.commitPush({ user: 'u', client: 'b', done: 0, head: 1, records: [boardRow('from-b', 1)], receipts: [{ seq: 1, result: '{}' }] }),
      (err) => err instanceof StaleHeadError && err.code === 'STALE');
    const { rows } = await a.pool.query('SELECT id FROM nitro_records');
    assert.deepEqual(rows.map((r) => r.id), ['from-a']);
    assert.equal(await b.watermark('u', 'b'), 0, 'nothing of the refused push was kept');
    // after reloading (head() again) b writes above a
    assert.equal(await b.head(), 1);
    await b.commitPush({ user: 'u', client: 'b', done: 0, head: 2, records: [boardRow('from-b', 2)], receipts: [] });
    assert.equal(await a.head(), 2);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('instances hear each other\'s commits through LISTEN/NOTIFY, and the listener comes back after its connection dies', { skip }, async () => {
  const url = await freshDb();
  const [a, b] = await Promise.all([openStorage(url), openStorage(url)]);
  const heardA = [];
  const heardB = [];
  a.subscribe((e) => heardA.push(e));
  const offB = b.subscribe((e) => heardB.push(e));
  try {
    let { head } = await b.beginPush(0);
    await b.commitPush({ user: 'u', client: 'b', done: 0, head: head + 2, records: [boardRow('b1', head + 1), { ...boardRow('t1', head + 2), entity: 'Task', owner: 'ann', scope: 'ann' }], receipts: [] });
    await until(() => heardA.length === 1, 'a to hear b');
    assert.equal(heardA[0].head, 2);
    assert.deepEqual([...heardA[0].scopes].sort(), ['*', 'ann']);
    ({ head } = await a.beginPush(0));
    await a.commitPush({ user: 'u', client: 'a', done: 0, head: head + 1, records: [boardRow('a1', head + 1)], receipts: [] });
    await until(() => heardB.length === 1, 'b to hear a');
    assert.equal(heardB[0].head, 3);
    assert.equal(heardA.length, 1, 'an instance is not told about its own commits');

    // Kill a's listening connection: it reconnects, tells its streams to
    // pull (scope '*', the current head), and hears later commits again.
    const killed = await b.pool.query(
      "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'nitro-wasm listen' AND datname = current_database() AND pid <> pg_backend_pid()");
    assert.equal(killed.rows.length, 2, 'both listeners found');
    await until(() => heardA.length === 2, 'a to resync after reconnecting');
    assert.deepEqual({ head: heardA[1].head, scopes: [...heardA[1].scopes] }, { head: 3, scopes: ['*'] });
    await until(async () => { try { await a.ping(); return true; } catch { return false; } }, 'a to be ready again');
    offB();
    ({ head } = await b.beginPush(0));
    await b.commitPush({ user: 'u', client: 'b', done: 0, head: head + 1, records: [boardRow('b2', head + 1)], receipts: [] });
    await until(() => heardA.length === 3, 'a to hear b after the reconnect');
    assert.equal(heardA[2].head, 4);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

// ---- two server processes on one database --------------------------------------------

async function call(base, route, user, body) {
  const headers = { authorization: `Bearer ${tokenFor(user)}` };
  if (body) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${route}`, { method: body ? 'POST' : 'GET', headers, body: body && JSON.stringify(body) });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`${route}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function twoServers() {
  const url = await freshDb();
  const [s1, s2] = await Promise.all([startServerProcess({ db: url }), startServerProcess({ db: url })]);
  return { url, s1, s2, stop: () => Promise.all([s1.stop(), s2.stop()]) };
}

test('two server processes: a change pushed to one reaches live clients of the other, both ways', { skip }, async () => {
  const { s1, s2, stop } = await twoServers();
  const clients = [];
  try {
    const alice1 = await makeClient(s1.url, { user: 'alice' });
    const alice2 = await makeClient(s2.url, { user: 'alice', live: true });
    const bob2 = await makeClient(s2.url, { user: 'bob', live: true });
    clients.push(alice1, alice2, bob2);
    const seen = [];
    alice2.nitro.on('Task.*', (e) => seen.push(e));
    alice2.sync.start();
    bob2.sync.start();
    await until(() => alice2.sync.status.online && bob2.sync.status.online, 'live clients online');

    const t = alice1.E.Task.create({ title: 'from instance 1' });
    const board = alice1.E.Board.create({ title: 'shared board' });
    await alice1.sync.push();
    await until(() => alice2.E.Task.get(t.id), 'the task on alice\'s live client of instance 2');
    assert.equal(seen[0].type, 'Task.created');
    assert.equal(seen[0].source, 'sync');
    await until(() => bob2.E.Board.get(board.id), 'the shared board on bob\'s live client');
    assert.equal(bob2.E.Task.get(t.id), null, 'bob never sees alice\'s private task');

    // The other way: instance 2 accepts an update of a record instance 1
    // created (it caught up under the lock) and instance 1's client pulls it.
    alice2.E.Task.update(t.id, { title: 'edited on instance 2', priority: 5 });
    await until(() => alice2.sync.status.pending === 0, 'the live client to push');
    await alice1.sync.pull();
    assert.equal(alice1.E.Task.get(t.id).title, 'edited on instance 2');
    assert.equal(alice1.E.Task.get(t.id).priority, 5);
  } finally {
    for (const c of clients) await c.sync.close();
    await stop();
  }
});

test('concurrent pushes to both instances: every reader\'s pull sequence has no gap and no repeat', { skip }, async () => {
  const { s1, s2, stop } = await twoServers();
  const bases = [s1.url, s2.url];
  const random = seededRandom(21);
  const users = ['u0', 'u1', 'u2'];
  const versions = { shared: [], u0: [], u1: [], u2: [] };
  let writing = 0;
  async function writer(w) {
    writing++;
    const user = users[w % users.length];
    const base = bases[w % 2];
    let seq = 0;
    for (let i = 0; i < 12; i++) {
      const mutations = [];
      for (let k = 1 + Math.floor(random() * 3); k > 0; k--) {
        const shared = random() < 0.5;
        mutations.push({ seq: ++seq, entity: shared ? 'Board' : 'Task', id: `w${w}-${seq}`, op: 'create', fields: { title: `w${w} ${seq}` } });
      }
      const { results } = await call(base, '/push', user, { client: `writer-${w}`, done: seq - mutations.length, mutations });
      results.forEach((r, j) => {
        assert.equal(r.status, 'applied');
        versions[mutations[j].entity === 'Board' ? 'shared' : user].push(r.version);
      });
      await pause(random() * 4);
    }
    writing--;
  }
  async function reader(user, base) {
    const got = [];
    let since = '0';
    await pause(random() * 5);
    for (;;) {
      const idle = writing === 0;
      const page = await call(base, `/pull?since=${since}&limit=${2 + Math.floor(random() * 5)}`, user);
      for (const c of page.changes) got.push(c.version);
      since = page.checkpoint;
      if (!page.changes.length && !page.more) {
        if (idle) return got;
        await pause(random() * 3);
      }
    }
  }
  try {
    const writers = [0, 1, 2, 3, 4, 5].map(writer);
    const readers = [reader('u0', bases[0]), reader('u0', bases[1]), reader('u1', bases[1]), reader('u2', bases[0])];
    await Promise.all(writers);
    const [r0a, r0b, r1, r2] = await Promise.all(readers);
    const all = [...versions.shared, ...versions.u0, ...versions.u1, ...versions.u2].sort((x, y) => x - y);
    assert.deepEqual(all, Array.from({ length: all.length }, (_, i) => i + 1), 'one gap-free global order over both instances');
    const expect = (user) => [...versions.shared, ...versions[user]].sort((x, y) => x - y);
    assert.deepEqual(r0a, expect('u0'), 'u0 via instance 1');
    assert.deepEqual(r0b, expect('u0'), 'u0 via instance 2');
    assert.deepEqual(r1, expect('u1'));
    assert.deepEqual(r2, expect('u2'));
  } finally {
    await stop();
  }
});

test('kill -9 of one instance mid-push: the other keeps serving, nothing acknowledged is lost or applied twice', { skip }, async () => {
  const { s1, s2, stop } = await twoServers();
  try {
    const batches = [];
    for (let b = 0; b < 12; b++) {
      batches.push(Array.from({ length: 40 }, (_, i) => {
        const seq = b * 40 + i + 1;
        return { seq, entity: 'Task', id: `k-${seq}`, op: 'create', fields: { title: `task ${seq}` } };
      }));
    }
    let acked = 0;
    for (; acked < 6; acked++) await call(s1.url, '/push', 'kim', { client: 'kim-1', done: 0, mutations: batches[acked] });
    // Several pushes in flight at once, then the process dies under them.
    const inFlight = batches.slice(acked, acked + 3).map((m) => call(s1.url, '/push', 'kim', { client: 'kim-1', done: 0, mutations: m }).catch(() => null));
    await pause(2);
    await s1.kill('SIGKILL');
    const answered = await Promise.all(inFlight);

    // The dead instance held no lock for long: instance 2 takes pushes.
    await call(s2.url, '/push', 'lee', { client: 'lee-1', done: 0, mutations: [{ seq: 1, entity: 'Task', id: 'lee-1', op: 'create', fields: { title: 'after the crash' } }] });
    // The client sends everything not acknowledged again, to instance 2.
    const resent = [];
    for (let b = acked; b < batches.length; b++) {
      if (answered[b - acked]) continue;
      const { results } = await call(s2.url, '/push', 'kim', { client: 'kim-1', done: 0, mutations: batches[b] });
      resent.push(...results);
    }
    assert.ok(resent.every((r) => r.status === 'applied'), 'a replayed create is recognised, not refused as a duplicate');
    const pulled = [];
    let since = '0';
    for (;;) {
      const page = await call(s2.url, `/pull?since=${since}`, 'kim');
      pulled.push(...page.changes);
      since = page.checkpoint;
      if (!page.more) break;
    }
    const ids = pulled.map((c) => c.id).sort();
    const want = batches.flat().map((m) => m.id).sort();
    assert.deepEqual(ids, want, 'every task exactly once');
    const head = Number(since);
    assert.equal(head, want.length + 1, 'one version per create (+ lee\'s): nothing applied twice');
  } finally {
    await stop();
  }
});

test('database connections killed under load: pushes get 503 and retry, the server stays up, nothing is lost', { skip }, async () => {
  const url = await freshDb();
  const srv = await startServerProcess({ db: url });
  const { default: pgDriver } = await import('pg');
  const admin = new pgDriver.Client({ connectionString: url, application_name: 'test-admin' });
  await admin.connect();
  try {
    let seq = 0;
    const want = [];
    async function pushRetrying(mutations) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await call(srv.url, '/push', 'kai', { client: 'kai-1', done: 0, mutations });
        } catch (err) {
          if (attempt > 50 || !/HTTP 503/.test(err.message)) {
            await pause(300); // a crashing server is still printing
            throw new Error(`${err.message} ${err.cause ? err.cause.code : ''}; server exit code ${srv.proc.exitCode}\n${srv.output().slice(-2500)}`);
          }
          await pause(20);
        }
      }
    }
    const writer = (async () => {
      for (let b = 0; b < 30; b++) {
        const mutations = Array.from({ length: 20 }, () => {
          seq++;
          want.push(`kai-${seq}`);
          return { seq, entity: 'Task', id: `kai-${seq}`, op: 'create', fields: { title: `t${seq}` } };
        });
        const { results } = await pushRetrying(mutations);
        const refused = results.find((r) => r.status !== 'applied');
        assert.equal(refused, undefined, `a push after a lost connection was refused: ${JSON.stringify(refused)}`);
      }
    })();
    writer.catch(() => {}); // awaited below; if the test fails first, stay quiet
    let cut = 0;
    for (let i = 0; i < 3; i++) {
      await pause(40);
      const { rows } = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'nitro-wasm%' AND datname = current_database()");
      cut += rows.length;
    }
    assert.ok(cut >= 1, 'server connections were cut');
    await writer;
    const pulled = [];
    let since = '0';
    for (;;) {
      const page = await call(srv.url, `/pull?since=${since}`, 'kai');
      pulled.push(...page.changes.map((c) => c.id));
      since = page.checkpoint;
      if (!page.more) break;
    }
    assert.deepEqual(pulled.sort(), want.sort(), 'every task once');
    assert.equal(Number(since), want.length, 'one version per create');
    assert.equal(srv.proc.exitCode, null, 'the server process is still running');
  } finally {
    await admin.end();
    await srv.stop();
  }
});
