// The escaping rules (js/escape.js): the shared case table, round trips
// through a real HTML parser (parse5), and an XSS table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parseFragment } from 'parse5';
import { escapeHtml, escapeAttr, safeUrl, isUrlAttr, isValidAttrName, attrValue } from '../../js/escape.js';
import { A, Button, Div, Form, Iframe, Img, Input, P, Svg, TextEl, Textarea, Title, ObjectEl } from '../../js/html.js';

// A fixed seed keeps runs deterministic; FC_SEED=<n> explores other inputs.
const SEED = Number(process.env.FC_SEED ?? 0x5eed);

const cases = JSON.parse(readFileSync(new URL('../fixtures/escape-cases.json', import.meta.url), 'utf8'));

// What a parser gives back for text we escaped: NUL and lone surrogates became
// U+FFFD, and the HTML input stream turns CR and CRLF into LF.
const parsedForm = (s) => s.toWellFormed().replaceAll('\0', '\uFFFD').replace(/\r\n?/g, '\n');

const URL_ATTRS = ['href', 'src', 'action', 'formaction', 'xlink:href', 'poster', 'cite', 'background',
  'codebase', 'data', 'manifest', 'longdesc', 'usemap', 'profile', 'classid', 'icon'];

// An independent oracle: the WHATWG URL parser (what browsers use) on the value
// a browser would see. Unparseable URLs cannot be navigated to, so they are safe.
function dangerousScheme(value) {
  let url;
  try {
    url = new URL(value, 'https://base.example/');
  } catch {
    return false;
  }
  if (url.protocol === 'javascript:' || url.protocol === 'vbscript:') return true;
  if (url.protocol === 'data:') return !/^image\/(png|gif|jpeg|jpg|webp|bmp|avif)[;,]/i.test(url.pathname);
  return false;
}

test('case table: shape and coverage', () => {
  assert.ok(Array.isArray(cases) && cases.length >= 150, `expected 150+ cases, got ${cases.length}`);
  const names = new Set();
  for (const c of cases) {
    assert.ok(!names.has(c.name), `duplicate case name ${c.name}`);
    names.add(c.name);
    assert.ok(['text', 'attr', 'url'].includes(c.context), c.name);
    assert.equal(typeof c.input, 'string', c.name);
    assert.equal(typeof c.expected, 'string', c.name);
    if (c.context === 'url') assert.equal(typeof c.attr, 'string', c.name);
  }
  for (const context of ['text', 'attr', 'url']) {
    assert.ok(cases.some((c) => c.context === context), context);
  }
  for (const a of URL_ATTRS) {
    assert.ok(cases.some((c) => c.context === 'url' && c.attr === a && c.expected === 'about:invalid'), `no refusal case for ${a}`);
  }
});

test('case table: every case', async (t) => {
  for (const c of cases) {
    await t.test(c.name, () => {
      const got = c.context === 'text' ? escapeHtml(c.input)
        : c.context === 'attr' ? escapeAttr(c.input)
        : attrValue(c.attr, c.input);
      assert.equal(got, c.expected);
    });
  }
});

test('escapeHtml coerces: null and undefined are empty, numbers are text', () => {
  assert.equal(escapeHtml(null), '');
  assert.equal(escapeHtml(undefined), '');
  assert.equal(escapeHtml(42), '42');
  assert.equal(escapeHtml({ toString: () => '<x>' }), '&lt;x&gt;');
  assert.equal(escapeAttr, escapeHtml, 'attribute values are always double-quoted, so the rules are the same');
});

test('safeUrl returns the value untouched (not escaped) or about:invalid', () => {
  assert.equal(safeUrl('/a?b=1&c="2"'), '/a?b=1&c="2"');
  assert.equal(safeUrl(' JAVA\tSCRIPT:x'), 'about:invalid');
  assert.equal(safeUrl('data:image/gif;base64,R0lG'), 'data:image/gif;base64,R0lG');
  assert.equal(safeUrl(null), '');
});

