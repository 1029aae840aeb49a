// events.js - the in-process event bus behind nitro.on / emit / emitAsync and
// the domain events the store produces (after-commit and cancellable ones).
//
// Runs anywhere (browsers, Node, workers): no DOM and no Node-only APIs.
//
// Design: every subscription sits in one Set, in subscription order. For each
// event type the bus keeps a *route*: the matching handlers merged into one
// array ordered by priority, then subscription order, plus that type's
// counters. Emitting is one property lookup and a loop over that array. Routes are
// patched when subscriptions change, copy-on-write: a dispatch that is running
// keeps iterating the array it started with, which is what gives the snapshot
// semantics documented on `on()`.

const ERROR = 'error';
const DEFAULT_MAX_DEPTH = 32;

// Pattern kinds.
const EXACT = 0;   // 'Task.created', 'invoice.sent', 'error'
const ALL = 1;     // '*': every type except 'error' (whose route is separate)
const PREFIX = 2;  // 'Task.*', 'sync.*': key holds 'Task.'
const SUFFIX = 3;  // '*.deleted': key holds '.deleted'

// Returned by #call when a handler was not run (filtered out, or a `once`
// handler that already ran), so it gets no slot in the results.
const SKIP = Symbol('skip');

// Results of an emit whose handlers all returned undefined: one frozen array
// per handler count, shared, so such an emit allocates nothing.
const EMPTY = Object.freeze([]);
const NONE = [EMPTY];
function noResults(n) {
  while (NONE.length <= n) NONE.push(Object.freeze(new Array(NONE.length).fill(undefined)));
  return NONE[n];
}

// The results array of a plain emit, made when a handler first returns a value.
function withResult(out, n, i, r) {
  if (out === null) out = new Array(n).fill(undefined);
  out[i] = r;
  return out;
}

function defaultErrorFactory(code, message) {
  const err = new Error(message);
  err.code = code;
  return err;
}

function parsePattern(pattern) {
  if (typeof pattern !== 'string' || pattern === '') {
    throw new TypeError('event pattern must be a non-empty string');
  }
  const star = pattern.indexOf('*');
  if (star === -1) return { kind: EXACT, key: pattern };
  if (pattern === '*') return { kind: ALL, key: '' };
  if (star === 0 && pattern.length > 2 && pattern[1] === '.' && pattern.indexOf('*', 1) === -1) {
    return { kind: SUFFIX, key: pattern.slice(1) };
  }
  if (star === pattern.length - 1 && pattern.length > 2 && pattern[star - 1] === '.') {
    return { kind: PREFIX, key: pattern.slice(0, -1) };
  }
  throw new TypeError(`invalid event pattern '${pattern}': use 'Type.name', 'Type.*', '*.name' or '*'`);
}

function matches(sub, type) {
  switch (sub.kind) {
    case EXACT: return type === sub.key;
    case ALL: return true;  // never asked about 'error': that route is kept apart
    case PREFIX: return type.length > sub.key.length && type.startsWith(sub.key);
    default: return type.length > sub.key.length && type.endsWith(sub.key);
  }
}

// Ordered insert of a new subscription: it is the newest, so it goes after
// every handler of greater or equal priority. Returns a new array (the old one
// may be in the middle of a dispatch).
function withSub(list, sub) {
  let i = list.length;
  while (i > 0 && list[i - 1].priority < sub.priority) i--;
  const out = list.slice(0, i);
  out.push(sub);
  for (; i < list.length; i++) out.push(list[i]);
  return out;
}

function isThenable(v) {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function';
}

function reportUnhandled(err, event) {
  try {
    console.error(`nitro: unhandled error in a '${event && event.type}' event handler:`, err);
  } catch { /* nothing left to tell */ }
}

class Subscription {
  constructor(kind, key, fn, priority, once, filter, payloadOnly) {
    this.kind = kind;
    this.key = key;
    this.fn = fn;
    this.payloadOnly = payloadOnly;  // called as fn(payload, type): no event object to build
    this.priority = priority;
    this.once = once;
    this.filter = filter;          // null when absent
    this.plain = !once && filter === null;  // fast path: nothing to check before calling
    this.fired = false;            // a `once` handler has been claimed
    this.active = true;
    this.signal = null;
    this.onAbort = null;
  }
}

