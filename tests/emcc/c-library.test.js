// The C core as a static library (dist/c/, bash build.sh --emscripten):
// examples/c/hello.c and a C++ program link it with Emscripten and run under
// Node, storing records, querying them and rendering a template in C.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const root = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const lib = path.join(root, 'dist', 'c', 'libnitro.a');
const include = path.join(root, 'dist', 'c', 'include');
// Debian's emcc finds acorn (for its JS output) only through NODE_PATH.
const env = { ...process.env, NODE_PATH: [process.env.NODE_PATH, '/usr/share/nodejs'].filter(Boolean).join(path.delimiter) };
const LINK = ['-O2', '-sALLOW_MEMORY_GROWTH', '-sENVIRONMENT=node', '-sWASM_ASYNC_COMPILATION=0'];
let tmp;

before(() => {
  if (!fs.existsSync(lib)) throw new Error(`${lib} is missing: run bash build.sh --emscripten first`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nitro-clib-'));
  // emcc writes CommonJS; keep the scratch directory out of any "type": "module".
  fs.writeFileSync(path.join(tmp, 'package.json'), '{"type":"commonjs"}');
});
after(() => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); });

async function buildAndRun(compiler, source, name) {
  const out = path.join(tmp, `${name}.js`);
  await run(compiler, [...LINK, '-Wall', '-Wextra', '-Werror', source, `-I${include}`, lib, '-o', out],
    { env, timeout: 180_000, maxBuffer: 16 << 20 });
  return run(process.execPath, [out], { timeout: 30_000 });
}

test('the library ships nitro.h and every header it includes', () => {
  const have = new Set(fs.readdirSync(include));
  for (const h of have) {
    for (const [, dep] of fs.readFileSync(path.join(include, h), 'utf8').matchAll(/#include "([^"]+)"/g)) {
      assert.ok(have.has(dep), `${h} includes ${dep}, which dist/c/include lacks`);
    }
  }
  assert.ok(have.has('nitro.h') && have.has('store.h') && have.has('template.h'));
});

test('examples/c/hello.c links libnitro.a with emcc and prints the rendered template', async () => {
  const { stdout, stderr } = await buildAndRun('emcc', path.join(root, 'examples', 'c', 'hello.c'), 'hello');
  assert.equal(stderr, '');
  assert.equal(stdout, fs.readFileSync(path.join(root, 'tests', 'emcc', 'hello.c.out'), 'utf8'));
});

test('a C++ program links the same library through nitro.h', async () => {
  const src = path.join(tmp, 'render.cpp');
  fs.writeFileSync(src, `
#include <cstdio>
#include <cstring>
#include "nitro.h"
int main() {
  const char *t = "<p>{{#items}}{{.}};{{/items}}</p>";
  const uint8_t data[] = { NVAL_OBJ, 1, 0, 0, 0, 5, 0, 0, 0, 'i', 't', 'e', 'm', 's',
                           NVAL_ARR, 2, 0, 0, 0, NVAL_STR, 1, 0, 0, 0, '<', NVAL_NUM, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f };
  if (nval_check(data, sizeof data) != sizeof data) return 2;
  nw_error err; nw_error_clear(&err);
  nw_tpl *tpl = nullptr;
  if (nw_tpl_compile(t, std::strlen(t), nullptr, 0, true, &tpl, &err) != NW_OK) return 3;
  nv root; nval_view(&root, data, nullptr);
  nw_buf out; nw_buf_init(&out);
  nw_code rc = nw_tpl_render(tpl, &root, &out, nullptr, &err);
  if (rc == NW_OK) std::fwrite(out.p, 1, out.len, stdout);
  nw_buf_free(&out);
  nw_tpl_free(tpl);
  nw_store *s = nw_store_new();
  std::printf("\\nstore %s\\n", s ? "ok" : "null");
  nw_store_free(s);
  return rc;
}
`);
  const { stdout } = await buildAndRun('em++', src, 'render');
  assert.equal(stdout, '<p>&lt;;1.5;</p>\nstore ok\n');
});
