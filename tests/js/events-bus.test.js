// Unit tests for js/events.js: the event bus behind nitro.on / emit / emitAsync
// and the store's domain events.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus } from '../../js/events.js';

// A domain event the way the shim builds one.
function domainEvent(type, id = 1, extra = {}) {
  const entity = type.slice(0, type.indexOf('.'));
  return { type, entity, id, record: { id }, previous: null, changes: {}, source: 'local', ...extra };
}

// Subscribes a handler that appends `name` to `log` and returns `name`.
function logger(bus, log, pattern, name, options) {
  return bus.on(pattern, (e) => { log.push(name); return name; }, options);
}

// Replaces console.error for one test; returns the recorded calls.
function stubConsoleError(t) {
  const calls = [];
  t.mock.method(console, 'error', (...args) => { calls.push(args); });
  return calls;
}

describe('pattern matching', () => {
  test('an exact pattern matches only its own type', () => {
    const bus = new EventBus();
    const seen = [];
    bus.on('Task.created', (e) => seen.push(e.type));
    bus.dispatch(domainEvent('Task.created'));
    bus.dispatch(domainEvent('Task.updated'));
    bus.dispatch(domainEvent('Note.created'));
    assert.deepEqual(seen, ['Task.created']);
  });

  test("'Task.*' matches every type of Task, including beforeSave and beforeDelete", () => {
    const bus = new EventBus();
    const seen = [];
    bus.on('Task.*', (e) => seen.push(e.type));
    bus.dispatchCancellable(domainEvent('Task.beforeSave'));
    bus.dispatch(domainEvent('Task.created'));
    bus.dispatchCancellable(domainEvent('Task.beforeDelete'));
    bus.dispatch(domainEvent('Task.deleted'));
    bus.dispatch(domainEvent('Note.created'));
    bus.dispatch(domainEvent('Tasks.created'));
    bus.emit('Task', 1);
    assert.deepEqual(seen, ['Task.beforeSave', 'Task.created', 'Task.beforeDelete', 'Task.deleted']);
  });

  test("'*.deleted' matches that type of every entity", () => {
    const bus = new EventBus();
    const seen = [];
    bus.on('*.deleted', (e) => seen.push(e.type));
    for (const type of ['Task.deleted', 'Task.created', 'Note.deleted', 'Note.undeleted']) bus.dispatch(domainEvent(type));
    assert.deepEqual(seen, ['Task.deleted', 'Note.deleted']);
  });

  test("'*' matches every type, dotted or not, but never the 'error' channel", (t) => {
    stubConsoleError(t);
    const bus = new EventBus();
    const seen = [];
    bus.on('*', (e) => { seen.push(e.type); });
    bus.on('boom', () => { throw new Error('x'); });
    bus.on('error', () => {});
    bus.emit('ping');
    bus.emit('invoice.sent');
    bus.dispatch(domainEvent('Task.created'));
    bus.dispatchCancellable(domainEvent('Task.beforeSave'));
    bus.emit('boom');
    assert.deepEqual(seen, ['ping', 'invoice.sent', 'Task.created', 'Task.beforeSave', 'boom']);
  });

  test("'sync.*' matches the sync events", () => {
    const bus = new EventBus();
    const seen = [];
    bus.on('sync.*', (e) => seen.push(e.type));
    for (const type of ['sync.pushed', 'sync.pulled', 'sync.conflict', 'Task.created']) bus.dispatch({ type });
    assert.deepEqual(seen, ['sync.pushed', 'sync.pulled', 'sync.conflict']);
  });

  test('a name without a dot matches only exact patterns and *', () => {
    const bus = new EventBus();
    const log = [];
    logger(bus, log, 'ping', 'exact');
    logger(bus, log, 'ping.*', 'prefix');
    logger(bus, log, '*.ping', 'suffix');
    logger(bus, log, '*', 'all');
    bus.emit('ping');
    assert.deepEqual(log, ['exact', 'all']);
  });

  test('custom dotted names match by prefix and suffix', () => {
    const bus = new EventBus();
    const log = [];
    logger(bus, log, 'invoice.*', 'invoice.*');
    logger(bus, log, '*.sent', '*.sent');
    logger(bus, log, 'mail.*', 'mail.*');
    bus.emit('invoice.sent');
    bus.emit('mail.queue.sent');
    assert.deepEqual(log, ['invoice.*', '*.sent', '*.sent', 'mail.*']);
  });

  test('invalid patterns, handlers and types are TypeErrors', () => {
    const bus = new EventBus();
    for (const p of ['', 'Ta*sk', '**', '*.', '.*', 'Task.**', '*.*', 42, null]) {
      assert.throws(() => bus.on(p, () => {}), TypeError, String(p));
    }
    assert.throws(() => bus.on('x', 'not a function'), TypeError);
    assert.throws(() => bus.on('x', () => {}, { filter: 'no' }), TypeError);
    assert.throws(() => bus.on('x', () => {}, { priority: 'high' }), TypeError);
    assert.throws(() => bus.emit(''), TypeError);
    assert.throws(() => bus.emit(7), TypeError);
    assert.throws(() => bus.emit('Task.*'), TypeError);
    assert.throws(() => bus.emit('error', new Error('x')), TypeError);
  });
});

