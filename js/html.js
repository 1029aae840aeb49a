// HTML builders: `Div({ class: 'card' }, 'text')` returns an Html value.
// Strings are built directly (the Html wrapper is the only object per
// element); escaping and URL rules come from ./escape.js, shared with the
// WASM template engine. Datastar 1.0 attribute and expression helpers are at
// the end.

import { escapeHtml, escapeAttr, safeUrl, isUrlAttr, isValidAttrName, attrValue } from './escape.js';
import { NitroError } from './errors.js';

export { escapeHtml, escapeAttr, safeUrl, isUrlAttr, isValidAttrName, attrValue };

/** Trusted markup. Builders return it; nested Html is never escaped again. */
export class Html {
  constructor(html) {
    this.html = typeof html === 'string' ? html : String(html);
  }
  toString() {
    return this.html;
  }
  toJSON() {
    return this.html;
  }
}

/** Marks a string as trusted markup: it is written as-is. */
export function raw(html) {
  if (html instanceof Html) return html;
  return new Html(html == null ? '' : String(html));
}

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);

// Raw-text elements: their content is never entity-decoded by the browser, so
// escaping cannot protect it; instead we refuse content that would end the
// element early. `<!--` in a script can hide the real end tag (script data
// escaped states), so it is refused there too.
const RAW_TEXT = {
  script: /<\/script|<!--/i,
  style: /<\/style/i,
};

const elements = new Map();

function elementInfo(tag) {
  let el = elements.get(tag);
  if (el !== undefined) return el;
  if (typeof tag !== 'string' || !/^[A-Za-z]/.test(tag) || !isValidAttrName(tag)) {
    throw new TypeError(`invalid tag name ${JSON.stringify(String(tag))}`);
  }
  const lower = tag.toLowerCase();
  el = {
    tag,
    open: '<' + tag,
    close: '</' + tag + '>',
    isVoid: VOID.has(lower),
    rawText: RAW_TEXT[lower] ?? null,
    // The parser drops one newline right after <pre>, <textarea> and <listing>.
    leadingNewline: lower === 'pre' || lower === 'textarea' || lower === 'listing',
  };
  if (elements.size < 1000) elements.set(tag, el);
  return el;
}

/** `h('my-tag', attrs?, ...children)`: any element by name. */
export function h(tag, ...args) {
  return render(elementInfo(tag), args);
}

function isAttrs(x) {
  if (typeof x !== 'object' || x === null) return false;
  const p = Object.getPrototypeOf(x);
  return p === Object.prototype || p === null;
}

function render(el, args) {
  let out = el.open;
  let i = 0;
  if (args.length > 0 && isAttrs(args[0])) {
    // Several leading attribute objects merge (later keys win): Div(on(...), text(...), 'x').
    if (args.length > 1 && isAttrs(args[1])) {
      const merged = {};
      while (i < args.length && isAttrs(args[i])) Object.assign(merged, args[i++]);
      out += renderAttrs(merged);
    } else {
      out += renderAttrs(args[0]);
      i = 1;
    }
  }
  if (el.isVoid) {
    for (; i < args.length; i++) {
      const c = args[i];
      if (c != null && typeof c !== 'boolean') {
        throw new TypeError(`<${el.tag}> is a void element: it cannot have children`);
      }
    }
    return new Html(out + '>');
  }
  out += '>';
  if (el.rawText !== null) return new Html(out + rawTextContent(el, args, i) + el.close);
  if (el.leadingNewline) return new Html(out + keepLeadingNewline(child(Array.prototype.slice.call(args, i))) + el.close);
  for (; i < args.length; i++) {
    const c = args[i];
    // Strings first: the common case, kept inline.
    out += typeof c === 'string' ? escapeHtml(c) : c instanceof Html ? c.html : child(c);
  }
  return new Html(out + el.close);
}

// Content starting with a newline (CR becomes LF when parsed) needs one extra,
// which the parser eats, so the content comes back as given.
function keepLeadingNewline(content) {
  const c = content.charCodeAt(0);
  return c === 10 || c === 13 ? '\n' + content : content;
}

