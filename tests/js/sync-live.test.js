// sync-live.test.js - live updates: the server's event stream tells
// connected clients about changes they may see; a dropped stream reconnects
// with Last-Event-ID and catches up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServerProcess, tempDir } from '../sync/server-process.js';
import { startFaultProxy } from '../sync/fault-proxy.js';
import { makeClient, tokenFor } from '../sync/clients.js';

let srv, proxy;
before(async () => {
  srv = await startServerProcess({ db: path.join(tempDir(), 'live.db') });
  proxy = await startFaultProxy({ target: new URL(srv.url).origin, faults: {} });
});
after(async () => { await proxy.close(); await srv.stop(); });

/** Resolves with the first event of `type` whose payload passes `test`. */
function next(nitro, type, pred = () => true) {
  return new Promise((resolve) => {
    const off = nitro.on(type, (e) => { if (pred(e)) { off(); resolve(e); } });
  });
}

test('a live client sees another client\'s write without asking, and catches up after its stream drops', async () => {
  const user = 'live-1';
  const url = `${proxy.origin}/sync`;
  const a = await makeClient(srv.url, { user });      // direct; b goes through the proxy
  const b = await makeClient(url, { user, live: true });
  const connected = next(b.nitro, 'sync.pulled');
  b.sync.start();
  await connected;

  const seen = next(b.nitro, 'Task.created');
  const t = a.E.Task.create({ title: 'live' });
  await a.sync.push();
  const e = await seen;
  assert.equal(e.id, t.id);
  assert.equal(e.source, 'sync');

  // the stream drops; a write happens meanwhile; b reconnects and catches up
  const changed = next(b.nitro, 'Task.updated', (ev) => ev.record.title === 'while away');
  proxy.cutAll();
  a.E.Task.update(t.id, { title: 'while away' });
  await a.sync.push();
  await changed;
  const ids = proxy.stats.lastEventIds;
  assert.ok(ids.length >= 2, 'the stream was opened again');
  assert.ok(ids.slice(1).some((id) => id !== null && Number(id) > 0), `a reconnect carried Last-Event-ID (${ids})`);
  await b.sync.close();
  await a.sync.close();
});

test('a stream only announces changes its user may see', async () => {
  const a = await makeClient(srv.url, { user: 'live-owner' });
  const res = await fetch(`${srv.url}/events`, { headers: { authorization: `Bearer ${tokenFor('live-other')}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/event-stream/);
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const nextChange = async () => {
    for (;;) {
      const i = buf.indexOf('\n\n');
      if (i >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (block.includes('event: change')) return Number(/^id: (\d+)$/m.exec(block)[1]);
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buf += dec.decode(value, { stream: true });
    }
  };
  await nextChange();                      // the current head, on connect
  a.E.Task.create({ title: 'private' });
  await a.sync.push();
  const board = a.E.Board.create({ title: 'shared' });
  await a.sync.push();
  const announced = await nextChange();
  const reader2 = await makeClient(srv.url, { user: 'live-other' });
  await reader2.sync.pull();
  assert.equal(reader2.E.Board.get(board.id).title, 'shared');
  assert.equal(reader2.E.Task.count(), 0);
  assert.equal(announced, Number((await (await fetch(`${srv.url}/pull?since=0`, { headers: { authorization: `Bearer ${tokenFor('live-other')}` } })).json()).checkpoint),
    'the first announcement after connecting is the shared write, not the private one before it');
  await reader.cancel();
  await a.sync.close();
});