describe('delivery order', () => {
  // Subscriptions across exact and wildcard patterns, with the order they must run in.
  function subscribeMixed(bus, log) {
    logger(bus, log, '*', 'A');                                 // p0, 1st
    logger(bus, log, 'Task.created', 'B');                      // p0, 2nd
    logger(bus, log, 'Task.*', 'C', { priority: 10 });
    logger(bus, log, '*.created', 'D');                         // p0, 3rd
    logger(bus, log, 'Task.created', 'E', { priority: -5 });
    logger(bus, log, '*', 'F', { priority: 10 });               // p10, after C
    logger(bus, log, 'Task.updated', 'G', { priority: 99 });    // other type
  }
  const expected = ['C', 'F', 'A', 'B', 'D', 'E'];

  test('higher priority first, then subscription order, across exact and wildcard patterns', () => {
    const bus = new EventBus();
    const log = [];
    subscribeMixed(bus, log);
    bus.dispatch(domainEvent('Task.created'));
    assert.deepEqual(log, expected);
  });

  test('the same order when handlers are added after the type was first delivered', () => {
    const bus = new EventBus();
    const log = [];
    bus.dispatch(domainEvent('Task.created'));   // the bus now has a cached route for the type
    assert.equal(bus.hasListeners('Task.created'), false);
    subscribeMixed(bus, log);
    bus.dispatch(domainEvent('Task.created'));
    assert.deepEqual(log, expected);
  });

  test('default priority is 0', () => {
    const bus = new EventBus();
    const log = [];
    logger(bus, log, 'x', 'neg', { priority: -1 });
    logger(bus, log, 'x', 'default');
    logger(bus, log, 'x', 'zero', { priority: 0 });
    logger(bus, log, 'x', 'pos', { priority: 1 });
    bus.emit('x');
    assert.deepEqual(log, ['pos', 'default', 'zero', 'neg']);
  });
});

