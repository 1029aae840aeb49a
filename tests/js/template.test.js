// The template API (js/template.js over the WASM engine): rendering to
// strings and bytes, partials, strict mode, errors with line and column,
// HTML safety checked by a real HTML parser, JS-identical formatting of
// numbers and dates, awkward text, big and deep inputs.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseFragment } from 'parse5';
import { Core } from '../../js/core.js';
import { NitroError } from '../../js/errors.js';
import { compileTemplate, Template } from '../../js/template.js';
import { safeUrl } from '../../js/escape.js';

const core = await Core.create({ wasm: new URL('../../dist/nitro.wasm', import.meta.url) });
const tpl = (src, opts) => compileTemplate(core, src, opts);
const render = (src, data, opts) => {
  const t = tpl(src, opts);
  try { return t.render(data); } finally { t.free(); }
};

function throwsNitro(fn, props) {
  let caught;
  try { fn(); } catch (err) { caught = err; }
  assert.ok(caught instanceof NitroError, `expected a NitroError, got ${caught}`);
  for (const [k, v] of Object.entries(props)) {
    if (v instanceof RegExp) assert.match(String(caught[k]), v, k);
    else assert.equal(caught[k], v, `${k} of "${caught.message}"`);
  }
  return caught;
}

// ---- parse5 helpers ------------------------------------------------------------------

function walk(node, fn) {
  fn(node);
  for (const c of node.childNodes ?? []) walk(c, fn);
  if (node.content) walk(node.content, fn);
}
function textOf(node) {
  let s = '';
  walk(node, (n) => { if (n.nodeName === '#text') s += n.value; });
  return s;
}
// What an HTML parser makes of a string we meant as text: lone surrogates
// cannot be encoded (U+FFFD), NUL is replaced by the escaper, and the input
// stream turns CR LF and lone CR into LF.
const asParsed = (s) => s.toWellFormed().replace(/\0/g, '\uFFFD').replace(/\r\n?/g, '\n');

// ---- rendering ------------------------------------------------------------------------

