// The Emscripten build (bash build.sh --emscripten, docs/toolchains.md): the
// same calls as the default clang + wasi-libc build, its one import met by
// the loader, and NITRO_WASM pointing the Node loader at it. scripts/test.sh
// runs these, and tests/js/*.test.js, with NITRO_WASM set to that build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createNitro } from '../../dist/nitro.js';

const run = promisify(execFile);
const root = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const clangWasm = path.join(root, 'dist', 'nitro.wasm');
const emccWasm = path.join(root, 'build', 'emcc', 'nitro.wasm');

function module(file) {
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run bash build.sh --emscripten first`);
  return new WebAssembly.Module(fs.readFileSync(file));
}

const names = (list) => list.map((e) => `${e.kind} ${e.module ? `${e.module}.` : ''}${e.name}`).sort();

test('the Emscripten build exports exactly the calls of the clang build', () => {
  const clang = names(WebAssembly.Module.exports(module(clangWasm)));
  const emcc = names(WebAssembly.Module.exports(module(emccWasm)));
  assert.ok(clang.includes('function nw_template_render') && clang.includes('memory memory'));
  assert.deepEqual(emcc, clang);
});

test('its one import is the memory growth notice; the clang build has none', () => {
  assert.deepEqual(names(WebAssembly.Module.imports(module(emccWasm))), ['function env.emscripten_notify_memory_growth']);
  assert.deepEqual(WebAssembly.Module.imports(module(clangWasm)), []);
});

test('records and renders stay intact across many memory growths of the Emscripten build', async () => {
  const nitro = await createNitro({ wasm: emccWasm });
  const start = nitro.stats().memoryBytes;
  const Note = nitro.entity('Note', { fields: { body: { type: 'string' }, n: { type: 'int' } } });
  const body = (i) => `${i}:`.padEnd(2000, String.fromCharCode(97 + (i % 26)));
  for (let i = 0; i < 20_000; i += 1000) {
    Note.insertMany(Array.from({ length: 1000 }, (_, k) => ({ id: `n${i + k}`, body: body(i + k), n: i + k })));
  }
  assert.ok(nitro.stats().memoryBytes >= start + 40e6, `memory grew from ${start} to ${nitro.stats().memoryBytes}`);
  for (const i of [0, 1, 9_999, 19_999]) assert.deepEqual(Note.get(`n${i}`).toJSON(), { id: `n${i}`, body: body(i), n: i });
  const tpl = nitro.template('{{#notes}}{{n}},{{/notes}}');
  const html = tpl.render({ notes: Note.where({}).orderBy('n').limit(3) });
  assert.equal(html, '0,1,2,');
  assert.equal(Note.count(), 20_000);
});

async function nodeWith(env, script) {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root, env: { ...process.env, ...env }, timeout: 60_000,
  });
  return JSON.parse(stdout);
}

const probe = `
import { createNitro } from './dist/nitro.js';
try {
  const nitro = await createNitro();
  const T = nitro.entity('T', { fields: { s: { type: 'string' } } });
  console.log(JSON.stringify({ ok: T.get(T.create({ s: 'hi' }).id).s }));
} catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;

test('NITRO_WASM names the wasm the Node loader uses by default', async () => {
  const missing = path.join(root, 'build', 'no-such.wasm');
  const bad = await nodeWith({ NITRO_WASM: missing }, probe);
  assert.equal(bad.code, 'LIMIT');
  assert.ok(bad.message.includes(missing), bad.message);
  assert.deepEqual(await nodeWith({ NITRO_WASM: emccWasm }, probe), { ok: 'hi' });
  const env = { ...process.env };
  delete env.NITRO_WASM;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: root, env, timeout: 60_000 });
  assert.deepEqual(JSON.parse(stdout), { ok: 'hi' });
});

test('an explicit wasm option wins over NITRO_WASM', async () => {
  const script = probe.replace('createNitro()', `createNitro({ wasm: ${JSON.stringify(clangWasm)} })`);
  assert.deepEqual(await nodeWith({ NITRO_WASM: path.join(root, 'build', 'no-such.wasm') }, script), { ok: 'hi' });
});