function child(x) {
  if (typeof x === 'string') return escapeHtml(x);
  if (x instanceof Html) return x.html;
  if (x == null || typeof x === 'boolean') return '';
  if (typeof x === 'number' || typeof x === 'bigint') return String(x);
  if (Array.isArray(x)) {
    let s = '';
    for (let i = 0; i < x.length; i++) s += child(x[i]);
    return s;
  }
  if (typeof x === 'object' && typeof x[Symbol.iterator] === 'function' && !isAttrs(x)) {
    let s = '';
    for (const y of x) s += child(y);
    return s;
  }
  if (isAttrs(x)) throw new TypeError('attribute objects must come before the children of an element');
  throw new TypeError(`cannot render ${typeof x} as HTML: use a string, number, Html or array`);
}

function rawTextContent(el, args, start) {
  let out = '';
  let hasText = false;
  const add = (x) => {
    if (x instanceof Html) out += x.html;
    else if (typeof x === 'string' || typeof x === 'number') { out += x; hasText = true; }
    else if (x == null || typeof x === 'boolean') return;
    else if (Array.isArray(x)) x.forEach(add);
    else throw new TypeError(`<${el.tag}> children must be strings or raw()`);
  };
  for (let i = start; i < args.length; i++) add(args[i]);
  // Checked on the whole content: a closing tag split over two children ends the element too.
  if (hasText && el.rawText.test(out)) {
    throw new TypeError(`<${el.tag}> content must not contain "</${el.tag}"${el.tag.toLowerCase() === 'script' ? ' or "<!--"' : ''}: pass it through raw() only if you trust it`);
  }
  return out;
}

// ---------- attributes ----------

const K_PLAIN = 0;
const K_URL = 1;
const K_CLASS = 2;
const K_STYLE = 3;
const K_TRUE_FALSE = 4;
const K_SRCDOC = 5;
const K_EVENT = 6;

// Enumerated attributes where an empty value does not mean true (aria-hidden=""
// is not "true", draggable="" is "auto") and omitting one is not "false":
// booleans are written out as "true" / "false".
const TRUE_FALSE = new Set(['draggable', 'spellcheck', 'contenteditable']);

const attrKinds = new Map();
const hasOwn = Object.hasOwn;

function attrKind(name) {
  let kind = attrKinds.get(name);
  if (kind !== undefined) return kind;
  if (!isValidAttrName(name)) throw new TypeError(`invalid attribute name ${JSON.stringify(name)}`);
  const lower = name.toLowerCase();
  kind = lower === 'class' ? K_CLASS : lower === 'style' ? K_STYLE : isUrlAttr(lower) ? K_URL : lower === 'srcdoc' ? K_SRCDOC
    : lower.startsWith('on') ? K_EVENT : lower.startsWith('aria-') || TRUE_FALSE.has(lower) ? K_TRUE_FALSE : K_PLAIN;
  // Names are developer-chosen, so the cache stays small; the cap guards against generated names.
  if (attrKinds.size < 2000) attrKinds.set(name, kind);
  return kind;
}

function renderAttrs(attrs) {
  let out = '';
  // for-in allocates no key array; the own-property check keeps a polluted
  // Object.prototype from adding attributes (an XSS gadget otherwise).
  for (const name in attrs) {
    if (!hasOwn(attrs, name)) continue;
    const v = attrs[name];
    if (v == null) continue;
    const kind = attrKind(name);
    if (typeof v === 'boolean') {
      if (kind === K_TRUE_FALSE) out += ' ' + name + (v ? '="true"' : '="false"');
      else if (v) out += ' ' + name; // bare attribute; false omits it
      continue;
    }
    let s;
    if (kind === K_SRCDOC) s = child(v); // a document: strings are its text, Html its markup
    else if (kind === K_EVENT) s = handlerValue(name, v);
    else if (typeof v === 'string' && kind !== K_URL) s = v;
    else if (kind === K_CLASS) s = classValue(v);
    else if (kind === K_STYLE) s = styleValue(v);
    else s = valueString(name, v);
    if (s === null) continue;
    if (kind === K_URL) s = safeUrl(s);
    out += ' ' + name + '="' + escapeHtml(s) + '"';
  }
  return out;
}

// on* handlers run as script: only code the author marked (raw()) or built
// with js`...` (values encoded inside its strings) is written.
function handlerValue(name, v) {
  if (v instanceof JsExpr) return v.code;
  if (v instanceof Html) return v.html;
  throw new NitroError('TEMPLATE',
    `${name}: a ${typeof v} cannot be an event handler (values in it would run as script): pass values in a data-* attribute read with el.dataset, build the code with js\`go('\${value}')\`, or mark trusted code with raw()`,
    { field: name, rule: 'context' });
}

