// The foundation slice end to end: the dev server (scripts/serve.js) over
// HTTP, then the demo page, the ESM build, the script-tag build and the
// no-build example in real Chromium (Debian's /usr/bin/chromium via
// playwright-core). Any console error on a page fails its test.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import http from 'node:http';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.js';
import { startTestServer, launchChromium } from './server.js';

const repoRoot = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const sharedDir = path.resolve(repoRoot, '..', 'shared');
const distDir = path.join(repoRoot, 'dist');
const CHROMIUM = '/usr/bin/chromium';
const WAIT = { timeout: 10_000 };

function requireBuild() {
  for (const f of ['nitro.wasm', 'nitro.js', 'nitro.iife.js']) {
    if (!fs.existsSync(path.join(distDir, f))) throw new Error(`dist/${f} is missing: run bash build.sh first`);
  }
}

/** A raw GET: node:http sends the path exactly as given (fetch would
 * normalise `..` away before it reaches the server). */
function rawRequest(origin, rawPath, method = 'GET') {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path: rawPath, method, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

// ---------------------------------------------------------------------------------
describe('dev server: scripts/serve.js', () => {
  let srv;
  before(async () => { srv = await startTestServer(); });
  after(() => srv?.close());

  test('serves the demo at / and the build at /dist/ with the right types, uncached', async () => {
    requireBuild();
    const page = await rawRequest(srv.origin, '/');
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'], /^text\/html/);
    assert.equal(page.headers['cache-control'], 'no-cache');
    assert.equal(page.body.toString(), fs.readFileSync(path.join(repoRoot, 'web', 'index.html'), 'utf8'));

    const cases = [
      ['/dist/nitro.wasm', 'application/wasm', path.join(distDir, 'nitro.wasm')],
      ['/dist/nitro.js', 'text/javascript', path.join(distDir, 'nitro.js')],
      ['/dist/nitro.iife.js', 'text/javascript', path.join(distDir, 'nitro.iife.js')],
      ['/app.js', 'text/javascript', path.join(repoRoot, 'web', 'app.js')],
      ['/app.css', 'text/css', path.join(repoRoot, 'web', 'app.css')],
      ['/script-tag.html', 'text/html', path.join(repoRoot, 'web', 'script-tag.html')],
    ];
    for (const [url, type, file] of cases) {
      const res = await rawRequest(srv.origin, url);
      assert.equal(res.status, 200, url);
      assert.equal(res.headers['content-type'].split(';')[0], type, url);
      assert.equal(res.headers['cache-control'], 'no-cache', url);
      assert.ok(res.body.equals(fs.readFileSync(file)), `${url} body is the file`);
    }
  });

  test('answers 404 for missing files, 405 for writes, HEAD without a body, and redirects /dist', async () => {
    assert.equal((await rawRequest(srv.origin, '/no-such-file.js')).status, 404);
    assert.equal((await rawRequest(srv.origin, '/dist/no-such-file.js')).status, 404);
    const post = await rawRequest(srv.origin, '/app.js', 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    const head = await rawRequest(srv.origin, '/app.css', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers['content-length']), fs.statSync(path.join(repoRoot, 'web', 'app.css')).size);
    assert.equal(head.body.length, 0);
    const dist = await rawRequest(srv.origin, '/dist');
    assert.equal(dist.status, 301);
    assert.equal(dist.headers.location, '/dist/');
  });

  test('serves /datastar.js from ../shared/datastar-1.0.2/', async (t) => {
    const file = path.join(sharedDir, 'datastar-1.0.2', 'datastar.js');
    if (!fs.existsSync(file)) return t.skip('../shared/datastar-1.0.2/ is not present');
    const res = await rawRequest(srv.origin, '/datastar.js');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^text\/javascript/);
    assert.ok(res.body.equals(fs.readFileSync(file)));
  });

  test('never serves files outside the repository mounts', async () => {
    const pkg = fs.readFileSync(path.join(repoRoot, 'package.json'));
    for (const p of ['/../package.json', '/%2e%2e/package.json', '/dist/../package.json',
      '/dist/%2e%2e/package.json', '/dist/..%2f..%2fpackage.json', '/%2e%2e%2fpackage.json',
      '/dist/%2e%2e%2f%2e%2e%2fweb/index.html', '//..//package.json', '/..\\package.json', '/%00index.html']) {
      const res = await rawRequest(srv.origin, p);
      assert.ok(res.status >= 400 && res.status < 500, `${p} -> ${res.status}`);
      assert.ok(!res.body.equals(pkg), `${p} must not return package.json`);
    }
  });

  describe('staticHandler over a scratch tree', () => {
    let dir, server, origin;
    const SECRET = 'top secret, outside every mount';
    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nitro-serve-'));
      const pub = path.join(dir, 'public');
      fs.mkdirSync(path.join(pub, 'sub'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'secret.txt'), SECRET);
      const files = { 'a.json': '{"a":1}', 'b.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>', 'c.png': 'png',
        'd.mjs': 'export {}', 'e.wasm': '\0asm', 'f.bin': 'x', 'sub/index.html': '<p>sub</p>' };
      for (const [name, body] of Object.entries(files)) fs.writeFileSync(path.join(pub, name), body);
      fs.symlinkSync(path.join(dir, 'secret.txt'), path.join(pub, 'link.txt'));
      server = await startServer({ port: 0, rootMap: { '/': pub, '/nested/': path.join(pub, 'sub'), '/one.json': path.join(pub, 'a.json') } });
      origin = `http://127.0.0.1:${server.address().port}`;
    });
    after(async () => {
      if (server) await new Promise((r) => { server.close(r); server.closeAllConnections(); });
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    test('maps extensions to MIME types', async () => {
      const want = { '/a.json': 'application/json', '/b.svg': 'image/svg+xml', '/c.png': 'image/png',
        '/d.mjs': 'text/javascript', '/e.wasm': 'application/wasm', '/f.bin': 'application/octet-stream',
        '/sub/': 'text/html', '/nested/': 'text/html', '/one.json': 'application/json' };
      for (const [url, type] of Object.entries(want)) {
        const res = await rawRequest(origin, url);
        assert.equal(res.status, 200, url);
        assert.equal(res.headers['content-type'].split(';')[0], type, url);
      }
      assert.equal((await rawRequest(origin, '/nested/')).body.toString(), '<p>sub</p>');
    });

    test('refuses traversal, encoded traversal and symlinks that leave the mount', async () => {
      // The control: the same file is readable when it is inside a mount.
      assert.equal((await rawRequest(origin, '/sub/index.html')).status, 200);
      for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E%2Fsecret.txt', '/nested/../../secret.txt',
        '/nested/..%2f..%2fsecret.txt', '/nested/%2e%2e/%2e%2e/secret.txt', '/link.txt', '/sub/../../secret.txt',
        '/%252e%252e/secret.txt', '/secret.txt%00.html', '/%ff%fe']) {
        const res = await rawRequest(origin, p);
        assert.ok(res.status >= 400 && res.status < 500, `${p} -> ${res.status}`);
        assert.ok(!res.body.toString().includes(SECRET), `${p} leaked the file`);
      }
      // Plain and %2e dot segments are resolved as URLs are (a browser does the
      // same), so they can only reach another mount. Encoded slashes survive
      // URL parsing and reach the path check: a mount is its own root, so
      // climbing out of /nested/ is refused even towards a file another mount serves.
      assert.equal((await rawRequest(origin, '/nested/%2e%2e/a.json')).body.toString(), '{"a":1}');
      assert.equal((await rawRequest(origin, '/nested/..%2fa.json')).status, 403);
      assert.equal((await rawRequest(origin, '/nested/..%2f..%2fsecret.txt')).status, 403);
      assert.equal((await rawRequest(origin, '/..%2fsecret.txt')).status, 403);
    });
  });

  test('node scripts/serve.js --port 0 prints its URL and serves the demo', async () => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'serve.js'), '--port', '0', '--db', ':memory:'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = await new Promise((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          if (out.includes('\n')) resolve(out.split('\n')[0]);
        });
        child.on('exit', (code) => reject(new Error(`serve.js exited with ${code}`)));
      });
      const m = /^nitro-wasm demo: http:\/\/localhost:(\d+)\/$/.exec(line);
      assert.ok(m, `unexpected banner: ${line}`);
      const res = await rawRequest(`http://127.0.0.1:${m[1]}`, '/');
      assert.equal(res.status, 200);
      assert.match(res.body.toString(), /<script type="module" src="\/app\.js"><\/script>/);
      const pulled = await rawRequest(`http://127.0.0.1:${m[1]}`, '/sync/pull');
      assert.equal(pulled.status, 200, 'the sync server answers at /sync');
    } finally {
      child.kill('SIGTERM');
    }
  });
});

