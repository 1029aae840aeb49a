// The one set of HTML escaping rules, in JS. The C template engine has a twin
// with exactly the same behaviour; tests/fixtures/escape-cases.json is the
// table both must pass.
//
// Text and quoted attribute values:
//   & < > " ' `  ->  &amp; &lt; &gt; &quot; &#39; &#96;
//   NUL and lone UTF-16 surrogates -> U+FFFD (what UTF-8 encoding does in C).
//   Nothing else changes.
//
// URL attributes (isUrlAttr): the value renders as `about:invalid` when its
// effective scheme is dangerous. The effective scheme is computed the way a
// browser would, erring on the side of refusing:
//   1. remove every TAB, LF and CR;
//   2. decode character references, one pass, each with or without its `;`:
//      `&#` decimal, `&#x`/`&#X` hex (0, surrogates and > 0x10FFFF give
//      U+FFFD), and the names `colon`, `tab`, `newline` (any ASCII case);
//   3. remove the TAB, LF and CR that decoding produced;
//   4. strip leading (and trailing) U+0000-U+0020;
//   5. ASCII-lowercase;
//   6. refuse `javascript:`, `vbscript:`, and `data:` unless followed by
//      image/(png|gif|jpeg|jpg|webp|bmp|avif) and then `;` or `,`.
// Otherwise the value is escaped as an attribute value; it is never
// entity-decoded in the output.

const SPECIAL = /[&<>"'`\0\uD800-\uDFFF]/;

/** Escape for HTML text and quoted attribute values. null/undefined -> ''. */
export function escapeHtml(s) {
  if (typeof s !== 'string') s = s == null ? '' : String(s);
  // Fast path: one regex test, the input comes back unchanged.
  return SPECIAL.test(s) ? escapeSlow(s) : s;
}

/** Same rules as escapeHtml: every attribute value we write is double-quoted. */
export const escapeAttr = escapeHtml;

function escapeSlow(s) {
  let out = '';
  let last = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    let rep;
    switch (c) {
      case 38: rep = '&amp;'; break;
      case 60: rep = '&lt;'; break;
      case 62: rep = '&gt;'; break;
      case 34: rep = '&quot;'; break;
      case 39: rep = '&#39;'; break;
      case 96: rep = '&#96;'; break;
      case 0: rep = '\uFFFD'; break;
      default:
        if (c < 0xd800 || c > 0xdfff) continue;
        if (c <= 0xdbff && i + 1 < n) {
          const d = s.charCodeAt(i + 1);
          if (d >= 0xdc00 && d <= 0xdfff) { i++; continue; } // a valid pair
        }
        rep = '\uFFFD';
    }
    out += s.slice(last, i) + rep;
    last = i + 1;
  }
  return out + s.slice(last);
}

const URL_ATTRS = new Set([
  'href', 'src', 'action', 'formaction', 'xlink:href', 'poster', 'cite', 'background',
  'codebase', 'data', 'manifest', 'longdesc', 'usemap', 'profile', 'classid', 'icon',
]);

/** True for attributes whose value is a URL the browser may navigate to or load. */
export function isUrlAttr(name) {
  return URL_ATTRS.has(String(name).toLowerCase());
}

// Longest prefix the scheme check looks at: 'data:image/jpeg;'.
const PREFIX_LEN = 16;
const IMAGE_TYPES = ['png', 'gif', 'jpeg', 'jpg', 'webp', 'bmp', 'avif'];

/** The value itself, or 'about:invalid' when its effective scheme can run script. */
export function safeUrl(s) {
  if (typeof s !== 'string') s = s == null ? '' : String(s);
  // No colon, and no `&` that could encode one: there is no scheme at all.
  if (!/[:&]/.test(s)) return s;
  return isDangerous(effectivePrefix(s)) ? 'about:invalid' : s;
}

function isTabOrNewline(c) {
  return c === 9 || c === 10 || c === 13;
}

// Steps 1-5 above, for the first PREFIX_LEN characters only (trailing
// stripping cannot change a prefix made of characters above U+0020).
function effectivePrefix(s) {
  let out = '';
  let i = 0;
  const n = s.length;
  while (i < n && out.length < PREFIX_LEN) {
    let c = s.charCodeAt(i++);
    if (c === 38) {
      const ref = decodeRef(s, i);
      if (ref !== null) { c = ref.cp; i = ref.end; }
    }
    if (isTabOrNewline(c)) continue; // raw or decoded
    if (out === '' && c <= 0x20) continue;
    if (c >= 65 && c <= 90) c += 32;
    out += c < 128 ? String.fromCharCode(c) : '\uFFFD';
  }
  return out;
}

