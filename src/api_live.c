/* api_live.c - exports of live queries and live views (see api.h for the
 * calling convention).
 *
 *   nw_sub_new(table, len, report)  input: NVAL query spec (query.h); report 0:
 *                            no change reports (the Datastar bridge only asks)
 *                            output: u32 subscription id
 *   nw_sub_ids(id)           output: u32 count, then the ids in order (u32 length + UTF-8)
 *   nw_sub_has(id, len)      input: NVAL array of id strings
 *                            output: one byte per id, 1 if that record is in the result
 *   nw_sub_free(id)
 *   nw_sub_result(id)        output: u32 count, then per record u32 length + stored fields
 *   nw_live_take()           output: u32 report count, then the reports of live.h
 *                            (cleared); subscriptions report only while JS listens
 *   nw_view_program(tpl)     output: the template's DOM program (tpl_dom.h encoding)
 *   nw_view_new(tpl, len)    input: NVAL { data, queries: [{ table, query }] }
 *                            (query handle i in data = queries[i])
 *                            output: u32 view id, then edits
 *   nw_view_update(id, len)  same input; output: edits
 *   nw_view_flush()          output: edits of every view a commit made stale
 *   nw_view_free(id)
 * Edits: u32 word count, u32 string byte count, u32 UTF-16 length, the
 * words, the UTF-8 strings (view.h).
 */
#include "api.h"
#include "view.h"
#include "alloc.h"
#include <string.h>

static nw_code need_live(nw_instance *I, nw_store **s, nw_error *err) {
    *s = nw_api_store(I, err);
    if (!*s) return NW_E_LIMIT;
    if (!I->live) {
        I->live = nw_live_new();
        if (!I->live) return nw_error_nomem(err);
        nw_live_attach(I->live, *s);
    }
    return NW_OK;
}

void nw_api_store_replaced(nw_instance *I, nw_store *s) {
    if (!I->live) return;
    nw_live_attach(I->live, s);
    nw_error e = { 0 };
    nw_live_reset(I->live, s, &e);
}

/* ---- live queries ------------------------------------------------------------------------ */

NW_EXPORT int nw_sub_new(nw_instance *I, uint32_t table, uint32_t len, uint32_t report) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_store *s;
    nw_code rc = need_live(I, &s, err);
    const uint8_t *in = nw_api_in(I);
    if (!rc && (!len || nval_check(in, len) != len)) rc = nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "malformed query");
    nw_sub *sub = NULL;
    if (!rc) rc = nw_live_subscribe(I->live, s, table, in, report != 0, &sub, err);
    if (!rc) nw_buf_u32(nw_api_out(I), nw_sub_id(sub));
    return nw_api_end(I, rc);
}

NW_EXPORT int nw_sub_free(nw_instance *I, uint32_t id) {
    nw_api_begin(I);
    nw_sub *sub = I->live ? nw_live_find(I->live, id) : NULL;
    if (sub) nw_live_unsubscribe(I->live, sub);
    return nw_api_end(I, NW_OK);
}

/* The subscription with that id and the store it reads, or an ARG error. */
static nw_code find_sub(nw_instance *I, uint32_t id, nw_store **s, nw_sub **sub, nw_error *err) {
    *s = nw_api_store(I, err);
    *sub = I->live && *s ? nw_live_find(I->live, id) : NULL;
    return *sub ? NW_OK : nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "no subscription %u", id);
}

/* u32 count, then per result row u32 length + its stored fields, or only
 * its id (field 0, a string: tag byte, u32 length, bytes). */
static int sub_rows(nw_instance *I, uint32_t id, bool ids_only) {
    nw_api_begin(I);
    nw_store *s;
    nw_sub *sub;
    nw_code rc = find_sub(I, id, &s, &sub, nw_api_err(I));
    if (rc) return nw_api_end(I, rc);
    uint32_t n;
    const uint32_t *slots = nw_sub_slots(sub, &n);
    const nw_table *t = nw_store_table(s, nw_sub_table(sub));
    nw_buf *o = nw_api_out(I);
    nw_buf_u32(o, n);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *row = nw_table_row(t, slots[i]);
        const uint8_t *p = ids_only ? row + 9 : row + 4;
        uint32_t len = ids_only ? nw_rd_u32(row + 5) : nw_row_len(row);
        nw_buf_u32(o, len);
        nw_buf_append(o, p, len);
    }
    return nw_api_end(I, NW_OK);
}

NW_EXPORT int nw_sub_ids(nw_instance *I, uint32_t id) { return sub_rows(I, id, true); }
NW_EXPORT int nw_sub_result(nw_instance *I, uint32_t id) { return sub_rows(I, id, false); }