class Route {
  constructor(subs) {
    this.subs = subs;    // replaced, never mutated (see set)
    this.plain = true;   // every handler is plain: delivery needs no per-handler checks
    this.bare = false;   // plain, and every handler takes the payload only: no event object
    this.fns = null;
    this.none = EMPTY;   // what a plain emit returns when every handler returned undefined
    this.emitted = 0;    // events
    this.delivered = 0;  // handler calls, but those of bare emits since bareFrom (deliveries())
    this.bareEmits = 0;  // events emitted by the bare path (not in `emitted`)
    this.bareFrom = 0;   // bareEmits when the handlers last changed: each bare emit since called every fn
    this.failed = 0;     // handlers (or filters) that threw or rejected
    this.cancelled = 0;  // cancellable events that were cancelled
    this.set(subs);
  }

  /** Events and handler calls so far. A bare emit calls every handler, so
   * it counts only itself (one increment on the hottest path). */
  emits() { return this.emitted + this.bareEmits; }
  deliveries() { return this.delivered + (this.bare ? (this.bareEmits - this.bareFrom) * this.fns.length : 0); }

  set(subs) {
    this.delivered = this.deliveries();
    this.bareFrom = this.bareEmits;
    this.subs = subs;
    this.plain = subs.every((s) => s.plain);
    this.bare = this.plain && subs.every((s) => s.payloadOnly);
    this.fns = this.bare ? subs.map((s) => s.fn) : null;  // the handlers of a bare route
    this.none = noResults(subs.length);
  }
}

// Routes by type. A plain object rather than a Map: V8 caches property lookups
// on a fast-mode object per call site, which made the one-handler emit about
// twice as fast as Map#get. Its prototype is null-prototyped, so names such as
// 'constructor' or '__proto__' are ordinary keys.
function RouteTable() {}
RouteTable.prototype = Object.create(null);

/** A cancel() argument as the reason the write fails with ('cancelled'
 * when none is given). */
export const reasonOf = (why) => (why === undefined || why === null || why === '' ? 'cancelled' : String(why));

/** cancel() for an event that has none of its own (an EntityEvent has it,
 * js/entity-events.js): set on the event, working only while its handlers
 * run; the first reason wins. */
function cancelGate(event) {
  let reason, open = false;
  event.cancel = (why) => {
    if (!open || reason !== null) return;
    reason = reasonOf(why);
  };
  return {
    _openCancel() { open = true; reason = null; },
    _cancelReason() { return reason; },
    _closeCancel() { open = false; return reason; },
  };
}

export class EventBus {
  #subs = new Set();
  #routes = new RouteTable();
  #errorRoute = new Route([]);  // kept out of #routes so emit('error') misses the fast path
  #draining = false;
  #next = [];                   // events produced while draining, delivered in the next round
  #maxDepth;
  #errorFactory;
  #checkType;

  /**
   * @param {{ maxDepth?: number, errorFactory?: (code: string, message: string) => Error,
   *   checkType?: (type: unknown) => void }} [options]
   *   `errorFactory` is called as a plain function (not with `new`). `checkType`
   *   runs when emit/emitAsync meet a type without a route yet (it may throw
   *   its own error for a bad type); known types skip it.
   */
  constructor({ maxDepth = DEFAULT_MAX_DEPTH, errorFactory = defaultErrorFactory, checkType = null } = {}) {
    if (!Number.isInteger(maxDepth) || maxDepth < 0) throw new TypeError('maxDepth must be an integer >= 0');
    if (typeof errorFactory !== 'function') throw new TypeError('errorFactory must be a function');
    if (checkType !== null && typeof checkType !== 'function') throw new TypeError('checkType must be a function');
    this.#maxDepth = maxDepth;
    this.#errorFactory = errorFactory;
    this.#checkType = checkType;
  }

