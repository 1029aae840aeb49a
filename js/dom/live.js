// live.js - live queries (Query.subscribe) and the per-instance registry
// that tells subscriptions and mounted views about committed write batches.
//
// C keeps every subscribed result current inside the commit itself
// (src/live.h); after a commit JS crosses once to take the change reports
// of the subscriptions that changed, and schedules one view flush per
// microtask for all mounted views (src/api_live.c).

import { NitroError } from '../errors.js';
import { Reader } from '../record.js';
import { EDIT } from '../wire.js';

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** What one committed write batch changed in a subscribed result. */
class LiveChange {
  #sub;
  constructor(sub, added, removed, moved, updated) {
    this.added = added;
    this.removed = removed;
    this.moved = moved;
    this.updated = updated;
    this.#sub = sub;
  }

  /** The result as it stands now: records in query order. */
  result() { return this.#sub.result(); }
}

/** A live query: `query.subscribe(fn)`. */
export class Subscription {
  #live; #fn;

  constructor(live, query, fn, id) {
    this.#live = live;
    this.#fn = fn;
    this.query = query;
    this.id = id;
    this.closed = false;
  }

  /** The current result (records in query order). */
  result() {
    if (this.closed) throw new NitroError('CLOSED', 'this subscription was unsubscribed');
    const e = this.query.entity;
    e.core.call0('nw_sub_result', this.id);
    return e.readRecords(e.out());
  }

  unsubscribe() {
    if (this.closed) return;
    this.closed = true;
    this.#live.drop(this);
  }

  /** @internal */
  deliver(change) {
    try {
      this.#fn(change);
    } catch (err) {
      this.query.entity.nitro._handlerError(err, { type: 'live', query: this.query });
    }
  }

  /** @internal */
  change(added, removed, moved, updated) { return new LiveChange(this, added, removed, moved, updated); }
}

/** The ids of a live result, or which of some ids are in it: one crossing each. */
class LiveResult {
  constructor(core, id) { this.core = core; this.id = id; }

  ids() {
    const core = this.core;
    core.call0('nw_sub_ids', this.id);
    const r = new Reader().reset(core.u8, core.dv, core.outView().byteOffset);
    return readIds(r, r.u32());
  }

  /** A Set of those of `ids` that are in the result. */
  has(ids) {
    const core = this.core;
    core.enc.reset().value(ids);
    core.call0('nw_sub_has', this.id, core.send());
    const v = core.outView(), found = new Set();
    for (let i = 0; i < ids.length; i++) if (v[i]) found.add(ids[i]);
    return found;
  }

  close() { if (!this.core.closed) this.core.call0('nw_sub_free', this.id); }
}

/** n ids, each u32 length + UTF-8. */
function readIds(r, n) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = r.value0Str();
  return out;
}

/** One per Nitro instance: subscriptions by id and the mounted views. */
export class LiveRegistry {
  constructor(nitro) {
    this.nitro = nitro;
    this.core = nitro.core;
    this.subs = new Map();
    this.views = new Map();
    this.VIEW = EDIT.VIEW;
    this.flushQueued = false;
    this.flushNow = () => this.flush();
  }

  subscribe(query, fn) {
    if (typeof fn !== 'function') throw new NitroError('VALIDATION', 'subscribe(fn) takes a function', { rule: 'type' });
    const sub = new Subscription(this, query, fn, this.#create(query, true));
    this.subs.set(sub.id, sub);
    return sub;
  }

  /** A live result without callbacks, asked on demand (the Datastar bridge). */
  watch(query) { return new LiveResult(this.core, this.#create(query, false)); }

  /** Subscribes `query` in C; `report`: C writes change reports for it. */
  #create(query, report) {
    const core = this.core;
    core.enc.reset().value(query.spec());
    core.call0('nw_sub_new', query.entity.table, core.send(), report ? 1 : 0);
    return core.dv.getUint32(core.outView().byteOffset, true);
  }

  addView(view) { this.views.set(view.id, view); }
  removeView(view) { this.views.delete(view.id); }
  byId(id) { return this.views.get(id); }

  drop(sub) {
    this.subs.delete(sub.id);
    if (!this.core.closed) this.core.call0('nw_sub_free', sub.id);
  }

  /** After every committed batch (a write, a transaction, a sync pull). */
  committed() {
    if (this.subs.size && this.core.x.nw_live_pending(this.core.I)) this.report();
    if (this.views.size && !this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushNow);
    }
  }

  report() {
    const core = this.core;
    core.call0('nw_live_take');
    const r = new Reader().reset(core.u8, core.dv, core.outView().byteOffset);
    const out = [];
    for (let n = r.u32(); n > 0; n--) {
      const id = r.u32();
      const counts = [r.u32(), r.u32(), r.u32(), r.u32()];   // added, removed, moved, updated
      out.push([id, counts.map((c) => readIds(r, c))]);
    }
    for (const [id, lists] of out) {
      const sub = this.subs.get(id);
      if (sub && !sub.closed) sub.deliver(sub.change(...lists));
    }
  }

  /** Brings every mounted view up to date in one crossing. */
  flush() {
    this.flushQueued = false;
    if (!this.views.size || this.core.closed) return;
    this.core.call0('nw_view_flush');
    applyAll(this, this.core);
  }
}

/** Applies an edit stream (view ids inside) to the registry's views. */
export function applyAll(live, core) {
  const out = core.outView();
  const batch = readEdits(core, out.byteOffset);
  let view = null;
  const ops = batch.ops;
  for (let i = 0; i < ops.length;) {
    if (ops[i] === live.VIEW) {
      view = live.byId(ops[i + 1]);
      i += 2;
      continue;
    }
    if (!view) throw new NitroError('LIMIT', 'nitro-wasm: a view edit arrived without its view');
    i = view.applyFrom(ops, i, batch.strs);
  }
}

/** Copies the edits of the last call out of WASM memory. */
export function readEdits(core, at) {
  const dv = core.dv;
  const words = dv.getUint32(at, true), bytes = dv.getUint32(at + 4, true);
  at += 12;
  const ops = new Uint32Array(words);
  if ((at & 3) === 0) ops.set(new Uint32Array(core.memory.buffer, at, words));
  else for (let i = 0; i < words; i++) ops[i] = dv.getUint32(at + i * 4, true);
  at += words * 4;
  const strs = bytes ? utf8.decode(core.u8.subarray(at, at + bytes)) : '';
  return { ops, strs };
}