NW_EXPORT int nw_sub_has(nw_instance *I, uint32_t id, uint32_t len) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_store *s;
    nw_sub *sub;
    nw_code rc = find_sub(I, id, &s, &sub, err);
    if (rc) return nw_api_end(I, rc);
    const uint8_t *in = nw_api_in(I), *it;
    if (!len || nval_check(in, len) != len || in[0] != NVAL_ARR)
        return nw_api_end(I, nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "expected an array of ids"));
    const nw_table *t = nw_store_table(s, nw_sub_table(sub));
    uint32_t n = nval_arr(in, &it);
    nw_buf *o = nw_api_out(I);
    for (uint32_t i = 0; i < n; i++, it += nval_span(it)) {
        uint32_t il = 0;
        const char *idp = nval_str(it, &il);
        uint32_t slot = idp ? nw_table_find(t, idp, il) : NW_NO_SLOT;
        nw_buf_byte(o, slot != NW_NO_SLOT && nw_sub_has_slot(sub, slot));
    }
    return nw_api_end(I, NW_OK);
}

/* Reports waiting for nw_live_take (no status convention: a plain count). */
NW_EXPORT uint32_t nw_live_pending(nw_instance *I) { return I->live ? nw_live_report_count(I->live) : 0; }

NW_EXPORT int nw_live_take(nw_instance *I) {
    nw_api_begin(I);
    nw_buf *o = nw_api_out(I);
    if (!I->live) { nw_buf_u32(o, 0); return nw_api_end(I, NW_OK); }
    nw_buf *r = nw_live_reports(I->live);
    nw_buf_u32(o, nw_live_report_count(I->live));
    nw_buf_append(o, r->p, r->len);
    nw_live_clear_reports(I->live);
    return nw_api_end(I, NW_OK);
}

/* ---- DOM programs --------------------------------------------------------------------------- */

static nw_code program(nw_instance *I, uint32_t tpl, nw_tpl_dom **out, nw_error *err) {
    for (uint32_t i = 0; i < I->ndoms; i++) if (I->doms[i].tpl == tpl) { *out = I->doms[i].dom; return NW_OK; }
    nw_tpl *t = nw_api_template(I, tpl);
    if (!t) return nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "template: no template %u (freed?)", tpl);
    if (!nw_grow((void **)&I->doms, &I->cdoms, sizeof *I->doms, I->ndoms + 1)) return nw_error_nomem(err);
    nw_code rc = nw_tpl_dom_build(t, out, err);
    if (rc) return rc;
    I->doms[I->ndoms++] = (nw_tdom){ tpl, *out };
    return NW_OK;
}

NW_EXPORT int nw_view_program(nw_instance *I, uint32_t tpl) {
    nw_api_begin(I);
    nw_tpl_dom *d;
    nw_code rc = program(I, tpl, &d, nw_api_err(I));
    if (!rc) nw_tpl_dom_encode(d, nw_api_out(I));
    return nw_api_end(I, rc);
}

/* ---- views ------------------------------------------------------------------------------------ */

static nw_view **find_view(nw_instance *I, uint32_t id) {
    for (uint32_t i = 0; i < I->nviews; i++) if (nw_view_id(I->views[i]) == id) return &I->views[i];
    return NULL;
}

static void remove_view(nw_instance *I, nw_view **slot) {
    nw_view_destroy(*slot);
    *slot = I->views[--I->nviews];
}

void nw_api_template_freed(nw_instance *I, uint32_t tpl) {
    for (uint32_t i = 0; i < I->ndoms; i++) {
        if (I->doms[i].tpl != tpl) continue;
        for (uint32_t k = I->nviews; k-- > 0;)
            if (nw_view_dom(I->views[k]) == I->doms[i].dom) remove_view(I, &I->views[k]);
        nw_tpl_dom_free(I->doms[i].dom);
        I->doms[i] = I->doms[--I->ndoms];
        return;
    }
}

/* Subscribes the queries of a { data, queries } input; hands them to the view. */
static nw_code set_data(nw_instance *I, nw_store *s, nw_view *v, uint32_t len, nw_error *err) {
    const uint8_t *in = nw_api_in(I);
    if (!len || nval_check(in, len) != len || in[0] != NVAL_OBJ)
        return nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "view: malformed data");
    const uint8_t *data = nval_get(in, "data"), *qs = nval_get(in, "queries"), *it;
    if (!data) return nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "view: no data");
    uint32_t n = qs ? nval_arr(qs, &it) : 0;
    nw_sub **subs = nw_malloc((n ? n : 1) * sizeof *subs);
    if (!subs) return nw_error_nomem(err);
    nw_code rc = NW_OK;
    uint32_t made = 0;
    for (; made < n && !rc; made++, it += nval_span(it)) {
        const uint8_t *spec = nval_get(it, "query");
        uint32_t table = (uint32_t)nval_num(nval_get(it, "table"), -1);
        if (!spec) rc = nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "view: expected a query");
        else rc = nw_live_subscribe(I->live, s, table, spec, false, &subs[made], err);
        if (rc) break;
    }
    if (!rc) rc = nw_view_set_data(v, data, nval_span(data), subs, n, err);
    else for (uint32_t i = 0; i < made; i++) nw_live_unsubscribe(I->live, subs[i]);
    nw_free(subs);
    return rc;
}

