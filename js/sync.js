// sync.js - the client behind nitro.sync(): pushes the outbox the C store
// records with every write (src/changelog.h), pulls server changes and
// applies them under the still-pending local ones, follows the server's live
// stream, persists store + outbox as one snapshot, and retries with backoff.
// The protocol is docs/sync.md.
//
// Runs in browsers and Node 20: fetch for every request (the live stream is
// read from a fetch body, so it can carry the Authorization header);
// persistence is IndexedDB in browsers, a file in Node.
import { NitroError, errorMessage } from './errors.js';
import { T } from './nval.js';
import { Reader, iso } from './record.js';
import { utf8 } from './core.js';
import { OUTBOX_OP, OUTBOX_OP_NAMES, OUTBOX_FLAG, WRITE, TAG } from './wire.js';

const OP_NAMES = OUTBOX_OP_NAMES;
const CONFLICTED = OUTBOX_FLAG.CONFLICT;   // outbox entry flag (src/wire.h)
const F_EVENTS = WRITE.EVENTS;             // event capture flag of writes (src/wire.h)
const KEEP = Symbol('keep');    // overlay result: leave the local record alone
const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

export class Sync {
  constructor(nitro, options = {}) {
    if (!options || typeof options !== 'object' || typeof options.url !== 'string' || options.url === '') {
      throw new NitroError('SYNC', 'sync({ url }) needs the server URL', { rule: 'url' });
    }
    this.nitro = nitro;
    this.core = nitro.core;
    this.base = resolveBase(options.url);
    this.entities = resolveEntities(nitro, options.entities);
    this.byName = new Map(this.entities.map((e) => [e.name, e]));
    this.token = options.token;
    this.headers = { ...(options.headers || {}) };
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new NitroError('SYNC', 'no fetch available: pass sync({ fetch })', { rule: 'fetch' });
    this.fetch = options.fetch ? f : f.bind(globalThis);
    this.live = !!options.live;
    this.batchSize = positive(options.batchSize, 500);
    this.pullLimit = positive(options.pullLimit, 5000);
    this.timeout = positive(options.timeout, 15_000);
    this.retryBase = positive(options.retry?.base, 500);
    this.retryMax = positive(options.retry?.max, 30_000);
    this.interval = options.interval === undefined ? (this.live ? 0 : 30_000) : Math.max(0, Number(options.interval) || 0);
    this.streamIdle = positive(options.streamIdle, 45_000);
    this.persistDelay = options.persistDelay === undefined ? 50 : Math.max(0, Number(options.persistDelay) || 0);
    this.storage = storageAdapter(options.storage);

    this.closed = false;
    this.running = false;
    this._online = false;
    this._error = null;
    this._lastPulledAt = null;
    this.reader = new Reader();
    this.queue = Promise.resolve();      // push, pull and resolve run one at a time
    this.conflictInfo = new Map();       // record key -> { server, version } from the last conflict answer
    this.attempt = 0;
    this.timer = null;
    this.cycling = false;
    this.needPush = false;
    this.needPull = false;
    this.pollTimer = null;
    this.streamCtrl = null;
    this.lastEventId = null;
    this.wake = null;
    this.dirty = false;
    this.saving = null;
    this.saveTimer = null;
    this.persistBroken = false;
    this.savedNextSeq = 0;               // seqs below this are in storage
    // Log storage (file, IndexedDB): every committed batch is appended as it
    // happens (src/journal.h); a snapshot is written in the background.
    this.loaded = false;                 // batches are appended once the stored state is in
    this.needCompact = false;            // the log alone no longer describes the store
    this.logBytes = 0;                   // appended since the last snapshot
    this.snapBytes = 0;
    this.compacting = null;
    this.appendQueued = false;
    if (this.storage && this.storage.log) this.core.call0('nw_journal_enable', 1);

    // One byte per table: the entities this client exchanges.
    const maxTable = Math.max(-1, ...nitro.byTable.map((e, i) => (e ? i : -1)));
    this.syncedTables = new Uint8Array(maxTable + 1);
    for (const e of this.entities) this.syncedTables[e.table] = 1;
    this.allTables = new Uint8Array(maxTable + 1).fill(1);

    this.hook = () => this.#wrote();
    nitro._syncHook = this.hook;
    this.ready = this.#load();
  }

  // ---- public -----------------------------------------------------------------------

  /** { pending, lastPulledAt, online, error } */
  get status() {
    const pending = this.core.closed ? 0 : this.core.x.nw_sync_pending(this.core.I);
    return { pending, lastPulledAt: this._lastPulledAt, online: this._online, error: this._error };
  }

