// hardening-server-auth.test.js - tokens against the real server process:
// reserved user ids are refused when minting and when presented, a token has
// one spelling (strict base64url, no padding), refusals are logged with the
// user id and reason but never the token, and failed authentications are
// rate-limited per client address (429 with Retry-After).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { startServerProcess, tempDir, repoRoot, SECRET } from '../sync/server-process.js';
import { tokenFor } from '../sync/clients.js';
import { createToken, verifyToken } from '../../server/auth.js';

const servers = [];
after(() => Promise.all(servers.map((s) => s.stop())));
async function server(extra = []) {
  const s = await startServerProcess({ db: path.join(tempDir(), 'auth.db'), extra });
  servers.push(s);
  return s;
}

/** GET /pull with `token`, from `localAddress` (any 127.x.y.z is this host). */
function pull(srv, token, localAddress = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const req = http.request(`${srv.url}/pull`, { localAddress, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A token signed with the server's secret for any claims (what a holder of
 * the secret, or a bug elsewhere, could make). */
function signed(claims) {
  const input = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

test('a token for a reserved user id cannot be minted: CLI and createToken say why', async () => {
  const run = promisify(execFile);
  for (const user of ['*', ' padded', 'tab\tuser', 'a\u001fb', 'nul\u0000', '\ud800']) {
    assert.throws(() => createToken({ user, secret: SECRET }), /cannot mint a token for user .*: /, JSON.stringify(user));
  }
  const r = await run(process.execPath, ['server/cli.js', 'token', '--user', '*'], { cwd: repoRoot, env: { ...process.env, NITRO_SECRET: SECRET } })
    .then(() => null, (err) => err);
  assert.ok(r, 'the CLI refuses');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /nitro-wasm: cannot mint a token for user "\*": "\*" is reserved/);
  assert.equal(r.stdout, '', 'no token printed');
});

test('a validly signed token for a reserved user id is 401 on every route', async () => {
  const srv = await server();
  const exp = Math.floor(Date.now() / 1000) + 3600;
  for (const sub of ['*', 'a\u001fb', 'line\nbreak', ' x', '\ud800']) {
    const token = signed({ sub, exp });
    await assert.rejects(verifyToken(token, SECRET), /reserved user id/);
    const r = await pull(srv, token);
    assert.equal(r.status, 401, JSON.stringify(sub));
    assert.equal(r.json.error.rule, 'auth');
    const ev = await fetch(`${srv.url}/events?access_token=${token}`);
    assert.equal(ev.status, 401);
    await ev.body.cancel();
    const push = await fetch(`${srv.url}/push`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ client: 'c', mutations: [{ seq: 1, entity: 'Board', id: 'b', op: 'create', fields: { title: 'x' } }] }) });
    assert.equal(push.status, 401);
  }
  assert.equal((await pull(srv, signed({ sub: 'ok-user', exp }))).status, 200, 'the same construction with a plain id works');
});

test('a token has one spelling: padding, the base64 alphabet and non-canonical bits are 401', async () => {
  const srv = await server();
  // a token whose signature holds both '-' and '_', so the '+' '/' spelling differs
  let token;
  for (let i = 0; ; i++) {
    token = tokenFor(`spell-${i}`);
    const sig = token.split('.').at(-1);
    if (sig.includes('-') && sig.includes('_')) break;
  }
  // a JWT: header.claims (signed together), then the signature
  const payload = token.slice(0, token.lastIndexOf('.'));
  const sig = token.split('.').at(-1);
  assert.equal((await pull(srv, token)).status, 200);
  const last = B64URL.indexOf(sig.at(-1));
  const variants = {
    'padded signature': `${payload}.${sig}=`,
    'standard base64 alphabet': `${payload}.${sig.replaceAll('-', '+').replaceAll('_', '/')}`,
    'non-canonical last character': `${payload}.${sig.slice(0, -1)}${B64URL[last ^ 1]}`,
    'padded payload': `${payload}${'='.repeat((4 - (payload.length % 4)) % 4 || 2)}.${sig}`,
  };
  for (const [what, t] of Object.entries(variants)) {
    assert.deepEqual(Buffer.from(t.split('.').at(-1).replace(/=+$/, ''), 'base64'), Buffer.from(sig, 'base64url'), `${what}: the same signature bytes`);
    const r = await pull(srv, t);
    assert.equal(r.status, 401, what);
    assert.equal(r.json.error.rule, 'auth', what);
    await assert.rejects(verifyToken(t, SECRET), /malformed token/, what);
  }
});

