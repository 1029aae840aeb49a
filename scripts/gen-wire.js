// gen-wire.js - writes js/wire.js from the X-macro tables of src/wire.h.
//
//   node scripts/gen-wire.js          regenerate js/wire.js (build.sh runs it)
//   node scripts/gen-wire.js --check  exit 1 when js/wire.js is not current
//
// Only `#define NW_WIRE_<GROUP>(X)` tables are read; an entry is
// X(NAME, integer) or X(NAME, integer, "js name"). Anything else inside a
// table is an error, so the two sides cannot silently disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The tables of wire.h: [{ group, entries: [{ name, value, js }] }]. */
export function parseWire(text) {
  const lines = text.split('\n');
  const groups = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^#define NW_WIRE_([A-Z_]+)\(X\)(.*)$/.exec(lines[i]);
    if (!m) continue;
    let body = m[2];
    while (body.endsWith('\\')) body = body.slice(0, -1) + ' ' + lines[++i];
    groups.push({ group: m[1], entries: parseEntries(m[1], body) });
  }
  return groups;
}

function parseEntries(group, body) {
  const entries = [];
  const re = /X\(\s*([A-Z][A-Z0-9_]*)\s*,\s*(0x[0-9A-Fa-f]+|\d+)\s*(?:,\s*"([^"]*)"\s*)?\)/g;
  let rest = body;
  for (let m; (m = re.exec(body));) {
    entries.push({ name: m[1], value: Number(m[2]), js: m[3] ?? null });
    rest = rest.replace(m[0], '');
  }
  if (rest.trim() !== '') throw new Error(`wire.h: NW_WIRE_${group} holds something that is not an X(NAME, value) entry: ${rest.trim()}`);
  return entries;
}

/** The text of js/wire.js. */
export function generate(text) {
  const out = [
    '// wire.js - GENERATED from src/wire.h by scripts/gen-wire.js (build.sh runs it).',
    '// Do not edit: change src/wire.h. Every constant that crosses the JS/WASM',
    '// boundary comes from here.',
    '',
  ];
  for (const { group, entries } of parseWire(text)) {
    const pairs = entries.map((e) => `${e.name}: ${e.value}`).join(', ');
    out.push(`export const ${group} = Object.freeze({ ${pairs} });`);
    if (entries.some((e) => e.js !== null)) {
      const names = [];
      for (const e of entries) names[e.value] = e.js;
      const list = Array.from(names, (n) => (n === undefined || n === null ? 'null' : `'${n}'`)).join(', ');
      out.push(`export const ${group}_NAMES = Object.freeze([${list}]);`);
    }
  }
  return out.join('\n') + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = generate(readFileSync(`${root}src/wire.h`, 'utf8'));
  const target = `${root}js/wire.js`;
  let current = null;
  try { current = readFileSync(target, 'utf8'); } catch { /* absent */ }
  if (process.argv.includes('--check')) {
    if (current !== text) {
      console.error('gen-wire: js/wire.js is not current; run node scripts/gen-wire.js');
      process.exit(1);
    }
  } else if (current !== text) {
    writeFileSync(target, text);
  }
}
