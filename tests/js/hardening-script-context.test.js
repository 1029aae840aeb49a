// Values where the browser or Datastar runs text as script (issue 15, items 2
// and 3; docs/templates-security.md): on* handlers, srcdoc, Datastar
// expression attributes, partials included in <script> and in those
// attributes, for render() and for the HTML builders. mount() is covered in
// tests/browser/script-context.test.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseFragment } from 'parse5';
import { createNitro, NitroError, throwsNitro } from './helpers.js';
import { Button, Div, Iframe, A, raw, js, JsExpr, jsStringContent, on, post, text } from '../../dist/html.js';

const ATTACKS = ["x');alert(1);('", '"><img src=x onerror=alert(1)>'];
const cases = JSON.parse(readFileSync(new URL('../fixtures/js-string-cases.json', import.meta.url), 'utf8'));
const nitro = await createNitro();

const render = (src, data, partials) => nitro.template(src, partials ? { partials } : undefined).render(data);

// The attributes of the first element, as a browser parses them.
function attrsOf(html) {
  const el = parseFragment(html).childNodes.find((n) => n.attrs);
  return Object.fromEntries(el.attrs.map((a) => [a.name, a.value]));
}

// Runs a Datastar expression made of action calls (`@post(...)`) the way
// Datastar would, with actions and alert recorded instead of run.
function runExpression(expr) {
  const calls = [];
  const fn = new Function('post', 'get', 'alert', `"use strict"; ${expr.replace(/@(post|get)\(/g, '$1(')};`);
  fn((...a) => calls.push(['post', ...a]), (...a) => calls.push(['get', ...a]), (...a) => calls.push(['alert', ...a]));
  return calls;
}

test('js-string-cases.json: templates and the builders write the same JS string content, which decodes back to the value', () => {
  assert.ok(cases.length >= 20);
  const t = nitro.template(`<p data-on:click="@post('{{v}}')">`);
  for (const c of cases) {
    const out = t.render({ v: c.input });
    assert.equal(out, `<p data-on:click="@post('${c.expected}')">`, c.name);
    assert.equal(jsStringContent(c.input), c.expected, c.name);
    assert.equal(js`@post('${c.input}')`.code, `@post('${c.expected}')`, c.name);
    // what the browser hands to the expression, evaluated: the value itself
    const attr = attrsOf(out)['data-on:click'];
    assert.deepEqual(runExpression(attr), [['post', c.input.toWellFormed()]], c.name);
  }
});

test('render(): a value inside a Datastar JS string stays one string argument, whatever it holds', () => {
  // the bench's row (bench/pages/table.js, bench/templates.js)
  const t = nitro.template(`<tr id="task-{{id}}" data-on:click="@post('/tasks/{{id}}/toggle')"><td>{{title}}</td></tr>`);
  for (const id of [...ATTACKS, 'abc-1', 't\\x27', "\\'", '\u2028']) {
    const html = t.render({ id, title: 'x' });
    const attrs = attrsOf(html);
    assert.deepEqual(runExpression(attrs['data-on:click']), [['post', `/tasks/${id}/toggle`]], id);
    assert.equal(attrs.id, `task-${id}`);
    assert.equal(parseFragment(html).childNodes.length, 1, 'no markup broke out');
  }
  // a literal javascript: URL is script too
  const href = attrsOf(render(`<a href="javascript:post('/t/{{x}}')">`, { x: ATTACKS[0] })).href;
  assert.deepEqual(runExpression(href.replace(/^javascript:/, '')), [['post', `/t/${ATTACKS[0]}`]]);
  throwsNitro(assert, () => nitro.template('<a href="javascript:go({{x}})">'), { code: 'TEMPLATE', rule: 'context', message: /javascript: URL of href=/ });
  // double-quoted JS string in a single-quoted attribute; data-signals as a string
  const attrs = attrsOf(render(`<p data-signals:q='"{{x}}"' data-text="'a' + '{{x}}'">`, { x: ATTACKS[1] }));
  assert.equal(new Function(`return ${attrs['data-signals:q']}`)(), ATTACKS[1]);
  assert.equal(new Function(`return ${attrs['data-text']}`)(), 'a' + ATTACKS[1]);
});