// ---------------------------------------------------------------------------------
// Checks that run inside the page. They are serialised into the test pages
// with Function.prototype.toString, so they must be self-contained. They
// report what they observe; the assertions are made here in Node.

async function exercise(N) {
  const nitro = await N.createNitro();
  const Task = nitro.entity('Task', {
    fields: {
      title: { type: 'string', required: true, minLength: 1, maxLength: 200 },
      status: { type: 'enum', values: ['open', 'done', 'blocked'], default: 'open' },
      priority: { type: 'int', min: 1, max: 5, default: 3 },
      tags: { type: 'list', of: 'string', default: [] },
    },
  });
  const events = [];
  for (const type of ['created', 'updated', 'deleted']) nitro.on(`Task.${type}`, (e) => events.push(`${e.type} ${e.record.title}`));
  const out = {};
  const a = Task.create({ title: 'alpha', tags: ['x', 'ünï'] });
  const b = Task.create({ title: 'beta', priority: 5 });
  out.created = [a.toJSON(), b.toJSON()];
  out.recordMethods = ['save', 'update', 'delete', 'toJSON'].filter((m) => typeof a[m] === 'function');
  out.got = Task.get(a.id).toJSON();
  out.updated = Task.update(a.id, { status: 'done' }).toJSON();
  out.gotAfterUpdate = Task.get(a.id).toJSON();
  out.recordUpdate = b.update({ priority: 1 }).toJSON();
  out.deleted = Task.delete(b.id);
  out.deletedAgain = Task.delete(b.id);
  out.getDeleted = Task.get(b.id);
  out.all = Task.all().map((r) => r.toJSON());
  out.count = Task.count();
  const caught = (fn) => {
    try {
      fn();
      return null;
    } catch (e) {
      return { isNitroError: e instanceof N.NitroError, isError: e instanceof Error, name: e.name,
        code: e.code, entity: e.entity, field: e.field, rule: e.rule, message: e.message };
    }
  };
  out.tooHigh = caught(() => Task.create({ title: 'gamma', priority: 9 }));
  out.emptyTitle = caught(() => Task.create({ title: '' }));
  out.notFound = caught(() => Task.update('no-such-id', { title: 'x' }));
  out.countAfterErrors = Task.count();
  out.events = events;
  out.wasmUrls = performance.getEntriesByType('resource').map((r) => new URL(r.name).pathname).filter((p) => p.endsWith('.wasm'));
  return out;
}

