// datastar-client.js - the browser half of `nitro-wasm/datastar`: connects a
// Nitro store to the Datastar client running on the page.
//
//   import * as datastar from 'https://cdn.jsdelivr.net/gh/starfederation/datastar@1.0.2/bundles/datastar.js';
//   const ds = connectDatastar(nitro, { datastar });   // or connectDatastar(nitro); await ds.ready
//   ds.bind('tasks', Task.where({ status: 'open' }));  // $tasks = { [id]: record }, kept current
//   ds.fragment(listTemplate, { tasks: openTasks });   // re-rendered and morphed in by id
//
// In the page (Datastar 1.0 syntax):
//   <button data-on:click="@nitro('Task.update', $id, {status: 'done'})">     create/update/upsert/delete
//   <button data-on:click="@nitro('Task.complete', $id)">                     or any entity method
//   <input data-bind="tasks.t1.title">   with ds.bind('tasks', Task, { writable: true })
//   <input data-bind="draft.title">      with ds.bindRecord('draft', Task, id)
//   <span data-text="$errors.Task.t1.title"></span>
// A writable signal edited by Datastar (a data-bind input, an expression, a
// server patch) is written through the entity: input strings are converted to
// the field's type, and a value the entity rejects stays in the signal while
// `$errors.<Entity>.<id>.<field>` gets the message (`_record` for record-wide
// errors, `_new` as the id of a create without one); a later valid value
// sets it back to ''. `@nitro` reports errors the same way instead of
// throwing. Use the value form `data-bind="tasks.<id>.title"`: the key form
// camel-cases the path. Signals hold stored fields (toJSON), not computed ones.
//
// How it talks to Datastar (facts in docs/datastar.md, Attributes and Patching from page JS):
// - Patches go in as the same document events the SSE client produces, so no
//   private API is needed: `datastar-fetch` for 1.0.x, `datastar-sse` for
//   beta.11. Both apply synchronously inside dispatchEvent.
// - Changes come back out as `datastar-signal-patch` (1.0.x: a merge patch of
//   what changed) or `datastar-signals` (beta.11: paths only, values read from
//   its store). That is how `data-bind` inputs write through the entity.
// - The `@nitro(...)` action needs the Datastar module itself (1.0.x
//   `action()`, beta.11 `load()`): given as `options.datastar`, or imported
//   from the page's `<script type="module" src="...datastar...">` (the same
//   URL gives the same module instance); `ds.ready` resolves once it is there.
//   beta.11 compiles expressions when it first sees an element, so there
//   `@nitro` works only in elements added after connecting (e.g. patched in).
//
// Store events are collected per binding and turned into one JSON merge patch
// per flush (a microtask after the writes, or at once after an `@nitro`
// action), holding only what changed: a transaction of 1,000 updates is one
// patch of 1,000 records, whatever the size of the bound signal.
import { NitroError } from '../errors.js';
import { isReservedKey, findReservedKey } from '../keys.js';
import { HINT } from '../wire.js';

/** `ds.version` for the 1.0 line (RC.6 and later, 1.0.0 .. 1.0.2). */
export const DATASTAR_1 = '1.0';
/** `ds.version` for the newest client on npm. */
export const DATASTAR_BETA = '1.0.0-beta.11';

const FETCH_EVENT = 'datastar-fetch';            // 1.0: patches in
const SIGNAL_PATCH_EVENT = 'datastar-signal-patch'; // 1.0: changes out (a merge patch)
const SSE_EVENT = 'datastar-sse';                // beta.11: patches in
const SIGNALS_EVENT = 'datastar-signals';        // beta.11: changes out ({added, removed, updated} paths)
const PROBE = '_nitroProbe';                     // underscore: never sent to a server

const AFTER_EVENTS = ['created', 'updated', 'deleted', 'expired'];
// Failures a user can cause from the page: they become error signals.
const USER_ERRORS = new Set(['VALIDATION', 'DUPLICATE', 'CANCELLED', 'CONFLICT', 'NOT_FOUND']);
const MODES = new Set(['outer', 'inner', 'replace', 'prepend', 'append', 'before', 'after', 'remove']);
// 1.0 mode -> beta.11 mergeMode ('morph' is beta's morphing outer).
const BETA_MODES = { outer: 'morph', inner: 'inner', replace: 'outer', prepend: 'prepend', append: 'append', before: 'before', after: 'after' };
const SIGNAL_PATH = /^[A-Za-z_][\w-]*(?:\.[\w-]+)*$/;
const RECORD_ERROR = '_record';  // errors of a whole record (validate rule, cancelled, not found)
const NEW_RECORD = '_new';       // errors of a create whose data has no id yet

// One action per Datastar module and name, routed to the bridges connected
// through it (newest first), so several Nitro instances can share a page.
const actionTargets = new WeakMap();

const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
const isPlain = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)
  && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

function notFound(message) {
  return new NitroError('NOT_FOUND', `connectDatastar: ${message}`, { rule: 'datastar' });
}

function checkPath(path, what = 'signal') {
  if (typeof path !== 'string' || !SIGNAL_PATH.test(path)) {
    throw new TypeError(`${what} must be a signal path like 'tasks' or 'ui.tasks' (got ${JSON.stringify(path)})`);
  }
  const keys = path.split('.');
  const bad = keys.find(isReservedKey);
  if (bad !== undefined) throw new NitroError('VALIDATION', `${what}: "${bad}" is reserved (__proto__, constructor and prototype cannot be signal names)`, { field: bad, rule: 'reserved-key' });
  return keys;
}

/** Deep equality for record field values (JSON data). */
function same(a, b) {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!same(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!hasOwn(b, k) || !same(a[k], b[k])) return false;
  return true;
}