test('render(): values are refused in on* handlers, srcdoc and Datastar code positions, naming the attribute and the safe way', () => {
  const refused = [
    ['<button onclick="go(\'{{x}}\')">', /onclick=.*data-\* attribute and read el\.dataset/],
    ['<body onload="{{{x}}}">', /\{\{\{x\}\}\} in the event handler onload=/],
    ['<a onmouseover=\'{{&x}}\'>', /onmouseover=/],
    ['<iframe srcdoc="{{x}}"></iframe>', /srcdoc=.*live HTML/],
    ['<iframe srcdoc="<p>{{{x}}}</p>"></iframe>', /srcdoc=/],
    ['<p data-show="{{x}}">', /data-show=.*not inside a '\.\.\.' string.*signal/],
    ['<p data-on:click="$n = {{x}}">', /data-on:click=/],
    ['<p data-on-click="{{x}}">', /data-on-click=/],
    ['<p data-text="`${{{x}}}`">', /data-text=/],
    ['<p data-class:done="{{x}}">', /data-class:done=/],
    ['<p data-attr:title="\'{{{x}}}\'">', /data-attr:title=/],
    ['<p data-signals="{a: {{x}}}">', /data-signals=/],
    ['<p data-computed:n="{{x}}">', /data-computed:n=/],
    ['<p data-effect="{{x}}">', /data-effect=/],
    ['<p data-init="{{x}}">', /data-init=/],
    ['<p data-style:color="{{x}}">', /data-style:color=/],
    ['<p data-indicator="{{x}}">', /data-indicator=/],
    ['<p data-bind="{{x}}">', /data-bind=/],
    ['<p data-on-intersect="{{x}}">', /data-on-intersect=/],
    ['<p data-show="/x/.test($a) && \'{{x}}\'">', /data-show=/],
  ];
  for (const [src, message] of refused) {
    const e = throwsNitro(assert, () => nitro.template(src), { code: 'TEMPLATE', rule: 'context', line: 1 });
    assert.match(e.message, message, src);
    assert.ok(e.column > 1, src);
  }
  // ordinary data-* attributes stay HTML-escaped attributes
  assert.equal(render('<p data-id="{{x}}" data-state="{{x}}">', { x: ATTACKS[1] }),
    '<p data-id="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" data-state="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;">');
});

test('render(): a partial takes the context of the place it is included', () => {
  const p = { p: "go('{{x}}')" };
  const inScript = throwsNitro(assert, () => nitro.template('<script>{{>p}}</script>', { partials: p }), { code: 'TEMPLATE', rule: 'context' });
  assert.match(inScript.message, /partial "p".*inside <script>/);
  throwsNitro(assert, () => nitro.template('<style>{{>p}}</style>', { partials: { p: '{{x}}' } }), { code: 'TEMPLATE', rule: 'context' });
  throwsNitro(assert, () => nitro.template('<a onclick="{{>p}}">', { partials: p }), { code: 'TEMPLATE', rule: 'context', message: /partial "p".*onclick=/ });
  throwsNitro(assert, () => nitro.template('<a data-show="{{>v}}">', { partials: { v: '{{x}}' } }), { code: 'TEMPLATE', rule: 'context' });
  throwsNitro(assert, () => nitro.template('<a title="{{>p}}">', { partials: { p: 'x" onclick="{{x}}' } }), { code: 'TEMPLATE', rule: 'context', message: /onclick=/ });
  throwsNitro(assert, () => nitro.template('<iframe srcdoc="{{>p}}"></iframe>', { partials: { p: '<b>{{x}}</b>' } }), { code: 'TEMPLATE', rule: 'context' });
  // the same partial in text is escaped as text, in a JS string encoded as one
  const t = nitro.template(`<b>{{>v}}</b><a data-on:click="@post('/t/{{>v}}')">`, { partials: { v: '{{x}}' } });
  const html = t.render({ x: ATTACKS[0] });
  assert.ok(html.startsWith('<b>x&#39;);alert(1);(&#39;</b>'));
  assert.deepEqual(runExpression(attrsOf(html.slice(html.indexOf('<a')))['data-on:click']), [['post', `/t/${ATTACKS[0]}`]]);
});