test('isUrlAttr: the listed names, any case; srcset and data-* are not URL attributes', () => {
  for (const a of URL_ATTRS) {
    assert.equal(isUrlAttr(a), true, a);
    assert.equal(isUrlAttr(a.toUpperCase()), true, a.toUpperCase());
  }
  for (const a of ['srcset', 'data-src', 'data-href', 'title', 'hrefx', 'ping', 'xlink:title', '']) {
    assert.equal(isUrlAttr(a), false, a);
  }
});

test('isValidAttrName', () => {
  const valid = ['id', 'class', 'data-on:click', 'data-on:input__debounce.300ms', 'xlink:href', 'onclick',
    'aria-label', '@click', ':value', 'x.y', 'é', '😀', '[x]', 'a-b_c', '-'];
  for (const n of valid) assert.equal(isValidAttrName(n), true, JSON.stringify(n));
  const invalid = ['', ' ', 'a b', 'a\tb', 'a\nb', 'a\fb', 'a\rb', 'a"b', "a'b", 'a>b', 'a/b', 'a=b', 'a<b', 'a`b',
    'a\u0000', '\u0001', 'a\u001f', 'onclick=alert(1) x', 'x"><script>', '\ufdd0', 'a\ufffe', '\uffff',
    'a\u{1fffe}', '\u{10ffff}', '\ud800', 'a\udc00b'];
  for (const n of invalid) assert.equal(isValidAttrName(n), false, JSON.stringify(n));
  assert.equal(isValidAttrName(undefined), false);
  assert.equal(isValidAttrName(5), false);
});

// ---------- round trips through parse5 ----------

const nasty = fc.oneof(
  fc.constantFrom('&', '<', '>', '"', "'", '`', '\0', '\r', '\n', '\r\n', '\t', '\f', ' ', '=', '/',
    '&amp;', '&#', '&#x41;', '&lt', '</p>', '<!--', '-->', '<script>', ']]>', '\u0301', '\u00a0', '\ufeff',
    '\u2028', '\ufffe', '😀', '\ud83d', '\ude00', '\udbff\udfff'),
  fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
);
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: nasty, maxLength: 40 }),
  fc.string({ unit: fc.oneof(nasty, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 60 }),
);

function onlyElement(fragment, tag) {
  assert.equal(fragment.childNodes.length, 1, 'one top-level node');
  const el = fragment.childNodes[0];
  assert.equal(el.nodeName, tag);
  return el;
}

test('property: text escaped with escapeHtml parses back to the same text', () => {
  fc.assert(fc.property(anyString, (s) => {
    const p = onlyElement(parseFragment(`<p>${escapeHtml(s)}</p>`), 'p');
    for (const n of p.childNodes) assert.equal(n.nodeName, '#text', 'no element injected');
    assert.equal(p.childNodes.map((n) => n.value).join(''), parsedForm(s));
  }), { numRuns: 3000, seed: SEED });
});

test('property: attribute values escaped with escapeAttr parse back to the same value', () => {
  fc.assert(fc.property(anyString, (s) => {
    const p = onlyElement(parseFragment(`<p title="${escapeAttr(s)}"></p>`), 'p');
    assert.deepEqual(p.attrs, [{ name: 'title', value: parsedForm(s) }]);
    assert.equal(p.childNodes.length, 0);
  }), { numRuns: 3000, seed: SEED });
});

// Strings built from the pieces schemes are disguised with.
const schemeish = fc.array(fc.constantFrom('java', 'script', 'JaVa', 'SCRIPT', 'vb', 'data', 'DATA', ':', '/',
  'image/', 'png', 'svg+xml', 'text/html', ';', ',', 'base64', '\t', '\n', '\r', ' ', '\0', '\u0001', '\u001f',
  '&#106;', '&#x6A', '&colon;', '&Tab;', '&NewLine;', '&#58', 'a', '%0a', 'alert(1)', '#', '?', '\ud800',
  '&', 'http', '\u00a0'), { maxLength: 10 }).map((a) => a.join(''));