function valueString(name, v) {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (v instanceof Html) return v.html; // still attribute-escaped: there is no markup in an attribute
  if (v instanceof JsExpr) return v.code;
  if (Array.isArray(v) || isAttrs(v)) return JSON.stringify(v); // Datastar object forms: data-signals, data-attr...
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return String(v); // URL, URLSearchParams...
  throw new TypeError(`attribute ${name}: cannot render a ${typeof v} (event handlers are strings of code)`);
}

// class: string, array (falsy skipped, nested allowed) or { name: bool }.
function classValue(v) {
  if (typeof v === 'string') return v;
  let s = '';
  if (Array.isArray(v)) {
    // Fast path for the common ['a', cond && 'b'] form; anything else goes the general way.
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x === 'string') { if (x !== '') s = s === '' ? x : s + ' ' + x; }
      else if (x) { s = null; break; }
    }
    if (s !== null) return s === '' ? null : s;
  }
  const names = [];
  addClasses(v, names);
  return names.length === 0 ? null : names.join(' ');
}

function addClasses(v, names) {
  if (!v || v === true) return;
  if (typeof v === 'string' || typeof v === 'number') names.push(String(v));
  else if (Array.isArray(v)) for (const x of v) addClasses(x, names);
  else if (typeof v === 'object') {
    for (const k of Object.keys(v)) if (v[k]) names.push(k);
  } else throw new TypeError(`class: cannot use a ${typeof v}`);
}

const cssNames = new Map();

function cssName(key) {
  let name = cssNames.get(key);
  if (name !== undefined) return name;
  if (key.startsWith('--')) name = key; // custom properties keep their case
  else {
    name = key.replace(/[A-Z]/g, (m) => '-' + m.toLowerCase());
    if (name.startsWith('ms-')) name = '-' + name; // msTransform -> -ms-transform, as React does
  }
  if (cssNames.size < 2000) cssNames.set(key, name);
  return name;
}

// style: string or { camelCase: value }; numbers as-is, null/undefined/false skipped.
function styleValue(v) {
  if (typeof v !== 'object' || Array.isArray(v)) return valueString('style', v);
  let s = '';
  for (const k of Object.keys(v)) {
    const x = v[k];
    if (x == null || x === false || x === '') continue;
    s += (s === '' ? '' : ';') + cssName(k) + ':' + x;
  }
  return s === '' ? null : s;
}

// ---------- elements ----------

const HTML_TAGS = `a abbr address area article aside audio b base bdi bdo blockquote body br button
  canvas caption cite code col colgroup data datalist dd del details dfn dialog div dl dt em embed
  fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 head header hgroup hr html i iframe img
  input ins kbd label legend li link main map mark menu meta meter nav noscript object ol optgroup
  option output p picture pre progress q rp rt ruby s samp script search section select
  selectedcontent slot small source span strong style sub summary sup table tbody td template
  textarea tfoot th thead time title tr track u ul var video wbr`.split(/\s+/);

const SVG_TAGS = `a animate animateMotion animateTransform circle clipPath defs desc ellipse feBlend
  feColorMatrix feComponentTransfer feComposite feConvolveMatrix feDiffuseLighting
  feDisplacementMap feDistantLight feDropShadow feFlood feFuncA feFuncB feFuncG feFuncR
  feGaussianBlur feImage feMerge feMergeNode feMorphology feOffset fePointLight
  feSpecularLighting feSpotLight feTile feTurbulence filter foreignObject g image line
  linearGradient marker mask metadata mpath path pattern polygon polyline radialGradient rect
  script set stop style svg switch symbol text textPath title tspan use view`.split(/\s+/);

// Capitalised names that would shadow a JS or DOM global (or our Html class)
// when imported get an `El` suffix.
const RENAMED = {
  html: 'HtmlEl', map: 'MapEl', object: 'ObjectEl', set: 'SetEl', symbol: 'SymbolEl',
  text: 'TextEl', image: 'ImageEl', option: 'OptionEl', audio: 'AudioEl',
};

/** Export name -> tag name, for every HTML and SVG element builder. */
export const ELEMENT_NAMES = Object.freeze(Object.fromEntries(
  [...new Set([...HTML_TAGS, ...SVG_TAGS])].map((t) => [RENAMED[t] ?? t[0].toUpperCase() + t.slice(1), t]),
));

function builder(tag) {
  const el = elementInfo(tag);
  // `arguments` rather than a rest array: one less allocation per element.
  const fn = function () { return render(el, arguments); };
  Object.defineProperty(fn, 'name', { value: tag });
  return fn;
}

