// The boundary constants: js/wire.js is what scripts/gen-wire.js makes of
// src/wire.h (so a change to one side alone fails here), and no JS module
// carries its own copy of a tag, kind, flag or op code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { generate, parseWire } from '../../scripts/gen-wire.js';

const root = new URL('../../', import.meta.url);
const read = (p) => readFileSync(new URL(p, root), 'utf8');

test('js/wire.js is current with src/wire.h', () => {
  assert.equal(read('js/wire.js'), generate(read('src/wire.h')));
  assert.equal(read('dist/wire.js'), read('js/wire.js'));
});

test('the generator refuses a table entry it cannot read', () => {
  assert.throws(() => parseWire('#define NW_WIRE_BAD(X) X(A, 1) X(B, 1 << 2)\n'), /NW_WIRE_BAD/);
  const groups = parseWire('#define NW_WIRE_T(X) \\\n    X(A, 0x0A) X(B, 2, "bee")\n');
  assert.deepEqual(groups, [{ group: 'T', entries: [{ name: 'A', value: 10, js: null }, { name: 'B', value: 2, js: 'bee' }] }]);
});

test('the tags JS reads are the ones C writes', async () => {
  const { TAG, HINT, EV_NAMES } = await import('../../dist/wire.js');
  assert.equal(TAG.ENUM, 0x0c);
  assert.equal(EV_NAMES[1], 'beforeSave');
  const { createNitro } = await import('../../dist/nitro.js');
  const nitro = await createNitro();
  const E = nitro.entity('E', { fields: { d: { type: 'datetime', optional: true }, e: { type: 'enum', values: ['x'], optional: true }, n: { type: 'decimal', optional: true } } });
  assert.deepEqual(E.fields.map((f) => [f.name, f.hint]), [['id', HINT.STR], ['d', HINT.DATE], ['e', HINT.ENUM], ['n', HINT.TOKEN]]);
});

test('no JS module defines its own tags or switches on field type names', () => {
  const dirs = ['js/', ...readdirSync(new URL('js/', root), { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== 'server').map((d) => `js/${d.name}/`)];
  for (const dir of dirs) {
    for (const name of readdirSync(new URL(dir, root))) {
      if (!name.endsWith('.js') || name === 'wire.js') continue;
      const src = read(dir + name);
      assert.doesNotMatch(src, /\b(?:tag|TAG|op|kind)\s*[!=]==?\s*0x[0-9a-f]+/i, `${dir}${name} compares with a literal tag`);
      assert.doesNotMatch(src, /(?:case|===?)\s*'(?:datetime|int|float|bool|json|decimal)'/, `${dir}${name} switches on a type name`);
    }
  }
});