/** A plain JSON copy: Datastar hands expressions reactive proxies. */
function plain(v) {
  return v !== null && typeof v === 'object' ? JSON.parse(JSON.stringify(v)) : v;
}

/** Puts `value` at `path` inside `root`, creating (or merging into) own
 * objects. A path with a reserved key (`__proto__`, `constructor`,
 * `prototype`) is never written: the store refuses such ids and keys, and
 * this keeps any that slipped through away from Object.prototype and from
 * Datastar's own merge. */
function setIn(root, path, value) {
  for (const k of path) if (isReservedKey(k)) return;
  let o = root;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i];
    if (!hasOwn(o, k) || !isPlain(o[k])) o[k] = {};
    o = o[k];
  }
  o[path[path.length - 1]] = value;
}

function getIn(root, path) {
  let o = root;
  for (const k of path) {
    if (o === null || typeof o !== 'object' || !hasOwn(o, k)) return undefined;
    o = o[k];
  }
  return o;
}

/** RFC 7386: applies `patch` to a copy of `target`. */
function applyMergePatch(target, patch) {
  if (!isPlain(patch)) return plain(patch);
  const out = isPlain(target) ? { ...target } : {};
  for (const k of Object.keys(patch)) {
    if (isReservedKey(k)) continue;
    if (patch[k] === null) delete out[k];
    else out[k] = applyMergePatch(out[k], patch[k]);
  }
  return out;
}

/** String form values (inputs give strings) turned into what the field
 * holds, by its decode hint (src/wire.h); anything unconvertible is passed on
 * for the entity to reject. */
function coerce(field, v) {
  if (typeof v !== 'string') return v;
  const h = field.hint;
  if (h === HINT.NUM) {
    const t = v.trim();
    if (t === '') return null;
    const n = Number(t);
    return Number.isFinite(n) ? n : v;
  }
  if (h === HINT.BOOL) return v === 'true' ? true : v === 'false' ? false : v;
  if (h === HINT.DATE || h === HINT.ENUM || h === HINT.TOKEN) return v === '' ? null : v;
  return v;
}

/** The message without its `Task.title: ` prefix: the signal path says where. */
function shortMessage(err) {
  const m = String(err.message ?? err);
  const i = m.indexOf(': ');
  return i > 0 && /^[\w.[\] ]+$/.test(m.slice(0, i)) ? m.slice(i + 2) : m;
}

const isQuery = (x) => x !== null && typeof x === 'object' && typeof x.spec === 'function' && typeof x.ids === 'function' && x.entity;
const isEntity = (x) => x !== null && typeof x === 'object' && Array.isArray(x.fields) && typeof x.idName === 'string' && typeof x.where === 'function';

// ---------------------------------------------------------------------------
// Finding Datastar

function dispatch(doc, type, detail) {
  doc.dispatchEvent(new CustomEvent(type, { detail }));
}

/** True when `fire()` makes Datastar report a signal change (synchronously). */
function probe(doc, reply, fire) {
  let seen = false;
  const hear = () => { seen = true; };
  doc.addEventListener(reply, hear);
  try {
    fire();
  } finally {
    doc.removeEventListener(reply, hear);
  }
  return seen;
}

function versionOfModule(mod) {
  if (mod && typeof mod.action === 'function' && typeof mod.mergePatch === 'function') return DATASTAR_1;
  if (mod && typeof mod.load === 'function' && typeof mod.apply === 'function') return DATASTAR_BETA;
  return null;
}

/** Asks the page which Datastar is listening, without its module: each
 * version acts only on its own patch event and reports the change. */
function probeVersion(doc) {
  const value = Math.random();
  const el = doc.documentElement;
  if (probe(doc, SIGNAL_PATCH_EVENT, () => dispatch(doc, FETCH_EVENT,
    { type: 'datastar-patch-signals', el, argsRaw: { signals: JSON.stringify({ [PROBE]: value }) } }))) {
    dispatch(doc, FETCH_EVENT, { type: 'datastar-patch-signals', el, argsRaw: { signals: JSON.stringify({ [PROBE]: null }) } });
    return DATASTAR_1;
  }
  if (probe(doc, SIGNALS_EVENT, () => dispatch(doc, SSE_EVENT,
    { type: 'datastar-merge-signals', elId: '', argsRaw: { signals: JSON.stringify({ [PROBE]: value }) } }))) {
    dispatch(doc, SSE_EVENT, { type: 'datastar-remove-signals', elId: '', argsRaw: { paths: PROBE } });
    return DATASTAR_BETA;
  }
  return null;
}

/** The URL of the page's Datastar module script, if it has one. */
function moduleScriptUrl(doc) {
  if (typeof doc.querySelectorAll !== 'function') return null;
  for (const s of doc.querySelectorAll('script[type="module"][src]')) {
    if (/datastar/i.test(s.getAttribute('src'))) return s.src;
  }
  return null;
}

// ---------------------------------------------------------------------------
// Bindings: one signal mirroring an entity, a query or one record

class Binding {
  constructor(bridge, path, entity, query, recordId, writable) {
    this.bridge = bridge;
    this.path = path;            // signal path segments
    this.entity = entity;
    this.query = query;          // null: every record of the entity
    this.recordId = recordId;    // bindRecord: the one id (the signal is the record itself)
    this.writable = writable;
    this.limited = !!query && (query._limit != null || query._offset != null);
    this.members = new Set();    // ids whose records the signal holds
    // a query's result, kept current in C (live queries); closed with the binding
    this.live = query && (query._where || this.limited) ? bridge.liveResult(query) : null;
    this.dirty = new Map();      // id -> { wasIn, before, after } since the last flush
  }

  /** Where a record lives in the patch. */
  pathOf(id) { return this.recordId === null ? [...this.path, id] : this.path; }

