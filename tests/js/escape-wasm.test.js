// The shared escaping table (tests/fixtures/escape-cases.json), which the JS
// twin js/escape.js also passes, run through WASM templates: text cases as
// {{v}}, attribute cases as <p title="{{v}}">, URL cases as <a ATTR="{{v}}">.
// C and JS must agree byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Core } from '../../js/core.js';
import { compileTemplate } from '../../js/template.js';

const fixture = new URL('../fixtures/escape-cases.json', import.meta.url);
const cases = fs.existsSync(fixture) ? JSON.parse(fs.readFileSync(fixture, 'utf8')) : null;
const core = await Core.create({ wasm: new URL('../../dist/nitro.wasm', import.meta.url) });

// Renders `v` in the case's context and strips the surrounding markup.
const compiled = new Map();
function renderIn(context, attr, v) {
  const [pre, post] = context === 'text' ? ['', ''] : context === 'attr' ? ['<p title="', '">'] : [`<a ${attr}="`, '">'];
  const key = pre + post;
  if (!compiled.has(key)) compiled.set(key, compileTemplate(core, `${pre}{{v}}${post}`));
  const out = compiled.get(key).render({ v });
  assert.ok(out.startsWith(pre) && out.endsWith(post), `markup kept around ${JSON.stringify(out)}`);
  return out.slice(pre.length, out.length - post.length);
}

test('every case of escape-cases.json renders the same in WASM', { skip: cases ? false : 'tests/fixtures/escape-cases.json not written yet' }, () => {
  assert.ok(cases.length > 100);
  const contexts = new Set(cases.map((c) => c.context));
  assert.deepEqual([...contexts].sort(), ['attr', 'text', 'url']);
  const failures = [];
  for (const c of cases) {
    const got = renderIn(c.context, c.attr, c.input);
    if (got !== c.expected) failures.push(`${c.name}: got ${JSON.stringify(got)}, expected ${JSON.stringify(c.expected)}`);
  }
  assert.equal(failures.length, 0, failures.join('\n'));
});

test('escaping of text and attribute values', () => {
  assert.equal(renderIn('text', null, `<script>alert('x' + "y" + \`z\`)</script> & co`),
    '&lt;script&gt;alert(&#39;x&#39; + &quot;y&quot; + &#96;z&#96;)&lt;/script&gt; &amp; co');
  assert.equal(renderIn('attr', null, '" onmouseover="x'), '&quot; onmouseover=&quot;x');
  assert.equal(renderIn('text', null, 'a\u0000b\ud800c'), 'a\ufffdb\ufffdc');
  assert.equal(renderIn('text', null, '\ufeffbom kept'), '\ufeffbom kept');
  assert.equal(renderIn('text', null, '\u{1F680} n\u0303'), '\u{1F680} n\u0303');
});

test('URL attributes refuse script schemes in every disguise', () => {
  const refused = [
    'javascript:alert(1)', ' JAVASCRIPT:x', '\tjava\nscript:x', '&#106;avascript:x', '&#x6A;avascript:x',
    'javascript&colon;x', 'jav&Tab;ascript:x', 'java&NewLine;script:x', '\u0001javascript:x',
    'vbscript:x', 'data:text/html,<script>', 'data:image/svg+xml,<svg onload=x>',
  ];
  for (const attr of ['href', 'src', 'formaction', 'xlink:href', 'action', 'poster']) {
    for (const v of refused) assert.equal(renderIn('url', attr, v), 'about:invalid', `${attr}=${JSON.stringify(v)}`);
  }
  assert.equal(renderIn('url', 'src', 'data:image/png;base64,AAAA'), 'data:image/png;base64,AAAA');
  assert.equal(renderIn('url', 'href', '/a?b=1&c=<2>'), '/a?b=1&amp;c=&lt;2&gt;');
  assert.equal(renderIn('url', 'title', 'javascript:x'), 'javascript:x');
});
