// sync-browser.test.js - the sync client in real Chromium (Debian's
// /usr/bin/chromium via playwright-core): store and outbox kept in
// IndexedDB across a reload made while the sync server was unreachable,
// everything arriving once it is back, and a live update between two tabs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { staticHandler } from '../../scripts/serve.js';
import { createSyncServer } from '../../server/index.js';
import { repoRoot } from '../sync/server-process.js';
import { makeClient, schema, SECRET, tokenFor } from '../sync/clients.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = !fs.existsSync(CHROMIUM) ? 'Chromium is not installed (/usr/bin/chromium)' : false;

const PAGE = `<!doctype html><meta charset="utf-8"><title>sync</title>
<script type="module">
import { createNitro } from '/dist/nitro.js';
import schema from '/schema/entities.mjs';
window.boot = async (token, live) => {
  const nitro = await createNitro();
  const E = nitro.define(schema);
  const sync = nitro.sync({ url: '/sync', token, storage: 'browser-test', live, persistDelay: 0, retry: { base: 20, max: 200 } });
  await sync.ready;
  window.app = { nitro, E, sync, seen: [] };
  nitro.on('Task.*', (e) => { if (e.source === 'sync') window.app.seen.push(e.record && e.record.title); });
  return { pending: sync.status.pending, titles: E.Task.all().map((t) => t.title).sort() };
};
</script>`;

let browser, server, httpServer, origin;

before(async () => {
  if (skip) return;
  server = await createSyncServer({ schema, db: ':memory:', secret: SECRET, log: false });
  const statics = staticHandler({ '/dist/': path.join(repoRoot, 'dist'), '/schema/': path.join(repoRoot, 'tests', 'sync') });
  httpServer = http.createServer((req, res) => {
    if (req.url === '/') { res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }); res.end(PAGE); return; }
    server.handler(req, res, () => statics(req, res));
  });
  await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${httpServer.address().port}`;
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
});

after(async () => {
  if (browser) await browser.close();
  if (httpServer) { httpServer.closeAllConnections(); await new Promise((r) => httpServer.close(r)); }
  if (server) await server.close();
});

async function serverTitles(user) {
  const reader = await makeClient(`${origin}/sync`, { user });
  await reader.sync.pull();
  const titles = reader.E.Task.all().map((t) => t.title).sort();
  reader.nitro.close();
  return titles;
}

test('offline edits survive a reload from IndexedDB and arrive when the server is back; tabs see each other live', { skip }, async () => {
  const user = 'browser-user';
  const token = tokenFor(user);
  const context = await browser.newContext();
  const errors = [];
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(origin);
  assert.deepEqual(await page.evaluate((t) => window.boot(t, false), token), { pending: 0, titles: [] });
  await page.evaluate(async () => { window.app.E.Task.create({ title: 'online' }); await window.app.sync.push(); });
  assert.deepEqual(await serverTitles(user), ['online']);

  // the sync server becomes unreachable; the page keeps working and is reloaded
  await page.route('**/sync/**', (route) => route.abort());
  const offline = await page.evaluate(async () => {
    const { E, sync } = window.app;
    E.Task.create({ title: 'offline 1' });
    E.Task.create({ title: 'offline 2' });
    E.Task.update(E.Task.findBy({ title: 'online' }).id, { title: 'online, edited offline' });
    let failed = null;
    try { await sync.push(); } catch (e) { failed = e.code; }
    await sync.flush();
    return { failed, pending: sync.status.pending, online: sync.status.online };
  });
  assert.deepEqual(offline, { failed: 'SYNC', pending: 3, online: false });
  await page.reload();
  const reloaded = await page.evaluate((t) => window.boot(t, true), token);
  assert.deepEqual(reloaded, { pending: 3, titles: ['offline 1', 'offline 2', 'online, edited offline'] });

  // back online: the started sync retries and everything arrives
  await page.unroute('**/sync/**');
  await page.evaluate(() => new Promise((resolve) => {
    const { nitro, sync } = window.app;
    nitro.on('sync.pushed', () => { if (sync.status.pending === 0) resolve(); });
    sync.start();
  }));
  assert.deepEqual(await serverTitles(user), ['offline 1', 'offline 2', 'online, edited offline']);

  // a second tab (own storage) follows the first one live
  const other = await browser.newContext();
  const tab = await other.newPage();
  tab.on('pageerror', (e) => errors.push(e.message));
  await tab.goto(origin);
  await tab.evaluate((t) => window.boot(t, true), token);
  await tab.evaluate(() => new Promise((resolve) => { window.app.nitro.on('sync.pulled', resolve, { once: true }); window.app.sync.start(); }));
  await page.evaluate(() => window.app.E.Task.create({ title: 'live from tab 1' }));
  await tab.waitForFunction(() => window.app.seen.includes('live from tab 1'), null, { timeout: 10_000 });
  assert.deepEqual(errors, []);
  await other.close();
  await context.close();
});
