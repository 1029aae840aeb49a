// server-jwt.test.js - bearer tokens are standard JWTs: the server's own
// HS256 tokens (secret), and an identity provider's tokens checked against
// its JWKS, here served by the test itself. Validation is strict: the
// algorithm is allow-listed, exp and sub are required, issuer and audience
// are checked when configured, and each refusal says why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SignJWT, generateKeyPair, exportJWK, decodeJwt, decodeProtectedHeader } from 'jose';
import { createSyncServer } from '../../server/index.js';
import { repoRoot } from '../sync/server-process.js';
import { schema, SECRET } from '../sync/clients.js';

let jwks, jwksUrl, idp, other, servers = [];

before(async () => {
  idp = await generateKeyPair('RS256');
  other = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(idp.publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' };
  jwks = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise((r) => jwks.listen(0, '127.0.0.1', r));
  jwksUrl = `http://127.0.0.1:${jwks.address().port}/.well-known/jwks.json`;
});
after(async () => {
  for (const s of servers) await s.close();
  await new Promise((r) => jwks.close(r));
});

async function start(options) {
  const server = await createSyncServer({ schema, db: 'memory:', log: false, authLimit: 0, ...options });
  servers.push(server);
  const { url } = await server.listen(0);
  return { server, url };
}

async function pull(url, token) {
  const r = await fetch(`${url}/pull`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  return { status: r.status, json: await r.json() };
}

function idpToken(claims, { key = idp.privateKey, kid = 'idp-1', alg = 'RS256', exp = '10m' } = {}) {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg, kid }).setIssuedAt();
  if (exp) jwt.setExpirationTime(exp);
  return jwt.sign(key);
}

test("the server's tokens are HS256 JWTs with sub, iat and exp; the CLI mints the same", async () => {
  const { server, url } = await start({ secret: SECRET });
  const token = server.token('jwt-user', '5m');
  assert.deepEqual(decodeProtectedHeader(token), { alg: 'HS256', typ: 'JWT' });
  const claims = decodeJwt(token);
  assert.equal(claims.sub, 'jwt-user');
  assert.equal(claims.exp - claims.iat, 300);
  assert.equal((await pull(url, token)).status, 200);
  const { stdout } = await promisify(execFile)(process.execPath, ['server/cli.js', 'token', '--user', 'cli-jwt', '--ttl', '1h'],
    { cwd: repoRoot, env: { ...process.env, NITRO_SECRET: SECRET } });
  assert.equal(decodeJwt(stdout.trim()).sub, 'cli-jwt');
  assert.equal((await pull(url, stdout.trim())).status, 200);
});

test('HS256 validation is strict: other algorithms, no exp, no sub, expired: 401 with the reason', async () => {
  const { url } = await start({ secret: SECRET });
  const key = new TextEncoder().encode(SECRET);
  const cases = [
    ['HS512 with the same secret', new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'HS512' }).setExpirationTime('5m').sign(key), /algorithm not allowed/],
    ['no exp', new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'HS256' }).sign(key), /claim exp missing/],
    ['no sub', new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(key), /claim sub missing/],
    ['expired', new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(key), /token expired/],
    ['another secret', new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode('another-secret')), /invalid token signature/],
    ['alg none', Promise.resolve(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(`{"sub":"u","exp":${Math.floor(Date.now() / 1000) + 60}}`).toString('base64url')}.`), /malformed token/],
  ];
  for (const [what, made, reason] of cases) {
    const r = await pull(url, await made);
    assert.equal(r.status, 401, what);
    assert.equal(r.json.error.rule, 'auth', what);
    assert.match(r.json.error.message, reason, what);
  }
});

test("with a JWKS URL the identity provider's tokens work, and nothing else does", async () => {
  const { url } = await start({ jwksUrl, issuer: 'https://idp.test', audience: 'nitro' });
  const good = await idpToken({ sub: 'idp-user', iss: 'https://idp.test', aud: 'nitro' });
  assert.equal((await pull(url, good)).status, 200);
  const refused = [
    ['signed with another key', idpToken({ sub: 'u', iss: 'https://idp.test', aud: 'nitro' }, { key: other.privateKey }), /invalid token signature/],
    ['unknown kid', idpToken({ sub: 'u', iss: 'https://idp.test', aud: 'nitro' }, { kid: 'nope' }), /no key of the identity provider/],
    ['wrong issuer', idpToken({ sub: 'u', iss: 'https://evil.test', aud: 'nitro' }), /claim iss/],
    ['wrong audience', idpToken({ sub: 'u', iss: 'https://idp.test', aud: 'other' }), /claim aud/],
    ['no exp', idpToken({ sub: 'u', iss: 'https://idp.test', aud: 'nitro' }, { exp: null }), /claim exp missing/],
    ['an HS256 token (the public key is no secret)', new SignJWT({ sub: 'u', iss: 'https://idp.test', aud: 'nitro' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode(SECRET)), /algorithm not allowed/],
    ['a reserved user id', idpToken({ sub: '*', iss: 'https://idp.test', aud: 'nitro' }), /reserved user id/],
  ];
  for (const [what, made, reason] of refused) {
    const r = await pull(url, await made);
    assert.equal(r.status, 401, what);
    assert.match(r.json.error.message, reason, what);
  }
});

test('the server starts with a JWKS URL and no secret, and refuses a bad one', async () => {
  await assert.rejects(createSyncServer({ schema, db: 'memory:', log: false, secret: undefined, jwksUrl: 'not a url' }), /jwksUrl .* is not a URL/);
});
