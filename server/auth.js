// auth.js - bearer tokens for the sync server: standard JWTs (RFC 7519).
//
// By default the server's own HS256 tokens, signed with its secret
// (NITRO_SECRET): `sub` is the user id, `exp` the expiry, `iat` when it was
// minted. Any server holding the secret can check a token; no token table.
// With a JWKS URL (NITRO_JWKS_URL, option `jwksUrl`) the server accepts an
// identity provider's tokens instead: signed with one of the provider's
// public keys (RS*, PS*, ES*, EdDSA), optionally for an issuer and audience.
//
// Verification is jose's (jwtVerify): the algorithm is allow-listed (HS256
// for a secret, asymmetric ones for a JWKS: never `none`, never HS256 with a
// public key), `exp` is required and checked, and so is `sub`. Before jose
// sees it, each of the three parts must be strict base64url (alphabet
// A-Z a-z 0-9 - _, no padding, canonical): a token has exactly one spelling.
// Minting stays synchronous (server.token(), the CLI): an HS256 JWT is the
// HMAC of its first two parts, made here with node:crypto.
import { createHmac } from 'node:crypto';
import { jwtVerify, createRemoteJWKSet, decodeJwt, errors } from 'jose';

const UNITS = { s: 1, m: 60, h: 3600, d: 86400 };
const HS = ['HS256'];
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

/** Seconds from `3600`, '45s', '30m', '1h', '7d'. */
export function parseTtl(ttl) {
  if (typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0) return ttl;
  const m = typeof ttl === 'string' ? /^(\d+(?:\.\d+)?)\s*([smhd]?)$/.exec(ttl.trim()) : null;
  if (!m || !(Number(m[1]) > 0)) throw new Error(`invalid ttl ${JSON.stringify(ttl)}: use seconds or 45s, 30m, 1h, 7d`);
  return Number(m[1]) * UNITS[m[2] || 's'];
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

/** An HS256 JWT for `user`, valid for `ttl` (default 1 hour). */
export function createToken({ user, secret, ttl = '1h', now = Date.now() }) {
  checkSecret(secret);
  if (typeof user !== 'string' || user === '' || user.length > 200) throw new Error('a token needs a user id (1 to 200 characters)');
  const reserved = reservedUserReason(user);
  if (reserved) throw new Error(`cannot mint a token for user ${JSON.stringify(user)}: ${reserved}`);
  const iat = Math.floor(now / 1000);
  const claims = Buffer.from(JSON.stringify({ sub: user, iat, exp: Math.floor(now / 1000 + parseTtl(ttl)) })).toString('base64url');
  const input = `${HEADER}.${claims}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
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

/** The `sub` a token claims, unverified (for logs), or null. */
function claimedUser(token) {
  try {
    const { sub } = decodeJwt(token);
    return typeof sub === 'string' ? sub : null;
  } catch {
    return null;
  }
}

/** jose's refusal in the server's words. */
function reason(err, allowed) {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JOSEAlgNotAllowed) return `token algorithm not allowed (expected ${allowed.join(', ')})`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'invalid token signature';
  if (err instanceof errors.JWTClaimValidationFailed) return `token claim ${err.claim} ${err.reason === 'missing' ? 'missing' : `invalid (${err.message})`}`;
  if (err instanceof errors.JWKSNoMatchingKey) return 'no key of the identity provider matches the token';
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return `identity provider keys unavailable (${err.message})`;
  if (err instanceof errors.JOSEError) return 'malformed token';
  return `token refused (${err && err.message})`;
}

/**
 * A token verifier: `verify(token)` resolves with the user id of a valid
 * token or rejects with a TokenError saying why not.
 * @param {object} o
 * @param {string} [o.secret] HS256 secret (the default)
 * @param {string} [o.jwksUrl] the identity provider's JWKS URL (instead of the secret)
 * @param {string} [o.issuer] required `iss`
 * @param {string | string[]} [o.audience] required `aud`
 * @param {string[]} [o.algorithms] allow-list (default HS256, or the asymmetric ones for a JWKS)
 * @param {() => number} [o.now] ms clock (tests)
 */
export function createVerifier({ secret, jwksUrl, issuer, audience, algorithms, now } = {}) {
  let key;
  if (jwksUrl) {
    let url;
    try { url = new URL(jwksUrl); } catch { throw new Error(`nitro-wasm server: jwksUrl ${JSON.stringify(jwksUrl)} is not a URL`); }
    key = createRemoteJWKSet(url);
  } else {
    checkSecret(secret);
    key = new TextEncoder().encode(secret);
  }
  const allowed = algorithms || (jwksUrl ? ASYMMETRIC : HS);
  const options = { algorithms: allowed, requiredClaims: ['exp', 'sub'], issuer, audience };
  return async function verify(token) {
    if (typeof token !== 'string' || token === '' || token.length > 8192) throw new TokenError('missing token');
    const parts = token.split('.');
    if (parts.length !== 3) throw new TokenError('malformed token');
    if (!parts.every(isStrictBase64url)) throw new TokenError('malformed token (base64url without padding expected)');
    const claimed = claimedUser(token);
    let payload;
    try {
      ({ payload } = await jwtVerify(token, key, now ? { ...options, currentDate: new Date(now()) } : options));
    } catch (err) {
      throw new TokenError(reason(err, allowed), claimed);
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new TokenError('malformed token', claimed);
    const reserved = reservedUserReason(payload.sub);
    if (reserved) throw new TokenError(`reserved user id: ${reserved}`, payload.sub);
    return payload.sub;
  };
}

/** The user id of a valid HS256 token; rejects with a TokenError whose
 * message says why not. */
export function verifyToken(token, secret, now) {
  let verify;
  try {
    verify = createVerifier({ secret, now: now === undefined ? undefined : () => now });
  } catch (err) {
    return Promise.reject(err);
  }
  return verify(token);
}
