// HTML builders, Page and the Datastar helpers (js/html.js).
// Golden pages: UPDATE_GOLDEN=1 node --test tests/js/html.test.js rewrites them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseFragment } from 'parse5';
import * as html from '../../js/html.js';

const {
  h, raw, Html, Page, PAGE_ASSETS, PAGE_INTEGRITY, ELEMENT_NAMES,
  A, B, Br, Button, Code, Div, Footer, ForeignObject, H1, Header, I, Iframe, Img, Input, Li, Link, Main, MapEl, Meta, Nav, P,
  Pre, Script, Section, Span, Style, Svg, Circle, ClipPath, Table, Tbody, Td, TextEl, Textarea, Th, Thead, Time, Tr, Ul,
  signals, on, bind, text, show, classes, attr, computed, init, effect, indicator,
  $, set, toggle, inc, dec, add, sub, mul, div, post, get, put, patch, del, js, jsString,
} = html;

const s = String;

// ---------- Html values ----------

test('builders return Html: String(), toString() and template literals give the markup', () => {
  const x = Div('a');
  assert.ok(x instanceof Html);
  assert.equal(String(x), '<div>a</div>');
  assert.equal(x.toString(), '<div>a</div>');
  assert.equal(`${x}`, '<div>a</div>');
  assert.equal(JSON.stringify({ x }), '{"x":"<div>a</div>"}');
});

test('raw() marks trusted markup; nested Html is not escaped again, plain strings are', () => {
  assert.equal(s(Div(raw('<b>x</b>'), '<b>y</b>')), '<div><b>x</b>&lt;b&gt;y&lt;/b&gt;</div>');
  assert.equal(s(Div(Span('a < b'))), '<div><span>a &lt; b</span></div>');
  const r = raw('<i>');
  assert.equal(raw(r), r);
  assert.equal(s(raw(null)), '');
  assert.equal(s(raw(5)), '5');
});

test('h() builds any element, including custom elements', () => {
  assert.equal(s(h('my-widget', { size: 3 }, 'x')), '<my-widget size="3">x</my-widget>');
  assert.equal(s(h('div')), '<div></div>');
  assert.equal(s(h('br')), '<br>');
  for (const bad of ['', '1a', 'a b', 'a>', '<a', 'a"', '-x', 'a/b', null, 5]) {
    assert.throws(() => h(bad), TypeError, JSON.stringify(bad));
  }
});

// ---------- attributes ----------

test('the first argument is attributes only when it is a plain object', () => {
  assert.equal(s(Div({ id: 'a' }, 'x')), '<div id="a">x</div>');
  assert.equal(s(Div(Object.assign(Object.create(null), { id: 'n' }))), '<div id="n"></div>');
  assert.equal(s(Div(raw('<b>'))), '<div><b></div>');
  assert.equal(s(Div(['a', 'b'])), '<div>ab</div>');
  assert.equal(s(Div('id')), '<div>id</div>');
  assert.equal(s(Div(7)), '<div>7</div>');
});

test('several leading attribute objects merge, later keys winning', () => {
  assert.equal(s(Div({ id: 'a', title: 't' }, { id: 'b' }, 'x')), '<div id="b" title="t">x</div>');
  assert.equal(s(Div(text('$a'), show('$b'))), '<div data-text="$a" data-show="$b"></div>');
});

test('an attribute object after a child is an error, not [object Object]', () => {
  assert.throws(() => Div('x', { id: 'a' }), TypeError);
});

test('true renders a bare attribute; false, null and undefined omit it', () => {
  assert.equal(s(Input({ disabled: true, checked: false, required: null, readonly: undefined, value: '' })),
    '<input disabled value="">');
});

test('aria-*, draggable, spellcheck and contenteditable write booleans as "true" / "false"', () => {
  // For these an empty value is not "true" and a missing one is not "false".
  assert.equal(s(Button({ 'aria-expanded': false, 'aria-hidden': true, draggable: true, spellcheck: false, contenteditable: true })),
    '<button aria-expanded="false" aria-hidden="true" draggable="true" spellcheck="false" contenteditable="true"></button>');
  assert.equal(s(Div({ 'aria-label': null })), '<div></div>');
});

test('attribute values are escaped; numbers, bigints and dates are written as text', () => {
  assert.equal(s(Div({ title: `"quoted" & 'single' <tag> \`tick\`` })),
    '<div title="&quot;quoted&quot; &amp; &#39;single&#39; &lt;tag&gt; &#96;tick&#96;"></div>');
  assert.equal(s(Div({ 'data-n': 1.5, 'data-big': 10n, 'data-zero': 0 })), '<div data-n="1.5" data-big="10" data-zero="0"></div>');
  assert.equal(s(Time({ datetime: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)) })), '<time datetime="2026-01-02T03:04:05.000Z"></time>');
  assert.equal(s(A({ href: new URL('https://example.com/a?b=1&c=2') })), '<a href="https://example.com/a?b=1&amp;c=2"></a>');
});

