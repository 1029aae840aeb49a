/* api.c - the call framing every export uses (the instance's buffers and
 * error, instance.h), and the constants table. */
#include "api.h"
#include "view.h"
#include "alloc.h"
#include "query.h"
#include "record_view.h"
#include "nval.h"
#include <string.h>

const nval_env *nw_api_env(nw_instance *I) { return &I->env; }
void nw_api_set_query_resolver(nw_instance *I, bool (*query)(void *ud, uint32_t handle, nv *out), void *ud) {
    I->env.query = query;
    I->env.ud = ud;
}

nw_buf *nw_api_out(nw_instance *I) { return &I->out; }
nw_error *nw_api_err(nw_instance *I) { return &I->err; }
const uint8_t *nw_api_in(nw_instance *I) { return I->in.p; }

void nw_api_begin(nw_instance *I) {
    if (I->store) nw_record_views_reset(I->store);
    nw_buf_reset(&I->out);
    nw_error_clear(&I->err);
}

static void put_str(nw_buf *b, const char *s) {
    size_t n = strlen(s);
    nw_buf_u32(b, (uint32_t)n);
    nw_buf_append(b, s, n);
}

void nw_api_put_error(nw_buf *b, const nw_error *e) {
    nw_buf_u32(b, (uint32_t)e->code);
    nw_buf_i32(b, e->index);
    nw_buf_u32(b, e->line);
    nw_buf_u32(b, e->column);
    put_str(b, e->entity);
    put_str(b, e->field);
    put_str(b, e->rule);
    put_str(b, e->message[0] ? e->message : nw_code_name(e->code));
}

int nw_api_end(nw_instance *I, nw_code code) {
    nw_error *e = &I->err;
    nw_buf *out = &I->out, *eb = &I->errb;
    if (code == NW_OK && out->oom) code = nw_error_nomem(e);
    if (code != NW_OK) {
        if (e->code != code) {
            /* a code without details: keep whatever message there is */
            e->code = code;
            if (!e->message[0]) strcpy(e->message, nw_code_name(code));
        }
        nw_buf_reset(eb);
        nw_api_put_error(eb, e);
        nw_buf_reset(out);
    }
    return (int)code;
}

/* Returns a pointer to at least `len` writable bytes for the next call's
 * input, or 0 when out of memory. */
NW_EXPORT uint8_t *nw_input(nw_instance *I, uint32_t len) {
    nw_buf_reset(&I->in);
    if (!nw_buf_reserve(&I->in, (size_t)len + 1)) return NULL;
    I->in.len = len;
    return I->in.p;
}

NW_EXPORT uint8_t *nw_out_ptr(nw_instance *I) { return I->out.p; }
NW_EXPORT uint32_t nw_out_len(nw_instance *I) { return (uint32_t)I->out.len; }
NW_EXPORT uint8_t *nw_err_ptr(nw_instance *I) { return I->errb.p; }
NW_EXPORT uint32_t nw_err_len(nw_instance *I) { return (uint32_t)I->errb.len; }

/* Releases buffer capacity above a small floor (after a huge render). */
NW_EXPORT void nw_trim(nw_instance *I) {
    if (I->out.cap > (1u << 20)) nw_buf_free(&I->out);
    if (I->in.cap > (1u << 20)) nw_buf_free(&I->in);
}

/* Constants JS needs, as JSON in the output buffer: error code names in
 * order. Exported once so the two sides cannot drift. */
NW_EXPORT int nw_constants(nw_instance *I) {
    nw_api_begin(I);
    nw_buf *o = &I->out;
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
    return nw_api_end(I, NW_OK);
}

/* The bytes the process's allocator holds (alloc.h: one count for every
 * instance; it takes one for the calling convention). */
NW_EXPORT uint32_t nw_heap_bytes(nw_instance *I) {
    (void)I;
    return (uint32_t)nw_alloc_bytes();
}
