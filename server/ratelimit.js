// ratelimit.js - failed authentications per client address, as token
// buckets: each address may fail `limit` times in a burst, and earns one more
// attempt every `windowMs / limit` ms. While its bucket is empty, every
// request from that address is answered 429 with Retry-After before its
// token is even checked, so a guessing client learns nothing more.
//
//   const limiter = createAuthLimiter({ limit: 30, windowMs: 60_000 });
//   const wait = limiter.retryAfter(address);   // seconds, 0 = go ahead
//   limiter.fail(address);                      // after a 401
//
// Memory stays bounded: full buckets are forgotten (an address that stopped
// failing costs nothing), and past `maxAddresses` the oldest entries go.

/**
 * @param {object} [opts]
 * @param {number} [opts.limit=30] failures allowed in a burst (0 disables)
 * @param {number} [opts.windowMs=60000] time in which a bucket refills completely
 * @param {number} [opts.maxAddresses=100000] addresses tracked at most
 * @param {() => number} [opts.now]
 */
export function createAuthLimiter({ limit = 30, windowMs = 60_000, maxAddresses = 100_000, now = Date.now } = {}) {
  const buckets = new Map(); // address -> { tokens, at }
  const rate = limit / Math.max(1, windowMs); // tokens per ms

  function level(address, t) {
    const b = buckets.get(address);
    if (!b) return null;
    b.tokens = Math.min(limit, b.tokens + (t - b.at) * rate);
    b.at = t;
    if (b.tokens >= limit) { buckets.delete(address); return null; }
    return b;
  }

  function sweep(t) {
    for (const a of [...buckets.keys()]) level(a, t);
    // still full: make room for one more, oldest first
    for (const a of buckets.keys()) {
      if (buckets.size < maxAddresses) break;
      buckets.delete(a);
    }
  }

  return {
    enabled: limit > 0,
    /** Seconds `address` must wait (0: it may try now). */
    retryAfter(address) {
      if (!(limit > 0)) return 0;
      const b = level(address, now());
      if (!b || b.tokens >= 1) return 0;
      return Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000));
    },
    /** Records a failure; returns true when it emptied the bucket. */
    fail(address) {
      if (!(limit > 0)) return false;
      const t = now();
      let b = level(address, t);
      if (!b) {
        if (buckets.size >= maxAddresses) sweep(t);
        b = { tokens: limit, at: t };
        buckets.set(address, b);
      }
      b.tokens = Math.max(0, b.tokens - 1);
      return b.tokens < 1;
    },
    /** Addresses currently tracked (tests). */
    get size() { return buckets.size; },
  };
}
