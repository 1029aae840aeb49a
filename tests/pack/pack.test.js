// The package as users get it: `npm pack` the repository, check what the
// tarball holds, install it into a scratch project without the network, and
// use it from a plain Node ESM script.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const repoRoot = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));

// npm started by `npm test` passes its own npm_* settings down; the scratch
// project must not inherit them (a --prefix or a workspace would redirect the install).
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
Object.assign(env, { npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' });

const npm = (args, cwd) => run('npm', args, { cwd, env, timeout: 45_000, maxBuffer: 16 << 20 });

let tmp, tarball, files;

before(async () => {
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'nitro.wasm'))) {
    throw new Error('dist/nitro.wasm is missing: run bash build.sh first');
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nitro-pack-'));
  // --ignore-scripts: prepack would rebuild dist/ under the test's feet.
  const { stdout } = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], repoRoot);
  const [info] = JSON.parse(stdout);
  tarball = path.join(tmp, info.filename);
  files = info.files.map((f) => f.path).sort();
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('the tarball holds package.json, README.md, CHANGELOG.md, LICENSE, dist/, docs/*.md and examples/ only', () => {
  assert.ok(fs.existsSync(tarball), `npm pack wrote ${tarball}`);
  const top = ['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE'];
  const stray = files.filter((f) => !top.includes(f) && !f.startsWith('dist/') && !f.startsWith('examples/') && !/^docs\/[^/]+\.md$/.test(f));
  assert.deepEqual(stray, [], 'no src/, tests/, node_modules/ or other files');
  // Every doc the README links to ships with it.
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const linked = [...readme.matchAll(/\]\(((?:docs|examples)\/[^)#]+|CHANGELOG\.md)\)/g)].map((m) => m[1]).filter((f) => !f.endsWith('.png'));
  assert.deepEqual(linked.filter((f) => !files.includes(f)), [], 'README links to files the tarball lacks');
  for (const f of ['package.json', 'LICENSE', 'dist/nitro.js', 'dist/nitro.wasm', 'dist/nitro.iife.js']) {
    assert.ok(files.includes(f), `${f} is in the tarball`);
  }
  // The lead is writing README.md; only require it once it exists.
  if (fs.existsSync(path.join(repoRoot, 'README.md'))) assert.ok(files.includes('README.md'), 'README.md is in the tarball');
  // Every file of dist/ that the build made goes out, and nothing else of it.
  const dist = fs.readdirSync(path.join(repoRoot, 'dist'), { recursive: true })
    .filter((f) => fs.statSync(path.join(repoRoot, 'dist', f)).isFile())
    .map((f) => `dist/${f.split(path.sep).join('/')}`)
    .filter((f) => f !== 'dist/app.css')   // the demo's stylesheet stays out of the package
    .sort();
  assert.deepEqual(files.filter((f) => f.startsWith('dist/')), dist);
});

test('every file package.json points to (main, types, exports) is in the tarball', () => {
  const targets = new Set([pkg.main, pkg.types]);
  const walk = (v) => {
    if (typeof v === 'string') targets.add(v);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(pkg.exports);
  const missing = [...targets].filter(Boolean).map((t) => t.replace(/^\.\//, '')).filter((t) => !files.includes(t));
  assert.deepEqual(missing, [], 'package.json names files the tarball lacks');
});

test('installs offline into a fresh project and works from Node ESM', async () => {
  const app = path.join(tmp, 'app');
  fs.mkdirSync(app);
  await npm(['init', '-y'], app);
  const appPkg = JSON.parse(fs.readFileSync(path.join(app, 'package.json'), 'utf8'));
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ ...appPkg, type: 'module' }, null, 2));
  // A browser-only install: --omit=optional leaves out the SQLite driver (a
  // native module), so nothing is compiled and no registry is needed.
  await npm(['install', tarball, '--omit=optional', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock'], app);
  assert.equal(fs.existsSync(path.join(app, 'node_modules', 'better-sqlite3')), false, 'no native module without optional dependencies');

  fs.writeFileSync(path.join(app, 'check.mjs'), `
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createNitro, NitroError } from 'nitro-wasm';

const require = createRequire(import.meta.url);
const out = {};
out.pkg = require('nitro-wasm/package.json');
out.entry = fileURLToPath(import.meta.resolve('nitro-wasm'));
const wasm = fileURLToPath(import.meta.resolve('nitro-wasm/nitro.wasm'));
out.wasmMagic = [...fs.readFileSync(wasm).subarray(0, 4)];

const nitro = await createNitro();
const Task = nitro.entity('Task', {
  fields: {
    title: { type: 'string', required: true, minLength: 1 },
    priority: { type: 'int', min: 1, max: 5, default: 3 },
  },
});
const saved = Task.create({ title: 'from the tarball' });
out.saved = saved.toJSON();
out.read = Task.get(saved.id).toJSON();
out.count = Task.count();
try {
  Task.create({ title: 'too much', priority: 9 });
  out.error = null;
} catch (e) {
  out.error = { isNitroError: e instanceof NitroError, code: e.code, field: e.field, rule: e.rule };
}
out.countAfterError = Task.count();
console.log(JSON.stringify(out));
`);
  const { stdout } = await run(process.execPath, ['check.mjs'], { cwd: app, env, timeout: 20_000 });
  const out = JSON.parse(stdout.trim().split('\n').pop());

  assert.equal(out.pkg.name, 'nitro-wasm');
  assert.equal(out.pkg.version, pkg.version);
  assert.equal(out.entry, path.join(fs.realpathSync(app), 'node_modules', 'nitro-wasm', 'dist', 'nitro.js'),
    'resolves to the installed copy, not the repository');
  assert.deepEqual(out.wasmMagic, [0x00, 0x61, 0x73, 0x6d]);
  assert.equal(typeof out.saved.id, 'string');
  assert.deepEqual(out.saved, { id: out.saved.id, title: 'from the tarball', priority: 3 });
  assert.deepEqual(out.read, out.saved);
  assert.equal(out.count, 1);
  assert.deepEqual(out.error, { isNitroError: true, code: 'VALIDATION', field: 'priority', rule: 'max' });
  assert.equal(out.countAfterError, 1);
});

test('the shipped types check a strict TypeScript consumer (and catch misuse)', async () => {
  const app = path.join(tmp, 'app');
  assert.ok(fs.existsSync(path.join(app, 'node_modules', 'nitro-wasm')), 'the install test ran first');
  const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022', 'dom'], skipLibCheck: false },
    files: ['use.ts'],
  }));
  fs.writeFileSync(path.join(app, 'use.ts'), `
import { createNitro, NitroError, Query, Template } from 'nitro-wasm';
import { h, raw, Div } from 'nitro-wasm/html';
import { sse, readSignals, connectDatastar } from 'nitro-wasm/datastar';
import { createSyncServer, createToken } from 'nitro-wasm/server';

interface Task { id: string; title: string; priority: number; done: boolean }
const nitro = await createNitro();
const Task = nitro.entity<Task>('Task', {
  fields: { title: { type: 'string', required: true }, priority: { type: 'int', default: 3 }, done: { type: 'bool', default: false } },
  indexes: ['priority'], search: ['title'],
});
const t = Task.create({ title: 'x' });
const p: number = t.priority;
const q: Query<Task> = Task.where({ priority: { gte: 2 } }).orderBy('-priority').limit(5);
const n: number = q.count();
const found = Task.search('x', { limit: 3 });
const tpl: Template = nitro.template('<li>{{title}}</li>', { partials: {} });
const html: string = tpl.render({ tasks: q });
const snap: Uint8Array = nitro.snapshot();
nitro.restore(snap);
try { Task.create({ title: 'y' }); } catch (e) { if (e instanceof NitroError) console.log(e.code, e.field, e.rule); }
const token: string = createToken({ user: 'u1', secret: 'long-enough-secret' });
const sync = nitro.sync({ url: '/sync', entities: [Task], token, live: false });
const pending: number = sync.status.pending;
const sub = q.subscribe((c) => { const added: string[] = c.added; const first: Task | undefined = c.result()[0]; console.log(added.length, c.moved, first?.title); });
sub.unsubscribe();
const view = tpl.mount(document.createElement('ul'), { tasks: q }, { adopt: false });
const off: () => void = view.on('click', 'li', (e, id) => console.log(e.type, id ?? ''));
off(); view.update({ tasks: q }).flush(); view.unmount();
console.log(p, n, found.length, html, String(Div({ class: 'a' }, h('b', null, raw('<i>')))), typeof sse, typeof readSignals, typeof connectDatastar, typeof createSyncServer, pending);
`);
  const ok = await run(process.execPath, [tsc, '-p', app], { cwd: app, env, timeout: 60_000 }).then(() => null, (e) => e);
  assert.equal(ok && ok.stdout, null, 'a correct consumer type-checks');

  // The types are not `any`: a wrong call is a compile error.
  fs.writeFileSync(path.join(app, 'use.ts'), `
import { createNitro } from 'nitro-wasm';
const nitro = await createNitro();
const Task = nitro.entity<{ id: string; title: string }>('Task', { fields: { title: { type: 'string' } } });
const n: string = Task.count();
Task.where({ title: 'a' }).limit('5');
Task.query().subscribe((c) => c.added.push(1));
`);
  const err = await run(process.execPath, [tsc, '-p', app], { cwd: app, env, timeout: 60_000 }).then(() => null, (e) => e);
  assert.ok(err, 'tsc rejects misuse');
  assert.match(err.stdout, /use\.ts\(5,7\): error TS2322/);
  assert.match(err.stdout, /use\.ts\(6,34\): error TS2345/);
  assert.match(err.stdout, /use\.ts\(7,/, 'a live change lists ids (strings)');
});

test('the installed bin runs: token works, serve without better-sqlite3 says what to install', async () => {
  const app = path.join(tmp, 'app');
  const bin = path.join(app, 'node_modules', '.bin', 'nitro-wasm');
  assert.ok(fs.existsSync(bin), 'npm linked the nitro-wasm bin');
  const tok = await run(bin, ['token', '--user', 'u1', '--secret', 's3cret-long-enough'], { cwd: app, env, timeout: 20_000 });
  assert.match(tok.stdout.trim(), /^[A-Za-z0-9._-]+$/, 'prints one token');
  fs.writeFileSync(path.join(app, 'schema.mjs'), "export default { Task: { fields: { title: { type: 'string', required: true } } } };\n");
  const err = await run(bin, ['serve', '--schema', './schema.mjs', '--port', '0', '--db', ':memory:', '--secret', 's3cret-long-enough'], { cwd: app, env, timeout: 20_000 })
    .then(() => null, (e) => e);
  assert.ok(err, 'serve fails without the optional peer');
  assert.match(err.stderr, /npm install better-sqlite3/);
});
