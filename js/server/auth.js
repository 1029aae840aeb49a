// auth.js - bearer tokens for the sync server: a user id and an expiry,
// signed with HMAC-SHA256 under the server's secret.
//
//   token = base64url(JSON { sub: userId, exp: epochSeconds }) "." base64url(HMAC(secret, payload))
//
// No token table to keep: any server holding the secret can check a token.
import { createHmac, timingSafeEqual } from 'node:crypto';

const UNITS = { s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds from `3600`, '45s', '30m', '1h', '7d'. */
export function parseTtl(ttl) {
  if (typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0) return ttl;
  const m = typeof ttl === 'string' ? /^(\d+(?:\.\d+)?)\s*([smhd]?)$/.exec(ttl.trim()) : null;
  if (!m || !(Number(m[1]) > 0)) throw new Error(`invalid ttl ${JSON.stringify(ttl)}: use seconds or 45s, 30m, 1h, 7d`);
  return Number(m[1]) * UNITS[m[2] || 's'];
}

function sign(payload, secret) {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

function checkSecret(secret) {
  if (typeof secret !== 'string' || secret.length < 8) {
    throw new Error('nitro-wasm server: a secret of at least 8 characters is needed (--secret or NITRO_SECRET)');
  }
}

/** A token for `user`, valid for `ttl` (default 1 hour). */
export function createToken({ user, secret, ttl = '1h', now = Date.now() }) {
  checkSecret(secret);
  if (typeof user !== 'string' || user === '' || user.length > 200) throw new Error('a token needs a user id (1 to 200 characters)');
  const payload = Buffer.from(JSON.stringify({ sub: user, exp: Math.floor(now / 1000 + parseTtl(ttl)) })).toString('base64url');
  return `${payload}.${sign(payload, secret)}`;
}

/** The user id of a valid token; throws an Error whose message says why not. */
export function verifyToken(token, secret, now = Date.now()) {
  checkSecret(secret);
  if (typeof token !== 'string' || token.length > 4096) throw new Error('missing token');
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) throw new Error('malformed token');
  const payload = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  const want = Buffer.from(sign(payload, secret), 'base64url');
  if (given.length !== want.length || !timingSafeEqual(given, want)) throw new Error('invalid token signature');
  let claims;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new Error('malformed token');
  }
  if (!claims || typeof claims.sub !== 'string' || claims.sub === '' || typeof claims.exp !== 'number') throw new Error('malformed token');
  if (claims.exp * 1000 <= now) throw new Error('token expired');
  return claims.sub;
}