async function twoInstances(N) {
  const a = await N.createNitro();
  const b = await N.createNitro();
  const def = { fields: { title: { type: 'string', required: true } } };
  const out = {};
  const TA = a.entity('Task', def);
  const TB = b.entity('Task', def); // the same name again: fine in another instance
  try { a.entity('Task', def); out.redefineSame = null; } catch (e) { out.redefineSame = e.code; }
  let bCreated = 0;
  b.on('Task.created', () => { bCreated++; });
  const r = TA.create({ title: 'only in a' });
  TA.create({ title: 'also in a' });
  out.afterA = { a: TA.count(), b: TB.count(), bGet: TB.get(r.id), bCreated };
  TB.create({ title: 'only in b' });
  out.titles = { a: TA.all().map((t) => t.title), b: TB.all().map((t) => t.title) };
  a.close();
  try { TA.count(); out.closedA = null; } catch (e) { out.closedA = { code: e.code, isNitroError: e instanceof N.NitroError }; }
  out.bAfterCloseA = TB.all().map((t) => t.title);
  return out;
}

function checkExercise(r) {
  const [a, b] = r.created;
  assert.equal(typeof a.id, 'string');
  assert.ok(a.id.length > 0 && a.id !== b.id, 'generated ids are distinct');
  assert.deepEqual(a, { id: a.id, title: 'alpha', status: 'open', priority: 3, tags: ['x', 'ünï'] });
  assert.deepEqual(b, { id: b.id, title: 'beta', status: 'open', priority: 5, tags: [] });
  assert.deepEqual(r.recordMethods, ['save', 'update', 'delete', 'toJSON']);
  assert.deepEqual(r.got, a);
  assert.deepEqual(r.updated, { ...a, status: 'done' });
  assert.deepEqual(r.gotAfterUpdate, r.updated);
  assert.deepEqual(r.recordUpdate, { ...b, priority: 1 });
  assert.equal(r.deleted, true);
  assert.equal(r.deletedAgain, false);
  assert.equal(r.getDeleted, null);
  assert.deepEqual(r.all, [r.updated]);
  assert.equal(r.count, 1);

  assert.deepEqual({ ...r.tooHigh, message: undefined }, {
    isNitroError: true, isError: true, name: 'NitroError', code: 'VALIDATION', entity: 'Task', field: 'priority', rule: 'max', message: undefined,
  });
  assert.match(r.tooHigh.message, /^Task\.priority: .*5.*9/);
  assert.equal(r.emptyTitle.code, 'VALIDATION');
  assert.equal(r.emptyTitle.field, 'title');
  assert.equal(r.emptyTitle.rule, 'minLength');
  assert.equal(r.notFound.code, 'NOT_FOUND');
  assert.equal(r.notFound.isNitroError, true);
  assert.equal(r.countAfterErrors, 1, 'failed calls change nothing');
  assert.deepEqual(r.events, ['Task.created alpha', 'Task.created beta', 'Task.updated alpha', 'Task.updated beta', 'Task.deleted beta']);
  assert.deepEqual([...new Set(r.wasmUrls)], ['/dist/nitro.wasm'], 'nitro.wasm is found next to the script');
}