describe('render', () => {
  test('strings and bytes', () => {
    const t = tpl('<li id="task-{{id}}" class="{{status}}">{{title}}</li>');
    const data = { id: 7, status: 'open', title: 'Café & <b>ünïcode</b> 🚀' };
    const html = t.render(data);
    assert.equal(html, '<li id="task-7" class="open">Café &amp; &lt;b&gt;ünïcode&lt;/b&gt; 🚀</li>');
    const bytes = t.renderBytes(data);
    assert.ok(bytes instanceof Uint8Array);
    assert.deepEqual(bytes, new TextEncoder().encode(html));
    // a copy: later renders do not change it
    t.render({ id: 8, status: 'done', title: 'other' });
    assert.equal(new TextDecoder().decode(bytes), html);
    assert.equal(t.source, '<li id="task-{{id}}" class="{{status}}">{{title}}</li>');
    t.free();
  });

  test('sections, inverted sections, dotted names, the implicit iterator', () => {
    const src = '<ul>{{#tasks}}<li>{{title}}{{#tags}} [{{.}}]{{/tags}}{{^tags}} (untagged){{/tags}} by {{owner.name}}</li>{{/tasks}}</ul>{{^tasks}}none{{/tasks}}';
    const tasks = [{ title: 'a', tags: ['x', 'y'], owner: { name: 'Ann' } }, { title: 'b', tags: [], owner: { name: 'Bo' } }];
    assert.equal(render(src, { tasks }), '<ul><li>a [x] [y] by Ann</li><li>b (untagged) by Bo</li></ul>');
    assert.equal(render(src, { tasks: [] }), '<ul></ul>none');
    assert.equal(render('{{#user}}{{name}} ({{role}}){{/user}}', { user: { name: 'x' }, role: 'outer' }), 'x (outer)');
  });

  test('values that are absent, null, false, zero or functions', () => {
    assert.equal(render('[{{a}}|{{b}}|{{c}}|{{d}}|{{e}}]', { b: null, c: false, d: 0, e: () => 1 }), '[||false|0|]');
    assert.equal(render('{{#e}}fn{{/e}}{{^e}}absent{{/e}}', { e: () => 1 }), 'absent');
    assert.equal(render('{{#d}}x{{/d}}{{#s}}x{{/s}}', { d: 0, s: '' }), '');
    assert.equal(render('{{x}}', undefined), '');
  });

  test('numbers format like String(n), dates like toISOString()', () => {
    const t = tpl('{{n}}');
    for (const n of [0, -0, 7, -42, 2 ** 53, 1e21, 1e-7, 1.5, 19.99, 0.1 + 0.2, 123456789012345680000, 1e-6, 5e-324, NaN, -Infinity]) {
      assert.equal(t.render({ n }), String(n));
    }
    fc.assert(fc.property(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 0, max: 3 }),
      (i, d) => { const n = i / 10 ** d; return t.render({ n }) === String(n); }), { numRuns: 20000 });
    fc.assert(fc.property(fc.date({ noInvalidDate: true }), (d) => t.render({ n: d }) === d.toISOString()), { numRuns: 1000 });
    assert.equal(t.render({ n: new Date(NaN) }), 'Invalid Date');
    assert.equal(t.render({ n: [1, 'a', true] }), '1,a,true');
    assert.equal(t.render({ n: { a: 1 } }), '[object Object]');
    t.free();
  });

  // Shortest round-trip digits, and among those the closest to n, exactly as
  // Number::toString picks them (e.g. -7.860548149963701e-93, not ...702e-93).
  test('every double formats like String(n)', () => {
    const t = tpl('{{n}}');
    try {
      for (const n of [5e-324, -5e-324, 1.7976931348623157e308, 2 ** -1022, 2 ** 63, 1e21, 1e-7, 123e-20,
        0.1, 0.3, 1 / 3, 9007199254740993, 4.35, 2 ** 1023 * 1.5, 9.999999999999999e22]) {
        assert.equal(t.render({ n }), String(n));
      }
      fc.assert(fc.property(fc.double(), (n) => t.render({ n }) === String(n)), { numRuns: 20000 });
    } finally { t.free(); }
  });

  test('astral and combining characters, NUL bytes, lone surrogates', () => {
    const t = tpl('<p title="{{v}}">{{v}}|{{{v}}}</p>');
    const v = '𝒳 n\u0303 e\u0301 👩‍👩‍👧 \u0000 \ud800';
    const out = t.render({ v });
    assert.equal(out, '<p title="𝒳 n\u0303 e\u0301 👩‍👩‍👧 \ufffd \ufffd">𝒳 n\u0303 e\u0301 👩‍👩‍👧 \ufffd \ufffd|𝒳 n\u0303 e\u0301 👩‍👩‍👧 \u0000 \ufffd</p>');
    t.free();
  });

  test('a 5 MB string value', () => {
    const big = 'x'.repeat(5 << 20);
    const t = tpl('<pre>{{v}}</pre>');
    assert.equal(t.render({ v: big }), `<pre>${big}</pre>`);
    const mixed = `${'é<'.repeat(1 << 20)}🚀`;
    const out = t.render({ v: mixed });
    assert.equal(out.length, 5 + (1 + 4) * (1 << 20) + 2 + 6);
    assert.equal(out, `<pre>${'é&lt;'.repeat(1 << 20)}🚀</pre>`);
    assert.equal(t.renderBytes({ v: big }).length, big.length + 11);
    t.free();
  });

  test('big outputs decode the same on every path', () => {
    // ASCII and non-ASCII outputs above and below the external-string size
    const t = tpl('{{#rows}}<tr><td>{{a}}</td><td>{{b}}</td></tr>\n{{/rows}}');
    for (const n of [10, 40000]) {
      for (const b of ['plain', 'ünï 🚀']) {
        const rows = Array.from({ length: n }, (_, i) => ({ a: i, b }));
        const want = rows.map((r) => `<tr><td>${r.a}</td><td>${r.b}</td></tr>\n`).join('');
        assert.equal(t.render({ rows }), want);
      }
    }
    t.free();
  });
});

// ---- partials ------------------------------------------------------------------------------

