/* api.c - buffers shared by every export, and the constants table. */
#include "api.h"
#include "view.h"
#include "alloc.h"
#include "query.h"
#include "nval.h"
#include <string.h>

static nw_buf in_buf, out_buf, err_buf;
static nw_error err;

static nval_env env;
const nval_env *nw_api_env(void) { return &env; }
void nw_api_set_query_resolver(bool (*query)(void *ud, uint32_t handle, nv *out), void *ud) {
    env.query = query;
    env.ud = ud;
}

nw_buf *nw_api_out(void) { return &out_buf; }
nw_error *nw_api_err(void) { return &err; }
const uint8_t *nw_api_in(void) { return in_buf.p; }

void nw_api_begin(void) {
    nw_record_views_reset();
    nw_buf_reset(&out_buf);
    nw_error_clear(&err);
}

static void put_str(nw_buf *b, const char *s) {
    size_t n = strlen(s);
    nw_buf_u32(b, (uint32_t)n);
    nw_buf_append(b, s, n);
}

int nw_api_end(nw_code code) {
    if (code == NW_OK && out_buf.oom) code = nw_error_nomem(&err);
    if (code != NW_OK) {
        if (err.code != code) {
            /* a code without details: keep whatever message there is */
            err.code = code;
            if (!err.message[0]) strcpy(err.message, nw_code_name(code));
        }
        nw_buf_reset(&err_buf);
        nw_buf_u32(&err_buf, (uint32_t)err.code);
        nw_buf_i32(&err_buf, err.index);
        nw_buf_u32(&err_buf, err.line);
        nw_buf_u32(&err_buf, err.column);
        put_str(&err_buf, err.entity);
        put_str(&err_buf, err.field);
        put_str(&err_buf, err.rule);
        put_str(&err_buf, err.message);
        nw_buf_reset(&out_buf);
    }
    return (int)code;
}

/* Returns a pointer to at least `len` writable bytes for the next call's
 * input, or 0 when out of memory. */
NW_EXPORT uint8_t *nw_input(uint32_t len) {
    nw_buf_reset(&in_buf);
    if (!nw_buf_reserve(&in_buf, (size_t)len + 1)) return NULL;
    in_buf.len = len;
    return in_buf.p;
}

NW_EXPORT uint8_t *nw_out_ptr(void) { return out_buf.p; }
NW_EXPORT uint32_t nw_out_len(void) { return (uint32_t)out_buf.len; }
NW_EXPORT uint8_t *nw_err_ptr(void) { return err_buf.p; }
NW_EXPORT uint32_t nw_err_len(void) { return (uint32_t)err_buf.len; }

/* Releases buffer capacity above a small floor (after a huge render). */
NW_EXPORT void nw_trim(void) {
    if (out_buf.cap > (1u << 20)) nw_buf_free(&out_buf);
    if (in_buf.cap > (1u << 20)) nw_buf_free(&in_buf);
}

/* Constants JS needs, as JSON in the output buffer: error code names in
 * order. Exported once so the two sides cannot drift. */
NW_EXPORT int nw_constants(void) {
    nw_api_begin();
    nw_buf *o = &out_buf;
    nw_buf_str(o, "{\"codes\":[");
    for (int i = 0; i < NW_CODE_COUNT; i++) {
        if (i) nw_buf_byte(o, ',');
        nw_buf_byte(o, '"');
        nw_buf_str(o, nw_code_name((nw_code)i));
        nw_buf_byte(o, '"');
    }
    nw_buf_str(o, "],\"edits\":{");
    /* live view edit op codes (view.h) */
#define NW_EDIT_JSON(name, v) nw_buf_str(o, v == 1 ? "\"" #name "\":" #v : ",\"" #name "\":" #v);
    NW_EDIT_OPS(NW_EDIT_JSON)
#undef NW_EDIT_JSON
    nw_buf_str(o, "},\"slots\":{");
    /* slot kinds and flags (wire.h) */
#define NW_SLOT_ROW(n, v) { #n, v },
    static const struct { const char *name; int v; } slots[] = { NW_WIRE_SLOT(NW_SLOT_ROW) NW_WIRE_SLOTFLAG(NW_SLOT_ROW) };
#undef NW_SLOT_ROW
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
        nw_buf_str(o, i ? ",\"" : "\"");
        nw_buf_str(o, slots[i].name);
        nw_buf_str(o, "\":");
        nw_buf_byte(o, (uint8_t)('0' + slots[i].v));   /* all single digits */
    }
    /* the nesting limit of one value (nval.h), enforced alike by the JS encoder */
#define NW_STR_(x) #x
#define NW_STR(x) NW_STR_(x)
    nw_buf_str(o, "},\"maxDepth\":" NW_STR(NVAL_MAX_DEPTH) "}");
#undef NW_STR
#undef NW_STR_
    return nw_api_end(NW_OK);
}

NW_EXPORT uint32_t nw_heap_bytes(void) { return (uint32_t)nw_alloc_bytes(); }