  /** The client id the server dedupes this store's mutations by. */
  get clientId() { return this.#state().client; }

  /** Sends every pending mutation; resolves with { applied, rejected, conflicts }. */
  async push() {
    this.#open();
    await this.ready;
    return this.#serial(() => this.#guard(() => this.#pushAll()));
  }

  /** Fetches and applies server changes since the checkpoint; resolves with
   * the number of changes applied. */
  async pull() {
    this.#open();
    await this.ready;
    return this.#serial(() => this.#guard(() => this.#pullAll()));
  }

  /** Syncs continuously: now, after every write, on live notifications (or
   * every `interval` ms), retrying failures with backoff. */
  start() {
    this.#open();
    if (this.running) return this;
    this.running = true;
    this.#schedule(true, true, 0);
    if (this.live) this.#stream();
    else if (this.interval > 0) {
      this.pollTimer = setInterval(() => this.#schedule(false, true, 0), this.interval);
      unref(this.pollTimer);
    }
    return this;
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = null;
    clearInterval(this.pollTimer);
    this.pollTimer = null;
    this.streamCtrl?.abort();
    this.wake?.();
    return this;
  }

  /** Stops, waits for the running exchange and saves to storage. */
  async close() {
    this.stop();
    this.closed = true;
    if (this.nitro._syncHook === this.hook) this.nitro._syncHook = null;
    await this.queue;
    if (!this.core.closed) await this.#persistNow().catch(() => {});
    if (this.storage && this.storage.log) {
      if (!this.core.closed) this.core.call0('nw_journal_enable', 0);
      await this.storage.close?.().catch(() => {});
    }
  }

  /** Resolves when everything written so far is in storage: with a file,
   * appended and fsync'ed; in IndexedDB, committed; with your own
   * { load, save }, saved as a whole. Rejects (SYNC, rule storage) when it
   * could not be. */
  async flush() {
    await this.ready;
    if (!this.storage) return;
    if (this.persistBroken) throw this._error;
    if (!this.storage.log) {
      this.dirty = true;
      await this.#persistNow();
      return;
    }
    this.#appendJournal();
    if (this.needCompact) { await this.#compact(); return; }
    const nextSeq = this.#state().nextSeq;
    try {
      await this.storage.sync();
    } catch (err) {
      this.needCompact = true;
      throw new NitroError('SYNC', `cannot save to storage: ${err && err.message}`, { rule: 'storage', cause: err });
    }
    if (this.needCompact) await this.#compact();   // an append failed meanwhile
    this.savedNextSeq = Math.max(this.savedNextSeq, nextSeq);
  }

  /** @internal nitro.restore() replaced the store: the log no longer describes it. */
  _restored() {
    if (!this.storage || !this.storage.log || !this.loaded) return;
    this.needCompact = true;
    this.#schedulePersist();
  }

  /** Local mutations the server refused for a version conflict (entities
   * with `conflict: 'reject'`): kept, not sent again until resolved. */
  conflicts() {
    const out = [];
    for (const m of this.#outbox(Infinity, true, this.allTables)) {
      if (!m.conflicted) continue;
      const info = this.conflictInfo.get(key(m.entity, m.id));
      out.push({ entity: m.entity.name, id: m.id, seq: m.seq, op: m.op, fields: m.fields, local: m.entity.get(m.id), server: info ? info.server : undefined, version: info ? info.version : undefined });
    }
    return out;
  }

  /** Settles a conflict: 'server' drops the local change, 'local' sends it
   * again over the server's version, a data object replaces both with a new
   * local write. Resolves with false when the record has no conflict. */
  async resolve(entity, id, choice = 'server') {
    this.#open();
    await this.ready;
    const ent = typeof entity === 'string' ? this.nitro.entities.get(entity) : entity;
    if (!ent || !this.byName.has(ent.name)) throw new NitroError('SYNC', `resolve(): ${String(entity && entity.name || entity)} is not synced`, { rule: 'resolve' });
    if (choice !== 'server' && choice !== 'local' && (choice === null || typeof choice !== 'object')) {
      throw new NitroError('SYNC', "resolve(): choose 'server', 'local' or a record", { rule: 'resolve' });
    }
    return this.#serial(() => {
      const list = this.#outbox(Infinity, true, this.allTables).filter((m) => m.conflicted && m.entity === ent && m.id === id);
      if (!list.length) return false;
      const k = key(ent, id);
      const info = this.conflictInfo.get(k);
      const version = info ? info.version : 0;
      if (choice === 'local') {
        for (const m of list) this.core.call0('nw_sync_requeue', m.seq, version);
      } else {
        this.#ack(list.map((m) => m.seq));
        if (info) this.#applyChanges([{ entity: ent.name, id, version, record: info.server, deleted: !info.server }]);
        if (choice !== 'server') {
          this.#setVersion(ent, id, version);
          ent.upsert({ ...choice, [ent.idName]: id });
        }
      }
      this.conflictInfo.delete(k);
      this.#wrote();
      return true;
    });
  }

  // ---- push -------------------------------------------------------------------------

  async #pushAll() {
    const totals = { applied: 0, rejected: 0, conflicts: 0 };
    let sent = false;
    for (;;) {
      const batch = this.#outbox(this.batchSize, false, this.syncedTables);
      if (batch.length === 0) break;
      // From now on later writes never merge into these (src/changelog.h).
      this.core.x.nw_sync_sent(this.core.I, batch[batch.length - 1].seq);
      // A pushed seq must be on disk first: a restarted client would
      // otherwise number a new write with a seq the server already answered.
      if (this.storage && batch[batch.length - 1].seq >= this.savedNextSeq) {
        if (this.storage.log) await this.flush();
        else {
          this.dirty = true;
          await this.#persistNow();
        }
      }
      const { client, firstUnsent } = this.#state();
      const body = { client, done: firstUnsent - 1, mutations: batch.map(wire) };
      let res;
      try {
        res = await this.#request('POST', '/push', body);
      } catch (err) {
        if (err.status === 413) {
          if (this.batchSize > 1) { this.batchSize = Math.max(1, this.batchSize >> 1); continue; }
          this.#refuse(batch[0], new NitroError('LIMIT', `${batch[0].entity.name}: mutation too large for the server`, { entity: batch[0].entity.name, rule: 'size' }));
          totals.rejected++;
          continue;
        }
        throw err;
      }
      sent = true;
      if (this.#takeResults(batch, res, totals) === 0) {
        throw new NitroError('SYNC', 'push: the server answered without results for the batch', { rule: 'protocol' });
      }
    }
    if (sent) this.nitro.emit('sync.pushed', { ...totals, pending: this.status.pending });
    return totals;
  }