describe('partials', () => {
  test('as source strings and as templates', () => {
    const row = tpl('<li id="task-{{id}}">{{title}}</li>');
    const list = tpl('<ul id="tasks">{{#tasks}}{{>row}}{{/tasks}}</ul>', { partials: { row } });
    assert.equal(list.render({ tasks: [{ id: 1, title: 'a' }, { id: 2, title: '<b>' }] }),
      '<ul id="tasks"><li id="task-1">a</li><li id="task-2">&lt;b&gt;</li></ul>');
    const list2 = tpl('<ul>{{#tasks}}{{>row}}{{/tasks}}</ul>', { partials: { row: '<li>{{title}}</li>' } });
    assert.equal(list2.render({ tasks: [{ title: 'x' }] }), '<ul><li>x</li></ul>');
    // a template passed as a partial brings the partials it was compiled with
    const page = tpl('<main>{{>list}}</main>', { partials: { list } });
    assert.equal(page.render({ tasks: [{ id: 3, title: 'c' }] }), '<main><ul id="tasks"><li id="task-3">c</li></ul></main>');
    // freeing a template used as a partial does not affect templates compiled with it
    row.free();
    assert.equal(list.render({ tasks: [{ id: 4, title: 'd' }] }), '<ul id="tasks"><li id="task-4">d</li></ul>');
    for (const t of [list, list2, page]) t.free();
  });

  test('standalone partials are indented, inline ones are not', () => {
    const partials = { item: '<li>\n  {{name}}\n</li>\n' };
    assert.equal(render('<ul>\n  {{>item}}\n</ul>', { name: 'x' }, { partials }), '<ul>\n  <li>\n    x\n  </li>\n</ul>');
    assert.equal(render('<ul>{{>item}}</ul>', { name: 'x' }, { partials }), '<ul><li>\n  x\n</li>\n</ul>');
  });

  test('unknown partials render empty, or fail to compile when strict', () => {
    assert.equal(render('[{{>nope}}]', {}), '[]');
    const err = throwsNitro(() => tpl('line one\n  [{{>nope}}]', { strict: true }), { code: 'TEMPLATE', line: 2, column: 4 });
    assert.match(err.message, /nope/);
    assert.match(err.message, /line 2, column 4/);
    assert.equal(render('[{{>p}}]', {}, { strict: true, partials: { p: 'ok' } }), '[ok]');
  });

  test('inheritance: parents and blocks', () => {
    const layout = tpl('<html><head><title>{{$title}}Untitled{{/title}}</title></head><body>{{$body}}{{/body}}</body></html>');
    const page = tpl('{{<layout}}{{$title}}Tasks ({{count}}){{/title}}{{$body}}<p>{{count}} open</p>{{/body}}{{/layout}}', { partials: { layout } });
    assert.equal(page.render({ count: 3 }), '<html><head><title>Tasks (3)</title></head><body><p>3 open</p></body></html>');
    assert.equal(render('{{<layout}}{{/layout}}', {}, { partials: { layout } }), '<html><head><title>Untitled</title></head><body></body></html>');
    layout.free(); page.free();
  });

  test('a partial that includes itself stops at the depth limit', () => {
    throwsNitro(() => render('{{>me}}', {}, { partials: { me: 'again {{>me}}' } }), { code: 'LIMIT', rule: 'depth' });
    // recursion that data ends is fine
    const tree = { name: 'root', kids: [{ name: 'a', kids: [{ name: 'b', kids: [] }] }, { name: 'c', kids: [] }] };
    assert.equal(render('{{>node}}', tree, { partials: { node: '{{name}}{{#kids.length}}({{#kids}}{{>node}} {{/kids}}){{/kids.length}}' } }), 'root(a(b ) c )');
  });
});

// ---- errors -------------------------------------------------------------------------------