  /**
   * Subscribes `handler` to `pattern`; returns an idempotent unsubscribe function.
   *
   * Snapshot semantics: a dispatch calls exactly the handlers that were
   * subscribed when it started. Subscribing or unsubscribing (also through
   * `signal`) during a dispatch takes effect from the next one. The one
   * exception is `once`: such a handler is removed just before it runs and runs
   * at most once, even when a handler before it emits the same type again.
   */
  on(pattern, handler, { priority = 0, once = false, signal, filter, payload = false } = {}) {
    const { kind, key } = parsePattern(pattern);
    if (typeof handler !== 'function') throw new TypeError('event handler must be a function');
    if (typeof priority !== 'number' || Number.isNaN(priority)) throw new TypeError('priority must be a number');
    if (filter !== undefined && filter !== null && typeof filter !== 'function') throw new TypeError('filter must be a function');
    if (signal && signal.aborted) return () => {};
    // 'error' handlers always get (err, event)
    const payloadOnly = Boolean(payload) && !(kind === EXACT && key === ERROR);
    const sub = new Subscription(kind, key, handler, priority, Boolean(once), filter || null, payloadOnly);
    const off = () => this.#unsubscribe(sub);
    if (signal) {
      sub.signal = signal;
      sub.onAbort = off;
      signal.addEventListener('abort', off, { once: true });
    }
    this.#subs.add(sub);
    this.#eachRoute(sub, (route) => { route.set(withSub(route.subs, sub)); });
    return off;
  }

  /** True when at least one handler would receive an event of `type` (cheap: a cached lookup). */
  hasListeners(type) {
    const route = type === ERROR ? this.#errorRoute : this.#routes[type] ?? this.#newRoute(type);
    return route.subs.length !== 0;
  }

  /**
   * Emits a custom event; handlers get `{ type, payload }`, or `(payload, type)`
   * when subscribed with `payload: true`. Returns their results in delivery
   * order: when every handler returned undefined, a shared frozen array.
   */
  emit(type, payload) {
    const route = this.#routes[type];
    if (route === undefined || typeof type !== 'string') return this.#emitNew(type, payload);
    if (route.bare) { route.bareEmits++; return this.#emitBare(route, type, payload); }
    route.emitted++;
    if (route.plain) return this.#emitPlain(route, type, payload);
    const subs = route.subs;
    const event = { type, payload };
    const out = [];
    for (let i = 0; i < subs.length; i++) {
      const r = this.#call(subs[i], route, event, payload);
      if (r !== SKIP) out.push(r);
    }
    return out;
  }

  // Every handler is plain and takes the payload only: nothing to allocate
  // unless a handler returns a value.
  #emitBare(route, type, payload) {
    const fns = route.fns;
    const n = fns.length;
    if (n === 1) {
      try {
        const r = fns[0](payload, type);
        return r === undefined ? route.none : [r];
      } catch (err) {
        this.#fail(err, { type, payload }, route);
        return route.none;
      }
    }
    let out = null;
    let i = 0;
    while (i < n) {
      try {
        for (; i < n; i++) {
          const fn = fns[i];
          const r = fn(payload, type);
          if (r !== undefined) out = withResult(out, n, i, r);
        }
      } catch (err) {
        this.#fail(err, { type, payload }, route);
        i++;
      }
    }
    return out === null ? route.none : out;
  }

