// auth.js - bearer tokens for the sync server: a user id and an expiry,
// signed with HMAC-SHA256 under the server's secret.
//
//   token = base64url(JSON { sub: userId, exp: epochSeconds }) "." base64url(HMAC(secret, payload))
//
// No token table to keep: any server holding the secret can check a token.
// Both parts are strict base64url (alphabet A-Z a-z 0-9 - _, no padding,
// canonical): a token has exactly one spelling, anything else is refused.
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

/** The one spelling of base64url: the alphabet, no padding, and the unused
 * low bits of the last character zero (so decoding and re-encoding gives the
 * same text back). */
function isStrictBase64url(s) {
  return /^[A-Za-z0-9_-]+$/.test(s) && s.length % 4 !== 1 && Buffer.from(s, 'base64url').toString('base64url') === s;
}

/**
 * Why `user` cannot be a user id, or null when it can. Reserved: the empty
 * string, '*' (the scope of shared records), ids over 200 characters, with
 * leading or trailing white space, with control characters (C0, DEL, C1:
 * the server joins user ids with other values using them) or with unpaired
 * surrogates (not valid UTF-8 text).
 */
export function reservedUserReason(user) {
  if (typeof user !== 'string' || user === '') return 'a user id is a non-empty string';
  if (user.length > 200) return 'a user id has at most 200 characters';
  if (user === '*') return '"*" is reserved (the scope of shared records)';
  if (/[\u0000-\u001f\u007f-\u009f]/.test(user)) return 'a user id contains no control characters';
  if (user.trim() !== user) return 'a user id has no leading or trailing white space';
  if (!user.isWellFormed()) return 'a user id is well-formed Unicode (no unpaired surrogates)';
  return null;
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
  const reserved = reservedUserReason(user);
  if (reserved) throw new Error(`cannot mint a token for user ${JSON.stringify(user)}: ${reserved}`);
  const payload = Buffer.from(JSON.stringify({ sub: user, exp: Math.floor(now / 1000 + parseTtl(ttl)) })).toString('base64url');
  return `${payload}.${sign(payload, secret)}`;
}

/** A refused token: `message` says why; `user` is the user id the token
 * claims when its payload could be read (for logs; never trust it). */
export class TokenError extends Error {
  constructor(message, user = null) {
    super(message);
    this.name = 'TokenError';
    this.user = user;
  }
}

/** The claims of a payload, or null when it is not a claims object. */
function readClaims(payload) {
  try {
    const c = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return c && typeof c === 'object' ? c : null;
  } catch {
    return null;
  }
}

/** The user id of a valid token; throws a TokenError whose message says why not. */
export function verifyToken(token, secret, now = Date.now()) {
  checkSecret(secret);
  if (typeof token !== 'string' || token === '' || token.length > 4096) throw new TokenError('missing token');
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) throw new TokenError('malformed token');
  const payload = token.slice(0, dot);
  const sig = token.slice(dot + 1);
  if (!isStrictBase64url(payload) || !isStrictBase64url(sig)) throw new TokenError('malformed token (base64url without padding expected)');
  const claims = readClaims(payload);
  const claimed = claims && typeof claims.sub === 'string' ? claims.sub : null;
  const given = Buffer.from(sig, 'base64url');
  const want = Buffer.from(sign(payload, secret), 'base64url');
  if (given.length !== want.length || !timingSafeEqual(given, want)) throw new TokenError('invalid token signature', claimed);
  if (!claims || claimed === null || claimed === '' || typeof claims.exp !== 'number') throw new TokenError('malformed token');
  if (claims.exp * 1000 <= now) throw new TokenError('token expired', claimed);
  const reserved = reservedUserReason(claimed);
  if (reserved) throw new TokenError(`reserved user id: ${reserved}`, claimed);
  return claimed;
}