test('property: a URL attribute never parses to a dangerous scheme, and safe values are kept exactly', () => {
  fc.assert(fc.property(fc.oneof(schemeish, anyString), (s) => {
    const a = onlyElement(parseFragment(`<a href="${attrValue('href', s)}"></a>`), 'a');
    assert.equal(a.attrs.length, 1);
    const v = a.attrs[0].value;
    if (v === 'about:invalid') return;
    assert.equal(v, parsedForm(s));
    assert.equal(dangerousScheme(v), false, `dangerous scheme let through: ${JSON.stringify(s)}`);
  }), { numRuns: 5000, seed: SEED });
});

// Writes a scheme with every disguise the rules promise to see through.
function disguised(scheme) {
  const leading = fc.array(fc.constantFrom(' ', '\t', '\n', '\r', '\0', '\u0001', '\u000b', '\u001f', '&#32;', '&#x9;', '&Tab;', '&NewLine;', '&#x20;'), { maxLength: 4 });
  const char = (ch) => fc.tuple(
    fc.constantFrom('plain', 'upper', 'dec', 'dec;', 'hex', 'hex;', 'HEX;', 'zeros;'),
    fc.array(fc.constantFrom('\t', '\n', '\r', '&Tab;', '&NewLine;', '&#9;', '&#x0A;', '&#13'), { maxLength: 2 }),
  ).map(([how, noise]) => {
    const cp = ch.charCodeAt(0);
    // A hex reference without `;` would swallow a following a-f (the rules,
    // like browsers, read the longest number), so only decimal ones omit it:
    // no scheme letter is a digit.
    const enc = {
      plain: ch, upper: ch.toUpperCase(), dec: `&#${cp}`, 'dec;': `&#${cp};`, hex: `&#x${cp.toString(16)};`,
      'hex;': `&#x${cp.toString(16)};`, 'HEX;': `&#X${cp.toString(16).toUpperCase()};`, 'zeros;': `&#000${cp};`,
    }[how];
    return noise.join('') + enc;
  });
  const body = fc.tuple(...[...scheme].map(char)).map((parts) => parts.join(''));
  const colon = fc.constantFrom(':', '&colon;', '&#58;', '&#x3a;', '&#x3A;', '&COLON;');
  return fc.tuple(leading, body, colon, fc.string({ maxLength: 10 })).map(([l, b, c, rest]) => l.join('') + b + c + rest);
}

test('property: every disguise of javascript:, vbscript: and data:text/html is refused in every URL attribute', () => {
  const arb = fc.tuple(fc.oneof(disguised('javascript'), disguised('vbscript'), disguised('data').map((s) => s + 'text/html,')),
    fc.constantFrom(...URL_ATTRS));
  fc.assert(fc.property(arb, ([s, name]) => {
    assert.equal(attrValue(name, s), 'about:invalid', JSON.stringify(s));
  }), { numRuns: 3000, seed: SEED });
});

// ---------- XSS table ----------

const MARKUP_PAYLOADS = [
  '<script>alert(1)</script>',
  '"><script>alert(1)</script>',
  "'><script>alert(1)</script>",
  '" onmouseover="alert(1)',
  "' onmouseover='alert(1)",
  '` onmouseover=`alert(1)',
  '"/onload=alert(1)//',
  'x" autofocus onfocus="alert(1)',
  '</p><img src=x onerror=alert(1)>',
  '<img src=x onerror=alert(1)//',
  '<svg/onload=alert(1)>',
  '<iframe src="javascript:alert(1)"></iframe>',
  '</textarea><script>alert(1)</script>',
  '</title><script>alert(1)</script>',
  '<!--<script>alert(1)</script>-->',
  '<![CDATA[<script>alert(1)</script>]]>',
  '\u0000<script>alert(1)</script>',
  '<scr\u0000ipt>alert(1)</script>',
  '&lt;script&gt;alert(1)&lt;/script&gt;',
  '&quot; onload=&quot;alert(1)',
  '\ud800"><img src=x onerror=alert(1)>',
];