/* Copies the edits into the output: counts, words, strings. */
static void put_edits(nw_instance *I) {
    nw_buf *o = nw_api_out(I);
    nw_buf_u32(o, (uint32_t)(I->edits.ops.len / 4));
    nw_buf_u32(o, (uint32_t)I->edits.strs.len);
    nw_buf_u32(o, I->edits.u16);
    nw_buf_append(o, I->edits.ops.p, I->edits.ops.len);
    nw_buf_append(o, I->edits.strs.p, I->edits.strs.len);
    nw_edits_reset(&I->edits);
    if (I->edits.ops.cap > (4u << 20)) nw_edits_free(&I->edits);
}

NW_EXPORT int nw_view_new(nw_instance *I, uint32_t tpl, uint32_t len) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_store *s;
    nw_tpl_dom *d;
    nw_code rc = need_live(I, &s, err);
    if (!rc) rc = program(I, tpl, &d, err);
    if (!rc && !nw_grow((void **)&I->views, &I->cviews, sizeof *I->views, I->nviews + 1)) rc = nw_error_nomem(err);
    nw_view *v = NULL;
    if (!rc) rc = nw_view_create(I->next_view, d, I->live, &v, err);
    if (!rc) rc = set_data(I, s, v, len, err);
    if (!rc) rc = nw_view_render(v, s, true, &I->edits, err);
    if (rc) { nw_view_destroy(v); nw_edits_reset(&I->edits); return nw_api_end(I, rc); }
    I->views[I->nviews++] = v;
    nw_buf_u32(nw_api_out(I), I->next_view++);
    put_edits(I);
    return nw_api_end(I, NW_OK);
}

NW_EXPORT int nw_view_update(nw_instance *I, uint32_t id, uint32_t len) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_store *s;
    nw_code rc = need_live(I, &s, err);
    nw_view **v = rc ? NULL : find_view(I, id);
    if (!rc && !v) rc = nw_error_set(err, NW_E_CLOSED, NULL, NULL, NULL, "view %u was unmounted", id);
    if (!rc) rc = set_data(I, s, *v, len, err);
    if (!rc) rc = nw_view_render(*v, s, true, &I->edits, err);
    put_edits(I);
    return nw_api_end(I, rc);
}

NW_EXPORT int nw_view_flush(nw_instance *I) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_code rc = NW_OK;
    nw_store *s = nw_api_store(I, err);
    for (uint32_t i = 0; i < I->nviews && s && !rc; i++)
        if (nw_view_stale(I->views[i])) rc = nw_view_render(I->views[i], s, false, &I->edits, err);
    put_edits(I);
    return nw_api_end(I, rc);
}

NW_EXPORT int nw_view_free(nw_instance *I, uint32_t id) {
    nw_api_begin(I);
    nw_view **v = find_view(I, id);
    if (v) remove_view(I, v);
    return nw_api_end(I, NW_OK);
}

NW_EXPORT uint32_t nw_view_bytes_total(nw_instance *I) {
    size_t n = 0;
    for (uint32_t i = 0; i < I->nviews; i++) n += nw_view_bytes(I->views[i]);
    for (uint32_t i = 0; i < I->ndoms; i++) n += nw_tpl_dom_size(I->doms[i].dom);
    return (uint32_t)n;
}

/* output: u32 subscriptions, incremental updates, re-runs, views */
NW_EXPORT int nw_live_counters(nw_instance *I) {
    nw_api_begin(I);
    nw_live_stats st = I->live ? nw_live_get_stats(I->live) : (nw_live_stats){ 0 };
    nw_buf *o = nw_api_out(I);
    nw_buf_u32(o, st.subs);
    nw_buf_u32(o, st.incremental);
    nw_buf_u32(o, st.reruns);
    nw_buf_u32(o, I->nviews);
    return nw_api_end(I, NW_OK);
}

/* Frees the views (before the DOM programs they run), the programs and
 * the live results (instance.c). */
void nw_api_live_free(nw_instance *I) {
    while (I->nviews) remove_view(I, &I->views[I->nviews - 1]);
    nw_free(I->views);
    for (uint32_t i = 0; i < I->ndoms; i++) nw_tpl_dom_free(I->doms[i].dom);
    nw_free(I->doms);
    if (I->live && I->store) nw_store_set_commit_hook(I->store, NULL, NULL);
    nw_live_free(I->live);
    nw_edits_free(&I->edits);
    I->views = NULL; I->doms = NULL; I->live = NULL;
    I->nviews = I->cviews = I->ndoms = I->cdoms = 0;
}
