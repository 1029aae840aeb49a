// sync-storage-log.test.js - file storage as snapshot + log of committed
// batches (src/journal.h): a torn tail is dropped, never half-applied; the
// outbox comes back exactly as it was (coalescing included); restore()
// starts a new snapshot; a log frame that passes its CRC but holds an
// invalid record is reported and the files are left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../sync/server-process.js';
import { makeClient } from '../sync/clients.js';
import { crc32 } from './snapshot-bytes.js';

const URL_ = 'http://127.0.0.1:9/sync';   // never reached: nothing is pushed here
const dir = tempDir('nitro-log-');
const logsOf = (file) => fs.readdirSync(path.dirname(file)).filter((f) => f.startsWith(`${path.basename(file)}.log.`)).map((f) => path.join(path.dirname(file), f)).sort();

async function open(file) {
  const c = await makeClient(URL_, { user: 'log', storage: file });
  const errors = [];
  c.nitro.on('sync.error', (e) => errors.push(e.payload.error));
  await c.sync.ready;
  return { ...c, errors };
}

/** Frames of a log file (after its 8-byte header): [{ at, len }]. */
function frames(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  const out = [];
  for (let at = 8; at + 8 <= bytes.length; at += 8 + dv.getUint32(at, true)) out.push({ at, len: dv.getUint32(at, true) });
  return out;
}

test('a torn last batch is dropped whole; the batches before it come back', async () => {
  const file = path.join(dir, 'torn.bin');
  const a = await open(file);
  a.E.Task.create({ id: 'a', title: 'a' });
  a.E.Task.create({ id: 'b', title: 'b' });
  a.nitro.transaction(() => { a.E.Task.create({ id: 'c', title: 'c' }); a.E.Task.create({ id: 'd', title: 'd' }); });
  await a.nitro.flush();
  a.sync.stop();                      // a crash: no close
  const [log] = logsOf(file).slice(-1);
  const bytes = fs.readFileSync(log);
  assert.equal(frames(bytes).length, 3, 'one frame per committed batch');
  fs.writeFileSync(log, bytes.subarray(0, bytes.length - 5));
  const b = await open(file);
  assert.deepEqual(b.E.Task.all().map((t) => t.id), ['a', 'b']);
  assert.deepEqual(b.errors, []);
  assert.equal(b.sync.status.pending, 2);
  await b.sync.close();
});

test('the outbox comes back as it was, coalescing included', async () => {
  const file = path.join(dir, 'outbox.bin');
  const a = await open(file);
  const t = a.E.Task.create({ title: 'first' });
  a.E.Task.update(t.id, { title: 'second', priority: 5 });
  const g = a.E.Task.create({ title: 'gone' });
  a.E.Task.delete(g.id);
  assert.equal(a.sync.status.pending, 1);
  await a.nitro.flush();
  a.sync.stop();
  const b = await open(file);
  assert.equal(b.sync.status.pending, 1, 'the create carrying the update; the created-and-deleted task is not there');
  assert.equal(b.sync.clientId, a.sync.clientId);
  assert.deepEqual(b.E.Task.get(t.id).toJSON(), a.E.Task.get(t.id).toJSON());
  assert.equal(b.E.Task.get(g.id), null);
  await b.sync.close();
});

test('restore() replaces the stored state; flush makes it durable', async () => {
  const file = path.join(dir, 'restore.bin');
  const a = await open(file);
  a.E.Task.create({ id: 'old', title: 'old' });
  const snap = a.nitro.snapshot();
  a.E.Task.create({ id: 'later', title: 'later' });
  await a.nitro.flush();
  a.nitro.restore(snap);
  a.E.Task.create({ id: 'after', title: 'after' });
  await a.nitro.flush();
  a.sync.stop();
  const b = await open(file);
  assert.deepEqual(b.E.Task.all().map((t) => t.id).sort(), ['after', 'old']);
  await b.sync.close();
});

test('a logged batch with an invalid record (valid CRC) is reported, and storage is left alone', async () => {
  const file = path.join(dir, 'bad.bin');
  const a = await open(file);
  a.E.Task.create({ id: 'ok', title: 'fine' });
  a.E.Task.create({ id: 'bad', title: 'zzzz' });
  await a.nitro.flush();
  a.sync.stop();
  const [log] = logsOf(file).slice(-1);
  const bytes = new Uint8Array(fs.readFileSync(log));
  const f = frames(bytes)[1];
  const payload = bytes.subarray(f.at + 8, f.at + 8 + f.len);
  const i = Buffer.from(payload).indexOf('zzzz');
  assert.ok(i > 0);
  payload.set([0xff, 0xfe, 0xff, 0xfe], i);           // not UTF-8
  new DataView(bytes.buffer).setUint32(f.at + 4, crc32(payload), true);
  fs.writeFileSync(log, bytes);
  const before = fs.readdirSync(dir).filter((n) => n.startsWith('bad.bin')).map((n) => [n, fs.readFileSync(path.join(dir, n)).length]);
  const b = await open(file);
  assert.equal(b.errors.length, 1);
  assert.equal(b.errors[0].rule, 'storage');
  assert.match(b.errors[0].message, /UTF-8|title/);
  b.E.Task.create({ title: 'new' });
  await b.sync.close();
  const after = fs.readdirSync(dir).filter((n) => n.startsWith('bad.bin')).map((n) => [n, fs.readFileSync(path.join(dir, n)).length]);
  assert.deepEqual(after, before, 'never overwritten');
});