describe('subscription options', () => {
  test('once runs a handler for the first matching event only', () => {
    const bus = new EventBus();
    const log = [];
    logger(bus, log, 'x', 'once', { once: true });
    logger(bus, log, 'x', 'always');
    bus.emit('x');
    bus.emit('x');
    assert.deepEqual(log, ['once', 'always', 'always']);
  });

  test('once holds under re-entrancy: an earlier handler emitting the same type does not run it twice', () => {
    const bus = new EventBus();
    let calls = 0;
    let depth = 0;
    bus.on('x', () => { if (depth++ === 0) bus.emit('x'); }, { priority: 1 });
    bus.on('x', () => { calls++; }, { once: true });
    bus.emit('x');
    assert.equal(calls, 1);
    // The once handler itself re-emitting does not reach itself either.
    let selfCalls = 0;
    bus.on('y', () => { selfCalls++; bus.emit('y'); }, { once: true });
    bus.emit('y');
    assert.equal(selfCalls, 1);
  });

  test('a once handler skipped by its filter stays subscribed', () => {
    const bus = new EventBus();
    const got = [];
    bus.on('n', (e) => got.push(e.payload), { once: true, filter: (e) => e.payload > 1 });
    bus.emit('n', 1);
    bus.emit('n', 2);
    bus.emit('n', 3);
    assert.deepEqual(got, [2]);
  });

  test('filter false skips the handler (no result slot), true delivers', () => {
    const bus = new EventBus();
    bus.on('n', (e) => `even ${e.payload}`, { filter: (e) => e.payload % 2 === 0 });
    bus.on('n', (e) => `any ${e.payload}`);
    assert.deepEqual(bus.emit('n', 1), ['any 1']);
    assert.deepEqual(bus.emit('n', 2), ['even 2', 'any 2']);
  });

  test('an already aborted signal subscribes nothing', () => {
    const bus = new EventBus();
    let calls = 0;
    const off = bus.on('x', () => { calls++; }, { signal: AbortSignal.abort() });
    assert.equal(typeof off, 'function');
    bus.emit('x');
    assert.equal(calls, 0);
    assert.equal(bus.hasListeners('x'), false);
    off();
  });

  test('aborting the signal later unsubscribes', () => {
    const bus = new EventBus();
    const ac = new AbortController();
    let calls = 0;
    bus.on('x', () => { calls++; }, { signal: ac.signal });
    bus.on('*', () => { calls += 10; }, { signal: ac.signal });
    bus.emit('x');
    ac.abort();
    bus.emit('x');
    assert.equal(calls, 11);
    assert.equal(bus.hasListeners('x'), false);
  });

  test('unsubscribe is idempotent and removes only its own subscription', () => {
    const bus = new EventBus();
    let calls = 0;
    const fn = () => { calls++; };
    const off1 = bus.on('x', fn);
    bus.on('x', fn);
    off1();
    off1();
    bus.emit('x');
    assert.equal(calls, 1);
  });

  test('unsubscribing during a dispatch: the current dispatch completes as snapshotted, the next one skips', () => {
    const bus = new EventBus();
    const log = [];
    let offB;
    bus.on('x', () => { log.push('A'); offB(); }, { priority: 1 });
    offB = logger(bus, log, 'x', 'B');
    bus.emit('x');
    bus.emit('x');
    assert.deepEqual(log, ['A', 'B', 'A']);
  });

  test('subscribing during a dispatch takes effect from the next dispatch', () => {
    const bus = new EventBus();
    const log = [];
    let added = false;
    bus.on('x', () => {
      log.push('A');
      if (!added) { added = true; logger(bus, log, 'x', 'late', { priority: 5 }); }
    });
    bus.emit('x');
    bus.emit('x');
    assert.deepEqual(log, ['A', 'late', 'A']);
  });

  test('hasListeners follows subscribe and unsubscribe, for exact and wildcard patterns', () => {
    const bus = new EventBus();
    assert.equal(bus.hasListeners('Task.created'), false);
    const off1 = bus.on('Task.created', () => {});
    assert.equal(bus.hasListeners('Task.created'), true);
    assert.equal(bus.hasListeners('Task.updated'), false);
    const off2 = bus.on('*.updated', () => {});
    assert.equal(bus.hasListeners('Task.updated'), true);
    assert.equal(bus.hasListeners('Note.updated'), true);
    off1();
    off2();
    assert.equal(bus.hasListeners('Task.created'), false);
    assert.equal(bus.hasListeners('Task.updated'), false);
    assert.equal(bus.hasListeners('error'), false);
    bus.on('error', () => {});
    assert.equal(bus.hasListeners('error'), true);
  });
});

