// The demo task board (web/) end to end in real Chromium, against the dev
// server with its sync server (scripts/serve.js, SQLite in memory, a fresh
// one per test): create, edit, filter, search and delete through the UI with
// validation errors next to the fields; offline edits reach the server once
// the network is back; two browser contexts converge live.
//
// Screenshots of the main screens go to docs/screenshots/ when a file is
// missing or UPDATE_SCREENSHOTS=1 (so a normal run leaves the tree alone).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer } from './server.js';

const repoRoot = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const sharedDatastar = path.resolve(repoRoot, '..', 'shared', 'datastar-1.0.2', 'datastar.js');
const shotsDir = path.join(repoRoot, 'docs', 'screenshots');
const CHROMIUM = '/usr/bin/chromium';
const WAIT = { timeout: 15_000 };
const skip = !fs.existsSync(CHROMIUM) ? 'no /usr/bin/chromium'
  : !fs.existsSync(path.join(repoRoot, 'dist', 'nitro.wasm')) ? 'dist/ is not built (bash build.sh)'
    : false;
// The demo runs on the Datastar client `npm install` brought (the default),
// and on Datastar 1.0.2 from ../shared/ when it is there.
const VARIANTS = fs.existsSync(sharedDatastar) ? ['npm', '1.0.2'] : ['npm'];
if (!fs.existsSync(sharedDatastar)) console.log('# demo.test.js: ../shared/datastar-1.0.2/ absent; the demo runs on the npm Datastar client only');

let chromium, browser;
before(async () => {
  if (skip) return;
  ({ chromium } = await import('playwright-core'));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
});
after(() => browser?.close());

/** A browser context that can reach only the test server: every other
 * request (a CDN, fonts, analytics) is refused, as on a closed network. */
async function offlineContext() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  await context.route((url) => url.hostname !== '127.0.0.1', (route) => route.abort('internetdisconnected'));
  return context;
}

/** A page of the demo in its own context; collects page errors and console
 * errors (resource failures of the sync URL are expected while offline). */
async function openBoard(origin, context) {
  context ??= await offlineContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const url = m.location()?.url || '';
    if (/\/sync\//.test(url) || /Failed to load resource: net::/.test(m.text())) return;
    errors.push(`console: ${m.text()} ${url}`);
  });
  // ?persist=0: nothing from IndexedDB, the server is the only source.
  await page.goto(`${origin}/?persist=0`);
  await page.waitForSelector('#load-status[data-state="ready"]', WAIT);
  return { page, context, errors };
}

const cards = (page) => page.$$eval('[data-testid="task-card"]', (els) => els.map((li) => ({
  id: li.dataset.id,
  domId: li.id,
  status: li.closest('[data-testid="column"]').dataset.status,
  title: li.querySelector('[data-testid="task-title"]').textContent,
  priority: li.querySelector('[data-testid="task-priority"]').textContent,
  project: li.querySelector('[data-testid="task-project"]')?.textContent ?? null,
  tags: [...li.querySelectorAll('[data-testid="task-tag"]')].map((b) => b.dataset.tag),
  markup: li.querySelectorAll('[data-testid="task-title"] b').length,
})));
const titles = async (page) => (await cards(page)).map((c) => c.title).sort();
const waitTitles = (page, want) => page.waitForFunction((w) => JSON.stringify([...document.querySelectorAll('[data-testid="task-title"]')]
  .map((e) => e.textContent).sort()) === JSON.stringify(w), [...want].sort(), WAIT);
const text = (page, sel) => page.textContent(sel);
const pending = async (page) => Number(await text(page, '#pending-count'));

async function screenshot(page, name) {
  const file = path.join(shotsDir, name);
  if (fs.existsSync(file) && process.env.UPDATE_SCREENSHOTS !== '1') return;
  fs.mkdirSync(shotsDir, { recursive: true });
  await page.screenshot({ path: file });
}

async function addTask(page, { title, project, status, priority, tags, due }) {
  await page.fill('#new-title', title);
  if (project !== undefined) await page.selectOption('#new-project', project === '' ? '' : { label: project });
  if (status) await page.selectOption('#new-status', status);
  if (priority !== undefined) await page.fill('#new-priority', String(priority));
  await page.fill('#new-tags', tags ?? '');
  if (due) await page.fill('#new-due', due);
  await page.click('#add-task');
}

