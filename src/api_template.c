/* api_template.c - template exports: compile, render, free.
 *
 *   nw_template_compile(len)    input: NVAL object
 *                                 { src: string, partials?: { name: string }, strict?: bool }
 *                               output: u32 template id (little endian)
 *   nw_template_render(id, len) input: NVAL data (the root context; query
 *                               handles resolve through nw_api_env)
 *                               output: the HTML bytes (UTF-8)
 *   nw_template_ascii()         1 if the last successful render wrote only
 *                               bytes < 0x80 (JS may decode it as Latin-1)
 *   nw_template_free(id)        releases a template; its id is reused
 *   nw_template_count()         live templates (stats)
 * All but nw_template_ascii/count follow the status-code convention of api.h.
 */
#include "api.h"
#include "alloc.h"
#include "template.h"
#include "escape.h"
#include "nval.h"
#include "sync_api.h"
#include <string.h>

static nw_tpl **table;       /* slot i holds template id i + 1, NULL if free */
static uint32_t table_len, table_cap;
static uint32_t *free_ids;   /* free slots, reused last-in first-out */
static uint32_t nfree, free_cap;
static uint32_t live;
static int last_ascii;

static bool grow_u32(void **p, uint32_t *cap, size_t elem, uint32_t need) {
    if (need <= *cap) return true;
    uint32_t c = *cap ? *cap * 2 : 16;
    while (c < need) c *= 2;
    void *q = nw_realloc(*p, (size_t)c * elem);
    if (!q) return false;
    *p = q;
    *cap = c;
    return true;
}

static nw_tpl *lookup(uint32_t id) {
    return id >= 1 && id <= table_len ? table[id - 1] : NULL;
}

static nw_code compile(uint32_t len, uint32_t *id) {
    nw_error *err = nw_api_err();
    const uint8_t *in = nw_api_in();
    if (!in || nval_check(in, len) != len || in[0] != NVAL_OBJ)
        return nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "template: malformed compile request");
    uint32_t slen = 0;
    const char *src = nval_str(nval_get(in, "src"), &slen);
    if (!src) return nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "template: src must be a string");
    bool strict = nval_bool(nval_get(in, "strict"), false);

    const uint8_t *pm = nval_get(in, "partials");
    uint32_t np = pm && pm[0] == NVAL_OBJ ? nw_rd_u32(pm + 1) : 0;
    nw_tpl_partial *parts = NULL;
    if (np) {
        parts = nw_malloc((size_t)np * sizeof *parts);
        if (!parts) return nw_error_nomem(err);
        size_t off = 5;
        for (uint32_t i = 0; i < np; i++) {
            uint32_t kl = nw_rd_u32(pm + off);
            parts[i].name = (const char *)pm + off + 4;
            parts[i].name_len = kl;
            off += 4 + kl;
            uint32_t vl = 0;
            const char *v = nval_str(pm + off, &vl);
            if (!v) {
                nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "template: partial \"%.*s\" must be a string",
                             (int)kl, parts[i].name);
                nw_free(parts);
                return NW_E_ARG;
            }
            parts[i].src = v;
            parts[i].src_len = vl;
            off += nval_span(pm + off);
        }
    }
    /* reserve the slot first so that success cannot fail afterwards */
    uint32_t slot;
    if (nfree) {
        slot = free_ids[nfree - 1];
    } else {
        if (!grow_u32((void **)&table, &table_cap, sizeof *table, table_len + 1) ||
            !grow_u32((void **)&free_ids, &free_cap, sizeof *free_ids, table_len + 1)) {
            nw_free(parts);
            return nw_error_nomem(err);
        }
        slot = table_len;
    }
    nw_tpl *t = NULL;
    nw_code rc = nw_tpl_compile(src, slen, parts, np, strict, &t, err);
    nw_free(parts);
    if (rc) return rc;
    if (nfree) nfree--;
    else table_len++;
    table[slot] = t;
    live++;
    *id = slot + 1;
    return NW_OK;
}

