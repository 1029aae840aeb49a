// server-storage-registry.test.js - storages open by URL scheme
// (server/storage/index.js), and a backend with only the required methods
// gets defaults for the optional ones: the server syncs through it like
// through SQLite (one code path), entity filters and shared records included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSyncServer, openStorage, registerStorage, withDefaults } from '../../server/index.js';
import { schemeOf } from '../../server/storage/index.js';
import { makeClient, schema, SECRET, tokenFor } from '../sync/clients.js';

/** A storage in plain JS maps with nothing but the required methods. */
function mapStorage() {
  const records = new Map();
  const clients = new Map();
  const receipts = new Map();
  let head = 0;
  const calls = new Set();
  const s = {
    calls,
    async open() {},
    async close() {},
    async head() { return head; },
    async loadRecords(on) { for (const r of records.values()) on({ ...r }); },
    async watermark(user, client) { calls.add('watermark'); return clients.get(`${user}\n${client}`) ?? 0; },
    async receipts(user, client, from, to) {
      calls.add('receipts');
      const out = new Map();
      for (const [k, v] of receipts) {
        const [u, c, seq] = k.split('\n');
        if (u === user && c === client && Number(seq) >= from && Number(seq) <= to) out.set(Number(seq), v);
      }
      return out;
    },
    async commitPush({ user, client, done, head: h, records: rows, receipts: rs }) {
      calls.add('commitPush');
      for (const r of rows) records.set(`${r.entity}\n${r.scope}\n${r.id}`, { ...r });
      for (const r of rs) if (r.seq > done) receipts.set(`${user}\n${client}\n${r.seq}`, r.result);
      const k = `${user}\n${client}`;
      clients.set(k, Math.max(clients.get(k) ?? 0, done));
      head = h;
    },
    async changesSince({ scope, since, limit }) {
      calls.add('changesSince');
      return [...records.values()].filter((r) => r.scope === scope && r.version > since)
        .sort((a, b) => a.version - b.version).slice(0, limit)
        .map((r) => ({ entity: r.entity, id: r.id, version: r.version, deleted: r.deleted, data: r.data }));
    },
  };
  return s;
}

test('storage URLs open by scheme; unknown schemes and incomplete backends are refused by name', async () => {
  assert.equal(schemeOf('./nitro.db'), 'sqlite');
  assert.equal(schemeOf('C:\\data\\nitro.db'), 'sqlite', 'a drive letter is no scheme');
  assert.equal(schemeOf('postgresql://h/db'), 'postgresql');
  assert.equal(schemeOf('memory:'), 'memory');
  const mem = await openStorage('memory:');
  assert.equal(mem.kind, 'sqlite');
  await mem.open();
  assert.equal(await mem.head(), 0);
  await mem.close();
  await assert.rejects(openStorage('redis://h'), /no storage for redis: URLs \(known: sqlite, memory, postgres, postgresql;/);
  assert.throws(() => withDefaults({ open() {}, close() {} }), /the storage lacks head, loadRecords, watermark, receipts, commitPush, changesSince/);
});

test('a backend with only the required methods syncs through the defaults', async () => {
  const backend = mapStorage();
  registerStorage('maps', () => backend);
  const server = await createSyncServer({ schema, db: 'maps://anything', secret: SECRET, log: false });
  try {
    const { url } = await server.listen(0);
    const a = await makeClient(url, { user: 'reg-a' });
    const b = await makeClient(url, { user: 'reg-b' });
    const t = a.E.Task.create({ title: 'through the defaults' });
    const board = a.E.Board.create({ title: 'shared' });
    await a.sync.push();
    await b.sync.pull();
    assert.equal(b.E.Board.get(board.id).title, 'shared', 'shared records reach everyone');
    assert.equal(b.E.Task.get(t.id), null, 'private records only their owner');
    const r = await fetch(`${url}/pull?entities=Board`, { headers: { authorization: `Bearer ${tokenFor('reg-a')}` } });
    const page = await r.json();
    assert.deepEqual(page.changes.map((c) => c.entity), ['Board'], 'the entity filter holds without pullJson');
    assert.equal(page.more, false);
    assert.equal(Number(page.checkpoint), server.head);
    // the resent batch is answered from the receipts the defaults read
    a.E.Task.update(t.id, { title: 'again' });
    await a.sync.push();
    assert.deepEqual([...backend.calls].sort(), ['changesSince', 'commitPush', 'receipts', 'watermark']);
    await a.sync.close();
    await b.sync.close();
  } finally {
    await server.close();
  }
});
