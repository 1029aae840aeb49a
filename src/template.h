/* template.h - Mustache templates compiled once, rendered many times.
 *
 * Syntax: the Mustache spec's required modules (variables {{x}}, raw {{{x}}}
 * and {{&x}}, sections {{#x}}, inverted sections {{^x}}, comments {{! }},
 * partials {{>name}} with standalone indentation, set delimiters {{=<% %>=}},
 * dotted names, the implicit iterator {{.}}, standalone-line rules) plus
 * inheritance ({{<parent}} ... {{$block}} ... {{/parent}}).
 *
 * Not supported: lambdas. Values cannot be functions (JS functions cannot
 * cross into WebAssembly); the JS encoder leaves them out, so a key that
 * held a function reads as absent. Dynamic partial names ({{>*x}}) are not
 * supported either (such a tag names a partial literally called "*x").
 *
 * Values are read only through nv views (nv.h), so the same compiled
 * template renders JS data, store records and query results alike.
 * Truthiness is nv_truthy (JS-like: 0 and "" are falsy); lists iterate; any
 * other truthy value is pushed as the context. Scalars print as JS String()
 * does. A dotted part may also index a list ("items.0") or ask its "length".
 *
 * HTML safety (escape.h has the rules):
 *   - {{x}} is HTML-escaped; {{{x}}} and {{&x}} are trusted and written as is.
 *   - The compiler follows the literal template text as HTML to learn where
 *     each tag sits. A quoted URL attribute value (href, src, ...) that holds
 *     a tag is checked at render time as a whole: if its effective scheme is
 *     dangerous and any escaped value took part in deciding it, the value
 *     renders as "about:invalid". Values decided by literal text and raw
 *     tags alone are the author's and never altered.
 *   - {{x}} where escaping cannot make it safe is refused at compile time
 *     (NW_E_TEMPLATE, rule "context"): inside a tag outside a quoted
 *     attribute value (tag or attribute name, unquoted value: quote it
 *     instead), and inside <script> or <style> (use {{{x}}} for trusted
 *     content). Partials and blocks are refused in unquoted attribute
 *     values; a partial included inside a tag (<div {{>attrs}}>) is compiled
 *     as attributes so its own URL attributes are checked.
 *   - Values that would run as script (docs/templates-security.md), rule
 *     "context" too: {{x}}, {{{x}}} and {{&x}} are refused in on* handlers
 *     and srcdoc; in Datastar expression attributes (nw_attr_script_kind)
 *     and literal javascript: URLs {{x}} is allowed only inside a '...' or
 *     "..." JS string of the literal text (a small lexer follows it and
 *     refuses what it cannot follow) and renders as nw_escape_js_string
 *     content there; raw values are refused in them. A partial is compiled
 *     in the context it is included in (<script>{{>p}}</script> refuses p's
 *     values); a block is refused inside <script>, <style> and those
 *     attributes.
 *   - Literal template text is copied as is, except that invalid UTF-8 in it
 *     becomes U+FFFD; output is therefore valid UTF-8 unless a raw value is not.
 *
 * Errors: NW_E_TEMPLATE for syntax (unclosed tags and sections, mismatched
 * or unexpected closing tags, bad delimiters, empty tags) with 1-based
 * err->line / err->column of the offending tag (columns count code points;
 * in a partial they refer to the partial's source, which the message names).
 * NW_E_LIMIT for nesting deeper than NW_TPL_MAX_DEPTH (sections at compile
 * time; sections, partials and blocks at render time, so a partial that
 * includes itself fails cleanly instead of overflowing the stack) and for
 * out of memory.
 */
#ifndef NW_TEMPLATE_H
#define NW_TEMPLATE_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "buf.h"
#include "error.h"
#include "nv.h"

/* Render recursion limit (sections, partials, parents and blocks nested at
 * render time), also the compile-time limit on nested sections. */
#define NW_TPL_MAX_DEPTH 256
/* Longest accumulated indentation of nested standalone partials. */
#define NW_TPL_MAX_INDENT 4096

typedef struct nw_tpl nw_tpl;

/* A named partial source. Bytes are copied during compile; the caller keeps
 * ownership. */
typedef struct nw_tpl_partial {
    const char *name;
    size_t name_len;
    const char *src;
    size_t src_len;
} nw_tpl_partial;

/* Compiles `src` and every partial (all are checked, so a broken partial is
 * reported even if unused). A tag naming a partial that is not given
 * renders nothing, or, with `strict`, is a compile-time NW_E_TEMPLATE error.
 * On success *out owns the compiled template (nw_tpl_free). On failure
 * *out is NULL and err is filled. */
nw_code nw_tpl_compile(const char *src, size_t len, const nw_tpl_partial *partials,
                       size_t npartials, bool strict, nw_tpl **out, nw_error *err);

void nw_tpl_free(nw_tpl *t);

/* Renders with `data` as the root context, appending the HTML to `out`.
 * If `ascii` is non-NULL it receives true when every byte appended is < 0x80
 * (the JS side then decodes the bytes as Latin-1). On failure (NW_E_LIMIT)
 * `out` is restored to its length before the call. `data` is borrowed. */
nw_code nw_tpl_render(const nw_tpl *t, const nv *data, nw_buf *out, bool *ascii, nw_error *err);

/* Bytes held by a compiled template (for stats). */
size_t nw_tpl_size(const nw_tpl *t);

#endif