test('class accepts a string, an array (falsy skipped) or an object', () => {
  const done = false;
  assert.equal(s(Div({ class: 'a b' })), '<div class="a b"></div>');
  assert.equal(s(Div({ class: ['card', done && 'done', null, undefined, '', 'big'] })), '<div class="card big"></div>');
  assert.equal(s(Div({ class: ['a', ['b', [false, 'c']], { d: true, e: false }] })), '<div class="a b c d"></div>');
  assert.equal(s(Div({ class: { active: true, hidden: false, 'x-y': 1 } })), '<div class="active x-y"></div>');
  assert.equal(s(Div({ class: [false, null] })), '<div></div>', 'an empty list omits the attribute');
  assert.equal(s(Div({ class: {} })), '<div></div>');
  assert.equal(s(Div({ class: ['"a"'] })), '<div class="&quot;a&quot;"></div>');
});

test('style accepts an object: camelCase to kebab-case, numbers as-is, null skipped', () => {
  assert.equal(s(Div({ style: { backgroundColor: 'red', fontSize: '12px', zIndex: 3, color: null, margin: undefined, opacity: 0 } })),
    '<div style="background-color:red;font-size:12px;z-index:3;opacity:0"></div>');
  assert.equal(s(Div({ style: { '--brand-Color': '#f00', WebkitLineClamp: 2, msTransform: 'none' } })),
    '<div style="--brand-Color:#f00;-webkit-line-clamp:2;-ms-transform:none"></div>');
  assert.equal(s(Div({ style: 'color: red' })), '<div style="color: red"></div>');
  assert.equal(s(Div({ style: { color: null } })), '<div></div>');
  assert.equal(s(Div({ style: { fontFamily: '"A" <b>' } })), '<div style="font-family:&quot;A&quot; &lt;b&gt;"></div>');
});

test('objects and arrays as attribute values are JSON (Datastar object forms)', () => {
  assert.equal(s(Div({ 'data-signals': { open: false, title: 'a "b"' } })),
    '<div data-signals="{&quot;open&quot;:false,&quot;title&quot;:&quot;a \\&quot;b\\&quot;&quot;}"></div>');
  assert.equal(s(Div({ 'data-x': [1, 'two'] })), '<div data-x="[1,&quot;two&quot;]"></div>');
  const parsed = parseFragment(s(Div({ 'data-signals': { t: '</div><script>' } }))).childNodes[0];
  assert.deepEqual(JSON.parse(parsed.attrs[0].value), { t: '</div><script>' });
});

test('URL attributes get the URL rule; other attributes do not', () => {
  assert.equal(s(A({ href: 'javascript:alert(1)' }, 'x')), '<a href="about:invalid">x</a>');
  assert.equal(s(A({ HREF: ' JAVA\tSCRIPT:alert(1)' })), '<a HREF="about:invalid"></a>');
  assert.equal(s(Img({ src: 'data:image/svg+xml,<svg onload=alert(1)>' })), '<img src="about:invalid">');
  assert.equal(s(Img({ src: 'data:image/png;base64,AAA=' })), '<img src="data:image/png;base64,AAA=">');
  assert.equal(s(Button({ formaction: 'vbscript:x' })), '<button formaction="about:invalid"></button>');
  assert.equal(s(Svg(A({ 'xlink:href': '&#106;avascript:x' }))), '<svg><a xlink:href="about:invalid"></a></svg>');
  assert.equal(s(A({ href: '/search?q=a&b="c"' })), '<a href="/search?q=a&amp;b=&quot;c&quot;"></a>');
  assert.equal(s(Div({ title: 'javascript:alert(1)', 'data-href': 'javascript:x' })),
    '<div title="javascript:alert(1)" data-href="javascript:x"></div>');
});

test('invalid attribute names throw a TypeError naming them', () => {
  for (const name of ['a b', 'a"b', "a'b", 'a>b', 'a/b', 'a=b', 'a<b', 'a`b', 'x\u0000', '\u0007', '\ufdd0', 'onclick=alert(1)']) {
    assert.throws(() => Div({ [name]: 'v' }), (e) => e instanceof TypeError && e.message.includes(JSON.stringify(name)), JSON.stringify(name));
  }
  assert.throws(() => Div({ '': 'v' }), TypeError);
});

test('on* handlers take only code marked as the developer\'s own (raw() or js``), still escaped', () => {
  assert.equal(s(Button({ onclick: raw('go("a")') }, 'x')), '<button onclick="go(&quot;a&quot;)">x</button>');
  assert.throws(() => Button({ onclick: 'go("a")' }), (e) => e.code === 'TEMPLATE' && e.message.includes('onclick'));
});

test('functions and symbols as attribute values throw', () => {
  assert.throws(() => Button({ onclick: () => {} }), (e) => e.code === 'TEMPLATE');
  assert.throws(() => Div({ title: Symbol('x') }), TypeError);
});

