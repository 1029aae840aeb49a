// scripts/wasm-exports.js - the export lists of the two WebAssembly builds
// (build.sh --emscripten, docs/toolchains.md).
//
//   node scripts/wasm-exports.js graph a.wasm   a wasm-metadce graph keeping
//       memory, _initialize and the nw_* calls (what the clang build exports)
//   node scripts/wasm-exports.js same a.wasm b.wasm   exits 1 unless both
//       export exactly the same names and kinds
import fs from 'node:fs';

const KEEP = /^(memory|_initialize|nw_\w+)$/;

/** Export descriptors ({ name, kind }) of a .wasm file. */
export function wasmExports(file) {
  return WebAssembly.Module.exports(new WebAssembly.Module(fs.readFileSync(file)));
}

function graph(file) {
  const roots = wasmExports(file).filter((e) => KEEP.test(e.name));
  return roots.map((e) => ({ name: `keep_${e.name}`, export: e.name, root: true }));
}

function differences(a, b) {
  const list = (f) => new Set(wasmExports(f).map((e) => `${e.kind} ${e.name}`));
  const [x, y] = [list(a), list(b)];
  return [...[...x].filter((e) => !y.has(e)).map((e) => `only in ${a}: ${e}`),
    ...[...y].filter((e) => !x.has(e)).map((e) => `only in ${b}: ${e}`)];
}

const [cmd, a, b] = process.argv.slice(2);
if (cmd === 'graph' && a) {
  process.stdout.write(JSON.stringify(graph(a)));
} else if (cmd === 'same' && a && b) {
  const diff = differences(a, b);
  if (diff.length) {
    console.error(`wasm-exports: the two builds export different calls:\n  ${diff.join('\n  ')}`);
    process.exit(1);
  }
} else {
  console.error('usage: node scripts/wasm-exports.js graph a.wasm | same a.wasm b.wasm');
  process.exit(2);
}
