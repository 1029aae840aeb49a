/* escape.h - the one set of HTML escaping rules in C.
 *
 * The JS twin is js/escape.js; both must pass tests/fixtures/escape-cases.json
 * byte for byte. Every C producer of HTML (templates, builders, SSE) escapes
 * through this module.
 *
 * Text and quoted attribute values (nw_escape_html):
 *   & < > " ' `  ->  &amp; &lt; &gt; &quot; &#39; &#96;
 *   NUL and invalid UTF-8 -> U+FFFD (one per maximal invalid subpart, the way
 *   TextDecoder replaces); everything else passes through unchanged.
 *
 * URL attributes (nw_is_url_attr): a value whose effective scheme can run
 * script renders as "about:invalid" (nw_url_is_safe decides). The effective
 * scheme is computed the way a browser would, erring on the side of refusing:
 *   1. remove every TAB, LF and CR;
 *   2. decode character references, one pass, each with or without its `;`:
 *      `&#` decimal, `&#x`/`&#X` hex (0, surrogates and > 0x10FFFF give
 *      U+FFFD), and the names colon, tab, newline (any ASCII case);
 *   3. remove the TAB, LF and CR that decoding produced;
 *   4. strip leading U+0000-U+0020;
 *   5. ASCII-lowercase;
 *   6. refuse `javascript:`, `vbscript:`, and `data:` unless followed by
 *      image/(png|gif|jpeg|jpg|webp|bmp|avif) and then `;` or `,`.
 * Only the first 16 effective characters matter, so the check is a streaming
 * state machine (nw_url_check) that can be fed a value in pieces, which is
 * how the template renderer checks values built from several parts.
 *
 * Nothing here allocates except through the nw_buf passed in.
 */
#ifndef NW_ESCAPE_H
#define NW_ESCAPE_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "buf.h"

/* Appends s[0..n) escaped for HTML text or a quoted attribute value.
 * Returns true if it wrote any byte >= 0x80 (the output is not pure ASCII). */
bool nw_escape_html(nw_buf *b, const char *s, size_t n);

/* True for attribute names whose value is a URL (case-insensitive): href,
 * src, action, formaction, xlink:href, poster, cite, background, codebase,
 * data, manifest, longdesc, usemap, profile, classid, icon. Not srcset. */
bool nw_is_url_attr(const char *name, size_t len);

/* Attribute values that run as script (nw_attr_script_kind). Templates
 * refuse values in them, except inside a JS string literal of a Datastar
 * expression, where nw_escape_js_string encodes them; docs/templates-security.md. */
enum {
    NW_ATTR_PLAIN = 0,
    NW_ATTR_EVENT,      /* on* event handlers (onclick, onload, ...) */
    NW_ATTR_SRCDOC,     /* <iframe srcdoc>: a whole HTML document */
    NW_ATTR_DATASTAR,   /* an attribute Datastar evaluates as an expression */
    NW_ATTR_JSURL,      /* a URL attribute whose literal text starts "javascript:" (templates
                           decide it; nw_attr_script_kind never returns it) */
};

/* The kind of attribute `name` (ASCII case-insensitive). `name` may be the
 * first `len` bytes of a longer name (the template compiler keeps 31): the
 * kind is decided by its start. Datastar attributes: data-<plugin> with
 * plugin (the part before ':' or "__") one of attr bind class computed
 * effect indicator init json-signals on on-intersect on-interval
 * on-signal-patch ref show signals style text (Datastar 1.0), persist
 * query-string replace-url scroll-into-view view-transition custom-validity
 * (Pro), or the hyphenated keyed forms of older releases: on-*, signals-*,
 * class-*, attr-*, style-*, computed-*, bind-*, indicator-*, ref-*. */
int nw_attr_script_kind(const char *name, size_t len);

/* Appends s[0..n) as the content of a JS string literal that may sit in a
 * quoted HTML attribute, in a single- or double-quoted JS string: bytes
 * [A-Za-z0-9 ,._/:-] are copied; other ASCII becomes \xNN, other code
 * points \uNNNN (UTF-16, astral ones as a surrogate pair), invalid UTF-8
 * \ufffd. The output is ASCII with no HTML special, so it needs no further
 * HTML escaping (escaping it again would change nothing). */
void nw_escape_js_string(nw_buf *b, const char *s, size_t n);

/* True if the value may be written as it is (escaped) into a URL attribute;
 * false if it must be replaced by "about:invalid". */
bool nw_url_is_safe(const char *value, size_t len);

/* True if `name` can be written as an attribute name: non-empty valid UTF-8
 * without U+0000-U+0020, " ' > / = < `, and without noncharacters. */
bool nw_is_valid_attr_name(const char *name, size_t len);

/* Length (1..4) of the valid UTF-8 sequence at p, or 0 when it is invalid;
 * then *bad is the length of the maximal invalid subpart, which decoders
 * (and nw_escape_html) replace by one U+FFFD. */
size_t nw_utf8_seq(const uint8_t *p, size_t avail, size_t *bad);

/* Streaming form of the URL check. Zero-initialise (or nw_url_check_init),
 * feed the value in any number of pieces, then ask nw_url_check_dangerous.
 * Once nw_url_check_decided() is true further input cannot change the
 * verdict, and feeding is a no-op. */
typedef struct nw_url_check {
    uint8_t out[16];   /* effective prefix so far (lowercased; 0x80 marks non-ASCII) */
    uint8_t n;         /* its length */
    uint8_t verdict;   /* 0 undecided, 1 safe, 2 dangerous */
    uint8_t st;        /* reference decoder state */
    uint8_t hex;       /* numeric reference is hex */
    uint8_t name;      /* named reference being matched (index) */
    uint8_t m;         /* characters of it matched so far */
    uint32_t cp;       /* numeric reference value so far */
} nw_url_check;

void nw_url_check_init(nw_url_check *c);
void nw_url_check_feed(nw_url_check *c, const char *p, size_t n);
static inline bool nw_url_check_decided(const nw_url_check *c) { return c->verdict != 0; }
/* Ends the input (a pending reference is resolved) and returns the verdict. */
bool nw_url_check_dangerous(nw_url_check *c);

#endif