NW_EXPORT int nw_template_compile(uint32_t len) {
    nw_api_begin();
    uint32_t id = 0;
    nw_code rc = compile(len, &id);
    if (!rc) nw_buf_u32(nw_api_out(), id);
    return nw_api_end(rc);
}

NW_EXPORT int nw_template_render(uint32_t id, uint32_t len) {
    nw_api_begin();
    nw_error *err = nw_api_err();
    nw_tpl *t = lookup(id);
    if (!t) return nw_api_end(nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "template: no template %u (freed?)", id));
    const uint8_t *in = nw_api_in();
    if (!in || nval_check(in, len) != len)
        return nw_api_end(nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "template: malformed render data"));
    nv data;
    nval_view(&data, in, nw_api_env());
    bool ascii = false;
    nw_code rc = nw_tpl_render(t, &data, nw_api_out(), &ascii, err);
    last_ascii = !rc && ascii;
    return nw_api_end(rc);
}

NW_EXPORT int nw_template_ascii(void) { return last_ascii; }

NW_EXPORT int nw_template_free(uint32_t id) {
    nw_api_begin();
    nw_tpl *t = lookup(id);
    if (!t) return nw_api_end(nw_error_set(nw_api_err(), NW_E_ARG, NULL, NULL, NULL, "template: no template %u", id));
    nw_api_template_freed(id);
    nw_tpl_free(t);
    table[id - 1] = NULL;
    free_ids[nfree++] = id - 1;   /* capacity: free_cap >= table_len */
    live--;
    return nw_api_end(NW_OK);
}

NW_EXPORT uint32_t nw_template_count(void) { return live; }

nw_tpl *nw_api_template(uint32_t id) { return lookup(id); }

/* UTF-16LE copy of the last output, for hosts where a two-byte string is
 * cheaper to create than decoding UTF-8 (large outputs in Node, see
 * js/template.js). Invalid UTF-8 becomes U+FFFD as TextDecoder would make
 * it. Returns the copy's address (length: nw_template_utf16_len), or 0 when
 * out of memory; the copy stays valid until the next call of this function. */
static nw_buf u16buf;

NW_EXPORT uint8_t *nw_template_utf16(void) {
    nw_buf *o = nw_api_out();
    nw_buf_reset(&u16buf);
    if (o->len > (SIZE_MAX - 2) / 2 || !nw_buf_reserve(&u16buf, o->len * 2 + 2)) return NULL;
    uint8_t *d = u16buf.p;
    const uint8_t *s = o->p, *e = s + o->len;
    size_t n = 0;
    while (s < e) {
        uint8_t c = *s;
        if (c < 0x80) { d[n] = c; d[n + 1] = 0; n += 2; s++; continue; }
        size_t bad = 1, k = nw_utf8_seq(s, (size_t)(e - s), &bad);
        uint32_t cp = 0xFFFD;
        if (k == 2) cp = ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
        else if (k == 3) cp = ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        else if (k == 4) cp = ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) | ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        s += k ? k : bad;
        if (cp >= 0x10000) {
            /* 4 UTF-8 bytes -> 2 code units: fits the 2x reservation */
            cp -= 0x10000;
            uint32_t hi = 0xD800 + (cp >> 10), lo = 0xDC00 + (cp & 0x3FF);
            d[n] = (uint8_t)hi; d[n + 1] = (uint8_t)(hi >> 8); d[n + 2] = (uint8_t)lo; d[n + 3] = (uint8_t)(lo >> 8);
            n += 4;
        } else {
            d[n] = (uint8_t)cp; d[n + 1] = (uint8_t)(cp >> 8);
            n += 2;
        }
    }
    u16buf.len = n;
    return u16buf.p;
}

NW_EXPORT uint32_t nw_template_utf16_len(void) { return (uint32_t)u16buf.len; }