describe('errors', () => {
  const cases = [
    ['Hello {{name', 1, 7, /unclosed tag/],
    ['<ul>\n  {{#tasks}}\n  <li>{{title}}</li>\n</ul>', 2, 3, /unclosed section/],
    ['{{#a}}\n  {{/b}}', 2, 3, /does not match/],
    ['ok\n{{/a}}', 2, 1, /unexpected closing tag/],
    ['{{=<% %>}}', 1, 1, /set-delimiter|delimiters/],
    ['{{= a =}}', 1, 1, /bad delimiters/],
    ['ééé {{}}', 1, 5, /empty tag/],
    ['{{{x}}', 1, 1, /unclosed tag/],
  ];
  for (const [src, line, column, re] of cases) {
    test(`TEMPLATE with line and column: ${JSON.stringify(src)}`, () => {
      const err = throwsNitro(() => tpl(src), { code: 'TEMPLATE', line, column });
      assert.match(err.message, re);
      assert.match(err.message, new RegExp(`line ${line}, column ${column}`));
    });
  }

  test('errors in partials name the partial', () => {
    const err = throwsNitro(() => tpl('{{>row}}', { partials: { row: '<li>\n{{#x}}</li>' } }), { code: 'TEMPLATE', line: 2, column: 1 });
    assert.match(err.message, /partial "row"/);
  });

  test('bad arguments', () => {
    throwsNitro(() => tpl(42), { code: 'TEMPLATE' });
    throwsNitro(() => tpl('x', { partials: { p: 5 } }), { code: 'TEMPLATE' });
    const t = tpl('x');
    t.free();
    t.free();
    throwsNitro(() => t.render({}), { code: 'CLOSED' });
  });

  test('very deep nesting is refused cleanly', () => {
    let deep = {};
    for (let i = 0; i < 200; i++) deep = { a: deep };
    throwsNitro(() => render('{{#a}}x{{/a}}', deep), { code: 'LIMIT' });
    const nested = '{{#a}}'.repeat(300) + '{{/a}}'.repeat(300);
    throwsNitro(() => tpl(nested), { code: 'LIMIT' });
    // the engine is still usable afterwards
    assert.equal(render('{{x}}', { x: 'fine' }), 'fine');
  });

  test('ids of freed templates are reused without mixing them up', () => {
    const a = tpl('a{{x}}');
    const b = tpl('b{{x}}');
    a.free();
    const c = tpl('c{{x}}');
    assert.equal(b.render({ x: 1 }), 'b1');
    assert.equal(c.render({ x: 2 }), 'c2');
    throwsNitro(() => a.render({}), { code: 'CLOSED' });
    b.free(); c.free();
  });
});

// ---- HTML safety ----------------------------------------------------------------------------