test('a polluted Object.prototype adds no attributes', () => {
  Object.prototype.onload = 'alert(1)';
  try {
    assert.equal(s(Div({ id: 'a' })), '<div id="a"></div>');
  } finally {
    delete Object.prototype.onload;
  }
});

// ---------- children ----------

test('children: strings escaped, numbers written, arrays flattened, null/false/undefined/true skipped', () => {
  assert.equal(s(Ul([1, 2].map((n) => Li(n)), [[Li('a&b')]])), '<ul><li>1</li><li>2</li><li>a&amp;b</li></ul>');
  assert.equal(s(Div(null, false, undefined, true, 0, '', 'x')), '<div>0x</div>');
  assert.equal(s(Div(new Set(['a', 'b']), (function* () { yield Span('g'); })())), '<div>ab<span>g</span></div>');
  assert.equal(s(Div(NaN, -1, 2n)), '<div>NaN-12</div>');
});

test('objects that are not Html, arrays or iterables are refused as children', () => {
  assert.throws(() => Div('a', { x: 1 }), TypeError);
  assert.throws(() => Div(() => 'x'), TypeError);
  assert.throws(() => Div(new Date()), TypeError);
});

test('void elements never get a closing tag, and refuse children', () => {
  for (const tag of ['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']) {
    assert.equal(s(h(tag, { id: 'v' })), `<${tag} id="v">`);
    assert.throws(() => h(tag, {}, 'child'), TypeError, tag);
    assert.throws(() => h(tag, Span('x')), TypeError, tag);
  }
  assert.equal(s(Br()), '<br>');
  assert.equal(s(Img({ src: '/a.png' }, null, false)), '<img src="/a.png">', 'skipped values are not children');
  assert.throws(() => Img({ src: '/a.png' }, ''), TypeError);
  assert.equal(s(Div(Br(), 'x')), '<div><br>x</div>');
});

test('script and style: strings are written as-is unless they could end the element', () => {
  assert.equal(s(Script('if (a < b && c > "d") go();')), '<script>if (a < b && c > "d") go();</script>');
  assert.equal(s(Style('a > b { content: "&" }')), '<style>a > b { content: "&" }</style>');
  assert.equal(s(Script({ type: 'module', src: '/app.js' })), '<script type="module" src="/app.js"></script>');
  assert.equal(s(Script(raw('x()'), ';', 1)), '<script>x();1</script>');
  for (const bad of ['</script>', 'a</SCRIPT >', '"</ScRiPt', '<!--<script>']) {
    assert.throws(() => Script(bad), TypeError, bad);
  }
  assert.throws(() => Script('a = "</scr', 'ipt>"'), TypeError, 'a closing tag split over two children');
  assert.throws(() => Style('</style><script>alert(1)</script>'), TypeError);
  assert.throws(() => Style('</STYLE'), TypeError);
  assert.throws(() => Script({ x: 1 }, { y: 2 }, new Date()), TypeError);
  assert.equal(s(Style('</script>')), '<style></script></style>', '</script> cannot end a style element');
});

test('pre and textarea keep a leading newline (the parser drops one)', () => {
  for (const [El, tag] of [[Pre, 'pre'], [Textarea, 'textarea']]) {
    for (const content of ['\nx', '\r\nx', '\n\n', 'x\n', '']) {
      const el = parseFragment(s(El(content))).childNodes[0];
      assert.equal(el.childNodes.map((n) => n.value).join(''), content.replace(/\r\n?/g, '\n'), `${tag} ${JSON.stringify(content)}`);
    }
  }
  assert.equal(s(Pre(raw('\n<b>x</b>'))), '<pre>\n\n<b>x</b></pre>');
  assert.equal(s(Pre('x')), '<pre>x</pre>');
});

test('srcdoc is a document: a string is its text, Html its markup', () => {
  const text = parseFragment(s(Iframe({ srcdoc: '<script>alert(1)</script>' }))).childNodes[0].attrs[0].value;
  const inner = parseFragment(text);
  assert.equal(inner.childNodes.length, 1);
  assert.equal(inner.childNodes[0].nodeName, '#text', 'no element inside the frame');
  const markup = parseFragment(s(Iframe({ srcdoc: P('a & b') }))).childNodes[0].attrs[0].value;
  assert.equal(markup, '<p>a &amp; b</p>');
});

test('script content round-trips through a parser', () => {
  const code = 'const s = "<b>&amp;</b>"; if (1 < 2) console.log(s);';
  const el = parseFragment(s(Script(code))).childNodes[0];
  assert.equal(el.childNodes[0].value, code);
});

// ---------- element exports ----------