describe('emit and emitAsync', () => {
  test('emit hands { type, payload } to handlers and returns their results in delivery order', () => {
    const bus = new EventBus();
    const payload = { n: 1 };
    let got;
    bus.on('invoice.sent', (e) => { got = e; return 'low'; }, { priority: -1 });
    bus.on('invoice.*', () => 'high', { priority: 1 });
    bus.on('invoice.sent', () => undefined);
    assert.deepEqual(bus.emit('invoice.sent', payload), ['high', undefined, 'low']);
    assert.equal(got.type, 'invoice.sent');
    assert.equal(got.payload, payload);
    assert.deepEqual(bus.emit('nobody.listens', 1), []);
  });

  test('a throwing handler leaves undefined in its emit slot and the others still run', () => {
    const bus = new EventBus();
    const errors = [];
    bus.on('error', (err) => errors.push(err.message));
    bus.on('x', () => 1);
    bus.on('x', () => { throw new Error('bad'); });
    bus.on('x', () => 3);
    assert.deepEqual(bus.emit('x'), [1, undefined, 3]);
    assert.deepEqual(errors, ['bad']);
  });

  test('emitAsync starts every handler before any finishes, resolving results in delivery order', async () => {
    const bus = new EventBus();
    const started = [];
    let releaseFirst;
    let releaseSecond;
    const first = new Promise((resolve) => { releaseFirst = resolve; });
    const second = new Promise((resolve) => { releaseSecond = resolve; });
    bus.on('job', async () => { started.push('first'); return `first ${await first}`; }, { priority: 1 });
    bus.on('job', async () => { started.push('second'); return `second ${await second}`; });
    bus.on('job', () => 'sync');
    const pending = bus.emitAsync('job');
    // Both async handlers are running although neither has finished.
    assert.deepEqual(started, ['first', 'second']);
    releaseSecond('done');
    await Promise.resolve();
    releaseFirst('done');
    assert.deepEqual(await pending, ['first done', 'second done', 'sync']);
  });

  test('a rejecting or throwing emitAsync handler leaves undefined and reports to error', async () => {
    const bus = new EventBus();
    const failures = [];
    bus.on('error', (err, e) => failures.push([err.message, e.type, e.payload]));
    bus.on('job', async () => { throw new Error('rejected'); });
    bus.on('job', () => { throw new Error('thrown'); });
    bus.on('job', async (e) => e.payload * 2);
    const results = await bus.emitAsync('job', 21);
    assert.deepEqual(results, [undefined, undefined, 42]);
    assert.deepEqual(failures.sort(), [['rejected', 'job', 21], ['thrown', 'job', 21]]);
  });

  test('emitAsync with no handlers resolves to []', async () => {
    assert.deepEqual(await new EventBus().emitAsync('quiet'), []);
  });

  test("emitAsync rejects (does not throw) for the reserved 'error' type", async () => {
    const bus = new EventBus();
    const p = bus.emitAsync('error', 1);
    await assert.rejects(p, TypeError);
  });
});