function checkTwoInstances(r) {
  assert.equal(r.redefineSame, 'SCHEMA');
  assert.deepEqual(r.afterA, { a: 2, b: 0, bGet: null, bCreated: 0 });
  assert.deepEqual(r.titles, { a: ['only in a', 'also in a'], b: ['only in b'] });
  assert.deepEqual(r.closedA, { code: 'CLOSED', isNitroError: true });
  assert.deepEqual(r.bAfterCloseA, ['only in b']);
}

const esmPage = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>esm check</title>
<script type="module">
import { createNitro, NitroError } from '/dist/nitro.js';
${exercise}
${twoInstances}
try {
  const N = { createNitro, NitroError };
  window.__result = { exercise: await exercise(N), two: await twoInstances(N) };
} catch (e) {
  window.__result = { failed: String((e && e.stack) || e) };
}
</script>`;

// A classic script on purpose: the script-tag build must not need modules.
const iifePage = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>iife check</title>
<script src="/dist/nitro.iife.js"></script>
<script>
${exercise}
${twoInstances}
(async () => {
  try {
    const exported = Object.keys(window.Nitro).filter((k) => k === 'createNitro' || k === 'NitroError').sort();
    window.__result = { exported, exercise: await exercise(window.Nitro), two: await twoInstances(window.Nitro) };
  } catch (e) {
    window.__result = { failed: String((e && e.stack) || e) };
  }
})();
</script>`;

