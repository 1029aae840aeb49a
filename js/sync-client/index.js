// sync-client/index.js - the client behind nitro.sync(): pushes the outbox the C
// store records with every write (src/changelog.h) as the body C writes
// (outbox.js), pulls server changes and applies them in C under the
// still-pending local ones, follows the server's live stream (live.js),
// persists store + outbox as one snapshot plus a log (persist.js), and
// retries with backoff (schedule.js) over fetch (transport.js). The
// protocol is docs/sync.md.
//
// Runs in browsers and Node 20: fetch for every request; persistence is
// IndexedDB in browsers, a file in Node.
import { NitroError } from '../errors.js';
import { Reader } from '../record.js';
import { Transport, positive, remoteError } from './transport.js';
import { Serial, Sleeper, backoff, unref } from './schedule.js';
import { openStream, readEvents, parseEvent } from './live.js';
import { storageAdapter } from './persist.js';
import { readOutbox, readState, ackSeqs, applyPullJson, changesJson, CONFLICTED, F_EVENTS } from './outbox.js';

export { applyServerState } from './outbox.js';
export { fileStorage, indexedDbStorage } from './persist.js';

export class Sync {
  constructor(nitro, options = {}) {
    if (!options || typeof options !== 'object' || typeof options.url !== 'string' || options.url === '') {
      throw new NitroError('SYNC', 'sync({ url }) needs the server URL', { rule: 'url' });
    }
    this.nitro = nitro;
    this.core = nitro.core;
    this.transport = new Transport(options, () => { this._online = true; });
    this.entities = resolveEntities(nitro, options.entities);
    this.byName = new Map(this.entities.map((e) => [e.name, e]));
    this.live = !!options.live;
    this.batchSize = positive(options.batchSize, 500);
    this.pullLimit = positive(options.pullLimit, 5000);
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
    this.serial = new Serial();          // push, pull and resolve run one at a time
    this.conflictInfo = new Map();       // record key -> { server, version } from the last conflict answer
    this.attempt = 0;
    this.timer = null;
    this.cycling = false;
    this.needPush = false;
    this.needPull = false;
    this.pollTimer = null;
    this.streamCtrl = null;
    this.lastEventId = null;
    this.sleeper = new Sleeper();
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
    return this.serial.run(() => this.#guard(() => this.#pushAll()));
  }

  /** Fetches and applies server changes since the checkpoint; resolves with
   * the number of changes applied. */
  async pull() {
    this.#open();
    await this.ready;
    return this.serial.run(() => this.#guard(() => this.#pullAll()));
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
    this.sleeper.cut();
    return this;
  }

  /** Stops, waits for the running exchange and saves to storage. */
  async close() {
    this.stop();
    this.closed = true;
    if (this.nitro._syncHook === this.hook) this.nitro._syncHook = null;
    await this.serial.queue;
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
      throw saveError(err);
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
    for (const m of readOutbox(this.nitro, Infinity, true, this.allTables).list) {
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
    return this.serial.run(() => {
      const list = readOutbox(this.nitro, Infinity, true, this.allTables).list.filter((m) => m.conflicted && m.entity === ent && m.id === id);
      if (!list.length) return false;
      const k = key(ent, id);
      const info = this.conflictInfo.get(k);
      const version = info ? info.version : 0;
      if (choice === 'local') {
        for (const m of list) this.core.call0('nw_sync_requeue', m.seq, version);
      } else {
        ackSeqs(this.core, list.map((m) => m.seq));
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
      const { body, list: batch } = readOutbox(this.nitro, this.batchSize, false, this.syncedTables);
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
      let res;
      try {
        res = await this.transport.request('POST', '/push', body);
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
          if (r.version && m.entity.def.conflict === 'reject') this.#setVersion(m.entity, m.id, r.version);
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
    ackSeqs(this.core, acks);
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
    ackSeqs(this.core, [m.seq]);
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
      const p = this.transport.exchange('GET', `/pull?${q}`);
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
      // straight into C, which re-applies pending local changes on top
      const got = this.#applyPullJson(bytes, what);
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

  /** A pull page applied from its JSON text inside WebAssembly, pending
   * local changes re-applied on top (src/sync_json.h); returns { count,
   * checkpoint, more }. */
  #applyPullJson(bytes, what) {
    let flags = 0;
    for (const e of this.entities) if (this.nitro._eventFlags(e) & F_EVENTS) { flags = F_EVENTS; break; }
    const got = applyPullJson(this.nitro, bytes, this.syncedTables, flags, what, this.reader);
    for (const { error, id } of got.skips) this.nitro.emit('sync.error', { error, entity: error.entity, id });
    return got;
  }

  /** Applies server changes ({ entity, id, version, record | deleted }) the
   * same way, as one page; returns how many records were written. */
  #applyChanges(changes) {
    const bytes = changesJson(changes, (name) => this.byName.has(name));
    return bytes ? this.#applyPullJson(bytes, 'apply').count : 0;
  }

  #state() { return readState(this.core, this.reader); }

  // ---- scheduling ---------------------------------------------------------------------------

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
          if (push) await this.serial.run(() => this.#guard(() => this.#pushAll()));
          if (pull) await this.serial.run(() => this.#guard(() => this.#pullAll()));
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
    if (retry && this.running) this.#schedule(false, false, backoff(this.attempt++, this.retryBase, this.retryMax, retry && retry.retryAfter));
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
        alive();
        const res = await openStream(this.transport, this.lastEventId, ctrl.signal);
        this._online = true;
        attempt = 0;
        this.#schedule(false, true, 0);   // whatever happened while disconnected
        await readEvents(res, alive, (block) => this.#onEvent(block));
      } catch (err) {
        if (!this.running) break;
        if (!(err instanceof NitroError)) this._online = false;
        wait = err && err.retryAfter ? err.retryAfter : 0;
      } finally {
        clearTimeout(idle);
      }
      if (!this.running) break;
      await this.sleeper.sleep(backoff(attempt++, this.retryBase, this.retryMax, wait));
    }
  }

  #onEvent(block) {
    const { event, data, id } = parseEvent(block);
    if (id !== null) this.lastEventId = id;
    if (event !== 'change') return;
    let msg = null;
    try { msg = JSON.parse(data); } catch { /* pull anyway */ }
    const version = Number(msg && msg.version);
    if (msg && Array.isArray(msg.changes) && typeof msg.from === 'number') {
      this.serial.run(() => this.#applyLive(msg)).catch(() => this.#schedule(false, true, 0));
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
    const before = this.core.x.nw_sync_pending(this.core.I) > 0 ? readOutbox(this.nitro, Infinity, true, this.allTables).list : [];
    for (const m of before) m.json;      // read now: the restore replaces the outbox
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
    for (const m of readOutbox(this.nitro, Infinity, true, this.allTables).list) {
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
        if (!this.core.closed) this.nitro.emit('sync.error', { error: saveError(err) });
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
    await this.#store('compacting', 'compact', bytes, nextSeq, () => { this.needCompact = true; });
  }

  /** Hands a snapshot to storage.compact or .save, kept in this[slot] while
   * it runs; once stored, the outbox numbers below `nextSeq` count as saved. */
  async #store(slot, method, bytes, nextSeq, onFail) {
    this[slot] = Promise.resolve(this.storage[method](bytes));
    try {
      await this[slot];
      this.savedNextSeq = Math.max(this.savedNextSeq, nextSeq);
    } catch (err) {
      onFail();
      throw saveError(err);
    } finally {
      this[slot] = null;
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
    await this.#store('saving', 'save', bytes, nextSeq, () => { this.dirty = true; });
    if (this.dirty && !this.closed) this.#schedulePersist();
  }
}


function saveError(err) {
  return new NitroError('SYNC', `cannot save to storage: ${err && err.message}`, { rule: 'storage', cause: err });
}

function key(entity, id) { return `${entity.table}\u0000${id}`; }

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

