// sync-server.test.js - the reference server as a real process: tokens
// (missing, forged, expired), user isolation, shared entities, and bad input
// answered with 4xx JSON while the server keeps running.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { NitroError } from '../../dist/nitro.js';
import { startServerProcess, tempDir, repoRoot, SECRET } from '../sync/server-process.js';
import { makeClient, tokenFor } from '../sync/clients.js';
import { createToken, verifyToken } from '../../server/auth.js';

let srv;
before(async () => { srv = await startServerProcess({ db: path.join(tempDir(), 'server.db') }); });
after(() => srv.stop());

async function call(route, { method = 'GET', token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (body !== undefined) h['content-type'] = 'application/json';
  const res = await fetch(`${srv.url}${route}`, { method, headers: h, body: typeof body === 'string' || body === undefined ? body : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text, headers: res.headers };
}

const push1 = { client: 'c', done: 0, mutations: [{ seq: 1, entity: 'Task', id: 'auth-t', op: 'create', fields: { title: 'x' } }] };

test('missing, malformed, forged and expired tokens are refused with 401 JSON', async () => {
  const forged = createToken({ user: 'alice', secret: 'some-other-secret' });
  const expired = createToken({ user: 'alice', secret: SECRET, ttl: 1, now: Date.now() - 10_000 });
  const [payload, sig] = tokenFor('alice').split('.');
  const swapped = `${Buffer.from(JSON.stringify({ sub: 'bob', exp: 9e9 })).toString('base64url')}.${sig}`;
  const cases = [
    ['missing', undefined],
    ['malformed', 'not-a-token'],
    ['forged', forged],
    ['expired', expired],
    ['tampered claims', swapped],
    ['truncated signature', `${payload}.${sig.slice(0, 10)}`],
  ];
  for (const [what, token] of cases) {
    for (const [route, opts] of [['/pull', {}], ['/push', { method: 'POST', body: push1 }], ['/events', {}]]) {
      const r = await call(route, { ...opts, token });
      assert.equal(r.status, 401, `${what} token on ${route}`);
      assert.equal(r.json.error.code, 'SYNC');
      assert.equal(r.json.error.rule, 'auth');
      assert.equal(r.headers.get('www-authenticate'), 'Bearer');
    }
  }
  await assert.rejects(verifyToken(expired, SECRET), /expired/);
  assert.equal(await verifyToken(tokenFor('carol'), SECRET), 'carol');
  // a failed sync call surfaces as SYNC
  const c = await makeClient(srv.url, { user: 'alice', token: forged });
  c.E.Task.create({ title: 'x' });
  await assert.rejects(c.sync.push(), (e) => e instanceof NitroError && e.code === 'SYNC' && /401/.test(e.message));
  assert.equal(c.sync.status.pending, 1);
});

test('a user never sees or changes another user\'s records; shared entities are seen by all', async () => {
  const a = await makeClient(srv.url, { user: 'iso-a' });
  const b = await makeClient(srv.url, { user: 'iso-b' });
  const secret = a.E.Task.create({ title: 'a only' });
  const p = a.E.Project.create({ name: 'a project' });
  const board = a.E.Board.create({ title: 'for everyone' });
  await a.sync.push();
  await b.sync.pull();
  assert.equal(b.E.Task.count(), 0);
  assert.equal(b.E.Project.count(), 0);
  assert.equal(b.E.Board.get(board.id).title, 'for everyone');

  const rejected = [];
  b.nitro.on('sync.rejected', (e) => rejected.push(e.payload));
  // b writes to a's ids: an update, a create (b's own record), a reference to a's project
  b.E.Task.create({ id: secret.id, title: 'hijack' });
  b.E.Task.create({ title: 'mine', projectId: null });
  const mine = b.E.Task.findBy({ title: 'mine' });
  b.E.Task.update(mine.id, { title: 'mine, in a\'s project?' });
  const raw = await call('/push', { method: 'POST', token: tokenFor('iso-b'), body: { client: 'raw-b', done: 0, mutations: [
    { seq: 1, entity: 'Task', id: secret.id, op: 'update', fields: { title: 'changed by b' } },
    { seq: 2, entity: 'Task', id: secret.id, op: 'delete' },
    { seq: 3, entity: 'Task', id: 'b-ref', op: 'create', fields: { title: 'ref', projectId: p.id } },
  ] } });
  assert.deepEqual(raw.json.results.map((r) => [r.status, r.error && r.error.code]), [['rejected', 'NOT_FOUND'], ['applied', undefined], ['rejected', 'VALIDATION']]);
  assert.ok(raw.json.results.every((r) => !r.current), 'nothing of a\'s record leaks');
  await b.sync.push();
  // the id a has is b's own in b's namespace: the create applies, a's record is untouched
  assert.equal(rejected.length, 0);
  await b.sync.pull();
  assert.equal(b.E.Task.get(secret.id).title, 'hijack', 'b keeps b\'s own record with that id');

  // b edits the shared board; a sees it
  b.E.Board.update(board.id, { title: 'edited by b' });
  await b.sync.push();
  await a.sync.pull();
  assert.equal(a.E.Task.get(secret.id).title, 'a only', 'a\'s task untouched');
  assert.equal(a.E.Board.get(board.id).title, 'edited by b');
  assert.equal(a.E.Task.count(), 1, 'b\'s private task is not visible to a');
});

test('bad input gets 4xx JSON and the server keeps serving', async () => {
  const token = tokenFor('bad-input');
  const cases = [
    [{ method: 'POST', body: '{"client":' }, 400],
    [{ method: 'POST', body: '[]' }, 400],
    [{ method: 'POST', body: { client: '', done: 0, mutations: [] } }, 400],
    [{ method: 'POST', body: { client: 'c', done: -1, mutations: push1.mutations } }, 400],
    [{ method: 'POST', body: { client: 'c', mutations: [{ seq: 0, entity: 'Task', id: 'x', op: 'create', fields: {} }] } }, 400],
    [{ method: 'POST', body: { client: 'c', mutations: [{ seq: 1, entity: 'Task', id: 'x', op: 'rename', fields: {} }] } }, 400],
    [{ method: 'POST', body: { client: 'c', mutations: [{ seq: 1, entity: 'Task', id: 'x', op: 'update', fields: [] }] } }, 400],
    [{ method: 'POST', body: { client: 'c', mutations: [{ seq: 1, entity: 'Task', id: 7, op: 'delete' }] } }, 400],
    [{ method: 'POST', body: { client: 'c', mutations: Array.from({ length: 1001 }, (_, i) => ({ seq: i + 1, entity: 'Task', id: `x${i}`, op: 'delete' })) } }, 413],
    [{ method: 'POST', body: 'x'.repeat(1.5 * 1024 * 1024) }, 413],
    [{ method: 'GET' }, 405],
  ];
  for (const [opts, status] of cases) {
    const r = await call('/push', { ...opts, token });
    assert.equal(r.status, status, `${JSON.stringify(opts).slice(0, 120)} -> ${r.text.slice(0, 200)}`);
    assert.equal(typeof r.json.error.message, 'string');
  }
  for (const q of ['since=abc', 'since=-1', 'limit=0', 'limit=x', 'since=99999999999999999999']) {
    const r = await call(`/pull?${q}`, { token });
    assert.equal(r.status, 400, q);
  }
  assert.equal((await call('/nope', { token })).status, 404);
  // semantic errors are per mutation, never a crash
  const odd = await call('/push', { method: 'POST', token, body: { client: 'c', mutations: [
    { seq: 1, entity: 'Nope', id: 'x', op: 'create', fields: {} },
    { seq: 2, entity: 'Task', id: 'x', op: 'create', fields: { title: 'ok', nope: 1 } },
    { seq: 3, entity: 'Task', id: 'y', op: 'create', fields: { title: { deep: [1, 2] }, due: 'not a date' } },
    { seq: 4, entity: 'Task', id: 'z', op: 'create', fields: { title: 'fine', meta: { a: [1, { b: null }] } } },
    { seq: 5, entity: 'Task', id: 'z', op: 'update', fields: { priority: 1e300 } },
  ] } });
  assert.equal(odd.status, 200);
  assert.deepEqual(odd.json.results.map((r) => r.status), ['rejected', 'rejected', 'rejected', 'applied', 'rejected']);
  assert.deepEqual(odd.json.results.map((r) => r.error && r.error.code), ['SCHEMA', 'VALIDATION', 'VALIDATION', undefined, 'VALIDATION']);
  const ok = await call('/pull?entities=Task', { token });
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.json.changes.map((c) => c.id), ['z']);
  assert.equal(srv.proc.exitCode, null, 'still running');
});

test('`nitro-wasm token` prints a token the server accepts', async () => {
  const run = promisify(execFile);
  const { stdout } = await run(process.execPath, ['server/cli.js', 'token', '--user', 'cli-user', '--ttl', '5m'], { cwd: repoRoot, env: { ...process.env, NITRO_SECRET: SECRET } });
  const token = stdout.trim();
  assert.equal(await verifyToken(token, SECRET), 'cli-user');
  const r = await call('/pull', { token });
  assert.equal(r.status, 200);
  await assert.rejects(run(process.execPath, ['server/cli.js', 'token', '--user', 'x'], { cwd: repoRoot, env: { ...process.env, NITRO_SECRET: '' } }), /secret/);
});