describe('errors', () => {
  test("a throwing handler does not stop the others; 'error' handlers get (err, event)", () => {
    const bus = new EventBus();
    const log = [];
    const failures = [];
    const boom = new Error('boom');
    bus.on('Task.created', () => { log.push('first'); throw boom; }, { priority: 1 });
    logger(bus, log, 'Task.created', 'second');
    bus.on('error', (err, e) => failures.push([err, e]));
    const event = domainEvent('Task.created');
    bus.dispatch(event);
    assert.deepEqual(log, ['first', 'second']);
    assert.equal(failures.length, 1);
    assert.equal(failures[0][0], boom);
    assert.equal(failures[0][1], event);
  });

  test('a throwing filter is reported like a throwing handler and skips that handler', () => {
    const bus = new EventBus();
    const failures = [];
    bus.on('error', (err) => failures.push(err.message));
    bus.on('x', () => 'never', { filter: () => { throw new Error('filter'); } });
    bus.on('x', () => 'ok');
    assert.deepEqual(bus.emit('x'), ['ok']);
    assert.deepEqual(failures, ['filter']);
  });

  test("without 'error' handlers, failures go to console.error", (t) => {
    const calls = stubConsoleError(t);
    const bus = new EventBus();
    const boom = new Error('unheard');
    let after = 0;
    bus.on('Task.updated', () => { throw boom; });
    bus.on('Task.updated', () => { after++; });
    bus.dispatch(domainEvent('Task.updated'));
    assert.equal(after, 1);
    assert.equal(calls.length, 1);
    assert.ok(calls[0].includes(boom));
    assert.match(String(calls[0][0]), /Task\.updated/);
  });

  test("an error thrown by an 'error' handler goes to console.error, not back to 'error'", (t) => {
    const calls = stubConsoleError(t);
    const bus = new EventBus();
    const inner = new Error('handler');
    const outer = new Error('error handler');
    let errorCalls = 0;
    let secondErrorHandler = 0;
    bus.on('error', () => { errorCalls++; throw outer; });
    bus.on('error', () => { secondErrorHandler++; });
    bus.on('x', () => { throw inner; });
    assert.deepEqual(bus.emit('x'), [undefined]);
    assert.equal(errorCalls, 1);
    assert.equal(secondErrorHandler, 1);
    assert.equal(calls.length, 1);
    assert.ok(calls[0].includes(outer));
  });

  test("an 'error' handler's filter receives (err, event)", () => {
    const bus = new EventBus();
    const seen = [];
    bus.on('error', (err) => seen.push(err.message), { filter: (err, e) => err.message === 'mine' && e.type === 'x' });
    bus.on('x', (e) => { throw new Error(e.payload); });
    bus.emit('x', 'other');
    bus.emit('x', 'mine');
    assert.deepEqual(seen, ['mine']);
  });
});

describe('cancellable events', () => {
  test('returns null when nobody cancels, and every handler runs', () => {
    const bus = new EventBus();
    const log = [];
    logger(bus, log, 'Task.beforeSave', 'a');
    logger(bus, log, 'Task.*', 'b');
    assert.equal(bus.dispatchCancellable(domainEvent('Task.beforeSave')), null);
    assert.deepEqual(log, ['a', 'b']);
  });

  test('returns the reason of the first cancel and stops there', () => {
    const bus = new EventBus();
    const log = [];
    bus.on('Task.beforeSave', (e) => { log.push('validator'); if (e.record.title === '') e.cancel('title is empty'); }, { priority: 5 });
    bus.on('Task.beforeSave', (e) => { log.push('second'); e.cancel('second reason'); });
    const event = domainEvent('Task.beforeSave', 1, { record: { id: 1, title: '' } });
    assert.equal(bus.dispatchCancellable(event), 'title is empty');
    assert.deepEqual(log, ['validator']);
    log.length = 0;
    assert.equal(bus.dispatchCancellable(domainEvent('Task.beforeSave', 2, { record: { id: 2, title: 'ok' } })), 'second reason');
    assert.deepEqual(log, ['validator', 'second']);
  });

  test("cancel() without a reason gives 'cancelled'", () => {
    const bus = new EventBus();
    bus.on('Task.beforeDelete', (e) => e.cancel());
    assert.equal(bus.dispatchCancellable(domainEvent('Task.beforeDelete')), 'cancelled');
  });

  test('a throwing handler does not cancel; the error goes to error and later handlers run', () => {
    const bus = new EventBus();
    const failures = [];
    let later = 0;
    bus.on('error', (err, e) => failures.push([err.message, e.type]));
    bus.on('Task.beforeSave', () => { throw new Error('oops'); }, { priority: 1 });
    bus.on('Task.beforeSave', () => { later++; });
    assert.equal(bus.dispatchCancellable(domainEvent('Task.beforeSave')), null);
    assert.equal(later, 1);
    assert.deepEqual(failures, [['oops', 'Task.beforeSave']]);
  });

  test('the first reason wins when a handler cancels twice', () => {
    const bus = new EventBus();
    bus.on('Task.beforeDelete', (e) => { e.cancel('first'); e.cancel('second'); });
    assert.equal(bus.dispatchCancellable(domainEvent('Task.beforeDelete')), 'first');
  });

  test('a handler that cancels and then throws still cancels', (t) => {
    stubConsoleError(t);
    const bus = new EventBus();
    bus.on('Task.beforeSave', (e) => { e.cancel('stop'); throw new Error('after cancel'); });
    assert.equal(bus.dispatchCancellable(domainEvent('Task.beforeSave')), 'stop');
  });
});