const ELEMENTS = Object.fromEntries(Object.entries(ELEMENT_NAMES).map(([name, tag]) => [name, builder(tag)]));

// The list is written out because ESM exports must be static; a test checks it matches ELEMENT_NAMES.
export const { A, Abbr, Address, Area, Article, Aside, AudioEl, B, Base, Bdi, Bdo, Blockquote,
  Body, Br, Button, Canvas, Caption, Cite, Code, Col, Colgroup, Data, Datalist, Dd, Del, Details,
  Dfn, Dialog, Div, Dl, Dt, Em, Embed, Fieldset, Figcaption, Figure, Footer, Form, H1, H2, H3, H4,
  H5, H6, Head, Header, Hgroup, Hr, HtmlEl, I, Iframe, Img, Input, Ins, Kbd, Label, Legend, Li,
  Link, Main, MapEl, Mark, Menu, Meta, Meter, Nav, Noscript, ObjectEl, Ol, Optgroup, OptionEl,
  Output, P, Picture, Pre, Progress, Q, Rp, Rt, Ruby, S, Samp, Script, Search, Section, Select,
  Selectedcontent, Slot, Small, Source, Span, Strong, Style, Sub, Summary, Sup, Table, Tbody, Td,
  Template, Textarea, Tfoot, Th, Thead, Time, Title, Tr, Track, U, Ul, Var, Video, Wbr, Animate,
  AnimateMotion, AnimateTransform, Circle, ClipPath, Defs, Desc, Ellipse, FeBlend, FeColorMatrix,
  FeComponentTransfer, FeComposite, FeConvolveMatrix, FeDiffuseLighting, FeDisplacementMap,
  FeDistantLight, FeDropShadow, FeFlood, FeFuncA, FeFuncB, FeFuncG, FeFuncR, FeGaussianBlur,
  FeImage, FeMerge, FeMergeNode, FeMorphology, FeOffset, FePointLight, FeSpecularLighting,
  FeSpotLight, FeTile, FeTurbulence, Filter, ForeignObject, G, ImageEl, Line, LinearGradient,
  Marker, Mask, Metadata, Mpath, Path, Pattern, Polygon, Polyline, RadialGradient, Rect, SetEl,
  Stop, Svg, Switch, SymbolEl, TextEl, TextPath, Tspan, Use, View } = ELEMENTS;

// ---------- Page ----------

/** Default CDN URLs used by Page(); override with `Page({ assets })`. Each
 * names an exact version and file, so its bytes never change and
 * PAGE_INTEGRITY can pin them. */
export const PAGE_ASSETS = Object.freeze({
  datastar: 'https://cdn.jsdelivr.net/gh/starfederation/datastar@1.0.2/bundles/datastar.js',
  tailwind: 'https://cdn.jsdelivr.net/npm/@tailwindcss/browser@4.3.5/dist/index.global.js',
  lucide: 'https://unpkg.com/lucide@1.65.0/dist/umd/lucide.min.js',
  highlight: Object.freeze({
    css: 'https://cdn.jsdelivr.net/npm/@highlightjs/cdn-assets@11.11.1/styles/default.min.css',
    js: 'https://cdn.jsdelivr.net/npm/@highlightjs/cdn-assets@11.11.1/highlight.min.js',
  }),
});

/** Subresource Integrity hashes (sha384) of the default assets, by URL,
 * computed from the exact files those URLs serve: the Datastar v1.0.2 release
 * bundle, and for the others the file at that path in the npm package of that
 * version (jsDelivr /npm/ and unpkg serve package files unchanged). Page()
 * adds `integrity` and `crossorigin="anonymous"` to any asset whose URL is
 * listed here. */
export const PAGE_INTEGRITY = Object.freeze({
  [PAGE_ASSETS.datastar]: 'sha384-SnyFlWTdFL3c8+9/1WsPuMFBq6AQOGC1LmS9upY4YkM3En3wZr5q2UvydHaMgOVG',
  [PAGE_ASSETS.tailwind]: 'sha384-t+qLIxS5zM/KF99/doWY+dxTsavdvgayaZt8A9ntLsUjEkiXzYl5M3Ij8zVFPL9j',
  [PAGE_ASSETS.lucide]: 'sha384-oAT1xXQFdqehMqVDwRuUtxysEdTboTptoL1DtOoG6nCanpYN0HU8xpv+lIU3jh4V',
  [PAGE_ASSETS.highlight.css]: 'sha384-4Y0nObtF3CbKnh+lpzmAVdAMtQXl+ganWiiv73RcGVdRdfVIya8Cao1C8ZsVRRDz',
  [PAGE_ASSETS.highlight.js]: 'sha384-RH2xi4eIQ/gjtbs9fUXM68sLSi99C7ZWBRX1vDrVv6GQXRibxXLbwO2NGZB74MbU',
});