  /** Writable bindings make `$errors.<Entity>.<id>` an object for each of
   * their records, so `data-text="$errors.Task.<id>.title"` needs no
   * declaration on 1.0 (merging {} never clears a message). */
  errorSlot(out, id) {
    if (this.writable) out.ensure([...this.bridge.errorsPath, this.entity.name, id]);
  }

  /** The first state of the signal: every matching record. */
  load(out) {
    const e = this.entity;
    let recs;
    if (this.recordId !== null) {
      const r = e.get(this.recordId);
      if (!r) throw new NitroError('NOT_FOUND', `${e.name}: no record ${this.recordId} to bind`, { entity: e.name, rule: 'bind' });
      recs = [r];
    } else {
      recs = this.query ? this.query.all() : e.all();
    }
    this.members.clear();
    this.dirty.clear();
    if (this.recordId !== null) {
      this.members.add(this.recordId);
      out.set(this.path, recs[0].toJSON());
      this.errorSlot(out, this.recordId);
      return;
    }
    const map = {};
    for (const r of recs) {
      const id = r[e.idName];
      if (isReservedKey(id)) continue;   // never stored (src/record.h); never a signal
      map[id] = r.toJSON();
      this.members.add(id);
      this.errorSlot(out, id);
    }
    out.set(this.path, map);
    // Records a previous value of the signal held (a page that declared it,
    // an earlier binding) must go, or the signal would mix old and new.
    for (const k of this.bridge.signalKeys(this.path.join('.'))) if (!hasOwn(map, k)) out.remove([...this.path, k]);
  }

  /** A store event for this binding's entity. */
  touch(e) {
    const id = e.id;
    if (this.recordId !== null && id !== this.recordId) return;
    let d = this.dirty.get(id);
    if (d === undefined) {
      const wasIn = this.members.has(id);
      const kind = e.type.slice(e.entity.length + 1);
      d = { wasIn, before: wasIn && kind !== 'created' ? (e.previous ?? e.record) : null, after: null };
      this.dirty.set(id, d);
    }
    const kind = e.type.slice(e.entity.length + 1);
    d.after = kind === 'deleted' || kind === 'expired' ? null : e.record;
  }

  /** Turns the events since the last flush into patch entries. */
  collect(out) {
    if (this.dirty.size === 0) return;
    const dirty = this.dirty;
    this.dirty = new Map();
    const e = this.entity;
    if (this.limited) return this.collectWindow(out, dirty);
    // Membership comes from the query's live result, which C keeps current
    // at each commit: one crossing for all the changed ids.
    let matching = null;
    if (this.live) {
      const candidates = [];
      for (const [id, d] of dirty) if (d.after !== null) candidates.push(id);
      matching = candidates.length ? this.live.has(candidates) : new Set();
    }
    for (const [id, d] of dirty) {
      const inNow = d.after !== null && (matching === null || matching.has(id));
      this.emit(out, id, d, inNow);
    }
  }

  /** limit/offset queries: a change anywhere can move the window, so the
   * ids are read again (the window bounds the cost) and compared. */
  collectWindow(out, dirty) {
    const e = this.entity;
    const ids = this.live.ids();
    const now = new Set(ids);
    const entering = [];
    for (const id of ids) if (!this.members.has(id) && !dirty.has(id)) entering.push(id);
    if (entering.length) {
      const recs = e.getMany(entering);
      for (let i = 0; i < entering.length; i++) dirty.set(entering[i], { wasIn: false, before: null, after: recs[i] });
    }
    for (const id of this.members) {
      if (!now.has(id) && !dirty.has(id)) dirty.set(id, { wasIn: true, before: null, after: null });
    }
    for (const [id, d] of dirty) this.emit(out, id, d, d.after !== null && now.has(id));
  }

  emit(out, id, d, inNow) {
    const path = this.pathOf(id);
    if (inNow && d.wasIn) {
      diffRecord(out, this.entity, path, d.before, d.after);
    } else if (inNow) {
      out.set(path, d.after.toJSON());
      this.members.add(id);
      this.errorSlot(out, id);
    } else if (d.wasIn) {
      out.remove(path);
      this.members.delete(id);
    }
  }
}

/** Patch entries for the fields that differ: lists and scalars whole, json
 * objects as a nested merge patch. */
function diffRecord(out, entity, path, before, after) {
  for (const f of entity.fields) {
    const k = f.name;
    const a = before ? before[k] : undefined;
    const b = after[k];
    if (same(a, b)) continue;
    if (f.hint === HINT.JSON && isPlain(a) && isPlain(b)) diffObject(out, [...path, k], a, b);
    else if (b === null || b === undefined) out.clear([...path, k]);
    else out.set([...path, k], b);
  }
}

function diffObject(out, path, a, b) {
  for (const k of Object.keys(a)) if (!hasOwn(b, k)) out.remove([...path, k]);
  for (const k of Object.keys(b)) {
    if (hasOwn(a, k) && same(a[k], b[k])) continue;
    if (isPlain(a[k]) && isPlain(b[k])) diffObject(out, [...path, k], a[k], b[k]);
    else if (b[k] === null) out.remove([...path, k]);
    else out.set([...path, k], b[k]);
  }
}

/**
 * A patch being built, in the form each Datastar version needs:
 * - 1.0.x: one merge patch (null deletes). A field that becomes null is first
 *   set to '' in a pre-patch, because 1.0 fires no change for a delete and a
 *   `data-text` showing the field would keep the old value.
 * - beta.11: null does not delete there, so removals are a separate path list
 *   (`datastar-remove-signals`); a field that becomes null keeps its signal,
 *   holding null, since beta.11 stops on expressions naming missing signals.
 */