  /** Processes a push response; returns how many mutations it answered. */
  #takeResults(batch, res, totals) {
    const results = res && Array.isArray(res.results) ? res.results : [];
    const bySeq = new Map(batch.map((m) => [m.seq, m]));
    const acks = [], resets = [], rejected = [], conflicts = [];
    let answered = 0;
    for (const r of results) {
      const m = r && bySeq.get(r.seq);
      if (!m) continue;
      bySeq.delete(r.seq);
      answered++;
      switch (r.status) {
        case 'applied':
          acks.push(m.seq);
          if (r.version) this.#setVersion(m.entity, m.id, r.version);
          totals.applied++;
          break;
        case 'stale':       // answered before, in a session whose state was not saved
          acks.push(m.seq);
          resets.push([m, r]);
          break;
        case 'rejected':
          acks.push(m.seq);
          resets.push([m, r]);
          rejected.push([m, r]);
          totals.rejected++;
          break;
        case 'conflict':
          this.core.call0('nw_sync_flag', m.seq, CONFLICTED, 1);
          conflicts.push([m, r]);
          totals.conflicts++;
          break;
        default:
          answered--;
      }
    }
    this.#ack(acks);
    if (resets.length) {
      // the server's state of those records, under what is still pending
      this.#applyChanges(resets.map(([m, r]) => ({ entity: m.entity.name, id: m.id, version: r.version, record: r.current ?? null, deleted: !r.current })));
    }
    if (acks.length || conflicts.length) this.#schedulePersist();
    for (const [m, r] of conflicts) {
      this.conflictInfo.set(key(m.entity, m.id), { server: r.current ?? null, version: r.version ?? 0 });
      this.nitro.emit('sync.conflict', {
        entity: m.entity.name, id: m.id, seq: m.seq, op: m.op, fields: m.fields,
        local: m.entity.get(m.id), server: r.current ?? null, version: r.version ?? 0,
      });
    }
    for (const [m, r] of rejected) this.#emitRejected(m, remoteError(m, r.error));
    return answered;
  }

  /** Drops a mutation the server can never take, and says so. */
  #refuse(m, error) {
    this.#ack([m.seq]);
    this.#emitRejected(m, error);
  }

  #emitRejected(m, error) {
    this.nitro.emit('sync.rejected', { entity: m.entity.name, id: m.id, seq: m.seq, op: m.op, fields: m.fields, error });
  }

  #ack(seqs) {
    if (!seqs.length) return;
    const core = this.core;
    const bytes = new Uint8Array(seqs.length * 8);
    const dv = new DataView(bytes.buffer);
    seqs.forEach((s, i) => dv.setFloat64(i * 8, s, true));
    core.call0('nw_sync_ack', core.sendBytes(bytes));
  }

  #setVersion(entity, id, version) {
    if (entity.def.conflict !== 'reject') return;
    const core = this.core;
    core.call0('nw_sync_set_version', entity.table, core.sendStr(id), Number(version) || 0);
  }

  // ---- pull -------------------------------------------------------------------------

  async #pullAll() {
    let count = 0;
    let checkpoint = this.#state().cursor;
    const page = (since) => {
      const q = new URLSearchParams({ since, limit: String(this.pullLimit) });
      for (const e of this.entities) q.append('entities', e.name);
      const p = this.#exchange('GET', `/pull?${q}`);
      p.catch(() => {});     // awaited below, or abandoned when an earlier page failed
      return p;
    };
    let next = page(checkpoint);
    for (;;) {
      const { what, res, bytes } = await next;
      // The server states checkpoint and more in headers too: the next page
      // is then on its way while this one is applied.
      const hinted = res.headers.get('x-nitro-checkpoint');
      const early = hinted !== null && res.headers.get('x-nitro-more') === '1' && hinted !== checkpoint;
      if (early) next = page(hinted);
      let got;
      if (this.core.x.nw_sync_pending(this.core.I) === 0) {
        got = this.#applyPullJson(bytes, what);   // nothing to re-apply on top: straight into C
      } else {
        let msg = null;
        try { msg = JSON.parse(utf8.decode(bytes)); } catch { /* reported below */ }
        if (!msg || !Array.isArray(msg.changes) || (typeof msg.checkpoint !== 'string' && typeof msg.checkpoint !== 'number')) {
          throw new NitroError('SYNC', `${what}: malformed response from the server`, { rule: 'protocol' });
        }
        got = { count: this.#applyChanges(msg.changes), checkpoint: String(msg.checkpoint), more: !!msg.more && msg.changes.length > 0 };
      }
      count += got.count;
      const advanced = got.checkpoint !== checkpoint;
      checkpoint = got.checkpoint;
      const core = this.core;
      core.call0('nw_sync_set_cursor', core.sendStr(checkpoint));
      if (!got.more || !advanced) break;
      if (!early || hinted !== checkpoint) next = page(checkpoint);
    }
    this._lastPulledAt = Date.now();
    this.#schedulePersist();
    this.nitro.emit('sync.pulled', { count, checkpoint });
    return count;
  }

  /** A pull page applied from its JSON text inside WebAssembly
   * (src/sync_json.h); returns { count, checkpoint, more }. */
  #applyPullJson(bytes, what) {
    const core = this.core;
    const mask = this.syncedTables;
    const len = 4 + mask.length + bytes.length;
    const ptr = core.reserveInput(len);
    core.dv.setUint32(ptr, mask.length, true);
    core.u8.set(mask, ptr + 4);
    core.u8.set(bytes, ptr + 4 + mask.length);
    let flags = 0;
    for (const e of this.entities) if (this.nitro._eventFlags(e) & F_EVENTS) { flags = F_EVENTS; break; }
    try {
      core.call0('nw_sync_apply_json', len, flags);
    } catch (err) {
      if (err instanceof NitroError && err.code === 'QUERY') {
        throw new NitroError('SYNC', `${what}: ${err.message}`, { rule: 'protocol', cause: err });
      }
      throw err;
    }
    const r = this.reader.reset(core.u8, core.dv, core.outView().byteOffset);
    r.u32();
    const count = r.u32();
    const more = r.u32() === 1;
    const checkpoint = r.value0Str();
    const skipped = r.u32();
    const skips = [];
    for (let i = 0; i < skipped; i++) {
      r.u32();
      const code = core.codes[r.u32()] ?? 'SYNC';
      const entity = r.value0Str(), field = r.value0Str(), rule = r.value0Str(), message = r.value0Str();
      const d = { entity, field, rule };
      skips.push(new NitroError(code === 'ARG' ? 'QUERY' : code, errorMessage({ ...d, message }), d));
    }
    const events = this.nitro._readEvents(r);
    if (events) {
      for (const e of events) e.source = 'sync';
      this.nitro._deliver(events);
    }
    this.nitro._committed();
    for (const error of skips) this.nitro.emit('sync.error', { error, entity: error.entity });
    return { count, checkpoint, more };
  }

  /** Applies server changes ({ entity, id, version, record | deleted }) with
   * the pending local mutations of each record re-applied on top; returns
   * how many records were written. */
  #applyChanges(changes) {
    const pending = this.core.x.nw_sync_pending(this.core.I) > 0 ? this.#pendingIndex() : null;
    const states = [];
    for (const c of changes) {
      const entity = c && this.byName.get(c.entity);
      if (!entity || typeof c.id !== 'string' || c.id === '') continue;
      let record = c.deleted ? null : (c.record && typeof c.record === 'object' ? c.record : null);
      if (pending) {
        const mine = pending.get(key(entity, c.id));
        if (mine) {
          record = overlay(record, mine);
          if (record === KEEP) continue;
        }
      }
      states.push({ entity, id: c.id, version: Number(c.version) || 0, record });
    }
    this.#applyStates(states);
    return states.length;
  }

  #applyStates(states) {
    let flags = 0;
    for (const e of this.entities) if (this.nitro._eventFlags(e) & F_EVENTS) { flags = F_EVENTS; break; }
    applyServerState(this.nitro, states, flags, (err, bad) => {
      this.nitro.emit('sync.error', { error: err, entity: bad.entity.name, id: bad.id });
    });
  }

  /** Pending mutations by record, in seq order (conflicted ones included:
   * their local change stays visible until resolved). */
  #pendingIndex() {
    const idx = new Map();
    for (const m of this.#outbox(Infinity, true, this.syncedTables)) {
      const k = key(m.entity, m.id);
      const list = idx.get(k);
      if (list) list.push(m); else idx.set(k, [m]);
    }
    return idx;
  }

  // ---- the outbox and sync state in C -------------------------------------------------------

  /** Decoded outbox entries (src/api_sync.c layout) of the tables in `mask`. */
  #outbox(max, includeConflicted, mask) {
    const core = this.core;
    core.sendBytes(mask);
    core.call0('nw_sync_outbox', Number.isFinite(max) ? max : 0xFFFFFFFF, mask.length, includeConflicted ? 1 : 0);
    const r = this.reader.reset(core.u8, core.dv, core.outView().byteOffset);
    const n = r.u32();
    const out = new Array(n);
    for (let i = 0; i < n; i++) {
      const start = r.at;
      const size = r.u32();
      const op = r.u8[r.at], flags = r.u8[r.at + 1];
      r.at += 4;
      const table = r.u32();
      const seq = r.dv.getFloat64(r.at, true), base = r.dv.getFloat64(r.at + 8, true);
      r.at += 16;
      const lo = r.u32(), hi = r.u32();
      const id = r.value0Str();
      r.at += 4;                                  // fields length: the mask says what follows
      const entity = this.nitro.byTable[table];
      let fields = null;
      if (op !== OUTBOX_OP.DELETE) {
        fields = {};
        const defs = entity.fields;
        for (let fi = 0; fi < defs.length; fi++) {
          const bit = fi < 32 ? (lo >>> fi) & 1 : (hi >>> (fi - 32)) & 1;
          if (bit) fields[defs[fi].name] = readField(defs[fi], r);
        }
      }
      r.at = start + size;
      out[i] = { seq, base, op: OP_NAMES[op], conflicted: (flags & CONFLICTED) !== 0, entity, id, fields };
    }
    return out;
  }

  #state() {
    const core = this.core;
    core.call0('nw_sync_state');
    const r = this.reader.reset(core.u8, core.dv, core.outView().byteOffset);
    const client = r.value0Str();
    const cursor = r.value0Str();
    const nextSeq = r.dv.getFloat64(r.at, true);
    r.at += 8;
    const pending = r.u32();
    const firstUnsent = r.dv.getFloat64(r.at, true);
    return { client, cursor, nextSeq, pending, firstUnsent };
  }

  // ---- transport ----------------------------------------------------------------------------

  async #headers(extra) {
    const h = { ...this.headers, ...extra };
    const token = typeof this.token === 'function' ? await this.token() : this.token;
    if (token) h.authorization = `Bearer ${token}`;
    return h;
  }

  /** One exchange: resolves with the parsed JSON answer; every failure
   * (network, HTTP status, not JSON) rejects with a SYNC NitroError. */
  async #request(method, path, body) {
    const { what, res, bytes } = await this.#exchange(method, path, body);
    let json = null;
    try { json = bytes.length ? JSON.parse(utf8.decode(bytes)) : null; } catch { /* reported below */ }
    if (json === null) {
      const err = new NitroError('SYNC', `${what}: the server's answer is not JSON`, { rule: 'protocol' });
      err.status = res.status;
      throw err;
    }
    return json;
  }

  /** The raw answer of a successful exchange: { what, res, bytes }. */
  async #exchange(method, path, body) {
    const headers = await this.#headers({ accept: 'application/json' });
    if (body !== undefined) headers['content-type'] = 'application/json';
    const what = `${method} ${path.split('?')[0]}`;
    let res;
    try {
      res = await this.fetch(`${this.base}${path}`, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(this.timeout),
      });
    } catch (err) {
      throw networkError(what, err);
    }
    this._online = true;
    let bytes;
    try {
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      throw networkError(what, err);
    }
    if (!res.ok) {
      const text = utf8.decode(bytes);
      let msg = text.slice(0, 200);
      try { const j = JSON.parse(text); if (j && j.error && j.error.message) msg = j.error.message; } catch { /* not JSON */ }
      const err = new NitroError('SYNC', `${what}: HTTP ${res.status}${msg ? `: ${msg}` : ''}`, { rule: 'http' });
      err.status = res.status;
      err.retryAfter = retryAfterMs(res.headers.get('retry-after'));
      throw err;
    }
    return { what, res, bytes };
  }

  // ---- scheduling ---------------------------------------------------------------------------

  #serial(fn) {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => {});
    return p;
  }

  /** Runs one exchange, keeping status and `sync.error` up to date; every
   * failure leaves as a NitroError with code SYNC. */
  async #guard(fn) {
    try {
      const r = await fn();
      this._error = null;
      return r;
    } catch (err) {
      const e = err instanceof NitroError && err.code === 'SYNC' ? err
        : new NitroError('SYNC', `sync failed: ${err && err.message ? err.message : String(err)}`, { rule: 'internal', cause: err });
      if (e.network) this._online = false;
      this._error = e;
      if (!this.core.closed) this.nitro.emit('sync.error', { error: e });
      throw e;
    }
  }

  #open() {
    if (this.closed) throw new NitroError('CLOSED', 'this sync is closed');
    if (this.core.closed) throw new NitroError('CLOSED', 'this nitro instance is closed');
  }

  /** Called after every committed local write. */
  #wrote() {
    if (this.storage && this.storage.log) {
      // the batches of one task go to storage together (flush() takes them at once)
      if (!this.appendQueued) {
        this.appendQueued = true;
        queueMicrotask(() => { this.appendQueued = false; this.#appendJournal(); });
      }
    } else {
      this.#schedulePersist();
    }
    if (this.running) this.#schedule(true, false, 0);
  }

  #schedule(push, pull, delay) {
    if (push) this.needPush = true;
    if (pull) this.needPull = true;
    if (!this.running || this.timer || this.cycling) return;
    this.timer = setTimeout(() => { this.timer = null; this.#cycle(); }, delay);
    if (delay > 0) unref(this.timer);
  }

  async #cycle() {
    this.cycling = true;
    let retry = null;
    try {
      await this.ready;
      while (this.running && !this.core.closed && (this.needPush || this.needPull)) {
        const push = this.needPush, pull = this.needPull;
        this.needPush = this.needPull = false;
        try {
          if (push) await this.#serial(() => this.#guard(() => this.#pushAll()));
          if (pull) await this.#serial(() => this.#guard(() => this.#pullAll()));
          this.attempt = 0;
        } catch (err) {
          this.needPush ||= push;
          this.needPull ||= pull;
          retry = err;
          break;
        }
      }
    } finally {
      this.cycling = false;
    }
    if (retry && this.running) this.#schedule(false, false, this.#backoff(retry));
  }

  /** Exponential backoff with jitter (half fixed, half random), at least
   * the server's Retry-After. */
  #backoff(err) {
    const cap = Math.min(this.retryMax, this.retryBase * 2 ** Math.min(this.attempt++, 30));
    const d = cap / 2 + Math.random() * (cap / 2);
    return Math.max(d, err && err.retryAfter ? err.retryAfter : 0);
  }

  // ---- live stream ----------------------------------------------------------------------------

  async #stream() {
    let attempt = 0;
    while (this.running && !this.closed) {
      const ctrl = new AbortController();
      this.streamCtrl = ctrl;
      let idle = null;
      const alive = () => {
        clearTimeout(idle);
        idle = setTimeout(() => ctrl.abort(), this.streamIdle);
        unref(idle);
      };
      let wait = 0;
      try {
        await this.ready;
        const headers = await this.#headers({ accept: 'text/event-stream' });
        if (this.lastEventId !== null) headers['last-event-id'] = this.lastEventId;
        alive();
        const res = await this.fetch(`${this.base}/events`, { headers, signal: ctrl.signal });
        if (!res.ok) {
          await res.body?.cancel().catch(() => {});
          const err = new NitroError('SYNC', `GET /events: HTTP ${res.status}`, { rule: 'http' });
          err.status = res.status;
          err.retryAfter = retryAfterMs(res.headers.get('retry-after'));
          throw err;
        }
        this._online = true;
        attempt = 0;
        this.#schedule(false, true, 0);   // whatever happened while disconnected
        const reader = res.body.getReader();
        const dec = new TextDecoder();
        let buf = '';
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          alive();
          buf += dec.decode(value, { stream: true });
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            this.#onEvent(buf.slice(0, i));
            buf = buf.slice(i + 2);
          }
        }
      } catch (err) {
        if (!this.running) break;
        if (!(err instanceof NitroError)) this._online = false;
        wait = err && err.retryAfter ? err.retryAfter : 0;
      } finally {
        clearTimeout(idle);
      }
      if (!this.running) break;
      const cap = Math.min(this.retryMax, this.retryBase * 2 ** Math.min(attempt++, 30));
      await this.#sleep(Math.max(wait, cap / 2 + Math.random() * (cap / 2)));
    }
  }

  #onEvent(block) {
    let event = 'message', data = '', id = null;
    for (const raw of block.split('\n')) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line === '' || line[0] === ':') continue;
      const c = line.indexOf(':');
      const name = c < 0 ? line : line.slice(0, c);
      let value = c < 0 ? '' : line.slice(c + 1);
      if (value[0] === ' ') value = value.slice(1);
      if (name === 'event') event = value;
      else if (name === 'data') data = data ? `${data}\n${value}` : value;
      else if (name === 'id') id = value;
    }
    if (id !== null) this.lastEventId = id;
    if (event !== 'change') return;
    let msg = null;
    try { msg = JSON.parse(data); } catch { /* pull anyway */ }
    const version = Number(msg && msg.version);
    if (msg && Array.isArray(msg.changes) && typeof msg.from === 'number') {
      this.#serial(() => this.#applyLive(msg)).catch(() => this.#schedule(false, true, 0));
      return;
    }
    if (!(version <= Number(this.#state().cursor || 0))) this.#schedule(false, true, 0);
  }

  /** Changes that came with a live event: applied when this client has
   * everything up to the event's `from`, else fetched by a pull. */
  #applyLive(msg) {
    if (this.core.closed || !this.running) return;
    const cursor = Number(this.#state().cursor || 0);
    if (cursor >= msg.version) return;
    if (cursor < msg.from) { this.#schedule(false, true, 0); return; }
    const count = this.#applyChanges(msg.changes);
    const checkpoint = String(msg.version);
    const core = this.core;
    core.call0('nw_sync_set_cursor', core.sendStr(checkpoint));
    this._lastPulledAt = Date.now();
    this._online = true;
    this.#schedulePersist();
    this.nitro.emit('sync.pulled', { count, checkpoint, live: true });
  }

  #sleep(ms) {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wake = null; resolve(); }, ms);
      unref(t);
      this.wake = () => { clearTimeout(t); this.wake = null; resolve(); };
    });
  }

  // ---- persistence ------------------------------------------------------------------------------

  async #load() {
    if (!this.storage) return;
    let stored;
    try {
      stored = await this.storage.load();
      if (!this.storage.log) stored = { snapshot: stored, log: null };
    } catch (err) {
      this.#storageFailed(`cannot read storage: ${err && err.message}`, err);
      return;
    }
    if (this.core.closed) return;
    const bytes = stored && stored.snapshot;
    const log = stored && stored.log && stored.log.length ? stored.log : null;
    if ((!bytes || !bytes.length) && !log) { await this.#loaded(); return; }
    // Writes made before the stored state arrived are made again on top of it.
    const before = this.core.x.nw_sync_pending(this.core.I) > 0 ? this.#outbox(Infinity, true, this.allTables) : [];
    try {
      if (bytes && bytes.length) this.nitro.restore(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
      if (log) this.#replay(log);
    } catch (err) {
      // Keep the stored bytes (they may hold unsent writes): never overwrite them.
      this.#storageFailed(`cannot restore the stored state: ${err.message}`, err);
      return;
    }
    this.savedNextSeq = this.#state().nextSeq;
    for (const m of before) {
      try {
        if (m.op === 'create') m.entity.upsert(m.fields);
        else if (m.op === 'update') m.entity.update(m.id, m.fields);
        else m.entity.delete(m.id);
      } catch (err) {
        this.nitro.emit('sync.error', { error: err, entity: m.entity.name, id: m.id });
      }
    }
    // The answer to a conflicted mutation lived in the last session's memory:
    // send those again (new seqs, same base) to have the conflict reported anew.
    for (const m of this.#outbox(Infinity, true, this.allTables)) {
      if (m.conflicted) this.core.call0('nw_sync_requeue', m.seq, m.base);
    }
    await this.#loaded();
  }

  /** The stored state is in: from here on batches go to storage. A log
   * storage starts from a snapshot of this state (so the client id is on
   * disk before anything is sent). */
  async #loaded() {
    this.loaded = true;
    if (!this.storage.log) {
      this.#schedulePersist();
      return;
    }
    this.core.call0('nw_journal_take');      // all of it is in the snapshot below
    this.needCompact = true;
    try {
      await this.#compact();
    } catch (err) {
      if (!this.core.closed) this.nitro.emit('sync.error', { error: err });
    }
  }

  /** Applies the batches of a stored log (src/journal.h) on top of the store. */
  #replay(log) {
    const core = this.core;
    try {
      core.call0('nw_journal_replay', core.sendBytes(log));
    } finally {
      this.nitro._committed();
    }
  }

  /** Moves the batches committed since the last call from C to storage. */
  #appendJournal() {
    if (!this.loaded || this.persistBroken || this.core.closed) return;
    const core = this.core;
    core.call0('nw_journal_take');
    const view = core.outView();
    if (view.length < 4) return;
    if (view[0] | view[1] | view[2] | view[3]) this.needCompact = true;   // a batch is missing
    if (view.length > 4) {
      const frames = view.slice(4);
      this.logBytes += frames.length;
      this.storage.append(frames).catch((err) => {
        this.needCompact = true;
        if (!this.core.closed) this.nitro.emit('sync.error', { error: new NitroError('SYNC', `cannot save to storage: ${err && err.message}`, { rule: 'storage', cause: err }) });
      });
    }
    if (this.needCompact || this.logBytes > Math.max(1 << 20, this.snapBytes)) this.#armSave();
  }

  /** Writes a snapshot of the store and starts an empty log. */
  async #compact() {
    while (this.compacting) await this.compacting.catch(() => {});
    if (this.persistBroken || this.core.closed) return;
    this.#appendJournal();
    clearTimeout(this.saveTimer);
    this.saveTimer = null;
    this.dirty = false;
    this.needCompact = false;
    const bytes = this.nitro.snapshot();
    const nextSeq = this.#state().nextSeq;
    this.logBytes = 0;
    this.snapBytes = bytes.length;
    this.compacting = Promise.resolve(this.storage.compact(bytes));
    try {
      await this.compacting;
      this.savedNextSeq = Math.max(this.savedNextSeq, nextSeq);
    } catch (err) {
      this.needCompact = true;
      throw new NitroError('SYNC', `cannot save to storage: ${err && err.message}`, { rule: 'storage', cause: err });
    } finally {
      this.compacting = null;
    }
  }

  #storageFailed(message, cause) {
    this.persistBroken = true;
    const err = new NitroError('SYNC', message, { rule: 'storage', cause });
    this._error = err;
    if (!this.core.closed) this.nitro.emit('sync.error', { error: err });
  }

  #schedulePersist() {
    if (!this.storage || this.persistBroken || this.closed) return;
    if (this.storage.log) {
      if (!this.loaded) return;
      this.#appendJournal();
    }
    this.dirty = true;
    this.#armSave();
  }

  #armSave() {
    if (this.saveTimer || this.saving) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.#persistNow().catch((err) => { if (!this.core.closed) this.nitro.emit('sync.error', { error: err }); });
    }, this.persistDelay);
  }

  async #persistNow() {
    if (!this.storage || this.persistBroken) return;
    if (this.storage.log) {
      if (!this.loaded || this.core.closed) return;
      if (this.dirty || this.needCompact || this.logBytes > 0) await this.#compact();
      else await this.flush();
      return;
    }
    while (this.saving) await this.saving.catch(() => {});
    if (!this.dirty || this.core.closed) return;
    clearTimeout(this.saveTimer);
    this.saveTimer = null;
    this.dirty = false;
    const bytes = this.nitro.snapshot();
    const nextSeq = this.#state().nextSeq;
    this.saving = Promise.resolve(this.storage.save(bytes));
    try {
      await this.saving;
      this.savedNextSeq = Math.max(this.savedNextSeq, nextSeq);
    } catch (err) {
      this.dirty = true;
      throw new NitroError('SYNC', `cannot save to storage: ${err && err.message}`, { rule: 'storage', cause: err });
    } finally {
      this.saving = null;
    }
    if (this.dirty && !this.closed) this.#schedulePersist();
  }
}