const SCHEME_PAYLOADS = [
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  ' javascript:alert(1)',
  '\tjavascript:alert(1)',
  'java\tscript:alert(1)',
  'java\nscript:alert(1)',
  'java\rscript:alert(1)',
  '\u0001javascript:alert(1)',
  '\u0000javascript:alert(1)',
  '&#106;avascript:alert(1)',
  '&#x6A;avascript:alert(1)',
  '&#106&#97&#118&#97&#115&#99&#114&#105&#112&#116&#58alert(1)',
  'javascript&colon;alert(1)',
  'jav&Tab;ascript:alert(1)',
  'java&NewLine;script:alert(1)',
  'javascript:alert(1)//https://example.com/',
  'vbscript:msgbox(1)',
  ' VBScript:msgbox(1)',
  'data:text/html,<script>alert(1)</script>',
  'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
  'data:image/svg+xml,<svg onload=alert(1)>',
  'data:,alert(1)',
];

const PAYLOADS = [...MARKUP_PAYLOADS, ...SCHEME_PAYLOADS];

// Every element of interest carries the payload in text, plain attributes and URL attributes.
function xssPage(p) {
  return String(Div({ id: 'root', title: p, class: p, 'data-x': p },
    P(p),
    A({ href: p }, p),
    Img({ src: p, alt: p }),
    Form({ action: p }, Button({ formaction: p }, p), Input({ value: p, formaction: p })),
    Iframe({ src: p }),
    ObjectEl({ data: p }),
    Svg(A({ 'xlink:href': p, href: p }, TextEl(p))),
    Textarea(p),
    Title(p),
  )) + `<p>${escapeHtml(p)}</p><p title="${escapeAttr(p)}"></p><a href="${attrValue('href', p)}"></a>`;
}

function walk(node, visit) {
  visit(node);
  for (const c of node.childNodes ?? []) walk(c, visit);
  if (node.content) walk(node.content, visit);
}

function skeleton(html) {
  const out = [];
  walk(parseFragment(html), (n) => {
    if (n.tagName) out.push(n.tagName + '[' + n.attrs.map((a) => (a.prefix ? a.prefix + ':' : '') + a.name).join(',') + ']');
    else if (n.nodeName === '#comment') out.push('#comment');
  });
  return out;
}

test('XSS table: no payload injects an element, an attribute, a comment or a dangerous URL', async (t) => {
  const expected = skeleton(xssPage('x'));
  for (const p of PAYLOADS) {
    await t.test(JSON.stringify(p), () => {
      const html = xssPage(p);
      assert.deepEqual(skeleton(html), expected);
      walk(parseFragment(html), (n) => {
        for (const a of n.attrs ?? []) {
          const name = (a.prefix ? a.prefix + ':' : '') + a.name;
          assert.ok(!/^on/i.test(name), `event handler attribute ${name}`);
          if (isUrlAttr(name) && a.value !== 'about:invalid') {
            assert.equal(dangerousScheme(a.value), false, `${n.tagName} ${name}=${JSON.stringify(a.value)}`);
          }
          if (!isUrlAttr(name) && name !== 'id') assert.equal(a.value, parsedForm(p), `${n.tagName} ${name} keeps the payload as data`);
        }
      });
    });
  }
});

test('XSS table: payloads that carry a dangerous scheme are refused, not just neutralised by escaping', () => {
  for (const p of SCHEME_PAYLOADS) {
    for (const a of URL_ATTRS) assert.equal(attrValue(a, p), 'about:invalid', `${a}: ${JSON.stringify(p)}`);
  }
});
