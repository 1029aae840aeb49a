// Every file in examples/ runs as written against the packed tarball, installed
// the way a user installs it (`npm install nitro-wasm`, optional SQLite driver
// included), and the README's snippets are those files, character for
// character. Node examples are compared with their expected output
// (tests/pack/examples/*.out); the pages run in Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import http from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { staticHandler } from '../../scripts/serve.js';

const run = promisify(execFile);
const repoRoot = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const expectedDir = path.join(repoRoot, 'tests', 'pack', 'examples');
const sharedDatastar = path.resolve(repoRoot, '..', 'shared', 'datastar-1.0.2', 'datastar.js');
const CDN_DATASTAR = 'https://cdn.jsdelivr.net/gh/starfederation/datastar@1.0.2/bundles/datastar.js';
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
Object.assign(env, { npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' });

let tmp, app;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nitro-examples-'));
  const npm = (args, cwd, timeout = 60_000) => run('npm', args, { cwd, env, timeout, maxBuffer: 16 << 20 });
  const { stdout } = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], repoRoot);
  const tarball = path.join(tmp, JSON.parse(stdout)[0].filename);
  app = path.join(tmp, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  // As a user does it: optional dependencies included (better-sqlite3 for the
  // server's default store; built from source where no binary downloads).
  await npm(['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock'], app, 600_000);
  // The examples as the package ships them, copied into the project.
  fs.cpSync(path.join(app, 'node_modules', 'nitro-wasm', 'examples'), path.join(app, 'examples'), { recursive: true });
});

after(() => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); });

const shipped = () => fs.readdirSync(path.join(repoRoot, 'examples')).sort();

test('the package ships every file of examples/', () => {
  assert.deepEqual(fs.readdirSync(path.join(app, 'examples')).sort(), shipped());
});

for (const name of fs.readdirSync(path.join(repoRoot, 'examples')).filter((f) => f.endsWith('.mjs') && f !== 'schema.mjs')) {
  test(`node examples/${name} prints what tests/pack/examples/${name}.out holds`, async () => {
    const { stdout } = await run(process.execPath, [`examples/${name}`], { cwd: app, env, timeout: 30_000 });
    assert.equal(stdout, fs.readFileSync(path.join(expectedDir, `${name}.out`), 'utf8'));
  });
}

test('sh examples/cli.sh serves SQLite, mints a token and pulls with it', async () => {
  const port = await freePort();
  const { stdout } = await run('sh', ['examples/cli.sh'], { cwd: app, env: { ...env, PORT: String(port) }, timeout: 60_000 });
  assert.match(stdout, new RegExp(`listening on http://127\\.0\\.0\\.1:${port}/sync`));
  assert.match(stdout, /^pull as alice: 200 changes,checkpoint,more$/m);
  assert.ok(fs.existsSync(path.join(app, 'nitro.db')), 'the SQLite file is where --db said');
});

test('the README\'s code blocks are the example files, character for character', () => {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const tagged = [...readme.matchAll(/<!-- example: (examples\/[^ ]+) -->\n```[a-z]*\n([\s\S]*?)```/g)];
  for (const [, file, body] of tagged) {
    assert.equal(body, fs.readFileSync(path.join(repoRoot, file), 'utf8'), `README block for ${file}`);
  }
  const js = [...readme.matchAll(/(<!-- example: [^\n]+ -->\n)?```js\n/g)];
  assert.deepEqual(js.filter((m) => !m[1]).length, 0, 'every js block in the README is an example file');
  const named = new Set(tagged.map((m) => m[1]));
  for (const f of ['entities.mjs', 'events.mjs', 'templates.mjs', 'live-view.js', 'datastar.js', 'sse-server.mjs', 'sync.mjs', 'cli.sh']) {
    assert.ok(named.has(`examples/${f}`), `README shows examples/${f}`);
  }
});

// ---- the pages, in Chromium ---------------------------------------------------------

const noChromium = !fs.existsSync('/usr/bin/chromium') && 'no /usr/bin/chromium';

async function openExample(page, t) {
  const server = http.createServer(staticHandler({ '/': app }));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { launchChromium } = await import('../browser/server.js');
  const browser = await launchChromium();
  const context = await browser.newContext();
  // A closed network: only the local server, and the Datastar CDN answered from a local copy.
  await context.route((url) => url.hostname !== '127.0.0.1', (route) => (route.request().url() === CDN_DATASTAR
    ? route.fulfill({ path: sharedDatastar, contentType: 'text/javascript' })
    : route.abort('internetdisconnected')));
  const p = await context.newPage();
  const errors = [];
  p.on('pageerror', (e) => errors.push(e.message));
  t.after(async () => { await browser.close(); server.close(); });
  await p.goto(`http://127.0.0.1:${server.address().port}/examples/${page}`);
  return { page: p, errors };
}

test('examples/live-view.html: the view follows writes and clicks', { skip: noChromium }, async (t) => {
  const { page, errors } = await openExample('live-view.html', t);
  await page.waitForFunction(() => document.getElementById('log').textContent.includes('mounted'), null, { timeout: 15_000 });
  const labels = () => page.$$eval('#tbody a.lbl', (as) => as.map((a) => a.textContent));
  assert.equal((await labels()).length, 10);
  assert.equal((await labels())[6], 'changed');
  await page.click('#tbody tr:nth-child(3) a.lbl');   // selects row 3: it leaves the unselected list
  await page.waitForFunction(() => document.querySelectorAll('#tbody tr').length === 9, null, { timeout: 5_000 });
  assert.match(await page.textContent('#log'), /selected \+3 -; now 3;/);
  assert.deepEqual(errors, []);
});

test('examples/datastar.html: signals, fragments and @nitro with Datastar 1.0.2', {
  skip: noChromium || (!fs.existsSync(sharedDatastar) && '../shared/datastar-1.0.2/ is absent (the page loads Datastar 1.0 from its CDN)'),
}, async (t) => {
  const { page, errors } = await openExample('datastar.html', t);
  await page.waitForFunction(() => document.getElementById('open').textContent === '2 open', null, { timeout: 15_000 });
  assert.deepEqual(await page.$$eval('#tasks li', (li) => li.map((e) => e.textContent)), ['Bind me (open)', 'Second (open)']);
  assert.equal(await page.inputValue('#title'), 'Bind me');
  await page.click('#done');
  await page.waitForFunction(() => document.getElementById('open').textContent === '1 open', null, { timeout: 5_000 });
  await page.waitForFunction(() => document.getElementById('li-t1').textContent === 'Bind me (done)', null, { timeout: 5_000 });
  await page.fill('#title', '');
  await page.waitForFunction(() => document.getElementById('title-error').textContent !== '', null, { timeout: 5_000 });
  assert.match(await page.textContent('#title-error'), /at least 1 character/);
  assert.deepEqual(errors, []);
});

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}