describe('re-entrant dispatch', () => {
  test('dispatchBatch delivers synchronously, in order', () => {
    const bus = new EventBus();
    const log = [];
    bus.on('*', (e) => log.push(`${e.type}#${e.id}`));
    bus.dispatchBatch([domainEvent('Task.created', 1), domainEvent('Task.updated', 1), domainEvent('Task.deleted', 2)]);
    log.push('returned');
    assert.deepEqual(log, ['Task.created#1', 'Task.updated#1', 'Task.deleted#2', 'returned']);
  });

  test('events caused by a handler are delivered after the current batch, not nested', () => {
    const bus = new EventBus();
    const log = [];
    bus.on('Task.created', (e) => {
      log.push(`task ${e.id} start`);
      // A write from inside a handler: the shim hands its events to the bus.
      bus.dispatchBatch([domainEvent('Log.created', `${e.id}a`), domainEvent('Log.created', `${e.id}b`)]);
      log.push(`task ${e.id} end`);
    });
    bus.on('Log.created', (e) => {
      log.push(`log ${e.id}`);
      bus.dispatch(domainEvent('Audit.created', e.id));
    });
    bus.on('Audit.created', (e) => log.push(`audit ${e.id}`));
    bus.dispatchBatch([domainEvent('Task.created', 1), domainEvent('Task.created', 2)]);
    assert.deepEqual(log, [
      'task 1 start', 'task 1 end', 'task 2 start', 'task 2 end',
      'log 1a', 'log 1b', 'log 2a', 'log 2b',
      'audit 1a', 'audit 1b', 'audit 2a', 'audit 2b',
    ]);
  });

  test('dispatchCancellable inside a handler runs nested (the write needs the verdict now)', () => {
    const bus = new EventBus();
    const log = [];
    bus.on('Task.created', () => {
      const verdict = bus.dispatchCancellable(domainEvent('Log.beforeSave'));
      log.push(`verdict ${verdict}`);
    });
    bus.on('Log.beforeSave', (e) => { log.push('beforeSave'); e.cancel('no'); });
    bus.dispatch(domainEvent('Task.created'));
    assert.deepEqual(log, ['beforeSave', 'verdict no']);
  });

  test('a chain deeper than maxDepth throws LIMIT and leaves the bus usable', () => {
    const bus = new EventBus();
    let rounds = 0;
    const off = bus.on('Loop.created', (e) => { rounds++; bus.dispatch(domainEvent('Loop.created', e.id + 1)); });
    assert.throws(() => bus.dispatch(domainEvent('Loop.created', 0)), (err) => err instanceof Error && err.code === 'LIMIT');
    assert.equal(rounds, 33);   // the first event plus 32 rounds of events caused by events
    off();
    const log = [];
    bus.on('Task.created', () => log.push('ok'));
    bus.dispatchBatch([domainEvent('Task.created')]);
    bus.dispatchBatch([domainEvent('Task.created')]);
    assert.deepEqual(log, ['ok', 'ok']);
  });

  test('maxDepth counts rounds, not events: a wide round within the limit passes', () => {
    const bus = new EventBus({ maxDepth: 2 });
    let logs = 0;
    bus.on('Task.created', () => { bus.dispatch(domainEvent('Log.created')); });
    bus.on('Log.created', () => { logs++; });
    const batch = Array.from({ length: 50 }, (_, i) => domainEvent('Task.created', i));
    bus.dispatchBatch(batch);
    assert.equal(logs, 50);
  });

  test('errorFactory builds the LIMIT error', () => {
    class NitroLikeError extends Error {
      constructor(code, message) { super(message); this.code = code; }
    }
    const bus = new EventBus({ maxDepth: 3, errorFactory: (code, message) => new NitroLikeError(code, message) });
    let rounds = 0;
    bus.on('Loop.created', () => { rounds++; bus.dispatchBatch([domainEvent('Loop.created')]); });
    assert.throws(() => bus.dispatchBatch([domainEvent('Loop.created')]), (err) => err instanceof NitroLikeError && err.code === 'LIMIT');
    assert.equal(rounds, 4);
  });
});