// ---- helpers ---------------------------------------------------------------------------------

/**
 * Writes server state into a store: `states` are { entity, id, version,
 * record | null } (null deletes); not logged in the outbox, no reference
 * checks (src/store.h nw_store_put). Events are delivered with source
 * 'sync' when `flags` asks for them. A change the store refuses is passed to
 * onSkip(error, state) and left out; the others apply together.
 */
export function applyServerState(nitro, states, flags = 0, onSkip = null) {
  if (!states.length) return;
  const core = nitro.core;
  for (;;) {
    try {
      core.call0('nw_sync_apply', encodeStates(core, states), flags);
      break;
    } catch (err) {
      // A change this store cannot hold (its schema is older or stricter
      // than the server's) is reported and skipped; the rest apply.
      if (!onSkip || !(err instanceof NitroError) || err.index === undefined || err.index >= states.length) throw err;
      const [bad] = states.splice(err.index, 1);
      onSkip(err, bad);
      if (!states.length) return;
    }
  }
  if (!flags) { nitro._committed(); return; }
  const r = new Reader().reset(core.u8, core.dv, core.outView().byteOffset);
  r.u32();
  r.u32();
  const events = nitro._readEvents(r);
  if (events) {
    for (const e of events) e.source = 'sync';
    nitro._deliver(events);
  }
  nitro._committed();
}