test('refusals are logged with the claimed user id and the reason, never the token', async () => {
  const srv = await server();
  const forged = createToken({ user: 'mallory', secret: 'not-the-server-secret' });
  const expired = createToken({ user: 'late-user', secret: SECRET, ttl: 1, now: Date.now() - 10_000 });
  assert.equal((await pull(srv, forged)).status, 401);
  assert.equal((await pull(srv, expired)).status, 401);
  assert.equal((await pull(srv, undefined)).status, 401);
  let lines = [];
  for (let i = 0; i < 200 && lines.length < 3; i++) {
    await new Promise((r) => setTimeout(r, 10));
    lines = srv.output().split('\n').filter((l) => l.includes('authentication refused')).map((l) => JSON.parse(l));
  }
  assert.deepEqual(lines.map((l) => [l.level, l.user, l.reason, l.status]), [
    ['warn', 'mallory', 'invalid token signature', 401],
    ['warn', 'late-user', 'token expired', 401],
    ['warn', null, 'missing bearer token', 401],
  ]);
  assert.ok(lines.every((l) => l.address && l.path === '/sync/pull'));
  for (const t of [forged, expired]) {
    for (const part of t.split('.')) assert.ok(!srv.output().includes(part), 'no part of a token in the log');
  }
});

test('failed authentications are rate-limited per client address: 429 with Retry-After', async () => {
  const srv = await server(['--auth-limit', '3', '--auth-window', '1m']);
  const good = tokenFor('limited-user');
  assert.equal((await pull(srv, good)).status, 200, 'successes do not count');
  for (let i = 0; i < 3; i++) assert.equal((await pull(srv, `bad.token${i}`)).status, 401, `failure ${i + 1}`);
  const blocked = await pull(srv, 'bad.token');
  assert.equal(blocked.status, 429);
  assert.equal(blocked.json.error.rule, 'rate');
  const retry = Number(blocked.headers['retry-after']);
  assert.ok(retry >= 1 && retry <= 20, `Retry-After ${blocked.headers['retry-after']}: one of 3 attempts a minute comes back within 20 s`);
  assert.equal((await pull(srv, good)).status, 429, 'while blocked even a valid token waits (no oracle for guesses)');
  // another address is not affected
  assert.equal((await pull(srv, good, '127.0.0.2')).status, 200);
  assert.equal((await pull(srv, 'bad.x', '127.0.0.2')).status, 401);
});

test('the limiter refills over its window and tracks a bounded number of addresses', async () => {
  const { createAuthLimiter } = await import('../../server/ratelimit.js');
  let t = 0;
  const lim = createAuthLimiter({ limit: 3, windowMs: 60_000, maxAddresses: 100, now: () => t });
  for (let i = 0; i < 3; i++) assert.equal(lim.retryAfter('a'), 0), lim.fail('a');
  assert.equal(lim.retryAfter('a'), 20, 'one attempt back every 20 s');
  t += 19_000;
  assert.ok(lim.retryAfter('a') >= 1);
  t += 1_000;
  assert.equal(lim.retryAfter('a'), 0);
  t += 60_000;
  assert.equal(lim.retryAfter('a'), 0);
  lim.fail('b');
  assert.equal(lim.size, 1, 'a full bucket is forgotten');
  for (let i = 0; i < 1000; i++) lim.fail(`addr-${i}`);
  assert.ok(lim.size <= 100, `${lim.size} addresses tracked`);
  const off = createAuthLimiter({ limit: 0 });
  for (let i = 0; i < 100; i++) off.fail('x');
  assert.equal(off.retryAfter('x'), 0, 'limit 0: no limit');
});