describe('HTML safety', () => {
  const vectors = [
    '<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "' onmouseover='alert(1)", '`-alert(1)-`',
    '</textarea><script>x</script>', '<!--', '--><script>x</script>', '<svg onload=alert(1)>', '&lt;script&gt;',
    'javascript:alert(1)', ' JaVaScRiPt:alert(1)', '\tjava\nscript:alert(1)', '&#106;avascript:alert(1)',
    '&#x6A;avascript:alert(1)', '&#0000106avascript:alert(1)', 'javascript&colon;alert(1)', 'jav&Tab;ascript:alert(1)',
    'java&NewLine;script:alert(1)', '\u0001javascript:alert(1)', '&#32;javascript:alert(1)', 'vbscript:msgbox(1)',
    'data:text/html,<script>alert(1)</script>', 'data:image/svg+xml,<svg onload=alert(1)>', 'jav\u0000ascript:alert(1)',
  ];
  const page = tpl(`<div title="{{v}}" data-x='{{v}}'>{{v}}
<a href="{{v}}">a</a><img src="{{v}}"><form action="{{v}}"><button formaction="{{v}}"></button></form>
<svg><a xlink:href="{{v}}"><text>{{v}}</text></a></svg><textarea>{{v}}</textarea><!-- {{v}} --></div>`);

  // Whatever the value, the parsed page has the template's elements and
  // attributes only, no event handlers, and no URL with a script scheme.
  function checkHarmless(v) {
    const html = page.render({ v });
    const doc = parseFragment(html);
    const elements = [];
    walk(doc, (n) => {
      if (!n.tagName) return;
      elements.push(n.tagName);
      for (const a of n.attrs) {
        assert.ok(!/^on/i.test(a.name), `event handler ${a.name} from ${JSON.stringify(v)}`);
        if (['href', 'src', 'action', 'formaction'].includes(a.name)) {
          const scheme = a.value.replace(/[\t\n\r]/g, '').replace(/^[\u0000-\u0020]+/, '').toLowerCase();
          assert.ok(!/^(javascript|vbscript|data):/.test(scheme) || /^data:image\/(png|gif|jpe?g|webp|bmp|avif)[;,]/.test(scheme),
            `${a.name}="${a.value}" from ${JSON.stringify(v)}`);
        }
      }
    });
    assert.deepEqual(elements, ['div', 'a', 'img', 'form', 'button', 'svg', 'a', 'text', 'textarea']);
    return { html, doc };
  }

  test('XSS vectors render harmlessly', () => {
    for (const v of vectors) {
      const { html } = checkHarmless(v);
      // the JS twin's verdict on the value decides the C one
      if (safeUrl(v) === 'about:invalid') assert.match(html, /<a href="about:invalid">/, v);
      else assert.doesNotMatch(html, /about:invalid/, v);
    }
  });

  test('random strings cannot break out', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (v) => { checkHarmless(v); }), { numRuns: 300 });
  });

  test('text and attribute values parse back to the same text', () => {
    const t = tpl('<p title="{{v}}" data-v=\'{{v}}\'>{{v}}</p>');
    const pieces = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.constantFrom('&', '<', '>', '"', "'", '`', '\0', '\r', '\r\n', '\n', '&amp;', '&#0;', '\ud800', '\udc00', '\u{1F680}', 'n\u0303', '<!--', ']]>'),
    );
    const value = fc.array(pieces, { maxLength: 8 }).map((a) => a.join(''));
    const ascii = fc.string({ unit: fc.integer({ min: 0, max: 127 }).map((c) => String.fromCharCode(c)) });
    fc.assert(fc.property(fc.oneof(value, ascii), (v) => {
      const p = parseFragment(t.render({ v })).childNodes[0];
      assert.equal(p.tagName, 'p');
      const want = asParsed(v);
      assert.equal(textOf(p), want);
      assert.equal(p.attrs.find((a) => a.name === 'title').value, want);
      assert.equal(p.attrs.find((a) => a.name === 'data-v').value, want);
    }), { numRuns: 1500 });
    t.free();
  });

  test('tags where escaping cannot help are refused at compile time', () => {
    for (const [src, column] of [['<a class={{c}}>', 10], ['<a {{attrs}}>', 4], ['<{{tag}}>', 2], ['<p id="x"{{y}}>', 10]]) {
      const err = throwsNitro(() => tpl(src), { code: 'TEMPLATE', line: 1, column, rule: 'context' });
      assert.match(err.message, /quoted attribute value/);
    }
    throwsNitro(() => tpl('<script>\n  const x = {{x}};\n</script>'), { code: 'TEMPLATE', line: 2, column: 13 });
    throwsNitro(() => tpl('<style>a { color: {{c}} }</style>'), { code: 'TEMPLATE', rule: 'context' });
    // trusted raw tags and sections are the author's business
    assert.equal(render('<input {{#on}}checked{{/on}} {{{attrs}}}><script>var x = {{{json}}};</script>', { on: true, attrs: 'id="i"', json: '{"a":1}' }),
      '<input checked id="i"><script>var x = {"a":1};</script>');
  });

  test('URL values assembled from several parts are checked whole', () => {
    assert.equal(render('<a href="{{a}}{{b}}">', { a: 'java', b: 'script:alert(1)' }), '<a href="about:invalid">');
    assert.equal(render('<a href="{{#parts}}{{.}}{{/parts}}">', { parts: ['jav', 'ascript:', 'x'] }), '<a href="about:invalid">');
    assert.equal(render('<a href="/tasks/{{id}}?q={{q}}">', { id: 'javascript:x', q: 'a&b' }), '<a href="/tasks/javascript:x?q=a&amp;b">');
    assert.equal(render('<a href="{{{trusted}}}">', { trusted: 'javascript:void(0)' }), '<a href="javascript:void(0)">');
    assert.equal(render('<a {{>attrs}}>', { u: 'javascript:x' }, { partials: { attrs: 'href="{{u}}" class="x"' } }), '<a href="about:invalid" class="x">');
  });
});

test('Template is exported for instanceof checks', () => {
  const t = tpl('x');
  assert.ok(t instanceof Template);
  t.free();
});

test('chunked decoding (browsers, big outputs) gives the same string, multi-byte characters split across chunks', async () => {
  const { decodeChunked } = await import('../../js/template.js');
  const text = `${'aé😀€'.repeat(70_000)}z`;
  const bytes = new TextEncoder().encode(text);
  const pad = new Uint8Array(bytes.length + 10);
  pad.set(bytes, 7);
  assert.equal(decodeChunked(pad, 7, bytes.length), text);
  assert.equal(decodeChunked(bytes, 0, 3), 'aé');
});