function encodeStates(core, states) {
  const enc = core.enc.reset();
  enc.byte(T.ARR);
  enc.u32(states.length);
  for (const s of states) {
    enc.byte(T.ARR);
    enc.u32(4);
    enc.byte(T.NUM);
    enc.f64(s.entity.table);
    enc.byte(T.STR);
    enc.str(s.id);
    enc.byte(T.NUM);
    enc.f64(s.version);
    if (s.record === null) enc.byte(T.NULL);
    else encodeRecord(s.entity, s.record, s.id, enc);
  }
  return core.send();
}

function positive(v, dflt) {
  const n = Number(v);
  return v === undefined || v === null || !(n > 0) ? dflt : n;
}

function unref(t) { if (t && typeof t.unref === 'function') t.unref(); }

function key(entity, id) { return `${entity.table}\u0000${id}`; }

function resolveBase(url) {
  let u;
  try {
    u = new URL(url, globalThis.location?.href);
  } catch {
    throw new NitroError('SYNC', `sync({ url }): ${url} is not a URL${isNode ? ' (Node needs an absolute http URL)' : ''}`, { rule: 'url' });
  }
  return u.href.replace(/\/+$/, '');
}

function resolveEntities(nitro, list) {
  if (list === undefined || list === null) return [...nitro.entities.values()].filter((e) => e.def.sync !== false);
  if (!Array.isArray(list) || list.length === 0) throw new NitroError('SYNC', 'sync({ entities }) takes a non-empty array of entities', { rule: 'entities' });
  return list.map((e) => {
    const ent = typeof e === 'string' ? nitro.entities.get(e) : e;
    if (!ent || nitro.entities.get(ent.name) !== ent) throw new NitroError('SYNC', `sync({ entities }): ${String(e && e.name || e)} is not an entity of this instance`, { rule: 'entities' });
    if (ent.def.sync === false) throw new NitroError('SYNC', `${ent.name}: declared sync: false`, { entity: ent.name, rule: 'entities' });
    return ent;
  });
}