// ---------------------------------------------------------------------------------
const noChromium = !fs.existsSync(CHROMIUM) && `${CHROMIUM} is not installed (apt-get install -y chromium)`;

describe('in Chromium', { skip: noChromium }, () => {
  let browser, srv;

  before(async () => {
    requireBuild();
    srv = await startTestServer();
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  /** Opens a page in a fresh context and records every console error,
   * uncaught exception and failed request on it. `routes` serves extra
   * same-origin HTML without adding files to web/. */
  async function open(urlPath, routes = {}) {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT.timeout);
    const errors = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()} (${m.location().url})`); });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.stack || e}`));
    page.on('requestfailed', (req) => errors.push(`requestfailed: ${req.url()} ${req.failure()?.errorText}`));
    for (const [p, body] of Object.entries(routes)) {
      await page.route(srv.origin + p, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body }));
    }
    await page.goto(srv.origin + urlPath);
    return { page, errors, done: () => context.close() };
  }

  async function resultOf(page) {
    await page.waitForFunction(() => window.__result !== undefined, null, WAIT);
    const r = await page.evaluate(() => window.__result);
    if (r.failed) assert.fail(`the page threw: ${r.failed}`);
    return r;
  }

  // The demo board itself (web/) is tested end to end in demo.test.js.

  test('(b) ESM build: import from /dist/nitro.js, CRUD, NitroError, two instances', async () => {
    const { page, errors, done } = await open('/__test/esm.html', { '/__test/esm.html': esmPage });
    try {
      const r = await resultOf(page);
      checkExercise(r.exercise);
      checkTwoInstances(r.two);
      assert.deepEqual(errors, []);
    } finally {
      await done();
    }
  });

  test('(c) script-tag build: the same through window.Nitro', async () => {
    const { page, errors, done } = await open('/__test/iife.html', { '/__test/iife.html': iifePage });
    try {
      const r = await resultOf(page);
      assert.deepEqual(r.exported, ['NitroError', 'createNitro']);
      checkExercise(r.exercise);
      checkTwoInstances(r.two);
      assert.deepEqual(errors, []);
    } finally {
      await done();
    }
  });

  test('(d) two createNitro() instances on the demo page do not share data', async () => {
    // The demo's own instance keeps its tasks while a second one is used.
    const { page, errors, done } = await open('/');
    try {
      await page.waitForSelector('#load-status[data-state="ready"]');
      await page.fill('#new-title', 'demo task');
      await page.click('#add-task');
      await page.waitForFunction(() => document.getElementById('task-count').textContent === '1');
      const r = await page.evaluate(async () => {
        const other = await (await import('/dist/nitro.js')).createNitro();
        const Task = other.entity('Task', { fields: { title: { type: 'string' } } });
        Task.create({ title: 'elsewhere' });
        return { other: Task.all().map((t) => t.title), demo: window.nitroDemo.Task.all().map((t) => t.title) };
      });
      assert.deepEqual(r, { other: ['elsewhere'], demo: ['demo task'] });
      assert.equal(await page.textContent('#task-count'), '1');
      assert.deepEqual(errors, []);
    } finally {
      await done();
    }
  });

  test('the no-build example (web/script-tag.html) lists its notes and shows the rejected one', async () => {
    const { page, errors, done } = await open('/script-tag.html');
    try {
      await page.waitForFunction(() => document.title === '2 notes', null, WAIT);
      const notes = await page.$$eval('#notes li', (els) => els.map((li) => li.textContent));
      assert.equal(notes.length, 2);
      assert.match(notes[0], /Entities live in WebAssembly memory/);
      assert.match(await page.textContent('#summary'), /^Rejected: Note\.text:/);
      assert.deepEqual(errors, []);
    } finally {
      await done();
    }
  });
});
