// docs/api.md is generated from the shipped .d.ts files and the C error table;
// a change to either without regenerating it fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { render } from '../../scripts/api-docs.js';

test('docs/api.md matches the .d.ts files and the C error table (node scripts/api-docs.js)', () => {
  const doc = fs.readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
  assert.equal(doc, render());
  for (const code of ['VALIDATION', 'NOT_FOUND', 'DUPLICATE', 'SCHEMA', 'QUERY', 'TEMPLATE', 'CANCELLED', 'CONFLICT', 'SYNC', 'CORRUPT', 'LIMIT', 'CLOSED']) {
    assert.match(doc, new RegExp(`\\| \`${code}\` \\|`), `${code} is documented`);
  }
});