/** One stored field at r (record.h) as JSON-ready JS (the form toJSON gives). */
function readField(field, r) {
  const tag = r.u8[r.at];
  if (tag === TAG.ENUM) { const v = field.values[r.u8[r.at + 1]]; r.at += 2; return v; }
  if (field.type === 'datetime' && tag === T.NUM) { const v = iso(r.dv.getFloat64(r.at + 1, true)); r.at += 9; return v; }
  return r.value();
}

/** A record as a FIELDS map; fields the schema does not know are ignored
 * (a server ahead of this client), missing ones take their defaults. */
function encodeRecord(entity, rec, id, enc) {
  const fields = entity.fields;
  enc.byte(T.FIELDS);
  const at = enc.len;
  enc.u32(0);
  let n = 0;
  for (let i = 0; i < fields.length; i++) {
    const v = i === 0 ? id : rec[fields[i].name];
    if (v === undefined) continue;
    enc.byte(T.FIELD);
    enc.u32(i);
    enc.value(v);
    n++;
  }
  enc.dv.setUint32(at, n, true);
}

/** The server's state of a record with pending local mutations re-applied. */
function overlay(server, pending) {
  let state = server ? { ...server } : null;
  for (const m of pending) {
    if (m.op === 'delete') state = null;
    else if (m.op === 'create') state = { ...(state || {}), ...m.fields };
    else if (state === null) return KEEP;   // the server decides about an update to a record it deleted
    else Object.assign(state, m.fields);
  }
  return state;
}

