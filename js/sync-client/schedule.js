// schedule.js - timing of a sync client: one exchange at a time (serial),
// exponential backoff with jitter, unref'ed timers (Node keeps no process
// alive for them) and a sleep that stop() can cut short.

/** Runs async functions one after another; a failure does not stop the next. */
export class Serial {
  constructor() { this.queue = Promise.resolve(); }
  run(fn) {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => {});
    return p;
  }
}

/** Exponential backoff with jitter (half fixed, half random) for attempt n,
 * at least `retryAfter` ms (the server's Retry-After). */
export function backoff(n, base, max, retryAfter = 0) {
  const cap = Math.min(max, base * 2 ** Math.min(n, 30));
  return Math.max(cap / 2 + Math.random() * (cap / 2), retryAfter || 0);
}

export function unref(t) { if (t && typeof t.unref === 'function') t.unref(); }

/** A sleep of `ms` that wake() ends early. */
export class Sleeper {
  constructor() { this.wake = null; }
  sleep(ms) {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wake = null; resolve(); }, ms);
      unref(t);
      this.wake = () => { clearTimeout(t); this.wake = null; resolve(); };
    });
  }
  cut() { this.wake?.(); }
}