test('builders: on* handlers refuse strings; raw() and js`...` are written, attribute-escaped', () => {
  for (const v of ['go()', ATTACKS[0], 1, { a: 1 }, ['x']]) {
    const e = throwsNitro(assert, () => Button({ onclick: v }, 'x'), { code: 'TEMPLATE', rule: 'context', field: 'onclick' });
    assert.match(e.message, /onclick: .*data-\* attribute read with el\.dataset.*raw\(\)/);
  }
  throwsNitro(assert, () => Div({ ONLOAD: 'x' }), { code: 'TEMPLATE', field: 'ONLOAD' });
  assert.equal(String(Button({ onclick: raw('go("a")') })), '<button onclick="go(&quot;a&quot;)"></button>');
  for (const id of ATTACKS) {
    const attrs = attrsOf(String(Button({ onclick: js`post('${id}')` })));
    assert.deepEqual(runExpression(attrs.onclick), [['post', id]]);
  }
  // booleans keep their meaning (a bare or omitted attribute runs nothing)
  assert.equal(String(Button({ onclick: false })), '<button></button>');
  // srcdoc (already handled): a string is the document's text, never markup
  const doc = parseFragment(attrsOf(String(Iframe({ srcdoc: ATTACKS[1] }))).srcdoc);
  assert.deepEqual(doc.childNodes.map((n) => n.nodeName), ['#text']);
});

test('builders: js`...` encodes values inside strings and refuses them in code position', () => {
  for (const id of ATTACKS) {
    const expr = js`@post('/tasks/${id}/toggle')`;
    assert.ok(expr instanceof JsExpr);
    for (const html of [Div({ 'data-on:click': expr }), Div(on('click', expr)), Div(on('click', [expr, js`@get("${id}")`]))]) {
      const calls = runExpression(attrsOf(String(html))['data-on:click']);
      assert.deepEqual(calls[0], ['post', `/tasks/${id}/toggle`]);
      if (calls.length > 1) assert.deepEqual(calls[1], ['get', id]);
    }
    assert.deepEqual(runExpression(attrsOf(String(A(text(js`'${id}'`))))['data-text'].replace(/^/, 'alert(') + ')'), [['alert', id]]);
    for (const bad of [() => js`$x = ${id}`, () => js`\`${id}\``, () => js`/re/.test($a) && '${id}'`, () => js`@post('a\\${id}')`]) {
      throwsNitro(assert, bad, { code: 'TEMPLATE', rule: 'context' });
    }
  }
  // code-position values that cannot carry code: numbers, booleans, JSON, nested js``
  assert.equal(js`$n = ${5}; $ok = ${true}; @post('/x', ${{ a: '</script>' }}); ${js`$m = 'a${"'"}'`}`.code,
    `$n = 5; $ok = true; @post('/x', {"a":"\\u003c/script>"}); $m = 'a\\x27'`);
  // the action helpers quote their URL, so they stay safe too
  assert.deepEqual(runExpression(attrsOf(String(Div(on('click', post('/t/' + ATTACKS[0])))))['data-on:click']), [['post', '/t/' + ATTACKS[0]]]);
});

test('NitroError is what both sides throw', () => {
  assert.throws(() => nitro.template('<a onclick="{{x}}">'), NitroError);
  assert.throws(() => Button({ onclick: 'x' }), (e) => e.name === 'NitroError' && e.code === 'TEMPLATE');
});