const PAGE_OPTIONS = new Set(['title', 'lang', 'meta', 'head', 'datastar', 'tailwind', 'lucide', 'highlight', 'assets', 'bodyAttrs', 'htmlAttrs']);

// Open Graph style keys are written with `property=`, everything else with `name=`.
const META_PROPERTY = /^(og|fb|article|book|profile|music|video):/;

// One or more space-separated `sha256-`/`sha384-`/`sha512-` base64 digests.
const SRI = /^sha(?:256|384|512)-[A-Za-z0-9+/]+={0,2}(?: +sha(?:256|384|512)-[A-Za-z0-9+/]+={0,2})*$/;

/** An asset as { url, integrity } from a URL string or `{ url, integrity }`
 * (integrity null: none); a known default URL brings its own integrity. */
function assetOf(v, where) {
  if (v == null || v === true || v === false) return null;
  const given = isAttrs(v) ? v : { url: v };
  if (typeof given.url !== 'string') throw new TypeError(`Page ${where}: a URL string or { url, integrity }`);
  const integrity = given.integrity === undefined ? PAGE_INTEGRITY[given.url] : given.integrity;
  if (integrity != null && (typeof integrity !== 'string' || !SRI.test(integrity))) {
    throw new TypeError(`Page ${where}: integrity is "sha384-<base64 digest>" (got ${JSON.stringify(integrity)})`);
  }
  return { url: given.url, integrity: integrity ?? null };
}

function asset(opts, key) {
  return assetOf(opts[key], key) ?? assetOf(opts.assets?.[key], `assets.${key}`) ?? assetOf(PAGE_ASSETS[key], key);
}

/** The attributes that load `a`: the URL, and with an integrity hash the
 * CORS mode SRI needs for a cross-origin file. */
function loadAttrs(urlAttr, a) {
  return a.integrity ? { [urlAttr]: a.url, integrity: a.integrity, crossorigin: 'anonymous' } : { [urlAttr]: a.url };
}

function highlightAssets(opts) {
  // A string is the script URL; an object may give { css, js }. The option beats `assets`.
  const pick = (v) => (typeof v === 'string' ? { js: v } : isAttrs(v) ? v : {});
  const chosen = { ...pick(opts.assets?.highlight), ...pick(opts.highlight) };
  return {
    css: assetOf(chosen.css, 'highlight.css') ?? assetOf(PAGE_ASSETS.highlight.css, 'highlight.css'),
    js: assetOf(chosen.js, 'highlight.js') ?? assetOf(PAGE_ASSETS.highlight.js, 'highlight.js'),
  };
}

function metaTags(meta) {
  const tags = [];
  let viewport = false;
  if (Array.isArray(meta)) {
    for (const m of meta) {
      if (m == null || m === false) continue;
      if (isAttrs(m) && m.name === 'viewport') viewport = true;
      tags.push(m instanceof Html ? m : Meta(m));
    }
  } else if (isAttrs(meta)) {
    for (const k of Object.keys(meta)) {
      if (meta[k] == null || meta[k] === false) continue;
      if (k === 'viewport') viewport = true;
      tags.push(Meta({ [META_PROPERTY.test(k) ? 'property' : 'name']: k, content: meta[k] }));
    }
  } else if (meta != null) {
    throw new TypeError('Page meta: use an object { name: content } or an array of attribute objects');
  }
  return { tags, viewport };
}

/**
 * A full `<!DOCTYPE html>` document. Options: title, lang ('en'), meta, head,
 * datastar, tailwind, lucide, highlight (true or a URL), assets, bodyAttrs, htmlAttrs.
 */