test('every HTML and SVG element has a capitalised export rendering its tag', () => {
  const names = Object.keys(ELEMENT_NAMES);
  assert.ok(names.length >= 160, `only ${names.length} elements`);
  for (const [name, tag] of Object.entries(ELEMENT_NAMES)) {
    assert.equal(typeof html[name], 'function', name);
    const out = s(html[name]({ id: 'e' }));
    assert.ok(out.startsWith(`<${tag} id="e">`), `${name}: ${out}`);
  }
  // Nothing capitalised is exported that is not an element (apart from the documented extras).
  const extras = new Set(['Html', 'JsExpr', 'Page', 'PAGE_ASSETS', 'PAGE_INTEGRITY', 'ELEMENT_NAMES']);
  for (const k of Object.keys(html)) {
    if (/^[A-Z]/.test(k) && !extras.has(k)) assert.ok(k in ELEMENT_NAMES, `${k} exported but not in ELEMENT_NAMES`);
  }
});

test('documented element names exist; SVG tags keep their camelCase', () => {
  for (const n of ['Div', 'Span', 'Textarea', 'Svg', 'ForeignObject', 'A', 'Table', 'Tr', 'Td', 'Th', 'Button', 'Input', 'Circle', 'LinearGradient', 'FeGaussianBlur']) {
    assert.equal(typeof html[n], 'function', n);
  }
  assert.equal(s(Svg({ viewBox: '0 0 10 10' }, ClipPath({ id: 'c' }), ForeignObject(Div('x')), Circle({ r: 1 }))),
    '<svg viewBox="0 0 10 10"><clipPath id="c"></clipPath><foreignObject><div>x</div></foreignObject><circle r="1"></circle></svg>');
  assert.equal(s(Textarea('a</textarea>')), '<textarea>a&lt;/textarea&gt;</textarea>');
});

test('element names that would shadow globals carry an El suffix', () => {
  const renamed = { HtmlEl: 'html', MapEl: 'map', ObjectEl: 'object', SetEl: 'set', SymbolEl: 'symbol', TextEl: 'text', ImageEl: 'image', OptionEl: 'option', AudioEl: 'audio' };
  for (const [name, tag] of Object.entries(renamed)) assert.equal(ELEMENT_NAMES[name], tag, name);
  // JS globals (checked here) and browser globals (listed) are never element exports.
  const browserGlobals = ['Image', 'Option', 'Audio', 'Text', 'Map', 'Set', 'Symbol', 'Object', 'Html', 'Document', 'Element', 'Range', 'Selection', 'Comment', 'Node', 'Event', 'Location', 'Screen', 'Storage', 'Worker', 'Blob', 'File', 'Headers', 'Request', 'Response'];
  for (const name of Object.keys(ELEMENT_NAMES)) {
    assert.ok(!(name in globalThis), `${name} shadows a JS global`);
    assert.ok(!browserGlobals.includes(name), `${name} shadows a browser global`);
  }
  assert.equal(s(MapEl({ name: 'm' })), '<map name="m"></map>');
  assert.equal(s(Svg(TextEl({ x: 1 }, 'a<b'))), '<svg><text x="1">a&lt;b</text></svg>');
});

// ---------- Datastar helpers ----------

test('signals() gives data-signals JSON; ifMissing adds the modifier', () => {
  assert.deepEqual(signals({ open: false, task: { title: '' } }), { 'data-signals': '{"open":false,"task":{"title":""}}' });
  assert.deepEqual(signals({ a: 1 }, { ifMissing: true }), { 'data-signals__ifmissing': '{"a":1}' });
  assert.deepEqual(signals('{a: 1}'), { 'data-signals': '{a: 1}' });
});

test('on() builds data-on:<event> with modifiers in every form', () => {
  assert.deepEqual(on('click', '$n++'), { 'data-on:click': '$n++' });
  assert.deepEqual(on('input', '@get(\'/q\')', 'debounce.300ms'), { 'data-on:input__debounce.300ms': "@get('/q')" });
  assert.deepEqual(on('submit', 'x', '__prevent'), { 'data-on:submit__prevent': 'x' });
  assert.deepEqual(on('keydown', 'x', ['window', 'throttle.1s']), { 'data-on:keydown__window__throttle.1s': 'x' });
  assert.deepEqual(on('click', 'x', { debounce: '300ms', prevent: true, once: false, throttle: ['1s', 'noleading'] }),
    { 'data-on:click__debounce.300ms__prevent__throttle.1s.noleading': 'x' });
  assert.deepEqual(on('click', [set('a', 1), post('/x')]), { 'data-on:click': "$a = 1; @post('/x')" });
  // Datastar 1.0 has these as separate, hyphenated plugins.
  assert.deepEqual(on('intersect', 'x', 'once'), { 'data-on-intersect__once': 'x' });
  assert.deepEqual(on('interval', 'x', { duration: '2s' }), { 'data-on-interval__duration.2s': 'x' });
  assert.deepEqual(on('signal-patch', 'x'), { 'data-on-signal-patch': 'x' });
  assert.throws(() => on('click', 42), TypeError);
});

