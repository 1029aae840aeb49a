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
//
// The buckets are also a store for @fastify/rate-limit (BucketStore): the
// plugin's own stores count requests in fixed windows, so an address that
// used up its attempts would wait the whole window; with buckets it earns
// one back every windowMs / limit.

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
    /** Milliseconds until `address` has one attempt more; 0 for a full bucket. */
    refillMs(address) {
      const b = limit > 0 ? level(address, now()) : null;
      return b ? Math.ceil((Math.ceil(b.tokens + 1e-9) - b.tokens) / rate) : 0;
    },
    /** Attempts `address` has used up (0 to limit; limit when it must wait). */
    used(address) {
      const b = limit > 0 ? level(address, now()) : null;
      if (!b) return 0;
      return b.tokens < 1 ? limit : limit - Math.floor(b.tokens);
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

/**
 * A @fastify/rate-limit store on token buckets (register the plugin with
 * `store: BucketStore`): `incr` is a failure, `read` a look. `current`
 * exceeds `max` exactly while the bucket is empty, and `ttl` is the time
 * until the next attempt comes back.
 */
export class BucketStore {
  constructor(params = {}, now = Date.now) {
    this.now = now;
    this.limiters = new Map();
    this.params = params;
  }

  #limiter(timeWindow, max) {
    const k = `${max}/${timeWindow}`;
    let l = this.limiters.get(k);
    if (!l) { l = createAuthLimiter({ limit: max, windowMs: timeWindow, now: this.now }); this.limiters.set(k, l); }
    return l;
  }

  #report(l, key, max) {
    const used = l.used(key);
    return { current: used >= max ? max + 1 : used, ttl: l.refillMs(key) };
  }

  incr(key, cb, timeWindow, max) {
    const l = this.#limiter(timeWindow, max);
    l.fail(key);
    cb(null, this.#report(l, key, max));
  }

  read(key, cb, timeWindow, max) {
    const l = this.#limiter(timeWindow, max);
    cb(null, this.#report(l, key, max));
  }

  child(params) { return new BucketStore(params, this.now); }
}