export function Page(opts, ...body) {
  if (!isAttrs(opts)) {
    body.unshift(opts);
    opts = {};
  }
  for (const k of Object.keys(opts)) {
    if (!PAGE_OPTIONS.has(k)) throw new TypeError(`Page: unknown option ${JSON.stringify(k)}`);
  }
  const head = [Meta({ charset: 'utf-8' })];
  const { tags, viewport } = metaTags(opts.meta);
  if (!viewport) head.push(Meta({ name: 'viewport', content: 'width=device-width, initial-scale=1' }));
  if (opts.title != null) head.push(Title(opts.title));
  head.push(...tags);
  const hl = opts.highlight ? highlightAssets(opts) : null;
  if (hl) head.push(Link({ rel: 'stylesheet', ...loadAttrs('href', hl.css) }));
  if (opts.tailwind) head.push(Script(loadAttrs('src', asset(opts, 'tailwind'))));
  if (opts.datastar) head.push(Script({ type: 'module', ...loadAttrs('src', asset(opts, 'datastar')) }));
  if (opts.head != null) head.push(...(Array.isArray(opts.head) ? opts.head : [opts.head]));

  // Scripts that scan the finished DOM go last in <body>, after their library.
  const tail = [];
  if (opts.lucide) tail.push(Script(loadAttrs('src', asset(opts, 'lucide'))), Script(raw('lucide.createIcons();')));
  if (hl) tail.push(Script(loadAttrs('src', hl.js)), Script(raw('hljs.highlightAll();')));

  const lines = (nodes) => nodes.map((n) => child(n) + '\n').join('');
  const htmlAttrs = renderAttrs({ lang: opts.lang === undefined ? 'en' : opts.lang, ...opts.htmlAttrs });
  return new Html(
    '<!DOCTYPE html>\n' +
    '<html' + htmlAttrs + '>\n' +
    '<head>\n' + lines(head) + '</head>\n' +
    '<body' + (opts.bodyAttrs ? renderAttrs(opts.bodyAttrs) : '') + '>\n' +
    child(body) + '\n' + lines(tail) +
    '</body>\n' +
    '</html>\n',
  );
}

// ---------- Datastar 1.0 helpers ----------
// Attribute helpers return attribute objects to spread into builder attrs:
//   Button({ ...on('click', toggle('open')) }, 'Toggle')
// Expression helpers return Datastar expression strings.

// Signal paths end up inside expressions (`$path`), so they are validated:
// identifier segments (or array indexes) separated by dots.
const SIGNAL_PATH = /^[A-Za-z_]\w*(?:\.\w+)*$/;

function signalPath(path) {
  let p = String(path);
  if (p.startsWith('$')) p = p.slice(1);
  if (!SIGNAL_PATH.test(p)) throw new TypeError(`invalid signal path ${JSON.stringify(String(path))}`);
  return p;
}

// HTML lowercases attribute names and Datastar turns kebab-case keys into
// camelCase signals, so a keyed attribute must spell `fullName` as `full-name`.
function kebab(path) {
  return path.replace(/[A-Z]/g, (m) => '-' + m.toLowerCase());
}

function modifiers(m) {
  if (m === undefined) return '';
  if (m == null || m === false || m === '') return '';
  if (typeof m === 'string') return m.startsWith('__') ? m : '__' + m;
  if (Array.isArray(m)) return m.map(modifiers).join('');
  if (isAttrs(m)) {
    let s = '';
    for (const k of Object.keys(m)) {
      const v = m[k];
      if (v == null || v === false) continue;
      s += '__' + k;
      if (v !== true) s += '.' + (Array.isArray(v) ? v.join('.') : String(v));
    }
    return s;
  }
  throw new TypeError('modifiers: use a string, an array or an object');
}

// An expression, or several joined as statements.
function expression(e) {
  if (typeof e === 'string') return e;
  if (e instanceof JsExpr) return e.code;
  if (Array.isArray(e)) return e.map(expression).join('; ');
  if (typeof e !== 'string') throw new TypeError(`expected a Datastar expression string, got ${typeof e}`);
  return e;
}

const IDENT = /^[A-Za-z_$][\w$]*$/;

// An object literal whose values are expressions: { done: $task.done, 'is-hidden': !$show }.
function objectExpression(obj) {
  if (typeof obj === 'string') return obj;
  if (!isAttrs(obj)) throw new TypeError('expected an object of { name: expression }');
  const parts = Object.keys(obj).map((k) => {
    const v = obj[k];
    const value = typeof v === 'string' ? v : v instanceof JsExpr ? v.code : js(v);
    return (IDENT.test(k) ? k : jsString(k)) + ': ' + value;
  });
  return '{' + parts.join(', ') + '}';
}