test('attribute helpers: bind, text, show, classes, attr, computed, init, effect, indicator', () => {
  assert.deepEqual(bind('task.title'), { 'data-bind': 'task.title' });
  assert.deepEqual(bind('$userName'), { 'data-bind': 'userName' });
  assert.deepEqual(text('$task.title'), { 'data-text': '$task.title' });
  assert.deepEqual(show('$open'), { 'data-show': '$open' });
  assert.deepEqual(classes({ done: '$task.done', 'is-hidden': '!$open', big: true }),
    { 'data-class': "{done: $task.done, 'is-hidden': !$open, big: true}" });
  assert.deepEqual(attr({ title: '$t', 'aria-busy': '$busy' }), { 'data-attr': "{title: $t, 'aria-busy': $busy}" });
  assert.deepEqual(computed('fullName', '$first + " " + $last'), { 'data-computed:full-name': '$first + " " + $last' });
  assert.deepEqual(computed('total', '$a + $b'), { 'data-computed:total': '$a + $b' });
  assert.deepEqual(init("@get('/x')"), { 'data-init': "@get('/x')" });
  assert.deepEqual(effect('$b = $a * 2'), { 'data-effect': '$b = $a * 2' });
  assert.deepEqual(indicator('saving'), { 'data-indicator': 'saving' });
});

test('signal paths are validated, so data cannot inject expressions', () => {
  for (const bad of ['', 'a b', 'a;alert(1)', 'a.', '.a', '1a', 'a-b', 'a[0]', "a'", '$']) {
    assert.throws(() => $(bad), TypeError, JSON.stringify(bad));
    assert.throws(() => bind(bad), TypeError, JSON.stringify(bad));
  }
  assert.equal($('tags.0'), '$tags.0');
  assert.equal($('$a.b_c'), '$a.b_c');
});

test('expression helpers', () => {
  assert.equal($('open'), '$open');
  assert.equal(set('task.title', "'x'"), "$task.title = 'x'");
  assert.equal(set('n', 5), '$n = 5');
  assert.equal(set('tags', ['a', '</script>']), '$tags = ["a","\\u003c/script>"]');
  assert.equal(set('editing', null), '$editing = null');
  assert.equal(toggle('open'), '$open = !$open');
  assert.equal(inc('n'), '$n += 1');
  assert.equal(inc('n', 5), '$n += 5');
  assert.equal(dec('n'), '$n -= 1');
  assert.equal(add('n', 2.5), '$n += 2.5');
  assert.equal(sub('n', '$step'), '$n -= ($step)');
  assert.equal(mul('n', -2), '$n *= -2');
  assert.equal(div('n', 4), '$n /= 4');
  assert.throws(() => inc('n', Infinity), TypeError);
  assert.throws(() => add('n', {}), TypeError);
});