/** What the sync server holds, read the way any client would: a fresh
 * Node store pulling everything. */
async function serverTasks(origin) {
  const { createNitro } = await import('../../dist/nitro.js');
  const { default: schema } = await import('../../web/schema.js');
  const nitro = await createNitro();
  try {
    const { Project, Task } = nitro.define(schema);
    const sync = nitro.sync({ url: `${origin}/sync`, entities: [Project, Task] });
    await sync.pull();
    await sync.close();
    return Task.all().map((t) => t.toJSON());
  } finally {
    nitro.close();
  }
}

for (const datastar of VARIANTS) {
  test(`create, edit, filter, search and delete on the board, with errors next to the fields [Datastar ${datastar}]`, { skip }, async () => {
    const srv = await startTestServer({ datastar });
    const { page, context, errors } = await openBoard(srv.origin);
    try {
      assert.equal(await text(page, '#task-count'), '0');

      // Projects first: a duplicate name is refused next to the field.
      for (const name of ['Website', 'Launch']) {
        await page.fill('#new-project-name', name);
        await page.click('#add-project');
        await page.waitForFunction((n) => [...document.querySelectorAll('#new-project option')].some((o) => o.textContent === n), name, WAIT);
      }
      assert.equal(await page.inputValue('#new-project-name'), '', 'the project form is cleared after a save');
      await page.fill('#new-project-name', 'Website');
      await page.click('#add-project');
      await page.waitForFunction(() => document.getElementById('new-project-error').textContent !== '', null, WAIT);
      assert.deepEqual(await page.$$eval('[data-testid="project-chip"]', (els) => els.map((e) => e.textContent)), ['Launch', 'Website']);

      // Tasks through the form; markup in a title stays text.
      await addTask(page, { title: 'Write the launch post', project: 'Website', priority: 4, tags: 'writing, launch', due: '2030-03-04' });
      await waitTitles(page, ['Write the launch post']);
      assert.equal(await page.inputValue('#new-title'), '', 'the title is cleared after a save');
      await addTask(page, { title: 'Fix <b>login</b> & signup', project: 'Launch', status: 'doing', priority: 5, tags: 'bug' });
      await addTask(page, { title: 'Order stickers', project: '', status: 'blocked', priority: 2, tags: 'launch' });
      await addTask(page, { title: 'Book the venue', project: 'Launch', status: 'done', priority: 3, tags: '' });
      await waitTitles(page, ['Write the launch post', 'Fix <b>login</b> & signup', 'Order stickers', 'Book the venue']);
      // A saved task leaves the form as it started: the next one inherits nothing.
      assert.deepEqual(await Promise.all(['#new-project', '#new-status', '#new-priority', '#new-tags'].map((sel) => page.inputValue(sel))),
        ['', 'todo', '3', '']);
      assert.match(await text(page, '#datastar-version'), datastar === 'npm' ? /^Datastar 1\.0\.0-beta\.11 \(served locally\)$/ : /^Datastar 1\.0\.2 \(served locally\)$/);

      let list = await cards(page);
      const byTitle = Object.fromEntries(list.map((c) => [c.title, c]));
      assert.deepEqual(byTitle['Write the launch post'], { ...byTitle['Write the launch post'],
        status: 'todo', priority: 'P4', project: 'Website', tags: ['writing', 'launch'], markup: 0 });
      assert.equal(byTitle['Fix <b>login</b> & signup'].markup, 0, 'user text is escaped by the template');
      assert.equal(byTitle['Fix <b>login</b> & signup'].status, 'doing');
      assert.equal(byTitle['Order stickers'].project, null);
      for (const c of list) assert.equal(c.domId, `task-${c.id}`);
      const stored = await page.evaluate(() => window.nitroDemo.Task.all().map((t) => t.toJSON()));
      assert.deepEqual(stored.map((t) => t.id).sort(), list.map((c) => c.id).sort(), 'the board shows the store');
      assert.equal(stored.find((t) => t.title === 'Write the launch post').due, '2030-03-04T00:00:00.000Z');
      // Counts per status.
      assert.deepEqual(await Promise.all(['all', 'todo', 'doing', 'blocked', 'done'].map((s) => text(page, `[data-testid="count-${s}"]`))),
        ['4', '1', '1', '1', '1']);
      // The chips count the whole board; "showing" counts what the search found.
      await page.fill('#search', 'stickers');
      await waitTitles(page, ['Order stickers']);
      assert.deepEqual([await text(page, '[data-testid="count-all"]'), await text(page, '#task-count')], ['4', '1']);
      await page.fill('#search', '');
      await waitTitles(page, ['Write the launch post', 'Fix <b>login</b> & signup', 'Order stickers', 'Book the venue']);

      // Validation errors from the entity schema, next to the field; nothing is added.
      await addTask(page, { title: '', tags: '' });
      await page.waitForFunction(() => document.getElementById('new-title-error').textContent !== '', null, WAIT);
      assert.match(await text(page, '#new-title-error'), /must have at least 1 character \(got 0\)/);
      assert.equal(await page.getAttribute('#new-title', 'aria-invalid'), 'true');
      await addTask(page, { title: 'Too important', priority: 9 });
      await page.waitForFunction(() => document.getElementById('new-priority-error').textContent !== '', null, WAIT);
      assert.match(await text(page, '#new-priority-error'), /<= 5.*9/);
      assert.equal(await text(page, '#new-title-error'), '', 'a fixed field loses its error on the next attempt');
      assert.equal(await text(page, '#task-count'), '4');
      await page.fill('#new-priority', '3');
      await page.waitForFunction(() => document.getElementById('new-priority-error').textContent === '', null, WAIT);
      assert.notEqual(await page.getAttribute('#new-priority', 'aria-invalid'), 'true', 'typing clears the field\'s error (beta.11 drops a "false" attribute)');
      await page.fill('#new-title', '');
      await page.fill('#new-project-name', '');
      await screenshot(page, 'board.png');

      // Edit in the drawer: an invalid value is refused in place, a valid one saves.
      const launch = byTitle['Write the launch post'];
      await page.click(`#task-${launch.id} [data-testid="edit-task"]`);
      await page.waitForSelector('#editor', { state: 'visible', ...WAIT });
      assert.equal(await page.inputValue('#edit-title'), 'Write the launch post');
      assert.equal(await page.inputValue('#edit-tags'), 'writing, launch');
      await page.fill('#edit-priority', '0');
      await page.click('#save-task');
      await page.waitForFunction(() => document.getElementById('edit-priority-error').textContent !== '', null, WAIT);
      assert.match(await text(page, '#edit-priority-error'), />= 1/);
      assert.equal(await page.isVisible('#editor'), true, 'the editor stays open on an error');
      assert.equal(await page.getAttribute('#edit-priority', 'aria-invalid'), 'true');
      assert.equal((await cards(page)).find((c) => c.id === launch.id).priority, 'P4', 'a refused edit changes nothing');
      await screenshot(page, 'editor.png');
      await page.fill('#edit-title', 'Publish the launch post');
      await page.fill('#edit-priority', '2');
      await page.selectOption('#edit-status', 'doing');
      await page.fill('#edit-tags', 'writing');
      await page.click('#save-task');
      await page.waitForSelector('#editor', { state: 'hidden', ...WAIT });
      await page.waitForSelector(`#col-doing #task-${launch.id}`, WAIT);
      list = await cards(page);
      assert.deepEqual(list.find((c) => c.id === launch.id), { ...launch, title: 'Publish the launch post', status: 'doing', priority: 'P2', tags: ['writing'] });

      // Move a card with its arrow button (an @nitro action in the template).
      await page.click(`#task-${launch.id} [data-testid="move-next"]`);
      await page.waitForSelector(`#col-blocked #task-${launch.id}`, WAIT);

      // Filters: status chip, project, tag (also by clicking a tag on a card), then clear.
      await page.click('#status-chips [data-status="blocked"]');
      await waitTitles(page, ['Publish the launch post', 'Order stickers']);
      assert.deepEqual(await page.$$eval('[data-testid="column"]', (els) => els.map((e) => e.dataset.status)), ['blocked']);
      assert.equal(await text(page, '#task-count'), '2');
      await page.click('#status-chips [data-status=""]');
      await page.selectOption('#filter-project', { label: 'Launch' });
      await waitTitles(page, ['Fix <b>login</b> & signup', 'Book the venue']);
      await page.selectOption('#filter-project', '_none');
      await waitTitles(page, ['Order stickers']);
      await page.selectOption('#filter-project', '');
      await page.click(`[data-testid="task-card"] [data-tag="launch"]`);
      await waitTitles(page, ['Order stickers']);
      assert.equal(await page.inputValue('#filter-tag'), 'launch');
      await page.selectOption('#filter-tag', '');
      await waitTitles(page, ['Publish the launch post', 'Fix <b>login</b> & signup', 'Order stickers', 'Book the venue']);

      // Full-text search: word prefix, case- and accent-insensitive, within the filters.
      await page.fill('#search', 'LAUN');
      await waitTitles(page, ['Publish the launch post']);
      await page.fill('#search', 'signup fix');
      await waitTitles(page, ['Fix <b>login</b> & signup']);
      await page.selectOption('#filter-project', { label: 'Website' });
      await waitTitles(page, []);
      await page.click('text=clear filters');
      await waitTitles(page, ['Publish the launch post', 'Fix <b>login</b> & signup', 'Order stickers', 'Book the venue']);
      assert.equal(await page.inputValue('#search'), '');

      // Delete: from the card, and from the editor.
      await page.click(`#task-${byTitle['Book the venue'].id} [data-testid="delete-task"]`);
      await waitTitles(page, ['Publish the launch post', 'Fix <b>login</b> & signup', 'Order stickers']);
      await page.click(`#task-${byTitle['Order stickers'].id} [data-testid="edit-task"]`);
      await page.click('#delete-task');
      await waitTitles(page, ['Publish the launch post', 'Fix <b>login</b> & signup']);
      assert.equal(await page.isVisible('#editor'), false);
      assert.deepEqual(await Promise.all(['all', 'todo', 'doing', 'blocked', 'done'].map((s) => text(page, `[data-testid="count-${s}"]`))),
        ['2', '0', '1', '1', '0']);

      // Everything reached the sync server.
      await page.waitForFunction(() => document.getElementById('pending-count').textContent === '0', null, WAIT);
      const onServer = await serverTasks(srv.origin);
      assert.deepEqual(onServer.map((t) => t.title).sort(), ['Fix <b>login</b> & signup', 'Publish the launch post']);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      await srv.close();
    }
  });

  test(`offline: edits wait in the outbox, the indicator says so, and all reach the server when back [Datastar ${datastar}]`, { skip }, async () => {
    const srv = await startTestServer({ datastar });
    const { page, context, errors } = await openBoard(srv.origin);
    try {
      await page.waitForSelector('#sync-indicator[data-state="online"]', WAIT);
      await addTask(page, { title: 'Keep me', tags: 'a' });
      await addTask(page, { title: 'Rename me', tags: '' });
      await addTask(page, { title: 'Delete me', tags: '' });
      await waitTitles(page, ['Keep me', 'Rename me', 'Delete me']);
      await page.waitForFunction(() => document.getElementById('pending-count').textContent === '0', null, WAIT);
      const before = Object.fromEntries((await cards(page)).map((c) => [c.title, c]));

      // The network to the sync server goes away.
      const block = (route) => route.abort('internetdisconnected');
      await context.route('**/sync/**', block);
      await addTask(page, { title: 'Made offline', status: 'doing', tags: 'offline' });
      await waitTitles(page, ['Keep me', 'Rename me', 'Delete me', 'Made offline']);
      await page.click(`#task-${before['Rename me'].id} [data-testid="edit-task"]`);
      await page.fill('#edit-title', 'Renamed offline');
      await page.fill('#edit-priority', '5');
      await page.click('#save-task');
      await page.click(`#task-${before['Delete me'].id} [data-testid="delete-task"]`);
      await waitTitles(page, ['Keep me', 'Renamed offline', 'Made offline']);

      await page.waitForSelector('#sync-indicator[data-state="offline"]', WAIT);
      await page.waitForFunction(() => Number(document.getElementById('pending-count').textContent) >= 3, null, WAIT);
      assert.match(await text(page, '#sync-state'), /Offline/);
      const held = (await serverTasks(srv.origin)).map((t) => t.title).sort();
      assert.deepEqual(held, ['Delete me', 'Keep me', 'Rename me'], 'the server has none of the offline edits yet');
      await screenshot(page, 'offline.png');

      // Back online: the client retries by itself (no click), the outbox drains.
      await context.unroute('**/sync/**', block);
      await page.waitForFunction(() => document.getElementById('pending-count').textContent === '0'
        && document.getElementById('sync-indicator').dataset.state === 'online', null, { timeout: 30_000 });
      const onServer = await serverTasks(srv.origin);
      assert.deepEqual(onServer.map((t) => t.title).sort(), ['Keep me', 'Made offline', 'Renamed offline']);
      const renamed = onServer.find((t) => t.id === before['Rename me'].id);
      assert.equal(renamed.title, 'Renamed offline');
      assert.equal(renamed.priority, 5);
      const made = onServer.find((t) => t.title === 'Made offline');
      assert.deepEqual([made.status, made.tags], ['doing', ['offline']]);
      assert.equal(await pending(page), 0);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      await srv.close();
    }
  });

  test(`two browser windows editing the same board converge live [Datastar ${datastar}]`, { skip }, async () => {
    const srv = await startTestServer({ datastar });
    const a = await openBoard(srv.origin);
    const b = await openBoard(srv.origin);
    try {
      for (const { page } of [a, b]) await page.waitForSelector('#sync-indicator[data-state="online"]', WAIT);

      // A creates, B sees it (pushed, then announced on B's live stream).
      await addTask(a.page, { title: 'Shared task', tags: 'team', priority: 2 });
      await waitTitles(b.page, ['Shared task']);
      const [shared] = await cards(b.page);
      assert.equal(shared.priority, 'P2');

      // B edits it, A sees the edit; A moves it, B sees the move.
      await b.page.click(`#task-${shared.id} [data-testid="edit-task"]`);
      await b.page.fill('#edit-title', 'Shared task, edited in B');
      await b.page.click('#save-task');
      await waitTitles(a.page, ['Shared task, edited in B']);
      await a.page.click(`#task-${shared.id} [data-testid="move-next"]`);
      await b.page.waitForSelector(`#col-doing #task-${shared.id}`, WAIT);

      // Both write at once; both end with both tasks.
      await Promise.all([
        addTask(a.page, { title: 'From A', tags: '' }),
        addTask(b.page, { title: 'From B', tags: '' }),
      ]);
      const all = ['Shared task, edited in B', 'From A', 'From B'];
      await waitTitles(a.page, all);
      await waitTitles(b.page, all);
      await screenshot(b.page, 'two-windows.png');

      // A delete in B disappears from A.
      const fromA = (await cards(b.page)).find((c) => c.title === 'From A');
      await b.page.click(`#task-${fromA.id} [data-testid="delete-task"]`);
      await waitTitles(a.page, ['Shared task, edited in B', 'From B']);

      for (const { page } of [a, b]) {
        await page.waitForFunction(() => document.getElementById('pending-count').textContent === '0', null, WAIT);
      }
      const state = (page) => page.evaluate(() => window.nitroDemo.Task.all().map((t) => t.toJSON()));
      assert.deepEqual(await state(a.page), await state(b.page), 'the two stores hold the same records');
      assert.deepEqual((await serverTasks(srv.origin)).map((t) => t.title).sort(), ['From B', 'Shared task, edited in B']);
      assert.deepEqual([...a.errors, ...b.errors], []);
    } finally {
      await a.context.close();
      await b.context.close();
      await srv.close();
    }
  });
}

