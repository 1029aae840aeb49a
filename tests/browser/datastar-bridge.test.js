// The Datastar bridge in real Chromium with the real clients: Datastar 1.0.2
// (../shared/datastar-1.0.2, skipped when absent) and 1.0.0-beta.11 from
// node_modules (only the parts that do not depend on attribute syntax).
// Fixture pages: web/test/datastar-{v1,beta,sse}.html + datastar-bridge.js.
// A test server adds Datastar SSE endpoints written with js/datastar/sse.js.
// Any console error on a page fails its test.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { staticHandler, defaultRootMap } from '../../scripts/serve.js';
import { sse } from '../../js/datastar/sse.js';

const repoRoot = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const sharedDir = path.resolve(repoRoot, '..', 'shared');
const CHROMIUM = '/usr/bin/chromium';
const BETA_FILE = path.join(repoRoot, 'node_modules', '@starfederation', 'datastar', 'dist', 'datastar.js');
const WAIT = { timeout: 10_000 };

const noChromium = !fs.existsSync(CHROMIUM) && `${CHROMIUM} is not installed (apt-get install -y chromium)`;
const noV1 = !fs.existsSync(path.join(sharedDir, 'datastar-1.0.2', 'datastar.js')) && '../shared/datastar-1.0.2/ is not present';
const noBeta = !fs.existsSync(BETA_FILE) && '@starfederation/datastar@1.0.0-beta.11 is not installed';

// ---------------------------------------------------------------------------
// Server: the dev server's files plus beta.11 and two SSE endpoints.
let server, origin, browser, context;
const liveStreams = [];
let onLive = null;

function handleSse(req, res) {
  const { pathname } = new URL(req.url, 'http://x');
  if (pathname === '/sse/once') {
    const s = sse(res, { keepAlive: 0 });
    s.patchSignals({ server: { n: 42 }, tasks: { t1: { title: 'from server' } } });
    s.patchElements('<p id="from-server">hello from the server</p>');
    s.close();
    return true;
  }
  if (pathname === '/sse/live') {
    const s = sse(res, { keepAlive: 0 });
    liveStreams.push(s);
    onLive?.(s);
    return true;
  }
  return false;
}

