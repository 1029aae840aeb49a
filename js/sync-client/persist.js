// persist.js - where a sync client keeps store and outbox: the storage
// adapters (a file in Node, IndexedDB in browsers, or the app's own
// { load, save }) and the serializer that runs their operations in order.
import { NitroError } from '../errors.js';

export const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

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

export function storageAdapter(storage) {
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
export function serializer() {
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
/** The numbers n of the `path.log.<n>` files, ascending. */
async function logNumbers(path, fs) {
  const { dirname, basename } = await import('node:path');
  const prefix = `${basename(path)}.log.`;
  let names = [];
  try { names = await fs.readdir(dirname(path) || '.'); } catch (err) { if (err.code !== 'ENOENT') throw err; }
  return names.filter((f) => f.startsWith(prefix) && /^\d+$/.test(f.slice(prefix.length)))
    .map((f) => Number(f.slice(prefix.length))).sort((a, b) => a - b);
}

/** A new or renamed file survives a power loss once its directory is synced
 * too (not possible everywhere: then best effort). */
async function syncDirOf(path, fs) {
  const { dirname } = await import('node:path');
  let d = null;
  try { d = await fs.open(dirname(path) || '.', 'r'); await d.sync(); } catch { /* not supported here */ } finally { await d?.close().catch(() => {}); }
}

/** The snapshot file and the logs that continue it (those from the one whose
 * header names the snapshot's CRC on); `last` is the highest log number. */
async function readFileStore(path, fs, crcOf) {
  let snapshot = null;
  try {
    snapshot = new Uint8Array(await fs.readFile(path));
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
  const base = crcOf(snapshot);
  const parts = [];
  let on = false, last = 0;
  for (const x of await logNumbers(path, fs)) {
    last = Math.max(last, x);
    const bytes = new Uint8Array(await fs.readFile(`${path}.log.${x}`));
    if (bytes.length < 8 || !LOG_MAGIC.every((b, i) => bytes[i] === b)) continue;
    if (!on && snapshot && new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true) === base) on = true;
    if (on) parts.push(bytes.subarray(8));
  }
  return { snapshot, log: concat(parts), last };
}

export function fileStorage(path) {
  let gen = 0, fh = null, fhGen = -1, n = 0;
  const bases = new Map();      // log number -> CRC of the snapshot it continues
  const run = serializer();
  const fsp = () => import('node:fs/promises');
  const logName = (g) => `${path}.log.${g}`;
  const crcOf = (b) => (b && b.length >= 4 ? new DataView(b.buffer, b.byteOffset + b.length - 4).getUint32(0, true) : 0);
  const logs = (fs) => logNumbers(path, fs);
  const syncDir = (fs) => syncDirOf(path, fs);
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
      const { snapshot, log, last } = await readFileStore(path, fs, crcOf);
      gen = Math.max(gen, last);
      return { snapshot, log };
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