test('an unreachable CDN falls back to the npm Datastar at once; a client that cannot load stops the board with a banner', { skip }, async () => {
  const srv = await startTestServer({ datastar: 'cdn' });
  try {
    const { page, context, errors } = await openBoard(srv.origin);
    assert.match(await text(page, '#datastar-version'), /^Datastar 1\.0\.0-beta\.11 \(served locally; https:\/\/cdn\.jsdelivr\.net\/.* failed to load\)$/);
    await addTask(page, { title: 'Works offline' });
    await waitTitles(page, ['Works offline']);
    assert.equal(await page.isVisible('#start-error'), false);
    assert.deepEqual(errors.filter((e) => !/did not load|jsdelivr/.test(e)), []);
    await context.close();
  } finally {
    await srv.close();
  }
  const npmOnly = await startTestServer();
  try {
    const context = await offlineContext();
    const page = await context.newPage();
    await page.goto(`${npmOnly.origin}/?persist=0&datastar=/no-such-datastar.js`);
    await page.waitForSelector('#start-error', { state: 'visible', ...WAIT });
    assert.match(await text(page, '[data-testid="start-error-message"]'), /Datastar did not load from \/no-such-datastar\.js/);
    assert.equal(await page.getAttribute('#load-status', 'data-state'), 'error');
    assert.equal(await page.isDisabled('#add-task'), true);
    await context.close();
  } finally {
    await npmOnly.close();
  }
});
