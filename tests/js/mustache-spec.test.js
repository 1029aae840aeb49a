// The official Mustache spec, run through the WASM template engine: every
// test of the required modules and of ~inheritance must pass byte for byte.
// The spec files are read-only shared data (../shared/mustache-spec from the
// repository root, or $MUSTACHE_SPEC_DIR); without them this test is skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Core } from '../../js/core.js';
import { compileTemplate } from '../../js/template.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const specDir = process.env.MUSTACHE_SPEC_DIR || path.resolve(repoRoot, '..', 'shared', 'mustache-spec');
const present = fs.existsSync(path.join(specDir, 'interpolation.json'));

const REQUIRED = ['comments', 'delimiters', 'interpolation', 'inverted', 'partials', 'sections', '~inheritance'];
const SKIPPED = {
  '~lambdas': 'lambdas are not supported: JS functions cannot cross into WebAssembly (data holding a function reads as absent)',
  '~dynamic-names': 'dynamic partial names ({{>*name}}) are not supported',
};

const core = present ? await Core.create({ wasm: new URL('../../dist/nitro.wasm', import.meta.url) }) : null;

for (const mod of REQUIRED) {
  test(`mustache spec: ${mod}`, { skip: present ? false : `no spec files in ${specDir}` }, () => {
    const file = path.join(specDir, `${mod}.json`);
    const { tests } = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.ok(tests.length > 0);
    const failures = [];
    for (const t of tests) {
      let got;
      try {
        const tpl = compileTemplate(core, t.template, { partials: t.partials ?? {} });
        got = tpl.render(t.data);
        tpl.free();
      } catch (err) {
        got = `(threw ${err.code}: ${err.message})`;
      }
      if (got !== t.expected) failures.push(`${t.name}: ${t.desc}\n  template ${JSON.stringify(t.template)}\n  got      ${JSON.stringify(got)}\n  expected ${JSON.stringify(t.expected)}`);
    }
    assert.equal(failures.length, 0, `${failures.length} of ${tests.length} failed:\n${failures.join('\n')}`);
  });
}

for (const [mod, reason] of Object.entries(SKIPPED)) {
  test(`mustache spec: ${mod}`, { skip: reason }, () => {});
}