function wire(m) {
  const w = { seq: m.seq, entity: m.entity.name, id: m.id, op: m.op };
  if (m.fields) w.fields = m.fields;
  if (m.entity.def.conflict === 'reject') w.base = m.base;
  return w;
}

function remoteError(m, e) {
  const src = e && typeof e === 'object' ? e : {};
  const code = typeof src.code === 'string' ? src.code : 'SYNC';
  const message = typeof src.message === 'string' ? src.message : `${m.entity.name}: refused by the server`;
  return new NitroError(code, message, { entity: src.entity ?? m.entity.name, field: src.field, rule: src.rule, index: src.index });
}

function networkError(what, cause) {
  const timeout = cause && (cause.name === 'TimeoutError' || cause.name === 'AbortError');
  const detail = cause && cause.cause && cause.cause.code ? cause.cause.code : cause && cause.message;
  const err = new NitroError('SYNC', `${what}: ${timeout ? 'timed out' : `network error (${detail})`}`, { rule: 'network', cause });
  err.network = true;
  return err;
}

function retryAfterMs(h) {
  if (!h) return 0;
  const s = Number(h);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const t = Date.parse(h);
  return Number.isFinite(t) ? Math.max(0, t - Date.now()) : 0;
}

// ---- storage ----------------------------------------------------------------------------------
// A log storage ({ log: true }) keeps a snapshot and the frames of every
// batch committed after it (src/journal.h):
//   load()          -> { snapshot, log }: the snapshot bytes (or null) and
//                      the frames after it, in order
//   append(frames)  queues frames at the end of the log
//   sync()          resolves when everything appended so far is durable
//   compact(bytes)  the snapshot of the state after everything appended so
//                   far; decided at the call (later appends are not in it),
//                   written in the background; the old log is dropped
// A { load, save } pair from the app stays a snapshot storage: save(bytes)
// gets the whole state.

function storageAdapter(storage) {
  if (storage === undefined || storage === null || storage === false) return null;
  if (typeof storage === 'object' && typeof storage.load === 'function' && typeof storage.save === 'function') return storage;
  if (typeof storage !== 'string' || storage === '') {
    throw new NitroError('SYNC', 'sync({ storage }) is a file path (Node), a name (browser IndexedDB) or { load, save }', { rule: 'storage' });
  }
  if (!isNode && typeof indexedDB !== 'undefined') return indexedDbStorage(storage);
  if (isNode) return fileStorage(storage);
  throw new NitroError('SYNC', 'no storage available here: pass sync({ storage: { load, save } })', { rule: 'storage' });
}

