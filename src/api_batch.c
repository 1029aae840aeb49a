/* api_batch.c - nw_write_batch: the marshalling of batch.h (a sync push's
 * writes, each in its own savepoint, in one crossing; server/batch.js encodes
 * and decodes it).
 *
 * Input (little endian):
 *   u32 guard_from, u32 nscoped, nscoped bytes (1: table t is scoped),
 *   u32 n, then n writes:
 *     u8 op (NW_BOP_*), u8 flags (NW_BWF_*), u16 nrefs, u32 table,
 *     u32 id length, id, u32 scope length, scope,
 *     nrefs x (u32 table, u32 field, u32 id length, id),
 *     and for SAVE/UPDATE one NVAL value (the record data).
 * Output:
 *   u32 guard mark (NW_BGUARD_NONE: none left open; else JS ends it with
 *   nw_guard_end), u32 n, then per write u32 status (NW_BST_*) and
 *     FAILED:  the error as api.h encodes one (u32 code, i32 index, u32 line,
 *              u32 column, entity, field, rule, message as u32 length + UTF-8)
 *     APPLIED: u32 event count + the event records (store.c layout).
 * The call fails as a whole (everything undone) only for malformed input
 * or when the output runs out of memory. */
#include "api.h"
#include "batch.h"
#include "nval.h"
#include "alloc.h"
#include <string.h>

typedef struct cursor { const uint8_t *p; size_t left; bool bad; } cursor;

static uint32_t rd32(cursor *c) {
    if (c->bad || c->left < 4) { c->bad = true; return 0; }
    uint32_t v = nw_rd_u32(c->p);
    c->p += 4; c->left -= 4;
    return v;
}

static const uint8_t *rdn(cursor *c, size_t n) {
    if (c->bad || c->left < n) { c->bad = true; return NULL; }
    const uint8_t *p = c->p;
    c->p += n; c->left -= n;
    return p;
}

static const char *rdstr(cursor *c, uint32_t *len) {
    *len = rd32(c);
    return (const char *)rdn(c, *len);
}

/* One write at the cursor; refs go to *refs (NULL: only counted). */
static void parse_write(cursor *c, nw_batch_write *w, nw_batch_ref *refs) {
    const uint8_t *h = rdn(c, 4);
    if (!h) return;
    w->op = h[0];
    w->flags = h[1];
    w->nrefs = (uint32_t)h[2] | (uint32_t)h[3] << 8;
    w->table = rd32(c);
    w->id = rdstr(c, &w->idlen);
    w->scope = rdstr(c, &w->scope_len);
    w->refs = refs;
    for (uint32_t i = 0; i < w->nrefs && !c->bad; i++) {
        nw_batch_ref r;
        r.table = rd32(c);
        r.field = rd32(c);
        r.id = rdstr(c, &r.idlen);
        if (refs) refs[i] = r;
    }
    w->data = NULL;
    if (c->bad || (w->op != NW_BOP_SAVE && w->op != NW_BOP_UPDATE)) return;
    size_t n = c->left ? nval_check(c->p, c->left) : 0;
    if (!n) { c->bad = true; return; }
    w->data = rdn(c, n);
}

/* Reads the n writes (two passes: count the refs, then fill). */
static nw_code parse_writes(cursor c, uint32_t n, nw_batch_write **out, nw_batch_ref **refs_out, nw_error *err) {
    cursor first = c;
    uint32_t nrefs = 0;
    nw_batch_write w;
    for (uint32_t i = 0; i < n && !first.bad; i++) {
        parse_write(&first, &w, NULL);
        nrefs += w.nrefs;
    }
    if (first.bad || first.left) return nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "malformed batch");
    nw_batch_write *ws = nw_calloc(n ? n : 1, sizeof *ws);
    nw_batch_ref *refs = nw_calloc(nrefs ? nrefs : 1, sizeof *refs);
    if (!ws || !refs) {
        nw_free(ws);
        nw_free(refs);
        return nw_error_nomem(err);
    }
    for (uint32_t i = 0, r = 0; i < n; i++) {
        parse_write(&c, &ws[i], refs + r);
        r += ws[i].nrefs;
    }
    *out = ws;
    *refs_out = refs;
    return NW_OK;
}

static void put_result(void *ud, uint32_t i, nw_batch_status st, const nw_error *e, const uint8_t *events, size_t len, uint32_t count) {
    (void)i;
    nw_buf *o = ud;
    nw_buf_u32(o, (uint32_t)st);
    if (st == NW_BST_FAILED) {
        nw_api_put_error(o, e);
    } else if (st == NW_BST_APPLIED) {
        nw_buf_u32(o, count);   /* the events of a write, inline: u32 count, u32 length, records */
        nw_buf_u32(o, (uint32_t)len);
        if (len) nw_buf_append(o, events, len);
    }
}

NW_EXPORT int nw_write_batch(nw_instance *I, uint32_t len, double now) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_store *s = nw_api_store(I, err);
    if (!s) return nw_api_end(I, NW_E_LIMIT);
    cursor c = { nw_api_in(I), len, false };
    uint32_t guard_from = rd32(&c);
    uint32_t nscoped = rd32(&c);
    const uint8_t *scoped = rdn(&c, nscoped);
    uint32_t n = rd32(&c);
    if (c.bad) return nw_api_end(I, nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "malformed batch"));
    nw_batch_write *ws = NULL;
    nw_batch_ref *refs = NULL;
    nw_code rc = parse_writes(c, n, &ws, &refs, err);
    if (rc) return nw_api_end(I, rc);
    nw_store_set_now(s, now);
    nw_buf *o = nw_api_out(I);
    nw_buf_u32(o, NW_BGUARD_NONE);
    nw_buf_u32(o, n);
    nw_batch b;
    nw_batch_begin(&b, s, scoped, nscoped);
    nw_batch_apply(&b, ws, n, guard_from, put_result, o);
    bool keep = !o->oom && !nw_batch_events_oom(&b);
    uint32_t mark;
    nw_batch_end(&b, keep, &mark);
    nw_free(ws);
    nw_free(refs);
    if (!keep) return nw_api_end(I, nw_error_nomem(err));
    nw_buf_patch_u32(o, 0, mark);
    return nw_api_end(I, NW_OK);
}