/** `data-signals` with a JSON object (or an expression string). `{ ifMissing: true }` adds `__ifmissing`. */
export function signals(obj, { ifMissing = false } = {}) {
  const key = ifMissing ? 'data-signals__ifmissing' : 'data-signals';
  return { [key]: typeof obj === 'string' ? obj : JSON.stringify(obj) };
}

// Datastar 1.0 has these as separate plugins named with a hyphen.
const HYPHEN_EVENTS = new Set(['intersect', 'interval', 'signal-patch']);

/** `data-on:<event>[__modifiers]`; modifiers: 'debounce.300ms', ['prevent', 'once'] or { debounce: '300ms', prevent: true }. */
export function on(event, expr, mods) {
  const ev = String(event);
  const base = HYPHEN_EVENTS.has(ev) ? 'data-on-' + ev : 'data-on:' + ev;
  return { [base + modifiers(mods)]: expression(expr) };
}

/** Two-way binding, `data-bind="path"` (the value form keeps the signal's case). */
export function bind(path) {
  return { 'data-bind': signalPath(path) };
}

export function text(expr) {
  return { 'data-text': expression(expr) };
}

export function show(expr) {
  return { 'data-show': expression(expr) };
}

/** `data-class="{done: $task.done}"`. */
export function classes(obj) {
  return { 'data-class': objectExpression(obj) };
}

/** `data-attr="{title: $x}"`. */
export function attr(obj) {
  return { 'data-attr': objectExpression(obj) };
}

/** `data-computed:<name>`; camelCase names are written kebab-case so Datastar restores them. */
export function computed(name, expr) {
  return { ['data-computed:' + kebab(signalPath(name))]: expression(expr) };
}

/** `data-init`: runs once when the element loads (1.0; beta.11 called it data-on-load). */
export function init(expr) {
  return { 'data-init': expression(expr) };
}

/** `data-effect`: runs whenever the signals it reads change. */
export function effect(expr) {
  return { 'data-effect': expression(expr) };
}

/** `data-indicator="name"`: a signal that is true while a request from this element runs. */
export function indicator(name) {
  return { 'data-indicator': signalPath(name) };
}

/** `$path`. */
export function $(path) {
  return '$' + signalPath(path);
}

// A value operand: strings are expressions, anything else becomes a JS literal.
function operand(v) {
  return typeof v === 'string' ? v : v instanceof JsExpr ? v.code : js(v);
}

function numberOperand(n) {
  if (typeof n === 'number') {
    if (!Number.isFinite(n)) throw new TypeError(`expected a finite number, got ${n}`);
    return String(n);
  }
  if (typeof n === 'string') return '(' + n + ')';
  throw new TypeError(`expected a number or an expression string, got ${typeof n}`);
}

/** `$path = value` (a string value is an expression; use js() for a string literal). */
export function set(path, value) {
  return $(path) + ' = ' + operand(value);
}

export function toggle(path) {
  const p = $(path);
  return p + ' = !' + p;
}

export function inc(path, n = 1) {
  return $(path) + ' += ' + numberOperand(n);
}

export function dec(path, n = 1) {
  return $(path) + ' -= ' + numberOperand(n);
}

export function add(path, n) {
  return $(path) + ' += ' + numberOperand(n);
}

export function sub(path, n) {
  return $(path) + ' -= ' + numberOperand(n);
}

export function mul(path, n) {
  return $(path) + ' *= ' + numberOperand(n);
}

export function div(path, n) {
  return $(path) + ' /= ' + numberOperand(n);
}

function action(name, url, options) {
  let s = '@' + name + '(' + jsString(url);
  if (options !== undefined) s += ', ' + (typeof options === 'string' ? options : options instanceof JsExpr ? options.code : js(options));
  return s + ')';
}

/** `@post('url')`; options may be an expression string or a JSON-able object. */
export const post = (url, options) => action('post', url, options);
export const get = (url, options) => action('get', url, options);
export const put = (url, options) => action('put', url, options);
export const patch = (url, options) => action('patch', url, options);
export const del = (url, options) => action('delete', url, options);

/** A single-quoted JS string literal, safe inside an expression, an attribute or a script. */
export function jsString(s) {
  s = String(s);
  if (!/['\\\0-\x1f<\x7f\u2028\u2029]/.test(s)) return "'" + s + "'";
  let out = "'";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 39) out += "\\'";
    else if (c === 92) out += '\\\\';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c < 0x20 || c === 0x3c || c === 0x2028 || c === 0x2029 || c === 0x7f) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += s[i];
  }
  return out + "'";
}