  // No once/filter to check: every handler gets a slot. Allocates nothing when
  // every handler takes the payload only and returns undefined. One try/catch
  // around the loop, which resumes after the handler that threw.
  #emitPlain(route, type, payload) {
    const subs = route.subs;
    const n = subs.length;
    route.delivered += n;
    const event = route.bare ? null : { type, payload };
    let out = null;
    let i = 0;
    while (i < n) {
      try {
        for (; i < n; i++) {
          const sub = subs[i];
          const fn = sub.fn;  // called without a receiver: `this` is not the subscription
          const r = sub.payloadOnly ? fn(payload, type) : fn(event);
          if (r !== undefined) out = withResult(out, n, i, r);
        }
      } catch (err) {
        this.#fail(err, event ?? { type, payload }, route);
        i++;
      }
    }
    return out === null ? route.none : out;
  }

  /**
   * Emits a custom event to handlers that may be async. Each handler is started
   * in turn without waiting for the previous one, so async handlers overlap.
   * Resolves with the results in delivery order; a handler that throws or
   * rejects leaves `undefined` in its slot and its error goes to 'error'.
   * Never rejects because of a handler.
   */
  emitAsync(type, payload) {
    let route = typeof type === 'string' ? this.#routes[type] : undefined;
    try {
      if (route === undefined) {
        if (this.#checkType !== null) this.#checkType(type);
        route = this.#newRoute(type);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    route.emitted++;
    const subs = route.subs;
    const event = { type, payload };
    const slots = [];
    for (let i = 0; i < subs.length; i++) {
      const r = this.#call(subs[i], route, event, payload);
      if (r === SKIP) continue;
      slots.push(isThenable(r)
        ? Promise.resolve(r).then(undefined, (err) => { this.#fail(err, event, route); return undefined; })
        : r);
    }
    return Promise.all(slots);
  }

  /**
   * Delivers one domain event (after commit). Called from inside a handler
   * (a write made by a handler), it queues instead; see dispatchBatch.
   */
  dispatch(event) {
    if (this.#draining) {
      this.#next.push(event);
      return;
    }
    this.#draining = true;
    try {
      this.#deliver(event);
      if (this.#next.length !== 0) this.#drain();
    } finally {
      this.#draining = false;
      if (this.#next.length !== 0) this.#next = [];
    }
  }

  /**
   * Delivers a batch of domain events in order, synchronously, so sync
   * handlers have run when the write call returns. Called while a dispatch is
   * running (a handler wrote something), it queues the events and returns at
   * once: they are delivered after the events of the current round, never
   * nested inside a handler. Rounds continue until nothing new is queued; when
   * handlers keep producing events for more than `maxDepth` rounds, the queue
   * is dropped and a LIMIT error (from `errorFactory`) is thrown out of the
   * outermost dispatch call. `events`: an array, or any list with `length`
   * and `at(i)` (a write's EventBatch makes each event as it is delivered).
   */
  dispatchBatch(events) {
    if (this.#draining) {
      for (let i = 0; i < events.length; i++) this.#next.push(events.at(i));
      return;
    }
    this.#draining = true;
    try {
      for (let i = 0; i < events.length; i++) this.#deliver(events.at(i));
      if (this.#next.length !== 0) this.#drain();
    } finally {
      this.#draining = false;
      if (this.#next.length !== 0) this.#next = [];
    }
  }

  /**
   * Delivers a `beforeSave` / `beforeDelete` event, always synchronously and
   * nested (the write waits for the verdict), with `event.cancel(reason)`
   * open while its handlers run (an EntityEvent, js/entity-events.js).
   * Returns null, or the reason of the first cancel ('cancelled' by default).
   * Delivery stops at the first cancel: lower-priority handlers do not run,
   * since the write will not happen. A handler that throws does not cancel
   * (its error goes to 'error'); one that calls cancel() and then throws does.
   * cancel() called after this returns (e.g. by an async handler) changes nothing.
   */
  dispatchCancellable(event) {
    const type = event.type;
    const route = this.#routes[type] ?? this.#newRoute(type);
    route.emitted++;
    const subs = route.subs;
    const gate = typeof event._openCancel === 'function' ? event : cancelGate(event);
    gate._openCancel();
    for (let i = 0; i < subs.length && gate._cancelReason() === null; i++) this.#call(subs[i], route, event, event);
    const reason = gate._closeCancel();
    if (reason !== null) route.cancelled++;
    return reason;
  }

  /** Reports the failure of a callback run outside the bus (a live-query
   * subscriber, say) to the 'error' handlers as (err, event), or console.error. */
  reportError(err, event) {
    this.#fail(err, event, null);
  }

  /**
   * Counters per event type, a fresh copy:
   * `{ [type]: { emitted, delivered, failed, cancelled } }`. `emitted` counts
   * events, `delivered` handler calls. Handler failures also count under
   * 'error' (emitted = failures reported, delivered = 'error' handler calls).
   */
  stats() {
    const out = {};
    const add = (type, r) => {
      if (r.emits() !== 0) out[type] = { emitted: r.emits(), delivered: r.deliveries(), failed: r.failed, cancelled: r.cancelled };
    };
    for (const type of Object.keys(this.#routes)) add(type, this.#routes[type]);
    add(ERROR, this.#errorRoute);
    return out;
  }

  // Route for a type seen for the first time: every matching subscription,
  // stably sorted by priority (the Set is already in subscription order).
  #newRoute(type) {
    if (typeof type !== 'string' || type === '') throw new TypeError('event type must be a non-empty string');
    if (type === ERROR) throw new TypeError(`'error' is reserved for handler failures`);
    if (type.includes('*')) throw new TypeError(`event type '${type}' must not contain '*'`);
    const subs = [];
    for (const sub of this.#subs) if (matches(sub, type)) subs.push(sub);
    subs.sort((a, b) => b.priority - a.priority);
    return (this.#routes[type] = new Route(subs));
  }

  #emitNew(type, payload) {
    if (this.#checkType !== null) this.#checkType(type);
    this.#newRoute(type);
    return this.emit(type, payload);
  }

  // Calls fn(route) for every existing route the subscription matches.
  #eachRoute(sub, fn) {
    if (sub.kind === EXACT) {
      const route = sub.key === ERROR ? this.#errorRoute : this.#routes[sub.key];
      if (route !== undefined) fn(route);
      return;
    }
    for (const type of Object.keys(this.#routes)) if (matches(sub, type)) fn(this.#routes[type]);
  }

  #unsubscribe(sub) {
    if (!sub.active) return;
    sub.active = false;
    this.#subs.delete(sub);
    if (sub.signal !== null) {
      sub.signal.removeEventListener('abort', sub.onAbort);
      sub.signal = null;
      sub.onAbort = null;
    }
    this.#eachRoute(sub, (route) => { route.set(route.subs.filter((s) => s !== sub)); });
  }

  // Runs one handler; returns its result, or SKIP when it was not run. A
  // payload-only handler gets (arg, type): the payload of a custom event, or
  // the domain event itself.
  #call(sub, route, event, arg) {
    if (!sub.plain) {
      if (sub.fired) return SKIP;
      if (sub.filter !== null) {
        try {
          if (!sub.filter(event)) return SKIP;
        } catch (err) {
          this.#fail(err, event, route);
          return SKIP;
        }
      }
      if (sub.once) {
        // Claim before running, so a re-entrant emit cannot run it again.
        sub.fired = true;
        this.#unsubscribe(sub);
      }
    }
    route.delivered++;
    const fn = sub.fn;
    try {
      return sub.payloadOnly ? fn(arg, event.type) : fn(event);
    } catch (err) {
      this.#fail(err, event, route);
      return undefined;
    }
  }

  #deliver(event) {
    const type = event.type;
    const route = this.#routes[type] ?? this.#newRoute(type);
    route.emitted++;
    const subs = route.subs;
    if (route.plain) {
      route.delivered += subs.length;
      for (let i = 0; i < subs.length; i++) {
        const sub = subs[i];
        const fn = sub.fn;
        try {
          if (sub.payloadOnly) fn(event, type);
          else fn(event);
        } catch (err) {
          this.#fail(err, event, route);
        }
      }
      return;
    }
    for (let i = 0; i < subs.length; i++) this.#call(subs[i], route, event, event);
  }

  // Delivers queued events round by round; a round holds the events produced
  // while delivering the previous one.
  #drain() {
    for (let depth = 1; this.#next.length !== 0; depth++) {
      if (depth > this.#maxDepth) {
        const dropped = this.#next.length;
        this.#next = [];
        throw this.#errorFactory('LIMIT',
          `event handlers kept producing events for more than ${this.#maxDepth} rounds; ${dropped} queued event(s) dropped`);
      }
      const round = this.#next;
      this.#next = [];
      for (let i = 0; i < round.length; i++) this.#deliver(round[i]);
    }
  }

  // A handler (or filter) failed: tell the 'error' handlers as (err, event),
  // or console.error when there are none. Never throws: errors thrown by
  // 'error' handlers go to console.error, not back to 'error'.
  #fail(err, event, route) {
    if (route !== null) route.failed++;
    const errRoute = this.#errorRoute;
    const subs = errRoute.subs;
    errRoute.emitted++;
    if (subs.length === 0) {
      reportUnhandled(err, event);
      return;
    }
    for (let i = 0; i < subs.length; i++) {
      const sub = subs[i];
      try {
        if (!sub.plain) {
          if (sub.fired) continue;
          if (sub.filter !== null && !sub.filter(err, event)) continue;
          if (sub.once) {
            sub.fired = true;
            this.#unsubscribe(sub);
          }
        }
        errRoute.delivered++;
        const fn = sub.fn;
        const r = fn(err, event);
        if (isThenable(r)) {
          Promise.resolve(r).then(undefined, (e2) => { errRoute.failed++; reportUnhandled(e2, { type: ERROR }); });
        }
      } catch (e2) {
        errRoute.failed++;
        reportUnhandled(e2, { type: ERROR });
      }
    }
  }
}