class PatchBuilder {
  constructor(v1) {
    this.v1 = v1;
    this.patch = {};
    this.pre = null;
    this.removals = [];
    this.empty = true;
  }

  set(path, value) {
    setIn(this.patch, path, value);
    this.empty = false;
  }

  /** An empty object at `path` unless the patch already puts something there. */
  ensure(path) {
    if (getIn(this.patch, path) === undefined) this.set(path, {});
  }

  /** A signal (record, json key) that goes away. */
  remove(path) {
    if (this.v1) setIn(this.patch, path, null);
    else this.removals.push(path.join('.'));
    this.empty = false;
  }

  /** A record field that becomes null. */
  clear(path) {
    if (this.v1) {
      if (this.pre === null) this.pre = {};
      setIn(this.pre, path, '');
    }
    setIn(this.patch, path, null);
    this.empty = false;
  }
}

// ---------------------------------------------------------------------------

class DatastarBridge {
  #nitro;
  #doc;
  #module = null;
  #store = null;                 // beta.11 signal store (from a watcher plugin)
  #bindings = new Set();
  #fragments = new Set();
  #subs = new Map();             // entity name ('*' for all) -> { count, off }
  #scheduled = false;
  #frame = false;
  #applying = false;             // our own patches are being applied: ignore their echoes
  #errorPatch = null;            // error signals waiting for the next flush
  #errors = new Set();           // error signal paths currently holding a message
  #closed = false;
  #onSignalPatch;
  #onSignals;
  #errorsPath;
  #actionName;