/** Code built by js`...`: safe where script runs (on* handlers, Datastar expressions). */
export class JsExpr {
  constructor(code) {
    this.code = code;
  }
  toString() {
    return this.code;
  }
  toJSON() {
    return this.code;
  }
}

function isTemplateStrings(x) {
  return Array.isArray(x) && Array.isArray(x.raw) && Object.isFrozen(x);
}

/**
 * `js(value)`: a JS literal for any JSON value; `<` is written `\u003c` so `</script` can never appear.
 * `` js`@post('/t/${id}')` ``: an expression (JsExpr) whose values sit inside its '...' or "..."
 * strings, encoded there as JS string content (the same rule as templates); a value in code
 * position must be a JsExpr, a number or a boolean, or a JSON object or array (written as a literal).
 */
export function js(value, ...values) {
  if (isTemplateStrings(value)) return jsTag(value, values);
  if (value === undefined) return 'undefined';
  if (typeof value === 'function' || typeof value === 'symbol') throw new TypeError(`js(): cannot write a ${typeof value}`);
  return JSON.stringify(value).replace(/[<\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

// ---------- js`...` ----------

// JS lexer states over the literal parts (as in src/template.c): code, in a
// '...' / "..." / `...` string, or lost (after a '/' in code, which may start
// a regex or a comment, or a `${` inside a template literal).
const JS_CODE = 0;
const JS_SQ = 1;
const JS_DQ = 2;
const JS_BT = 3;
const JS_LOST = 4;

function lex(st, s) {
  for (let i = 0; i < s.length && st.state !== JS_LOST; i++) {
    const c = s[i];
    if (st.state === JS_CODE) {
      if (c === "'") st.state = JS_SQ;
      else if (c === '"') st.state = JS_DQ;
      else if (c === '`') st.state = JS_BT;
      else if (c === '/') st.state = JS_LOST;
      continue;
    }
    if (st.esc) { st.esc = false; continue; }
    if (c === '\\') { st.esc = true; continue; }
    const close = st.state === JS_SQ ? "'" : st.state === JS_DQ ? '"' : '`';
    if (c === close) st.state = JS_CODE;
    else if (st.state === JS_BT && c === '{' && s[i - 1] === '$') st.state = JS_LOST;
    else if (st.state !== JS_BT && (c === '\n' || c === '\r')) st.state = JS_LOST;
  }
}

const JS_PLAIN = /^[A-Za-z0-9 ,._/:-]*$/;

/** The content of a JS string literal for `s`, as the template engine writes it: characters
 * outside [A-Za-z0-9 ,._/:-] become \xNN or \uNNNN (lone surrogates \ufffd). */
export function jsStringContent(s) {
  s = String(s);
  if (JS_PLAIN.test(s)) return s;
  s = s.toWellFormed();
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 58) || c === 32 || c === 44 || c === 45 || c === 46 || c === 47 || c === 95) out += s[i];
    else if (c < 0x80) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += '\\u' + c.toString(16).padStart(4, '0');
  }
  return out;
}

function codeValue(v, i) {
  if (v instanceof JsExpr) return v.code;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || Array.isArray(v) || isAttrs(v)) return js(v);
  throw new NitroError('TEMPLATE',
    `js\`...\`: value \${${i}} (a ${typeof v}) is in code position: put it inside a '...' string, pass it as a signal or a data-* attribute, or wrap trusted code in js\`...\``,
    { rule: 'context' });
}

function jsTag(strings, values) {
  const st = { state: JS_CODE, esc: false };
  let out = strings[0];
  lex(st, strings[0]);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if ((st.state === JS_SQ || st.state === JS_DQ) && !st.esc) {
      out += jsStringContent(v instanceof Date ? v.toISOString() : v);
    } else {
      if (st.state !== JS_CODE) {
        throw new NitroError('TEMPLATE',
          `js\`...\`: value \${${i}} is ${st.state === JS_BT ? 'inside a `...` template literal' : st.esc ? "right after a '\\'" : 'where the expression cannot be followed (after a / or a ${)'}: put it inside a '...' string`,
          { rule: 'context' });
      }
      const code = codeValue(v, i);
      out += code;
      lex(st, code);
    }
    out += strings[i + 1];
    lex(st, strings[i + 1]);
  }
  return new JsExpr(out);
}