test('actions quote the URL as a safe JS string literal', () => {
  assert.equal(post('/tasks'), "@post('/tasks')");
  assert.equal(get('/tasks?q=1'), "@get('/tasks?q=1')");
  assert.equal(put('/t/1'), "@put('/t/1')");
  assert.equal(patch('/t/1'), "@patch('/t/1')");
  assert.equal(del('/t/1'), "@delete('/t/1')");
  assert.equal(post("/it's\\x"), "@post('/it\\'s\\\\x')");
  assert.equal(post('/a\nb\u2028</script>'), "@post('/a\\nb\\u2028\\u003c/script>')");
  assert.equal(post('/x', { contentType: 'form' }), '@post(\'/x\', {"contentType":"form"})');
  assert.equal(get('/x', '{filterSignals: {include: /^q/}}'), "@get('/x', {filterSignals: {include: /^q/}})");
  // Whatever the URL, the expression evaluates back to it.
  for (const u of ["'", '\\', "\\'", '\n\r\t', '\u2028\u2029', '</script><!--', '${x}', '"', '\u0000\u001f\u007f']) {
    assert.equal(new Function('return ' + jsString(u))(), u, JSON.stringify(u));
    assert.ok(!jsString(u).slice(1, -1).match(/(^|[^\\])'/), 'no unescaped quote');
  }
});

test('js() writes JSON-compatible JS literals that can never close a script', () => {
  assert.equal(js('a</script>'), '"a\\u003c/script>"');
  assert.equal(js({ a: [1, true, null] }), '{"a":[1,true,null]}');
  assert.equal(js(undefined), 'undefined');
  assert.equal(js('\u2028'), '"\\u2028"');
  const v = { s: '</script><!-- \u2028 "q"', n: [1.5, -0] };
  assert.deepEqual(new Function('return ' + js(v))(), JSON.parse(JSON.stringify(v)));
  assert.ok(!js(v).includes('</'));
  assert.throws(() => js(() => 1), TypeError);
});

test('helper objects spread into builder attrs and parse as Datastar attributes', () => {
  const out = s(Button({ id: 'b', ...on('click', toggle('open'), { debounce: '300ms' }), ...signals({ open: false }), ...classes({ active: '$open' }) }, 'Toggle'));
  assert.equal(out, '<button id="b" data-on:click__debounce.300ms="$open = !$open" data-signals="{&quot;open&quot;:false}" data-class="{active: $open}">Toggle</button>');
  const el = parseFragment(out).childNodes[0];
  assert.deepEqual(el.attrs, [
    { name: 'id', value: 'b' },
    { name: 'data-on:click__debounce.300ms', value: '$open = !$open' },
    { name: 'data-signals', value: '{"open":false}' },
    { name: 'data-class', value: '{active: $open}' },
  ]);
  const post1 = parseFragment(s(Button(on('click', post("/t/it's")))));
  assert.equal(post1.childNodes[0].attrs[0].value, "@post('/t/it\\'s')");
});

// ---------- Page ----------

function parseErrors(doc) {
  const errors = [];
  parse(doc, { onParseError: (e) => errors.push(`${e.code} at ${e.startLine}:${e.startCol}`) });
  return errors;
}

test('Page: a minimal document', () => {
  const page = Page({ title: 'A & B' }, P('hi'));
  assert.ok(page instanceof Html);
  assert.equal(s(page), [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>A &amp; B</title>',
    '</head>',
    '<body>',
    '<p>hi</p>',
    '</body>',
    '</html>',
    '',
  ].join('\n'));
  assert.deepEqual(parseErrors(s(page)), []);
  assert.ok(s(Page(P('no options'))).includes('<body>\n<p>no options</p>\n</body>'));
});

test('Page: assets come from their official CDNs by default', () => {
  const out = s(Page({ datastar: true, tailwind: true, lucide: true, highlight: true }));
  const load = (attr, url) => `${attr}="${url}" integrity="${PAGE_INTEGRITY[url]}" crossorigin="anonymous"`;
  assert.ok(out.includes(`<script type="module" ${load('src', 'https://cdn.jsdelivr.net/gh/starfederation/datastar@1.0.2/bundles/datastar.js')}></script>`));
  assert.ok(out.includes(`<script ${load('src', 'https://cdn.jsdelivr.net/npm/@tailwindcss/browser@4.3.5/dist/index.global.js')}></script>`));
  assert.ok(out.includes(`<script ${load('src', 'https://unpkg.com/lucide@1.65.0/dist/umd/lucide.min.js')}></script>\n<script>lucide.createIcons();</script>`));
  assert.ok(out.includes(`<link rel="stylesheet" ${load('href', PAGE_ASSETS.highlight.css)}>`));
  assert.ok(out.includes(`<script ${load('src', PAGE_ASSETS.highlight.js)}></script>\n<script>hljs.highlightAll();</script>`));
  assert.match(PAGE_ASSETS.highlight.css, /^https:\/\/cdn\.jsdelivr\.net\/npm\/@highlightjs\/cdn-assets@11\.11\.1\//);
  // Scripts that scan the DOM run after it: at the end of <body>.
  assert.ok(out.indexOf('lucide.createIcons') > out.indexOf('<body>'));
  const none = s(Page({}));
  for (const u of ['datastar', 'tailwind', 'lucide', 'highlight']) assert.ok(!none.includes(u), u);
});

test('Page: assets overrides, and a string option is the URL itself', () => {
  const out = s(Page({
    datastar: true, tailwind: '/tw.js', lucide: true, highlight: true,
    assets: { datastar: '/ds.js', tailwind: '/ignored.js', lucide: '/lucide.js', highlight: { css: '/hl.css' } },
  }));
  assert.ok(out.includes('<script type="module" src="/ds.js"></script>'));
  assert.ok(out.includes('<script src="/tw.js"></script>') && !out.includes('/ignored.js'));
  assert.ok(out.includes('<script src="/lucide.js"></script>'));
  assert.ok(out.includes('<link rel="stylesheet" href="/hl.css">'));
  assert.ok(out.includes(`<script src="${PAGE_ASSETS.highlight.js}" integrity="${PAGE_INTEGRITY[PAGE_ASSETS.highlight.js]}" crossorigin="anonymous"></script>`), 'unset part keeps its default');
  assert.ok(s(Page({ highlight: '/hl.js' })).includes('<script src="/hl.js"></script>'));
  assert.ok(s(Page({ datastar: true, assets: { datastar: 'javascript:alert(1)' } })).includes('src="about:invalid"'));
});

test('Page: meta as an object or an array; a given viewport replaces the default', () => {
  const obj = s(Page({ meta: { description: 'd "q"', 'og:title': 'T', robots: null, viewport: 'width=400' } }));
  assert.ok(obj.includes('<meta name="description" content="d &quot;q&quot;">'));
  assert.ok(obj.includes('<meta property="og:title" content="T">'));
  assert.ok(!obj.includes('robots'));
  assert.ok(obj.includes('<meta name="viewport" content="width=400">'));
  assert.ok(!obj.includes('initial-scale'));
  const arr = s(Page({ meta: [{ 'http-equiv': 'refresh', content: '30' }, { property: 'og:type', content: 'website' }, null, Meta({ name: 'x', content: 'y' })] }));
  assert.ok(arr.includes('<meta http-equiv="refresh" content="30">\n<meta property="og:type" content="website">\n<meta name="x" content="y">'));
  assert.ok(arr.includes('initial-scale=1'));
  assert.throws(() => Page({ meta: 'x' }), TypeError);
});

test('Page: lang, head, bodyAttrs, htmlAttrs; unknown options are refused', () => {
  const out = s(Page({ lang: 'fr', head: [Link({ rel: 'icon', href: '/i.svg' }), Style('body{margin:0}')], bodyAttrs: { class: ['a', false], ...signals({ n: 1 }) }, htmlAttrs: { class: 'dark' } }, 'x < y'));
  assert.ok(out.includes('<html lang="fr" class="dark">'));
  assert.ok(out.includes('<link rel="icon" href="/i.svg">\n<style>body{margin:0}</style>\n</head>'));
  assert.ok(out.includes('<body class="a" data-signals="{&quot;n&quot;:1}">\nx &lt; y\n</body>'));
  assert.ok(s(Page({ lang: null })).includes('<html>'));
  assert.throws(() => Page({ tailwindcss: true }), (e) => e instanceof TypeError && e.message.includes('tailwindcss'));
});

// ---------- golden pages ----------

const GOLDEN = new URL('../golden/html/', import.meta.url);

function golden(name, actual) {
  const file = new URL(name, GOLDEN);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, actual);
  }
  assert.ok(existsSync(file), `missing golden ${name}: run with UPDATE_GOLDEN=1`);
  assert.equal(actual, readFileSync(file, 'utf8'));
}

const TASKS = [
  { id: 't1', title: 'Write the <escape> table & its C twin', status: 'open', priority: 5, tags: ['security', 'c&js'], due: '2026-01-15T09:00:00.000Z' },
  { id: 't2', title: 'Ship "nitro-wasm" 0.1', status: 'blocked', priority: 3, tags: [], due: null },
  { id: 't3', title: "Review Bob's `html` PR", status: 'done', priority: 1, tags: ['review'], due: '2026-01-02T17:30:00.000Z' },
];

function taskRow(t) {
  return Tr({ id: `task-${t.id}`, ...classes({ editing: `$editing === ${js(t.id)}` }) },
    Td(Input({ type: 'checkbox', checked: t.status === 'done', 'aria-label': `Done: ${t.title}`, ...on('change', patch(`/tasks/${t.id}`)) })),
    Td({ class: 'title' }, t.title),
    Td(Span({ class: ['badge', `badge-${t.status}`, t.priority >= 5 && 'urgent'] }, t.status)),
    Td({ class: 'num' }, t.priority),
    Td(t.tags.length ? t.tags.map((g) => Span({ class: 'tag' }, g)) : '-'),
    Td(t.due ? Time({ datetime: t.due }, t.due.slice(0, 10)) : '-'),
    Td(
      Button({ type: 'button', ...on('click', set('editing', js(t.id))) }, 'Edit'),
      Button({ type: 'button', ...on('click', del(`/tasks/${t.id}`), { once: true }) }, 'Delete'),
    ),
  );
}

function tasksPage(tasks) {
  return Page({ title: `Tasks (${tasks.length})`, datastar: true },
    Main({ id: 'app', ...signals({ filter: '', editing: null, count: tasks.length, saving: false }) },
      H1('Tasks ', Span({ class: 'count', ...text('$count') })),
      Input({ type: 'search', placeholder: 'Filter...', ...bind('filter'), ...on('input', get('/tasks'), { debounce: '300ms' }) }),
      Table({ id: 'tasks', class: 'tasks' },
        Thead(Tr(['Done', 'Title', 'Status', 'Priority', 'Tags', 'Due', ''].map((c) => Th(c)))),
        Tbody(tasks.map(taskRow))),
      Button({ id: 'add', ...on('click', [inc('count'), post('/tasks')]), ...indicator('saving'), ...attr({ disabled: '$saving' }) }, 'Add task'),
      P({ ...show('$saving'), style: { color: 'gray', fontStyle: 'italic' } }, 'Saving...'),
      Div({ ...init(get('/tasks/stream')), ...computed('openCount', '$count - 1') }),
    ));
}

function allOptionsPage() {
  return Page({
    title: 'Every <option> & more',
    lang: 'fr',
    meta: { description: 'All Page options at once', 'og:title': 'Nitro "demo"', 'twitter:card': 'summary' },
    head: [Link({ rel: 'icon', href: '/favicon.svg' }), Style('body { margin: 0 } .x > .y { color: red }')],
    datastar: true,
    tailwind: true,
    lucide: true,
    highlight: true,
    assets: { lucide: '/vendor/lucide.min.js', highlight: { css: '/vendor/hl-github.css' } },
    bodyAttrs: { class: ['min-h-screen', 'bg-white', false], 'data-theme': 'light', ...signals({ menu: false }) },
    htmlAttrs: { class: 'dark' },
  },
  Header({ class: 'flex items-center' },
    Button({ 'aria-label': 'Menu', ...on('click', toggle('menu')) }, I({ 'data-lucide': 'menu' })),
    Nav({ ...show('$menu') }, A({ href: '/' }, 'Home'), ' ', A({ href: 'javascript:alert(1)' }, 'Bad link'), ' ', A({ href: '/docs?a=1&b=2' }, 'Docs'))),
  Section(
    Pre(Code({ class: 'language-js' }, 'const ok = 1 < 2 && "yes";\nconsole.log(`${ok}`);')),
    Svg({ viewBox: '0 0 24 24', width: 24, height: 24, 'aria-hidden': true },
      ClipPath({ id: 'clip' }, Circle({ cx: 12, cy: 12, r: 10 })),
      ForeignObject({ width: 24, height: 24 }, Div({ xmlns: 'http://www.w3.org/1999/xhtml' }, B('html in svg')))),
    Img({ src: 'data:image/png;base64,iVBORw0KGgo=', alt: 'pixel', width: 1, height: 1, loading: 'lazy' }),
    Textarea({ name: 'note', rows: 3 }, 'Dear <team>,\n"quotes" & \'apostrophes\''),
  ),
  Footer(Br(), 'Made with nitro-wasm'));
}

test('golden: task table page with Datastar attributes', () => {
  const out = s(tasksPage(TASKS));
  assert.deepEqual(parseErrors(out), []);
  golden('tasks.html', out);
});

test('golden: a page with every Page option', () => {
  const out = s(allOptionsPage());
  assert.deepEqual(parseErrors(out), []);
  golden('all-options.html', out);
});

// ---------- the helpers against the real Datastar 1.0.2 client ----------

const SHARED = path.resolve(fileURLToPath(new URL('../..', import.meta.url)), '..', 'shared');
const DATASTAR = path.join(SHARED, 'datastar-1.0.2', 'datastar.js');
const CHROMIUM = '/usr/bin/chromium';

test('Datastar 1.0.2 understands what the helpers write', { timeout: 30_000 }, async (t) => {
  if (!existsSync(DATASTAR)) return t.skip('../shared/datastar-1.0.2 is not present');
  if (!existsSync(CHROMIUM)) return t.skip('chromium is not installed');
  const { chromium } = await import('playwright-core');
  const page = s(Page({ title: 'helpers', datastar: true, assets: { datastar: '/datastar.js' } },
    Main({ ...signals({ open: false, count: 1, userName: 'a' }) },
      Span({ id: 'count', ...text('$count') }),
      Span({ id: 'double', ...computed('doubleCount', '$count * 2'), ...text('$doubleCount') }),
      Button({ id: 'go', ...on('click', [toggle('open'), inc('count', 2)]) }, 'go'),
      Button({ id: 'set', ...on('click', set('userName', js("it's </script>"))) }, 'set'),
      Input({ id: 'name-input', ...bind('userName') }),
      Span({ id: 'name', ...text($('userName')) }),
      Div({ id: 'styled', ...classes({ 'is-open': '$open', big: '$count > 2' }), ...attr({ title: '$userName' }) }, 'c'),
      P({ id: 'shown', ...show('$open') }, 'visible'),
      Span({ id: 'init', ...signals({ ready: 0 }), ...init(set('ready', 5)), ...text('$ready') }),
    )));
  const server = http.createServer((req, res) => {
    if (req.url === '/datastar.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(readFileSync(DATASTAR));
    } else {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
  try {
    const tab = await browser.newPage();
    await tab.goto(`http://127.0.0.1:${server.address().port}/`);
    await tab.waitForFunction(() => document.getElementById('count').textContent === '1');
    const read = () => tab.evaluate(() => {
      const $id = (id) => document.getElementById(id);
      return {
        count: $id('count').textContent, double: $id('double').textContent, name: $id('name').textContent,
        classes: $id('styled').className, title: $id('styled').title,
        shown: getComputedStyle($id('shown')).display !== 'none', init: $id('init').textContent,
      };
    });
    assert.deepEqual(await read(), { count: '1', double: '2', name: 'a', classes: '', title: 'a', shown: false, init: '5' });
    await tab.click('#go');
    assert.deepEqual(await read(), { count: '3', double: '6', name: 'a', classes: 'is-open big', title: 'a', shown: true, init: '5' });
    await tab.click('#set');
    assert.equal((await read()).name, "it's </script>");
    await tab.fill('#name-input', 'typed');
    assert.equal((await read()).title, 'typed');
  } finally {
    await browser.close();
    server.close();
  }
});
