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
#include <string.h>


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

static nw_tpl *lookup(nw_instance *I, uint32_t id) {
    return id >= 1 && id <= I->ntpls ? I->tpls[id - 1] : NULL;
}

static nw_code compile(nw_instance *I, uint32_t len, uint32_t *id) {
    nw_error *err = nw_api_err(I);
    const uint8_t *in = nw_api_in(I);
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
    if (I->nfree) {
        slot = I->free_ids[I->nfree - 1];
    } else {
        if (!grow_u32((void **)&I->tpls, &I->ctpls, sizeof *I->tpls, I->ntpls + 1) ||
            !grow_u32((void **)&I->free_ids, &I->cfree, sizeof *I->free_ids, I->ntpls + 1)) {
            nw_free(parts);
            return nw_error_nomem(err);
        }
        slot = I->ntpls;
    }
    nw_tpl *t = NULL;
    nw_code rc = nw_tpl_compile(src, slen, parts, np, strict, &t, err);
    nw_free(parts);
    if (rc) return rc;
    if (I->nfree) I->nfree--;
    else I->ntpls++;
    I->tpls[slot] = t;
    I->live_tpls++;
    *id = slot + 1;
    return NW_OK;
}

NW_EXPORT int nw_template_compile(nw_instance *I, uint32_t len) {
    nw_api_begin(I);
    uint32_t id = 0;
    nw_code rc = compile(I, len, &id);
    if (!rc) nw_buf_u32(nw_api_out(I), id);
    return nw_api_end(I, rc);
}

/* Renders template `id` over the input's first `dlen` bytes (NVAL data).
 * With `queries` the rest of the input (len - dlen bytes, at least one) is
 * the NVAL array of the data's queries, [{ table, query }] (query handle i
 * in the data = queries[i]): they run first, then the data renders over
 * their records in place. */
static nw_code render(nw_instance *I, uint32_t id, uint32_t len, uint32_t dlen, bool queries) {
    nw_error *err = nw_api_err(I);
    nw_tpl *t = lookup(I, id);
    if (!t) return nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "template: no template %u (freed?)", id);
    const uint8_t *in = nw_api_in(I);
    bool ok = in && (queries ? dlen < len : dlen == len) && nval_check(in, dlen) == dlen &&
              (!queries || nval_check(in + dlen, len - dlen) == len - dlen);
    if (!ok) return nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "template: malformed render data");
    nw_code rc = queries ? nw_api_prepare_queries(I, in + dlen, err) : NW_OK;
    if (rc) return rc;
    nv data;
    nval_view(&data, in, nw_api_env(I));
    bool ascii = false;
    rc = nw_tpl_render(t, &data, nw_api_out(I), &ascii, err);
    I->last_ascii = !rc && ascii;
    return rc;
}

NW_EXPORT int nw_template_render(nw_instance *I, uint32_t id, uint32_t len) {
    nw_api_begin(I);
    return nw_api_end(I, render(I, id, len, len, false));
}

/* render with queries in its data, in one call: the data (its first `dlen`
 * bytes) followed by the NVAL array of its queries (render() above). */
NW_EXPORT int nw_template_render_queries(nw_instance *I, uint32_t id, uint32_t len, uint32_t dlen) {
    nw_api_begin(I);
    return nw_api_end(I, render(I, id, len, dlen, true));
}

NW_EXPORT int nw_template_ascii(nw_instance *I) { return I->last_ascii; }

NW_EXPORT int nw_template_free(nw_instance *I, uint32_t id) {
    nw_api_begin(I);
    nw_tpl *t = lookup(I, id);
    if (!t) return nw_api_end(I, nw_error_set(nw_api_err(I), NW_E_ARG, NULL, NULL, NULL, "template: no template %u", id));
    nw_api_template_freed(I, id);
    nw_tpl_free(t);
    I->tpls[id - 1] = NULL;
    I->free_ids[I->nfree++] = id - 1;   /* capacity: I->cfree >= I->ntpls */
    I->live_tpls--;
    return nw_api_end(I, NW_OK);
}

NW_EXPORT uint32_t nw_template_count(nw_instance *I) { return I->live_tpls; }

nw_tpl *nw_api_template(nw_instance *I, uint32_t id) { return lookup(I, id); }

/* Frees every template (after the views and programs that borrow them). */
void nw_api_templates_free(nw_instance *I) {
    for (uint32_t i = 0; i < I->ntpls; i++) nw_tpl_free(I->tpls[i]);
    nw_free(I->tpls);
    nw_free(I->free_ids);
    I->tpls = NULL; I->free_ids = NULL;
    I->ntpls = I->ctpls = I->nfree = I->cfree = I->live_tpls = 0;
}

/* UTF-16LE copy of the last output, for hosts where a two-byte string is
 * cheaper to create than decoding UTF-8 (large outputs in Node, see
 * js/template.js). Invalid UTF-8 becomes U+FFFD as TextDecoder would make
 * it. Returns the copy's address (length: nw_template_utf16_len), or 0 when
 * out of memory; the copy stays valid until the next call of this function. */
NW_EXPORT uint8_t * nw_template_utf16(nw_instance *I) {
    nw_buf *o = nw_api_out(I);
    nw_buf_reset(&I->u16);
    if (o->len > (SIZE_MAX - 2) / 2 || !nw_buf_reserve(&I->u16, o->len * 2 + 2)) return NULL;
    uint8_t *d = I->u16.p;
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
    I->u16.len = n;
    return I->u16.p;
}

NW_EXPORT uint32_t nw_template_utf16_len(nw_instance *I) { return (uint32_t)I->u16.len; }