describe('stats', () => {
  test('counts events, handler calls, failures and cancellations per type', async (t) => {
    stubConsoleError(t);
    const bus = new EventBus();
    bus.on('Task.created', () => {});
    bus.on('Task.*', () => {});
    bus.on('Task.updated', () => { throw new Error('x'); });
    bus.on('Task.beforeSave', (e) => { if (e.id === 2) e.cancel('no'); }, { priority: 1 });
    bus.on('n', () => {}, { filter: (e) => e.payload > 0 });
    bus.dispatchBatch([domainEvent('Task.created', 1), domainEvent('Task.created', 2)]);
    bus.dispatch(domainEvent('Task.updated'));
    bus.dispatchCancellable(domainEvent('Task.beforeSave', 1));
    bus.dispatchCancellable(domainEvent('Task.beforeSave', 2));
    bus.emit('n', 0);
    bus.emit('n', 1);
    await bus.emitAsync('n', 2);
    const stats = bus.stats();
    assert.deepEqual(stats['Task.created'], { emitted: 2, delivered: 4, failed: 0, cancelled: 0 });
    assert.deepEqual(stats['Task.updated'], { emitted: 1, delivered: 2, failed: 1, cancelled: 0 });
    // Stops at the cancel: the 'Task.*' handler ran for id 1 only.
    assert.deepEqual(stats['Task.beforeSave'], { emitted: 2, delivered: 3, failed: 0, cancelled: 1 });
    assert.deepEqual(stats.n, { emitted: 3, delivered: 2, failed: 0, cancelled: 0 });
    assert.deepEqual(stats.error, { emitted: 1, delivered: 0, failed: 0, cancelled: 0 });
  });

  test('counts payload-only handler calls as handlers come and go', async () => {
    const bus = new EventBus();
    const offA = bus.on('x', () => {}, { payload: true });
    for (let i = 0; i < 3; i++) bus.emit('x', i);
    bus.on('x', () => {}, { payload: true });
    for (let i = 0; i < 2; i++) bus.emit('x', i);
    offA();
    bus.emit('x', 1);
    bus.on('x', () => {});   // an event handler: no longer the payload-only path
    bus.emit('x', 1);
    await bus.emitAsync('x', 1);
    assert.deepEqual(bus.stats().x, { emitted: 8, delivered: 12, failed: 0, cancelled: 0 });
  });

  test('stats() returns a copy', () => {
    const bus = new EventBus();
    bus.emit('x');
    const s = bus.stats();
    s.x.emitted = 100;
    assert.equal(bus.stats().x.emitted, 1);
  });
});