before(async () => {
  if (noChromium) return;
  for (const f of ['nitro.wasm', 'nitro.js', 'datastar/index.js', 'datastar/client.js', 'nitro.iife.js']) {
    if (!fs.existsSync(path.join(repoRoot, 'dist', f))) throw new Error(`dist/${f} is missing: run bash build.sh first`);
  }
  const statics = staticHandler({ ...defaultRootMap(repoRoot), '/beta/datastar.js': BETA_FILE });
  server = http.createServer((req, res) => { if (!handleSse(req, res)) statics(req, res); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${server.address().port}`;
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
  // One context, a fresh page per test: a page is a fresh store and Datastar.
  context = await browser.newContext();
});

after(async () => {
  for (const s of liveStreams) s.close();
  await browser?.close();
  if (server) await new Promise((r) => { server.close(r); server.closeAllConnections(); });
});

/** Opens a fixture page, waits until the store is connected, and collects console errors. */
async function openPage(urlPath) {
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.stack || e}`));
  await page.goto(origin + urlPath);
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached', ...WAIT });
  return { page, errors, close: () => page.close() };
}

const text = (page, sel) => page.locator(sel).textContent();
const listItems = (page) => page.$$eval('#list li', (lis) => lis.map((li) => li.id));
/** Waits for a condition inside the page (patches land within a frame). */
const until = (page, fn, arg) => page.waitForFunction(fn, arg, WAIT);

// ---------------------------------------------------------------------------
describe('Datastar 1.0.2 in Chromium', { skip: noChromium || noV1 }, () => {
  test('an @nitro button changes the store, the signal and the DOM', async () => {
    const { page, errors, close } = await openPage('/test/datastar-v1.html');
    try {
      await until(page, () => document.querySelector('#status').textContent === 'open');
      assert.deepEqual(await listItems(page), ['task-t1', 'task-t2']);
      assert.equal(await text(page, '#count'), '2');

      await page.evaluate(() => { window.__t2 = document.getElementById('task-t2'); });
      await page.click('#done');
      assert.equal(await page.evaluate(() => app.Task.get('t1').status), 'done', 'store');
      assert.equal(await page.evaluate(() => app.ds.readSignal('tasks.t1.status')), 'done', 'signal');
      assert.equal(await text(page, '#status'), 'done', 'DOM, through data-text');
      assert.equal(await page.evaluate(() => app.ds.readSignal('open.t1')), undefined, 'left the open query');
      await until(page, () => document.querySelectorAll('#list li').length === 1);
      assert.deepEqual(await listItems(page), ['task-t2'], 'the fragment re-rendered');
      assert.ok(await page.evaluate(() => document.getElementById('task-t2') === window.__t2), 'the fragment is a live view: the row that stayed is the same element');
      assert.equal(await text(page, '#count'), '1');

      await page.click('#complete');   // an entity method
      assert.equal(await page.evaluate(() => app.Task.get('t2').status), 'done');
      await page.click('#add');        // create, with a signal in the expression
      assert.equal(await page.evaluate(() => app.Task.get('t9')?.title), 'added first');
      assert.equal(await page.evaluate(() => app.ds.readSignal('open.t9.title')), 'added first');
      await until(page, () => document.querySelector('#list').textContent === 'added first (open)');

      await page.click('#bad');        // invalid: an error signal, not an exception
      await until(page, () => document.querySelector('#priority-error').textContent !== '');
      assert.equal(await text(page, '#priority-error'), 'must be <= 5 (got 9)');
      assert.equal(await page.evaluate(() => app.Task.get('t1').priority), 3);
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });

  test('typing into a data-bind input writes through the entity; invalid values set $errors', async () => {
    const { page, errors, close } = await openPage('/test/datastar-v1.html');
    try {
      await until(page, () => document.querySelector('#title').textContent === 'first');
      assert.equal(await page.inputValue('#title-input'), 'first');
      await page.fill('#title-input', 'renamed');
      assert.equal(await page.evaluate(() => app.Task.get('t1').title), 'renamed');
      assert.equal(await text(page, '#title'), 'renamed');
      await until(page, () => document.querySelector('#task-t1').textContent === 'renamed (open)');

      await page.fill('#title-input', '');            // minLength 1
      await until(page, () => document.querySelector('#title-error').textContent !== '');
      assert.match(await text(page, '#title-error'), /length|least/);
      assert.equal(await page.evaluate(() => app.Task.get('t1').title), 'renamed', 'the store keeps the valid value');
      await page.fill('#title-input', 'fixed');
      await until(page, () => document.querySelector('#title-error').textContent === '');
      assert.equal(await page.evaluate(() => app.Task.get('t1').title), 'fixed');

      await page.fill('#priority-input', '7');
      await until(page, () => document.querySelector('#priority-error').textContent !== '');
      assert.equal(await text(page, '#priority-error'), 'must be <= 5 (got 7)');
      await page.fill('#priority-input', '2');
      await until(page, () => document.querySelector('#priority-error').textContent === '');
      assert.equal(await page.evaluate(() => app.Task.get('t1').priority), 2, 'the typed string is stored as an int');
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });

  test('a bound query list follows create, update, delete and records that stop matching', async () => {
    const { page, errors, close } = await openPage('/test/datastar-v1.html');
    try {
      await until(page, () => document.querySelector('#count').textContent === '2');
      const state = () => page.evaluate(() => ({ open: Object.keys(app.ds.readSignal('open')).sort(), count: document.querySelector('#count').textContent }));
      await page.evaluate(() => app.Task.create({ id: 't4', title: 'fourth' }));
      await until(page, () => document.querySelector('#task-t4') !== null);
      assert.deepEqual(await state(), { open: ['t1', 't2', 't4'], count: '3' });

      await page.evaluate(() => app.Task.update('t4', { title: 'fourth, renamed', tags: ['a', 'b'] }));
      assert.deepEqual(await page.evaluate(() => app.ds.readSignal('open.t4.tags')), ['a', 'b']);
      await until(page, () => document.querySelector('#task-t4').textContent === 'fourth, renamed (open)');

      await page.evaluate(() => app.Task.update('t2', { status: 'blocked' }));   // stops matching
      await until(page, () => document.querySelector('#task-t2') === null);
      assert.deepEqual(await state(), { open: ['t1', 't4'], count: '2' });
      assert.equal(await page.evaluate(() => app.ds.readSignal('tasks.t2.status')), 'blocked', 'the entity binding keeps it');

      await page.evaluate(() => app.nitro.transaction(() => { app.Task.delete('t4'); app.Task.update('t3', { status: 'open' }); }));
      await until(page, () => document.querySelector('#task-t4') === null && document.querySelector('#task-t3') !== null);
      assert.deepEqual(await state(), { open: ['t1', 't3'], count: '2' });
      assert.deepEqual(await listItems(page), ['task-t1', 'task-t3']);
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });

  test('a field set to null clears its data-text (1.0 does not refresh on a delete)', async () => {
    const { page, errors, close } = await openPage('/test/datastar-v1.html');
    try {
      await until(page, () => document.querySelector('#estimate').textContent === '4');
      await page.evaluate(() => app.Task.update('t1', { estimate: 2.5 }));
      await until(page, () => document.querySelector('#estimate').textContent === '2.5');
      await page.evaluate(() => app.Task.update('t1', { estimate: null }));
      await until(page, () => document.querySelector('#estimate').textContent === '');
      assert.equal(await page.evaluate(() => app.ds.readSignal('tasks.t1.estimate') ?? ''), '');
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });

  test('patchElements and patchSignals from page code', async () => {
    const { page, errors, close } = await openPage('/test/datastar-v1.html');
    try {
      const out = await page.evaluate(() => {
        const { ds } = app;
        const box = () => document.querySelector('#box').innerHTML;
        const r = {};
        ds.patchElements('<p id="a">a</p><p id="b">b</p>', { selector: '#box', mode: 'inner' });
        r.inner = box();
        ds.patchElements('<p id="c">c</p>', { selector: '#box', mode: 'append' });
        r.append = box();
        ds.patchElements('<p id="a">A</p>');
        r.morph = box();
        ds.removeElements('#b');
        r.remove = box();
        ds.patchSignals({ tasks: { t1: { title: 'via patchSignals' } } });
        r.title = document.querySelector('#title').textContent;
        r.stored = app.Task.get('t1').title;   // a programmatic patch is not a user edit
        return r;
      });
      assert.deepEqual(out, {
        inner: '<p id="a">a</p><p id="b">b</p>',
        append: '<p id="a">a</p><p id="b">b</p><p id="c">c</p>',
        morph: '<p id="a">A</p><p id="b">b</p><p id="c">c</p>',
        remove: '<p id="a">A</p><p id="c">c</p>',
        title: 'via patchSignals',
        stored: 'first',
      });
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });

  test('auto-detection: the version from events, the module from the page script; no Datastar is NOT_FOUND', async () => {
    const { page, errors, close } = await openPage('/test/datastar-v1.html?auto');
    try {
      const out = await page.evaluate(() => {
        const r = { version: app.ds.version, actions: app.ds.actions, probeLeft: app.ds.readSignal('_nitroProbe') };
        const bare = document.implementation.createHTMLDocument('no datastar');
        try { app.connectDatastar(app.nitro, { document: bare }); } catch (e) { r.none = { name: e.name, code: e.code }; }
        return r;
      });
      assert.deepEqual(out, { version: '1.0', actions: true, probeLeft: undefined, none: { name: 'NitroError', code: 'NOT_FOUND' } });
      await page.click('#done');
      await until(page, () => document.querySelector('#status').textContent === 'done');
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });

  test('the script-tag build exposes Nitro.connectDatastar', async () => {
    const { page, errors, close } = await openPage('/test/datastar-v1.html');
    try {
      const out = await page.evaluate(async () => {
        const nitro = await Nitro.createNitro();
        const Note = nitro.entity('Note', { fields: { body: { type: 'string' } } });
        Note.create({ id: 'n1', body: 'from the IIFE' });
        const ds = Nitro.connectDatastar(nitro, { datastar: await import(app.datastarUrl), action: 'notes' });
        ds.bind('notes', Note);
        return { version: ds.version, body: app.ds.readSignal('notes.n1.body') };
      });
      assert.deepEqual(out, { version: '1.0', body: 'from the IIFE' });
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });
});

// ---------------------------------------------------------------------------
describe('Datastar 1.0.0-beta.11 in Chromium', { skip: noChromium || noBeta }, () => {
  test('a bound query list follows create, update, delete and records that stop matching', async () => {
    const { page, errors, close } = await openPage('/test/datastar-beta.html');
    try {
      assert.equal(await page.evaluate(() => app.ds.version), '1.0.0-beta.11');
      const open = () => page.evaluate(() => Object.keys(app.ds.readSignal('open') ?? {}).sort());
      assert.deepEqual(await open(), ['t1', 't2']);
      await until(page, () => document.querySelectorAll('#list li').length === 2);

      await page.evaluate(() => app.Task.create({ id: 't4', title: 'fourth' }));
      await until(page, () => document.querySelector('#task-t4') !== null);
      assert.deepEqual(await open(), ['t1', 't2', 't4']);
      await page.evaluate(() => app.Task.update('t4', { title: 'fourth, renamed' }));
      assert.equal(await page.evaluate(() => app.ds.readSignal('open.t4.title')), 'fourth, renamed');
      await until(page, () => document.querySelector('#task-t4').textContent === 'fourth, renamed (open)');

      await page.evaluate(() => app.Task.update('t2', { status: 'done' }));
      assert.deepEqual(await open(), ['t1', 't4'], 'removed with datastar-remove-signals, not set to null');
      await page.evaluate(() => app.Task.delete('t4'));
      assert.deepEqual(await open(), ['t1']);
      await until(page, () => document.querySelectorAll('#list li').length === 1);
      await page.evaluate(() => app.Task.update('t1', { estimate: null }));
      assert.equal(await page.evaluate(() => app.ds.readSignal('tasks.t1.estimate')), null, 'a null field keeps its signal');
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });

  test('@nitro works in elements patched in after connecting; errors land in $errors', async () => {
    const { page, errors, close } = await openPage('/test/datastar-beta.html');
    try {
      await page.evaluate(() => {
        app.ds.patchSignals({ errors: { Task: { t1: { priority: '' } } } });
        app.ds.patchElements(`<div id="slot">
          <button id="done" data-on-click="@nitro('Task.update', 't1', {status: 'done'})">done</button>
          <button id="bad" data-on-click="@nitro('Task.update', 't1', {priority: 9})">bad</button>
          <span id="status" data-text="$tasks.t1.status"></span>
          <span id="perr" data-text="$errors.Task.t1.priority"></span></div>`);
      });
      await until(page, () => document.querySelector('#status').textContent === 'open');
      await page.click('#done');
      assert.equal(await page.evaluate(() => app.Task.get('t1').status), 'done');
      await until(page, () => document.querySelector('#status').textContent === 'done');
      await until(page, () => !document.querySelector('#task-t1'));
      await page.click('#bad');
      await until(page, () => document.querySelector('#perr').textContent === 'must be <= 5 (got 9)');
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });

  test('patchElements modes map onto beta.11 merge modes', async () => {
    const { page, errors, close } = await openPage('/test/datastar-beta.html');
    try {
      const out = await page.evaluate(() => {
        const { ds } = app;
        const box = () => document.querySelector('#box').innerHTML;
        const r = {};
        ds.patchElements('<p id="a">a</p><p id="b">b</p>', { selector: '#box', mode: 'inner' });
        r.inner = box();
        ds.patchElements('<p id="c">c</p>', { selector: '#box', mode: 'append' });
        r.append = box();
        ds.patchElements('<p id="a">A</p>');
        r.morph = box();
        ds.removeElements('#b');
        r.remove = box();
        return r;
      });
      assert.deepEqual(out, {
        inner: '<p id="a">a</p><p id="b">b</p>',
        append: '<p id="a">a</p><p id="b">b</p><p id="c">c</p>',
        morph: '<p id="a">A</p><p id="b">b</p><p id="c">c</p>',
        remove: '<p id="a">A</p><p id="c">c</p>',
      });
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });

  test('auto-detection finds beta.11 and its module', async () => {
    const { page, errors, close } = await openPage('/test/datastar-beta.html?auto');
    try {
      assert.deepEqual(await page.evaluate(() => ({ v: app.ds.version, actions: app.ds.actions, open: Object.keys(app.ds.readSignal('open')).sort() })),
        { v: '1.0.0-beta.11', actions: true, open: ['t1', 't2'] });
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });
});

// ---------------------------------------------------------------------------
describe('server SSE (js/datastar/sse.js) into a connected page, Datastar 1.0.2', { skip: noChromium || noV1 }, () => {
  test('one response patches signals and elements; a server patch of a bound record reaches the store', async () => {
    const { page, errors, close } = await openPage('/test/datastar-sse.html');
    try {
      await until(page, () => document.querySelector('#title').textContent === 'first');
      await page.click('#once');
      await until(page, () => document.querySelector('#from-server').textContent === 'hello from the server');
      assert.equal(await text(page, '#server-n'), '42');
      assert.equal(await text(page, '#title'), 'from server');
      assert.equal(await page.evaluate(() => app.Task.get('t1').title), 'from server', 'writable binding: written through');
      await until(page, () => document.querySelector('#task-t1')?.textContent === 'from server (open)');
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });

  test('a long-lived stream delivers events one by one while it stays open', async () => {
    const { page, errors, close } = await openPage('/test/datastar-sse.html');
    try {
      const opened = new Promise((r) => { onLive = r; });
      await page.click('#live');
      const stream = await opened;
      for (const n of [1, 2, 3]) {
        stream.patchSignals({ server: { n } });
        await until(page, (want) => document.querySelector('#server-n').textContent === String(want), n);
      }
      stream.patchElements('<li id="pushed">pushed</li>', { selector: '#list', mode: 'append' });
      await until(page, () => document.querySelector('#pushed') !== null);
      assert.equal(stream.closed, false);
      stream.close();
      assert.deepEqual(errors, []);
    } finally {
      onLive = null;
      await close();
    }
  });
});