function concat(parts) {
  if (!parts.length) return null;
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** Runs storage operations one after another; a failure rejects its own
 * promise and does not stop the ones after it. */
function serializer() {
  let chain = Promise.resolve();
  return (op) => {
    const p = chain.then(op);
    chain = p.catch(() => {});
    return p;
  };
}

const LOG_MAGIC = [0x4e, 0x57, 0x4c, 0x31];   // "NWL1"

/**
 * Node: the snapshot in `path` (nitro.snapshot() bytes, replaced atomically:
 * temporary file, fsync, rename) and the batches committed after it in
 * `path.log.<n>`: "NWL1", u32 the CRC of the snapshot the log continues
 * (its last 4 bytes), then frames, appended as they happen and fsync'ed at
 * flush(). Compaction starts log n+1 (continuing the new snapshot), writes
 * the snapshot, then deletes the older logs. Loading replays the log that
 * continues the snapshot on disk and every later one: a crash at any point
 * leaves a snapshot and the logs that follow it.
 */
export function fileStorage(path) {
  let gen = 0, fh = null, fhGen = -1, n = 0;
  const bases = new Map();      // log number -> CRC of the snapshot it continues
  const run = serializer();
  const fsp = () => import('node:fs/promises');
  const logName = (g) => `${path}.log.${g}`;
  const crcOf = (b) => (b && b.length >= 4 ? new DataView(b.buffer, b.byteOffset + b.length - 4).getUint32(0, true) : 0);
  const logs = async (fs) => {
    const { dirname, basename } = await import('node:path');
    const prefix = `${basename(path)}.log.`;
    let names = [];
    try { names = await fs.readdir(dirname(path) || '.'); } catch (err) { if (err.code !== 'ENOENT') throw err; }
    return names.filter((f) => f.startsWith(prefix) && /^\d+$/.test(f.slice(prefix.length)))
      .map((f) => Number(f.slice(prefix.length))).sort((a, b) => a - b);
  };
  // A new or renamed file survives a power loss once its directory is synced
  // too (not possible everywhere: then best effort).
  const syncDir = async (fs) => {
    const { dirname } = await import('node:path');
    let d = null;
    try { d = await fs.open(dirname(path) || '.', 'r'); await d.sync(); } catch { /* not supported here */ } finally { await d?.close().catch(() => {}); }
  };
  const handle = async (g) => {
    if (fh && fhGen === g) return fh;
    const fs = await fsp();
    if (fh) await fh.close();
    fh = null;
    const h = await fs.open(logName(g), 'a');
    if ((await h.stat()).size === 0) {
      const head = new Uint8Array(8);
      head.set(LOG_MAGIC);
      new DataView(head.buffer).setUint32(4, bases.get(g) ?? 0, true);
      await h.write(head);
      await syncDir(fs);
    }
    fh = h;
    fhGen = g;
    return fh;
  };
  return {
    log: true,
    load: () => run(async () => {
      const fs = await fsp();
      let snapshot = null;
      try {
        snapshot = new Uint8Array(await fs.readFile(path));
      } catch (err) {
        if (err.code !== 'ENOENT') throw err;
      }
      const base = crcOf(snapshot);
      const parts = [];
      let on = false;
      for (const x of await logs(fs)) {
        gen = Math.max(gen, x);
        const bytes = new Uint8Array(await fs.readFile(logName(x)));
        if (bytes.length < 8 || !LOG_MAGIC.every((b, i) => bytes[i] === b)) continue;
        if (!on && snapshot && new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true) === base) on = true;
        if (on) parts.push(bytes.subarray(8));
      }
      return { snapshot, log: concat(parts) };
    }),
    append(frames) {
      const g = gen;
      return run(async () => { await (await handle(g)).write(frames); });
    },
    sync() {
      return run(async () => { if (fh) await fh.datasync(); });
    },
    compact(bytes) {
      const g = ++gen;        // appends from now on go to the new log
      bases.set(g, crcOf(bytes));
      return run(async () => {
        const fs = await fsp();
        const tmp = `${path}.${process.pid}.${++n}.tmp`;
        const out = await fs.open(tmp, 'w');
        try {
          await out.writeFile(bytes);
          await out.sync();
        } finally {
          await out.close();
        }
        await fs.rename(tmp, path);
        await syncDir(fs);
        if (fh && fhGen < g) { await fh.close(); fh = null; fhGen = -1; }
        for (const x of await logs(fs)) if (x < g) { await fs.rm(logName(x), { force: true }); bases.delete(x); }
      });
    },
    close() {
      return run(async () => { if (fh) await fh.close(); fh = null; fhGen = -1; });
    },
  };
}

/** Browsers: in IndexedDB database "nitro-wasm", store "sync": the snapshot
 * under `name`, each batch under [name, n]; compaction puts the snapshot and
 * deletes the batches it holds in one transaction. */
export function indexedDbStorage(name) {
  let db = null, n = 0, last = Promise.resolve();
  const open = () => db ??= new Promise((resolve, reject) => {
    const req = indexedDB.open('nitro-wasm', 1);
    req.onupgradeneeded = () => req.result.createObjectStore('sync');
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const run = async (mode, fn) => {
    const d = await open();
    return new Promise((resolve, reject) => {
      const tx = d.transaction('sync', mode);
      const res = fn(tx.objectStore('sync'));
      tx.oncomplete = () => resolve(res && res.result);
      tx.onerror = tx.onabort = () => reject(tx.error);
    });
  };
  const range = (to) => IDBKeyRange.bound([name, 0], [name, to]);
  return {
    log: true,
    async load() {
      let snap, keys, values;
      await run('readonly', (s) => {
        snap = s.get(name);
        keys = s.getAllKeys(range(Infinity));
        values = s.getAll(range(Infinity));
      });
      const k = keys.result;
      n = k.length ? k[k.length - 1][1] + 1 : 0;
      return { snapshot: snap.result ? new Uint8Array(snap.result) : null, log: concat(values.result.map((v) => new Uint8Array(v))) };
    },
    append(frames) {
      const k = n++;
      last = run('readwrite', (s) => s.put(frames, [name, k]));
      return last;
    },
    // transactions commit in order: the last one done means all are
    sync() { return last; },
    compact(bytes) {
      const upto = n - 1;
      last = run('readwrite', (s) => {
        s.put(bytes, name);
        if (upto >= 0) s.delete(range(upto));
      });
      return last;
    },
  };
}
