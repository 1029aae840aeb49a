// The packed tarball inside the two bundlers users reach for: an esbuild
// bundle and a Vite production build of the same small app, each served over
// HTTP and run in real Chromium, plus the esbuild bundle run by Node. What
// matters is that nitro.wasm is found in each (Vite rewrites
// `new URL('./nitro.wasm', import.meta.url)` into a hashed asset; esbuild
// leaves it alone, so the README tells esbuild users to copy the file next
// to the bundle, which this test does the same way).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.js';

const run = promisify(execFile);
const repoRoot = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CHROMIUM = '/usr/bin/chromium';
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
Object.assign(env, { npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' });
const npm = (args, cwd) => run('npm', args, { cwd, env, timeout: 60_000, maxBuffer: 16 << 20 });

const MAIN = `
import { createNitro } from 'nitro-wasm';
import { Div, Span } from 'nitro-wasm/html';

const nitro = await createNitro();
const Task = nitro.entity('Task', { fields: { title: { type: 'string', required: true }, done: { type: 'bool', default: false } } });
Task.insertMany([{ title: 'bundled <ok>' }, { title: 'second', done: true }]);
const list = nitro.template('<ul>{{#tasks}}<li>{{title}}</li>{{/tasks}}</ul>');
const html = list.render({ tasks: Task.where({ done: false }) }) + String(Div({ id: 'b' }, Span('a < b')));
if (typeof document !== 'undefined') {
  document.querySelector('#app').innerHTML = html;
  document.body.dataset.done = 'yes';
} else {
  console.log(html);
}
`;
const EXPECTED = '<ul><li>bundled &lt;ok&gt;</li></ul><div id="b"><span>a &lt; b</span></div>';

let tmp, app, chromium;

before(async () => {
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'nitro.wasm'))) throw new Error('dist/nitro.wasm is missing: run bash build.sh first');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nitro-bundlers-'));
  const { stdout } = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], repoRoot);
  const tarball = path.join(tmp, JSON.parse(stdout)[0].filename);
  app = path.join(tmp, 'app');
  fs.mkdirSync(path.join(app, 'src'), { recursive: true });
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  await npm(['install', tarball, '--omit=optional', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock'], app);
  fs.writeFileSync(path.join(app, 'src', 'main.js'), MAIN);
  fs.writeFileSync(path.join(app, 'index.html'),
    '<!doctype html><html><head><meta charset="utf-8"><title>app</title></head><body><div id="app"></div><script type="module" src="/src/main.js"></script></body></html>');
  ({ chromium } = await import('playwright-core'));
});

after(() => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); });

async function inChromium(dir) {
  const server = await startServer({ port: 0, host: '127.0.0.1', rootMap: { '/': dir } });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text()); });
    page.on('response', (r) => { if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) errors.push(`${r.status()} ${r.url()}`); });
    const wasmRequests = [];
    page.on('request', (r) => { if (r.url().endsWith('.wasm')) wasmRequests.push(new URL(r.url()).pathname); });
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForSelector('body[data-done="yes"]', { timeout: 10_000 }).catch(() => {});
    assert.deepEqual(errors, []);
    return { html: await page.innerHTML('#app'), wasmRequests };
  } finally {
    await browser.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

test('esbuild: the bundle runs in Chromium and in Node with nitro.wasm copied next to it', { skip: !fs.existsSync(CHROMIUM) && 'no chromium' }, async () => {
  const esbuild = await import('esbuild');
  const out = path.join(app, 'esb');
  fs.mkdirSync(path.join(out, 'src'), { recursive: true });
  await esbuild.build({
    entryPoints: [path.join(app, 'src', 'main.js')], bundle: true, format: 'esm', platform: 'browser',
    target: 'es2022', outfile: path.join(out, 'src', 'main.js'), external: ['node:*'], logLevel: 'silent',
  });
  fs.copyFileSync(path.join(app, 'node_modules', 'nitro-wasm', 'dist', 'nitro.wasm'), path.join(out, 'src', 'nitro.wasm'));
  fs.copyFileSync(path.join(app, 'index.html'), path.join(out, 'index.html'));
  const { html, wasmRequests } = await inChromium(out);
  assert.equal(html, EXPECTED);
  assert.deepEqual(wasmRequests, ['/src/nitro.wasm']);

  const nodeOut = path.join(app, 'esb-node.mjs');
  await esbuild.build({
    entryPoints: [path.join(app, 'src', 'main.js')], bundle: true, format: 'esm', platform: 'node',
    target: 'node20', outfile: nodeOut, logLevel: 'silent',
  });
  fs.copyFileSync(path.join(app, 'node_modules', 'nitro-wasm', 'dist', 'nitro.wasm'), path.join(app, 'nitro.wasm'));
  const { stdout } = await run(process.execPath, [nodeOut], { cwd: app, env, timeout: 20_000 });
  assert.equal(stdout.trim(), EXPECTED);
});

test('Vite: a production build emits nitro.wasm as an asset and runs in Chromium', { skip: !fs.existsSync(CHROMIUM) && 'no chromium' }, async () => {
  const { build } = await import('vite');
  await build({ root: app, logLevel: 'silent', build: { outDir: 'dist', target: 'es2022', emptyOutDir: true } });
  const assets = fs.readdirSync(path.join(app, 'dist', 'assets'));
  const wasm = assets.filter((f) => f.endsWith('.wasm'));
  assert.equal(wasm.length, 1, `one wasm asset in ${assets.join(', ')}`);
  assert.deepEqual(fs.readFileSync(path.join(app, 'dist', 'assets', wasm[0])), fs.readFileSync(path.join(repoRoot, 'dist', 'nitro.wasm')));
  const { html, wasmRequests } = await inChromium(path.join(app, 'dist'));
  assert.equal(html, EXPECTED);
  assert.deepEqual(wasmRequests, [`/assets/${wasm[0]}`]);
});