  constructor(nitro, version, doc, options) {
    this.#nitro = nitro;
    this.#doc = doc;
    /** `'1.0'` or `'1.0.0-beta.11'`. */
    this.version = version;
    this.#errorsPath = checkPath(options.errors ?? 'errors', 'options.errors');
    this.#actionName = options.action ?? 'nitro';
    if (!/^[A-Za-z_$][\w$]*$/.test(this.#actionName)) throw new TypeError(`options.action must be an identifier (got ${JSON.stringify(this.#actionName)})`);

    this.#onSignalPatch = (evt) => { if (!this.#applying) this.#writeBackPatch(evt.detail); };
    this.#onSignals = (evt) => { if (!this.#applying) this.#writeBackPaths(evt.detail); };
    if (this.version === DATASTAR_1) doc.addEventListener(SIGNAL_PATCH_EVENT, this.#onSignalPatch);
    else doc.addEventListener(SIGNALS_EVENT, this.#onSignals);

    /** Resolves with this bridge once the `@nitro` action is registered (at
     * once when `options.datastar` was given). Never rejects: without a module
     * to reach, `actions` stays false. */
    this.ready = Promise.resolve(this);
    /** Whether `@nitro(...)` is registered with Datastar. */
    this.actions = false;
  }

  get isV1() { return this.version === DATASTAR_1; }

  /** @internal */
  get errorsPath() { return this.#errorsPath; }

  // ---- the Datastar module -------------------------------------------------

  /** @internal Registers the action (and, on beta.11, reaches the store). */
  attach(mod) {
    this.#module = mod;
    let byName = actionTargets.get(mod);
    if (!byName) actionTargets.set(mod, byName = new Map());
    const name = this.#actionName;
    let targets = byName.get(name);
    if (!targets) {
      targets = [];
      byName.set(name, targets);
      const run = (op, args) => {
        const entity = typeof op === 'string' ? op.slice(0, op.lastIndexOf('.')) : '';
        const b = targets.find((t) => t.#nitro.entities.has(entity)) ?? targets[0];
        if (!b) throw new NitroError('CLOSED', `@${name}: no connected Nitro store`);
        return b.runAction(op, args);
      };
      if (this.isV1) {
        mod.action({ name, apply: (ctx, op, ...args) => run(op, args) });
      } else {
        mod.load({ type: 3, name, fn: (ctx, op, ...args) => run(op, args) });
      }
    }
    if (!this.isV1) {
      // beta.11 exports no store: a watcher plugin is handed it at load.
      mod.load({ type: 2, name: 'nitroBridge', onGlobalInit: (ctx) => { this.#store = ctx.signals; } });
    }
    targets.unshift(this);
    this.actions = true;
  }

  /** The current value of a Datastar signal as plain JSON (undefined when
   * absent or when the Datastar module is out of reach). */
  readSignal(path) {
    checkPath(path);
    if (this.isV1) {
      if (!this.#module) return undefined;
      const v = this.#module.getPath(path);
      return v === undefined ? undefined : plain(v);
    }
    if (!this.#store) return undefined;
    // beta.11 keeps leaves as signal objects inside plain namespace objects.
    let node;
    try {
      node = this.#store.signal(path);
    } catch {
      return undefined;   // SignalNotFound
    }
    const read = (n) => {
      if (!isPlain(n)) return plain(n.value);
      const o = {};
      for (const k of Object.keys(n)) if (!isReservedKey(k)) o[k] = read(n[k]);
      return o;
    };
    return node ? read(node) : undefined;
  }

  /** @internal The keys of an object signal (none when absent or out of reach). */
  signalKeys(path) {
    let node;
    if (this.isV1) {
      node = this.#module ? this.#module.getPath(path) : undefined;
      return node !== null && typeof node === 'object' && !Array.isArray(node) ? Object.keys(node) : [];
    }
    try {
      node = this.#store ? this.#store.signal(path) : null;
    } catch {
      return [];
    }
    return isPlain(node) ? Object.keys(node) : [];
  }

  // ---- sending patches ---------------------------------------------------------

  #dispatch(type, detail) {
    this.#applying = true;
    try {
      dispatch(this.#doc, type, detail);
    } finally {
      this.#applying = false;
    }
  }

  #sendMerge(patch, onlyIfMissing) {
    const signals = JSON.stringify(patch);
    if (this.isV1) {
      const argsRaw = { signals };
      if (onlyIfMissing) argsRaw.onlyIfMissing = 'true';
      this.#dispatch(FETCH_EVENT, { type: 'datastar-patch-signals', el: this.#doc.documentElement, argsRaw });
    } else {
      const argsRaw = { signals };
      if (onlyIfMissing) argsRaw.onlyIfMissing = 'true';
      this.#dispatch(SSE_EVENT, { type: 'datastar-merge-signals', elId: '', argsRaw });
    }
  }

  #sendRemovals(paths) {
    if (paths.length) this.#dispatch(SSE_EVENT, { type: 'datastar-remove-signals', elId: '', argsRaw: { paths: paths.join('\n') } });
  }

  #send(b) {
    if (b.empty) return;
    if (this.isV1) {
      if (b.pre) this.#sendMerge(b.pre);
      this.#sendMerge(b.patch);
    } else {
      this.#sendRemovals(b.removals);
      if (Object.keys(b.patch).length) this.#sendMerge(b.patch);
    }
  }

  /** Merges `patch` into Datastar's signals (JSON Merge Patch: null deletes,
   * on beta.11 too). */
  patchSignals(patch, { onlyIfMissing = false } = {}) {
    this.#open();
    if (typeof patch === 'string') patch = JSON.parse(patch);
    if (!isPlain(patch)) throw new TypeError('patchSignals takes a plain object (a JSON merge patch)');
    const bad = findReservedKey(patch);
    if (bad !== null) {
      throw new NitroError('VALIDATION', `patchSignals: "${bad}" is reserved (__proto__, constructor and prototype cannot be signal names)`, { field: bad, rule: 'reserved-key' });
    }
    this.flush();
    if (this.isV1) return this.#sendMerge(patch, onlyIfMissing);
    const removals = [];
    const strip = (o, prefix) => {
      const out = {};
      for (const k of Object.keys(o)) {
        const v = o[k];
        if (v === null) removals.push(prefix + k);
        else out[k] = isPlain(v) ? strip(v, `${prefix}${k}.`) : v;
      }
      return out;
    };
    const merge = strip(patch, '');
    this.#sendRemovals(removals);
    if (Object.keys(merge).length) this.#sendMerge(merge, onlyIfMissing);
  }

  /** Patches elements, as a `datastar-patch-elements` SSE event would.
   * `html` is a string (or an Html builder value); 1.0.x also takes an
   * Element or DocumentFragment. Modes are 1.0's on both versions. */
  patchElements(html, { selector, mode = 'outer', useViewTransition = false } = {}) {
    this.#open();
    if (!MODES.has(mode)) throw new TypeError(`patchElements: unknown mode ${JSON.stringify(mode)} (one of ${[...MODES].join(', ')})`);
    if (selector !== undefined && (typeof selector !== 'string' || selector === '')) throw new TypeError('patchElements: selector must be a non-empty string');
    if (!selector && mode !== 'outer' && mode !== 'replace' && mode !== 'remove') throw new TypeError(`patchElements: mode ${mode} needs a selector`);
    const isNode = html !== null && typeof html === 'object' && typeof html.nodeType === 'number';
    const elements = isNode ? html : html == null ? '' : String(html);
    if (this.isV1) {
      const argsRaw = { elements };
      if (selector) argsRaw.selector = selector;
      if (mode !== 'outer') argsRaw.mode = mode;
      if (useViewTransition) argsRaw.useViewTransition = 'true';
      this.#dispatch(FETCH_EVENT, { type: 'datastar-patch-elements', el: this.#doc.documentElement, argsRaw });
      return;
    }
    const markup = isNode ? (html.outerHTML ?? [...html.childNodes].map((n) => n.outerHTML ?? n.textContent).join('')) : elements;
    const vt = useViewTransition ? { useViewTransition: 'true' } : {};
    if (mode === 'remove') {
      const sel = selector || this.#topLevel(markup).map((el) => `#${el.id}`).join(', ');
      if (sel) this.#dispatch(SSE_EVENT, { type: 'datastar-remove-fragments', elId: '', argsRaw: { selector: sel, ...vt } });
      return;
    }
    const send = (fragments, mergeMode) => {
      const argsRaw = { fragments, mergeMode, ...vt };
      if (selector) argsRaw.selector = selector;
      this.#dispatch(SSE_EVENT, { type: 'datastar-merge-fragments', elId: '', argsRaw });
    };
    if (mode === 'inner') {
      // beta.11 'inner' sets innerHTML to each fragment in turn, keeping only
      // the last: the first goes in, the others are appended.
      const parts = this.#topLevel(markup).map((el) => el.outerHTML);
      if (parts.length > 1) {
        send(parts[0], 'inner');
        send(parts.slice(1).join(''), 'append');
        return;
      }
    }
    send(markup, BETA_MODES[mode]);
  }

  #topLevel(markup) {
    const doc = this.#doc;
    if (typeof doc.createElement !== 'function') return [];
    const t = doc.createElement('template');
    t.innerHTML = markup;
    return [...t.content.children];
  }

  /** Removes elements matching `selector`. */
  removeElements(selector) {
    this.patchElements('', { selector, mode: 'remove' });
  }

  // ---- bindings --------------------------------------------------------------

  /** `$signal` = `{ [id]: record }` for an entity or a query (or `'Task'`),
   * kept current by merge patches with only the changed records. With
   * `writable: true`, Datastar changes to `$signal.<id>.<field>` (a
   * `data-bind` input, an expression) are written through the entity.
   * Returns the function that ends the binding. */
  bind(signal, source, { writable = false } = {}) {
    this.#open();
    const path = checkPath(signal);
    let entity;
    let query = null;
    if (typeof source === 'string') entity = this.#entity(source);
    else if (isQuery(source)) { query = source; entity = source.entity; } else if (isEntity(source)) entity = source;
    else throw new TypeError('bind(signal, source): source is an entity, a query or an entity name');
    if (query && query.entity.nitro !== this.#nitro) throw new NitroError('CONFLICT', `bind: this ${entity.name} query belongs to another Nitro instance`, { entity: entity.name, rule: 'bind' });
    return this.#addBinding(new Binding(this, path, entity, query, null, !!writable));
  }

  /** `$signal` = one record (`data-bind="draft.title"`), writable by default:
   * inputs write through the entity and validation errors land in
   * `$errors.<Entity>.<id>.<field>`. The signal is removed when the record is deleted. */
  bindRecord(signal, entity, id, { writable = true } = {}) {
    this.#open();
    const path = checkPath(signal);
    if (typeof entity === 'string') entity = this.#entity(entity);
    if (!isEntity(entity)) throw new TypeError('bindRecord(signal, entity, id): entity is an entity or its name');
    if (typeof id !== 'string' || id === '') throw new TypeError('bindRecord: id must be a non-empty string');
    return this.#addBinding(new Binding(this, path, entity, null, id, !!writable));
  }

  /** @internal a live result for a binding's query (js/live.js) */
  liveResult(query) { return this.#nitro._liveRegistry().watch(query); }

  #entity(name) {
    const e = this.#nitro.entities.get(name);
    if (!e) throw new NitroError('NOT_FOUND', `no entity ${name} in this Nitro instance`, { entity: name, rule: 'bind' });
    return e;
  }

  #addBinding(b) {
    this.flush();
    const out = new PatchBuilder(this.isV1);
    b.load(out);
    this.#bindings.add(b);
    this.#subscribe(b.entity.name);
    this.#send(out);
    let bound = true;
    return () => {
      if (!bound) return;
      bound = false;
      this.flush();
      this.#bindings.delete(b);
      b.live?.close();
      this.#unsubscribe(b.entity.name);
    };
  }

  #subscribe(name) {
    let s = this.#subs.get(name);
    if (s) { s.count++; return; }
    const handler = (e) => this.#onEvent(e);
    const offs = AFTER_EVENTS.map((t) => this.#nitro.on(name === '*' ? `*.${t}` : `${name}.${t}`, handler));
    this.#subs.set(name, { count: 1, off: () => { for (const off of offs) off(); } });
  }

  #unsubscribe(name) {
    const s = this.#subs.get(name);
    if (!s || --s.count > 0) return;
    s.off();
    this.#subs.delete(name);
  }

  #onEvent(e) {
    if (this.#subs.has(e.entity)) {
      for (const b of this.#bindings) if (b.entity.name === e.entity) b.touch(e);
    }
    let frame = false;
    for (const f of this.#fragments) {
      if (!f.dirty && (f.entities === null || f.entities.has(e.entity))) { f.dirty = true; frame = true; }
    }
    this.#schedule();
    if (frame) this.#scheduleFrame();
  }

  #schedule() {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => { if (this.#scheduled) this.flush(); });
  }

  /** Sends what the store changed since the last flush, now, as one patch.
   * Runs by itself in a microtask after writes; call it to see the signals
   * change synchronously. */
  flush() {
    this.#scheduled = false;
    if (this.#closed || this.#nitro.core?.closed) return;
    const out = new PatchBuilder(this.isV1);
    for (const b of this.#bindings) b.collect(out);
    if (this.#errorPatch) {
      for (const [path, v] of this.#errorPatch) out.set(path, v);
      this.#errorPatch = null;
    }
    this.#send(out);
  }

  // ---- writes from the page -----------------------------------------------------

  /** @internal The `@nitro(op, ...args)` action. */
  runAction(op, args) {
    this.#open();
    if (typeof op !== 'string' || op.lastIndexOf('.') < 1) {
      throw new NitroError('NOT_FOUND', `@${this.#actionName}: the first argument names an operation, like 'Task.update' (got ${JSON.stringify(op)})`, { rule: 'action' });
    }
    const dot = op.lastIndexOf('.');
    const entity = this.#entity(op.slice(0, dot));
    const method = op.slice(dot + 1);
    args = args.map(plain);
    let id;
    let fields = [];
    let fn;
    switch (method) {
      case 'create':
      case 'upsert': {
        const data = args[0];
        id = (isPlain(data) && typeof data[entity.idName] === 'string') ? data[entity.idName] : NEW_RECORD;
        fields = isPlain(data) ? Object.keys(data) : [];
        fn = () => entity[method](data, args[1]);
        break;
      }
      case 'update':
        id = args[0];
        fields = isPlain(args[1]) ? Object.keys(args[1]) : [];
        fn = () => entity.update(id, args[1], args[2]);
        break;
      case 'delete':
        id = args[0];
        fn = () => entity.delete(id);
        break;
      default: {
        const methods = entity.def.methods || {};
        if (!hasOwn(methods, method) || typeof methods[method] !== 'function') {
          throw new NitroError('NOT_FOUND', `@${this.#actionName}: ${entity.name} has no operation ${method} (create, update, upsert, delete or a method)`, { entity: entity.name, rule: 'action' });
        }
        id = args[0];
        fn = () => {
          const rec = entity.get(id);
          if (!rec) throw new NitroError('NOT_FOUND', `${entity.name}: no record ${id}`, { entity: entity.name, rule: 'exists' });
          return rec[method](...args.slice(1));
        };
      }
    }
    const result = this.#write(entity, typeof id === 'string' ? id : String(id), fields, fn);
    // The action's effect is visible to the rest of the expression.
    this.flush();
    return result !== null && typeof result === 'object' && typeof result.toJSON === 'function' ? result.toJSON() : result;
  }

  /** Runs a write; user errors become `$errors.<Entity>.<id>.<field>`
   * instead of exceptions, and a successful write clears its fields' errors. */
  #write(entity, id, fields, fn) {
    let result;
    try {
      result = fn();
    } catch (err) {
      // by name, not instanceof: the store may come from another copy of the package
      if (!err || err.name !== 'NitroError' || !USER_ERRORS.has(err.code)) throw err;
      const field = err.field && err.field !== entity.idName ? err.field : RECORD_ERROR;
      this.#setError([...this.#errorsPath, entity.name, id, field], shortMessage(err));
      return undefined;
    }
    this.#clearErrors(entity.name, id, [...fields, RECORD_ERROR]);
    return result;
  }

  #setError(path, message) {
    this.#errors.add(path.join('\0'));
    (this.#errorPatch ??= []).push([path, message]);
    this.#schedule();
  }

  #clearErrors(entityName, id, fields) {
    for (const f of fields) {
      const path = [...this.#errorsPath, entityName, id, f];
      if (!this.#errors.delete(path.join('\0'))) continue;
      // '' rather than null: 1.0 does not refresh a data-text on a delete.
      (this.#errorPatch ??= []).push([path, '']);
      this.#schedule();
    }
  }

  /** 1.0.x: `datastar-signal-patch` carries the changed values. */
  #writeBackPatch(detail) {
    if (!isPlain(detail)) return;
    for (const b of this.#bindings) {
      if (!b.writable) continue;
      const sub = getIn(detail, b.path);
      if (!isPlain(sub)) continue;
      if (b.recordId !== null) this.#writeRecord(b, b.recordId, sub);
      else for (const id of Object.keys(sub)) if (isPlain(sub[id])) this.#writeRecord(b, id, sub[id]);
    }
  }

  /** beta.11: `datastar-signals` names changed paths; values come from its
   * store. Changes made by expressions may name only the leaf key. */
  #writeBackPaths(detail) {
    const store = this.#store;
    if (!store || !detail) return;
    const paths = [...(detail.updated || []), ...(detail.added || [])];
    for (const b of this.#bindings) {
      if (!b.writable) continue;
      const prefix = b.path.join('.') + '.';
      const changed = new Map();   // id -> { field: value }
      let scan = false;
      for (const p of paths) {
        if (!p.startsWith(prefix)) {
          if (!p.includes('.') && b.entity.fieldIndex.has(p)) scan = true;
          continue;
        }
        const rest = p.slice(prefix.length).split('.');
        const id = b.recordId ?? rest.shift();
        const field = rest[0];
        if (!field || !b.entity.fieldIndex.has(field)) continue;
        const fpath = [...b.pathOf(id), field].join('.');
        if (!changed.has(id)) changed.set(id, {});
        changed.get(id)[field] = this.readSignal(fpath);
      }
      if (scan) {
        // Only a leaf name: compare every bound record with the store.
        const value = this.readSignal(b.path.join('.'));
        const ids = b.recordId !== null ? [b.recordId] : [...b.members];
        for (const id of ids) {
          const sig = b.recordId !== null ? value : value?.[id];
          if (isPlain(sig)) changed.set(id, { ...sig, ...changed.get(id) });
        }
      }
      for (const [id, values] of changed) this.#writeRecord(b, id, values, true);
    }
  }

  /** Writes the fields of `values` that differ from the stored record. */
  #writeRecord(b, id, values, whole = false) {
    if (!b.members.has(id)) return;
    const e = b.entity;
    const rec = e.get(id);
    if (!rec) return;
    const patch = {};
    const unchanged = [];
    for (const k of Object.keys(values)) {
      const fi = e.fieldIndex.get(k);
      if (fi === undefined || k === e.idName) continue;
      const f = e.fields[fi];
      let v = values[k];
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && !whole) {
        // 1.0 reports only the changed leaves of an object or array
        if (f.hint === HINT.JSON) v = applyMergePatch(rec[k], v);
        else if (f.hint === HINT.VALUE || f.hint === HINT.STRLIST) v = this.readSignal([...b.pathOf(id), k].join('.'));
        if (v === undefined) continue;
      }
      v = coerce(f, plain(v));
      if (same(v, rec[k]) || (v === '' && rec[k] === null)) unchanged.push(k);
      else patch[k] = v;
    }
    // A value typed back to what is stored is valid again.
    if (unchanged.length) this.#clearErrors(e.name, id, unchanged);
    if (Object.keys(patch).length) this.#write(e, id, Object.keys(patch), () => e.update(id, patch));
  }

  // ---- fragments -------------------------------------------------------------------

  /** Renders `template` with `data` (an object, which may hold queries, or a
   * function returning one) and morphs it into the page by the id of its root
   * element, again after every change to the entities it shows; re-renders are
   * batched to one patch per animation frame. Options: `entities` (what to
   * watch; default: the entities of the queries in `data`, else all),
   * `selector` and `mode` (as patchElements), `immediate` (default true). */
  fragment(template, data, { entities, selector, mode = 'outer', immediate = true } = {}) {
    this.#open();
    if (!template || (typeof template !== 'function' && typeof template.render !== 'function')) {
      throw new TypeError('fragment(template, data): template is a compiled template or a function returning HTML');
    }
    const render = typeof template === 'function'
      ? () => String(template(typeof data === 'function' ? data() : data))
      : () => template.render(typeof data === 'function' ? data() : data);
    let watch = null;
    if (entities !== undefined && entities !== null) {
      watch = new Set((Array.isArray(entities) ? entities : [entities]).map((x) => (typeof x === 'string' ? this.#entity(x).name : x.name)));
    } else if (isPlain(data)) {
      const found = new Set();
      for (const v of Object.values(data)) if (isQuery(v)) found.add(v.entity.name);
      if (found.size) watch = found;
    }
    const view = this.#mountFragment(template, data, selector, mode);
    if (view) {
      return {
        /** Applies pending store changes now. */
        refresh: () => view.flush(),
        /** Stops following changes (the element stays as it is). */
        stop: () => view.stop(),
      };
    }
    const f = { render, selector, mode, entities: watch, dirty: false };
    this.#fragments.add(f);
    for (const name of watch ?? ['*']) this.#subscribe(name);
    if (immediate) this.#patchFragments([f]);
    let live = true;
    return {
      /** Renders and patches now. */
      refresh: () => { if (live) { f.dirty = false; this.#patchFragments([f]); } },
      /** Stops following changes (the element stays as it is). */
      stop: () => {
        if (!live) return;
        live = false;
        this.#fragments.delete(f);
        for (const name of watch ?? ['*']) this.#unsubscribe(name);
      },
    };
  }

  /** A fragment of a compiled template over plain data (queries inside) is a
   * live view: C patches the elements in place after every write instead of
   * re-rendering HTML for Datastar's morph. Returns null when the fragment
   * cannot be mounted (a function template or data, no target element yet,
   * a template a live view cannot patch): it is then morphed as before. */
  #mountFragment(template, data, selector, mode) {
    if (typeof template === 'function' || typeof template.mount !== 'function' || typeof data === 'function') return null;
    const doc = globalThis.document;
    if (!doc || (mode !== 'outer' && mode !== 'inner')) return null;
    let el = null;
    if (selector) el = doc.querySelector(selector);
    else {
      const m = /^\s*<[a-zA-Z][^>]*?\sid="([^"]+)"/.exec(template.render(data));
      if (m) el = doc.getElementById(m[1].replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
    }
    if (!el) return null;
    try {
      return template.mount(el, data, { replace: mode === 'outer' });
    } catch (err) {
      if (err instanceof NitroError && err.rule === 'mount') return null;
      throw err;
    }
  }

  #scheduleFrame() {
    if (this.#frame) return;
    this.#frame = true;
    const raf = typeof globalThis.requestAnimationFrame === 'function'
      ? globalThis.requestAnimationFrame.bind(globalThis)
      : (fn) => setTimeout(fn, 0);
    raf(() => {
      this.#frame = false;
      if (this.#closed) return;
      const due = [...this.#fragments].filter((f) => f.dirty);
      for (const f of due) f.dirty = false;
      if (due.length) this.#patchFragments(due);
    });
  }

  #patchFragments(list) {
    this.flush();
    // Fragments patched by id share one patch; the others need their own options.
    const byId = [];
    for (const f of list) {
      if (!f.selector && f.mode === 'outer') byId.push(f.render());
      else this.patchElements(f.render(), { selector: f.selector, mode: f.mode });
    }
    if (byId.length) this.patchElements(byId.join('\n'));
  }

  // ---- lifetime --------------------------------------------------------------------

  /** Ends every binding and fragment and stops listening; the `@nitro`
   * action then goes to another connected store, if any. */
  close() {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    for (const s of this.#subs.values()) s.off();
    this.#subs.clear();
    for (const b of this.#bindings) b.live?.close();
    this.#bindings.clear();
    this.#fragments.clear();
    this.#doc.removeEventListener(SIGNAL_PATCH_EVENT, this.#onSignalPatch);
    this.#doc.removeEventListener(SIGNALS_EVENT, this.#onSignals);
    const targets = this.#module && actionTargets.get(this.#module)?.get(this.#actionName);
    if (targets) targets.splice(targets.indexOf(this), 1);
  }

  #open() {
    if (this.#closed) throw new NitroError('CLOSED', 'this Datastar connection is closed');
  }
}

/**
 * Connects `nitro` to the Datastar on the page (1.0.x or 1.0.0-beta.11).
 * Options: `datastar` (the Datastar module, e.g. `import * as datastar from
 * '<same URL as the page>'`; else it is imported from the page's module
 * script), `document`, `errors` (signal for error messages, default
 * 'errors'), `action` (action name, default 'nitro'). Throws NitroError
 * NOT_FOUND when no Datastar is listening.
 */
export function connectDatastar(nitro, options = {}) {
  if (!nitro || !(nitro.entities instanceof Map) || typeof nitro.on !== 'function') {
    throw new TypeError('connectDatastar(nitro): pass the instance createNitro() returned');
  }
  const doc = options.document ?? globalThis.document;
  if (!doc || typeof doc.dispatchEvent !== 'function') {
    throw notFound('there is no document here: Datastar runs in a browser page (or pass options.document)');
  }
  const mod = options.datastar ?? null;
  let version;
  if (mod) {
    version = versionOfModule(mod);
    if (!version) throw notFound('options.datastar is not a Datastar module: expected 1.0.x (exports action, mergePatch) or 1.0.0-beta.11 (exports load, apply)');
  } else {
    version = probeVersion(doc);
    if (!version) {
      throw notFound('no Datastar on this page: load it first, e.g. <script type="module" src="https://cdn.jsdelivr.net/gh/starfederation/datastar@1.0.2/bundles/datastar.js"></script>, and connect after it ran (or pass { datastar: module })');
    }
  }
  const bridge = new DatastarBridge(nitro, version, doc, options);
  if (mod) {
    bridge.attach(mod);
  } else {
    const url = options.import === false ? null : moduleScriptUrl(doc);
    if (url) {
      bridge.ready = import(/* webpackIgnore: true */ /* @vite-ignore */ url).then((m) => {
        if (versionOfModule(m) === version) bridge.attach(m);
        return bridge;
      }, () => bridge);
    }
  }
  return bridge;
}