// Reads the character reference whose `&` is just before index i, skipping
// TAB/LF/CR (step 1 removed them before decoding). Returns { cp, end } or null.
function decodeRef(s, i) {
  const n = s.length;
  const skip = (j) => { while (j < n && isTabOrNewline(s.charCodeAt(j))) j++; return j; };
  let j = skip(i);
  if (j >= n) return null;
  if (s.charCodeAt(j) === 35) { // '#'
    j = skip(j + 1);
    let hex = false;
    if (j < n && (s.charCodeAt(j) | 32) === 120) { hex = true; j = skip(j + 1); } // 'x' / 'X'
    let cp = 0;
    let digits = 0;
    while (j < n) {
      const c = s.charCodeAt(j);
      let d;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (hex && (c | 32) >= 97 && (c | 32) <= 102) d = (c | 32) - 87;
      else if (isTabOrNewline(c)) { j++; continue; }
      else break;
      // Clamp so huge numbers cannot overflow; anything above 0x10FFFF is U+FFFD anyway.
      cp = Math.min(cp * (hex ? 16 : 10) + d, 0x110000);
      digits++;
      j++;
    }
    if (digits === 0) return null;
    if (j < n && s.charCodeAt(j) === 59) j++; // optional ';'
    if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
    return { cp, end: j };
  }
  for (const [name, cp] of NAMED_REFS) {
    let k = j;
    let m = 0;
    while (m < name.length) {
      k = skip(k);
      if (k >= n || (s.charCodeAt(k) | 32) !== name.charCodeAt(m)) break;
      k++;
      m++;
    }
    if (m === name.length) {
      k = skip(k);
      if (k < n && s.charCodeAt(k) === 59) k++;
      return { cp, end: k };
    }
  }
  return null;
}

// Named references that can spell a scheme: the colon, and the characters the
// URL parser removes. Matched in any ASCII case (browsers are case-sensitive;
// refusing more is safe).
const NAMED_REFS = [['colon', 58], ['tab', 9], ['newline', 10]];

function isDangerous(p) {
  if (p.startsWith('javascript:') || p.startsWith('vbscript:')) return true;
  if (!p.startsWith('data:')) return false;
  if (!p.startsWith('image/', 5)) return true;
  for (const t of IMAGE_TYPES) {
    if (p.startsWith(t, 11)) {
      const after = p.charCodeAt(11 + t.length);
      if (after === 59 || after === 44) return false; // ';' or ','
    }
  }
  return true;
}

// Characters never allowed in an attribute name: ASCII whitespace and C0
// controls (all of U+0000-U+001F and the space), quotes, `>`, `/`, `=`, `<`,
// backtick, lone surrogates (a JS string can hold them, UTF-8 cannot), and
// noncharacters (U+FDD0-U+FDEF and U+xFFFE/U+xFFFF on every plane).
const INVALID_NAME = /[\0-\x20"'>\/=<`\uFDD0-\uFDEF\uFFFE\uFFFF\uD800-\uDFFF]|[\u{1FFFE}\u{1FFFF}\u{2FFFE}\u{2FFFF}\u{3FFFE}\u{3FFFF}\u{4FFFE}\u{4FFFF}\u{5FFFE}\u{5FFFF}\u{6FFFE}\u{6FFFF}\u{7FFFE}\u{7FFFF}\u{8FFFE}\u{8FFFF}\u{9FFFE}\u{9FFFF}\u{AFFFE}\u{AFFFF}\u{BFFFE}\u{BFFFF}\u{CFFFE}\u{CFFFF}\u{DFFFE}\u{DFFFF}\u{EFFFE}\u{EFFFF}\u{FFFFE}\u{FFFFF}\u{10FFFE}\u{10FFFF}]/u;

/**
 * True if `name` can be written as an attribute name. `on*` handlers are
 * valid names: builders take them as the developer's own code.
 */
export function isValidAttrName(name) {
  return typeof name === 'string' && name.length > 0 && !INVALID_NAME.test(name);
}

/** An attribute value ready to sit between double quotes: URL check, then escape. */
export function attrValue(name, value) {
  return escapeHtml(isUrlAttr(name) ? safeUrl(value) : value);
}
