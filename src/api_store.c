/* api_store.c - WebAssembly exports of the entity store (see api.h for the
 * calling convention). One store per instance.
 *
 * Record output: u32 length + stored field bytes (record.h); length 0 means
 * "no record". Write calls append the captured events after their results:
 * u32 count, then the event records of store.c. */
#include "api.h"
#include "store.h"
#include "sync_api.h"
#include "snapshot.h"
#include "nval.h"
#include "alloc.h"
#include <string.h>


static nw_store *store;

static nw_code need_store(nw_error *err) {
    if (store) return NW_OK;
    store = nw_store_new();
    return store ? NW_OK : nw_error_nomem(err);
}

static nw_code need_table(uint32_t table, nw_table **t, nw_error *err) {
    nw_code rc = need_store(err);
    if (rc) return rc;
    *t = nw_store_table(store, table);
    return *t ? NW_OK : nw_error_set(err, NW_E_SCHEMA, NULL, NULL, "schema", "no such entity (handle %u)", table);
}

/* Validates the whole input as one NVAL value. */
static nw_code input_value(uint32_t len, const uint8_t **v, nw_error *err) {
    const uint8_t *in = nw_api_in();
    if (!len || nval_check(in, len) != len)
        return nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "malformed input");
    *v = in;
    return NW_OK;
}

static void put_row(nw_buf *o, const uint8_t *row) {
    if (!row) { nw_buf_u32(o, 0); return; }
    uint32_t n = nw_row_len(row);
    nw_buf_u32(o, n);
    nw_buf_append(o, row + 4, n);
}

static void begin_write(uint32_t flags) {
    nw_store_clear_events(store);
    nw_store_capture_events(store, flags & NW_WF_EVENTS, flags & NW_WF_BEFORE);
}

/* Ends a write: keep or undo, then append the events. */
static int end_write(size_t mark, nw_code rc) {
    if (rc) {
        nw_store_rollback(store, mark);
        nw_store_clear_events(store);
    } else {
        nw_store_release(store, mark);
        nw_buf *o = nw_api_out();
        nw_buf_u32(o, nw_store_event_count(store));
        nw_buf *ev = nw_store_events(store);
        nw_buf_append(o, ev->p, ev->len);
        if (ev->oom) rc = nw_error_nomem(nw_api_err());
    }
    nw_store_capture_events(store, false, false);
    return nw_api_end(rc);
}

nw_store *nw_api_store(nw_error *err) { return need_store(err) == NW_OK ? store : NULL; }
void nw_api_begin_write(uint32_t flags) { begin_write(flags); }
int nw_api_end_write(size_t mark, nw_code rc) { return end_write(mark, rc); }

NW_EXPORT void nw_set_now(double now) {
    if (need_store(nw_api_err()) == NW_OK) nw_store_set_now(store, now);
}

NW_EXPORT int nw_set_client(uint32_t len) {
    nw_api_begin();
    nw_code rc = need_store(nw_api_err());
    if (!rc) nw_store_set_client(store, (const char *)nw_api_in(), len);
    return nw_api_end(rc);
}

/* The table index, then the fields in stored order, each as JS decodes it:
 * u32 count, count x (u8 hint (NW_HINT_*, wire.h), u32 name length, name). */
static void put_fields(nw_buf *o, uint32_t index) {
    const nw_entity_def *def = nw_table_def(nw_store_table(store, index));
    nw_buf_u32(o, index);
    nw_buf_u32(o, def->nfields);
    for (uint32_t i = 0; i < def->nfields; i++) {
        nw_buf_byte(o, nw_field_hint(&def->fields[i]));
        nw_buf_u32(o, def->fields[i].name_len);
        nw_buf_append(o, def->fields[i].name, def->fields[i].name_len);
    }
}

NW_EXPORT int nw_entity_define(uint32_t len) {
    nw_api_begin();
    nw_error *err = nw_api_err();
    const uint8_t *v;
    uint32_t index = 0;
    nw_code rc = need_store(err);
    if (!rc) rc = input_value(len, &v, err);
    if (!rc) rc = nw_store_define(store, v, &index, err);
    if (!rc) put_fields(nw_api_out(), index);
    return nw_api_end(rc);
}

/* create / upsert: input is one record (object or FIELDS map). */
NW_EXPORT int nw_create(uint32_t table, uint32_t len, double ttl, uint32_t flags, uint32_t upsert) {
    nw_api_begin();
    nw_error *err = nw_api_err();
    nw_table *t;
    const uint8_t *v;
    nw_code rc = need_table(table, &t, err);
    if (!rc) rc = input_value(len, &v, err);
    if (rc) return nw_api_end(rc);
    begin_write(flags);
    size_t mark = nw_store_mark(store);
    uint32_t slot;
    rc = nw_store_create(store, table, v, ttl, upsert != 0, &slot, err);
    if (!rc) {
        nw_buf_u32(nw_api_out(), 1);
        put_row(nw_api_out(), nw_table_row(t, slot));
    }
    return end_write(mark, rc);
}

/* insertMany / upsertMany: input is an array of records; all or nothing. */
NW_EXPORT int nw_insert_many(uint32_t table, uint32_t len, double ttl, uint32_t flags, uint32_t upsert) {
    nw_api_begin();
    nw_error *err = nw_api_err();
    nw_table *t;
    const uint8_t *v;
    nw_code rc = need_table(table, &t, err);
    if (!rc) rc = input_value(len, &v, err);
    if (!rc && v[0] != NVAL_ARR) rc = nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "expected an array");
    if (rc) return nw_api_end(rc);
    begin_write(flags);
    size_t mark = nw_store_mark(store);
    const uint8_t *it;
    uint32_t n = nval_arr(v, &it);
    nw_buf *o = nw_api_out();
    nw_buf_u32(o, n);
    for (uint32_t i = 0; i < n && !rc; i++, it += nval_span(it)) {
        uint32_t slot;
        rc = nw_store_create(store, table, it, ttl, upsert != 0, &slot, err);
        if (rc) err->index = (int32_t)i;
        else put_row(o, nw_table_row(t, slot));
    }
    return end_write(mark, rc);
}

/* update: input is u32 id length, id bytes, then the NVAL patch. */
NW_EXPORT int nw_update(uint32_t table, uint32_t len, double ttl, uint32_t flags) {
    nw_api_begin();
    nw_error *err = nw_api_err();
    nw_table *t;
    nw_code rc = need_table(table, &t, err);
    const uint8_t *in = nw_api_in();
    uint32_t il = len >= 4 ? nw_rd_u32(in) : 0;
    if (!rc && (len < 4 || il > len - 4 || nval_check(in + 4 + il, len - 4 - il) != len - 4 - il))
        rc = nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "malformed input");
    if (rc) return nw_api_end(rc);
    begin_write(flags);
    size_t mark = nw_store_mark(store);
    uint32_t slot;
    rc = nw_store_update(store, table, (const char *)in + 4, il, in + 4 + il, ttl, &slot, err);
    if (!rc) {
        nw_buf_u32(nw_api_out(), 1);
        put_row(nw_api_out(), nw_table_row(t, slot));
    }
    return end_write(mark, rc);
}

/* delete: input is the raw id bytes. Result: u32 1, u32 existed (0/1). */
NW_EXPORT int nw_delete(uint32_t table, uint32_t len, uint32_t flags) {
    nw_api_begin();
    nw_error *err = nw_api_err();
    nw_table *t;
    nw_code rc = need_table(table, &t, err);
    if (rc) return nw_api_end(rc);
    begin_write(flags);
    size_t mark = nw_store_mark(store);
    bool existed = false;
    rc = nw_store_delete(store, table, (const char *)nw_api_in(), len, &existed, err);
    if (!rc) {
        nw_buf_u32(nw_api_out(), 1);
        nw_buf_u32(nw_api_out(), existed);
    }
    return end_write(mark, rc);
}

NW_EXPORT int nw_expire(int32_t table, double now, uint32_t flags) {
    nw_api_begin();
    nw_error *err = nw_api_err();
    nw_code rc = need_store(err);
    if (rc) return nw_api_end(rc);
    begin_write(flags);
    size_t mark = nw_store_mark(store);
    uint32_t count = 0;
    rc = nw_store_expire(store, table, now, &count, err);
    if (!rc) {
        nw_buf_u32(nw_api_out(), 1);
        nw_buf_u32(nw_api_out(), count);
    }
    return end_write(mark, rc);
}

/* get: input is the raw id bytes; output one record (length 0 = missing). */
NW_EXPORT int nw_get(uint32_t table, uint32_t len) {
    nw_api_begin();
    nw_error *err = nw_api_err();
    nw_table *t;
    nw_code rc = need_table(table, &t, err);
    if (rc) return nw_api_end(rc);
    uint32_t slot = nw_table_find(t, (const char *)nw_api_in(), len);
    put_row(nw_api_out(), slot != NW_NO_SLOT && nw_table_visible(store, t, slot) ? nw_table_row(t, slot) : NULL);
    return nw_api_end(NW_OK);
}

/* getMany: input NVAL array of id strings; output u32 count + records. */
NW_EXPORT int nw_get_many(uint32_t table, uint32_t len) {
    nw_api_begin();
    nw_error *err = nw_api_err();
    nw_table *t;
    const uint8_t *v;
    nw_code rc = need_table(table, &t, err);
    if (!rc) rc = input_value(len, &v, err);
    if (!rc && v[0] != NVAL_ARR) rc = nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "expected an array");
    if (rc) return nw_api_end(rc);
    const uint8_t *it;
    uint32_t n = nval_arr(v, &it);
    nw_buf *o = nw_api_out();
    nw_buf_u32(o, n);
    for (uint32_t i = 0; i < n; i++, it += nval_span(it)) {
        uint32_t il;
        const char *id = nval_str(it, &il);
        uint32_t slot = id ? nw_table_find(t, id, il) : NW_NO_SLOT;
        put_row(o, slot != NW_NO_SLOT && nw_table_visible(store, t, slot) ? nw_table_row(t, slot) : NULL);
    }
    return nw_api_end(NW_OK);
}

/* all: every visible record in primary key order: u32 count + records. */
NW_EXPORT int nw_all(uint32_t table) {
    nw_api_begin();
    nw_error *err = nw_api_err();
    nw_table *t;
    nw_code rc = need_table(table, &t, err);
    uint32_t *slots = NULL, n = 0;
    if (!rc) rc = nw_table_scan(store, t, &slots, &n, err);
    if (!rc) {
        nw_buf *o = nw_api_out();
        nw_buf_u32(o, n);
        for (uint32_t i = 0; i < n; i++) put_row(o, nw_table_row(t, slots[i]));
    }
    nw_free(slots);
    return nw_api_end(rc);
}

NW_EXPORT int nw_count(uint32_t table) {
    nw_api_begin();
    nw_error *err = nw_api_err();
    nw_table *t;
    nw_code rc = need_table(table, &t, err);
    if (rc) return nw_api_end(rc);
    uint32_t n = nw_table_count_visible(store, t);
    nw_buf_u32(nw_api_out(), n);
    return nw_api_end(NW_OK);
}

/* Transactions and savepoints. nw_tx_begin returns (in the output) a mark;
 * nw_tx_rollback(mark) undoes everything since it; nw_tx_commit ends one
 * level (the outermost commit makes the writes permanent). The shim uses
 * them for nitro.transaction() and for writes that JS must approve first
 * (validate, beforeSave/beforeDelete handlers). */
NW_EXPORT int nw_tx_begin(void) {
    nw_api_begin();
    nw_code rc = need_store(nw_api_err());
    if (!rc) {
        nw_buf_u32(nw_api_out(), (uint32_t)nw_store_mark(store));
        nw_store_tx_begin(store);
    }
    return nw_api_end(rc);
}

NW_EXPORT int nw_tx_commit(void) {
    nw_api_begin();
    if (store && nw_store_in_tx(store)) nw_store_tx_end(store);
    return nw_api_end(NW_OK);
}

NW_EXPORT int nw_tx_rollback(uint32_t mark) {
    nw_api_begin();
    if (store && nw_store_in_tx(store)) {
        nw_store_rollback(store, mark);
        nw_store_tx_end(store);
    }
    return nw_api_end(NW_OK);
}

/* stats: JSON {"heapBytes":n,"entities":{"Task":{"records":n,"bytes":n}}} */
NW_EXPORT int nw_stats(void) {
    nw_api_begin();
    nw_code rc = need_store(nw_api_err());
    if (rc) return nw_api_end(rc);
    nw_buf *o = nw_api_out();
    nw_buf_str(o, "{\"heapBytes\":");
    nw_buf_num(o, (double)nw_alloc_bytes());
    nw_buf_str(o, ",\"entities\":{");
    for (uint32_t i = 0; i < nw_store_ntables(store); i++) {
        nw_table *t = nw_store_table(store, i);
        if (i) nw_buf_byte(o, ',');
        nw_buf_byte(o, '"');
        nw_buf_str(o, nw_table_def(t)->name);
        nw_buf_str(o, "\":{\"records\":");
        nw_buf_num(o, nw_table_count_visible(store, t));
        nw_buf_str(o, ",\"stored\":");
        nw_buf_num(o, nw_table_live(t));
        nw_buf_str(o, ",\"bytes\":");
        nw_buf_num(o, (double)nw_table_bytes(t));
        nw_buf_str(o, ",\"indexes\":");
        nw_buf_num(o, nw_table_def(t)->nindexes);
        nw_buf_byte(o, '}');
    }
    nw_buf_str(o, "}}");
    return nw_api_end(NW_OK);
}

/* ---- queries ---------------------------------------------------------------------- */
#include "query.h"

/* op: NW_Q_ALL ... NW_Q_DELETE (wire.h) */

/* query: input is the NVAL spec of query.h (plus `patch` for updates).
 * Output: all/first: u32 count + records; count: u32; ids: u32 count + (u32
 * len + id bytes); update/delete: u32 1, u32 affected, then events. */
NW_EXPORT int nw_query_exec(uint32_t table, uint32_t len, uint32_t op, uint32_t flags) {
    nw_api_begin();
    nw_error *err = nw_api_err();
    nw_table *t;
    const uint8_t *v;
    nw_code rc = need_table(table, &t, err);
    if (!rc) rc = input_value(len, &v, err);
    if (rc) return nw_api_end(rc);
    nw_query *q = NULL;
    if ((rc = nw_query_parse(store, table, v, &q, err))) return nw_api_end(rc);
    nw_buf *o = nw_api_out();
    if (op == NW_Q_COUNT) {
        uint32_t n = 0;
        rc = nw_query_count(store, q, &n, err);
        nw_buf_u32(o, n);
        nw_query_free(q);
        return nw_api_end(rc);
    }
    uint32_t *slots = NULL, n = 0;
    if (op == NW_Q_FIRST) {
        /* first = limit 1 inside the window */
        rc = nw_query_run(store, q, false, &slots, &n, err);
        if (n > 1) n = 1;
    } else {
        rc = nw_query_run(store, q, false, &slots, &n, err);
    }
    if (rc) { nw_query_free(q); return nw_api_end(rc); }
    if (op == NW_Q_ALL || op == NW_Q_FIRST) {
        nw_buf_u32(o, n);
        for (uint32_t i = 0; i < n; i++) put_row(o, nw_table_row(t, slots[i]));
    } else if (op == NW_Q_IDS) {
        nw_buf_u32(o, n);
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *f = nw_table_row(t, slots[i]) + 4;
            nw_buf_append(o, f + 1, 4 + (size_t)nw_rd_u32(f + 1));
        }
    } else {
        const uint8_t *patch = nval_get(v, "patch");
        if (op == NW_Q_UPDATE && !patch) rc = nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "update needs a patch");
        /* collect ids first: writes move rows */
        nw_buf ids;
        nw_buf_init(&ids);
        for (uint32_t i = 0; i < n && !rc; i++) {
            const uint8_t *f = nw_table_row(t, slots[i]) + 4;
            nw_buf_append(&ids, f + 1, 4 + (size_t)nw_rd_u32(f + 1));
        }
        if (!rc && ids.oom) rc = nw_error_nomem(err);
        nw_free(slots);
        slots = NULL;
        nw_query_free(q);
        q = NULL;
        if (rc) { nw_buf_free(&ids); return nw_api_end(rc); }
        begin_write(flags);
        size_t mark = nw_store_mark(store);
        uint32_t affected = 0;
        size_t at = 0;
        for (uint32_t i = 0; i < n && !rc; i++) {
            uint32_t il = nw_rd_u32(ids.p + at);
            const char *id = (const char *)ids.p + at + 4;
            at += 4 + il;
            if (op == NW_Q_UPDATE) {
                uint32_t slot;
                rc = nw_store_update(store, table, id, il, patch, -1, &slot, err);
                if (!rc) affected++;
            } else {
                bool existed = false;
                rc = nw_store_delete(store, table, id, il, &existed, err);
                if (!rc && existed) affected++;
            }
            if (rc) err->index = (int32_t)i;
        }
        nw_buf_free(&ids);
        if (!rc) {
            nw_buf_u32(o, 1);
            nw_buf_u32(o, affected);
        }
        return end_write(mark, rc);
    }
    nw_free(slots);
    nw_query_free(q);
    return nw_api_end(rc);
}

/* Queries passed to templates: JS sends them once per render as an NVAL
 * array of { table, query }; each result stays alive until the next call of
 * nw_query_prepare, and the renderer reads it through the query hook. */
typedef struct prepared { nw_table *t; uint32_t *slots; uint32_t n; } prepared;
static prepared *prep;
static uint32_t nprep;

static void prep_clear(void) {
    for (uint32_t i = 0; i < nprep; i++) nw_free(prep[i].slots);
    nw_free(prep);
    prep = NULL;
    nprep = 0;
}

static bool prep_query(void *ud, uint32_t handle, nv *out) {
    (void)ud;
    if (handle >= nprep) return false;
    nw_slots_view(out, prep[handle].t, prep[handle].slots, prep[handle].n);
    return true;
}

NW_EXPORT int nw_query_prepare(uint32_t len) {
    nw_api_begin();
    nw_error *err = nw_api_err();
    const uint8_t *v;
    prep_clear();
    nw_code rc = need_store(err);
    if (!rc) rc = input_value(len, &v, err);
    if (!rc && v[0] != NVAL_ARR) rc = nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "expected an array");
    if (rc) return nw_api_end(rc);
    nw_api_set_query_resolver(prep_query, NULL);
    const uint8_t *it;
    uint32_t n = nval_arr(v, &it);
    prep = nw_calloc(n ? n : 1, sizeof *prep);
    if (!prep) return nw_api_end(nw_error_nomem(err));
    for (uint32_t i = 0; i < n && !rc; i++, it += nval_span(it)) {
        uint32_t table = (uint32_t)nval_num(nval_get(it, "table"), -1);
        const uint8_t *spec = nval_get(it, "query");
        nw_query *q = NULL;
        if (!spec) rc = nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "expected a query");
        if (!rc) rc = nw_query_parse(store, table, spec, &q, err);
        if (!rc) rc = nw_query_run(store, q, false, &prep[i].slots, &prep[i].n, err);
        if (!rc) { prep[i].t = nw_store_table(store, table); nprep = i + 1; }
        nw_query_free(q);
    }
    if (rc) prep_clear();
    return nw_api_end(rc);
}

/* ---- snapshots (format and checks: snapshot.h) ----------------------------------- */

NW_EXPORT int nw_snapshot(void) {
    nw_api_begin();
    nw_error *err = nw_api_err();
    nw_code rc = need_store(err);
    if (!rc) rc = nw_snapshot_write(store, nw_api_out(), err);
    return nw_api_end(rc);
}

/* Restores into a fresh store with the same definitions; the current store
 * is replaced only when everything checked out. */
NW_EXPORT int nw_restore(uint32_t len) {
    nw_api_begin();
    nw_error *err = nw_api_err();
    nw_code rc = need_store(err);
    if (rc) return nw_api_end(rc);
    nw_store *fresh;
    rc = nw_snapshot_read(store, nw_api_in(), len, &fresh, err);
    if (rc) return nw_api_end(rc);
    prep_clear();
    nw_store_free(store);
    store = fresh;
    nw_api_store_replaced(store);
    nw_api_journal_store_replaced(store);
    return nw_api_end(NW_OK);
}

/* search: input { text, where?, limit? }; output u32 count + records, best
 * first (score, then insertion order). */
NW_EXPORT int nw_search(uint32_t table, uint32_t len) {
    nw_api_begin();
    nw_error *err = nw_api_err();
    nw_table *t;
    const uint8_t *v;
    nw_code rc = need_table(table, &t, err);
    if (!rc) rc = input_value(len, &v, err);
    if (rc) return nw_api_end(rc);
    const nw_entity_def *def = nw_table_def(t);
    if (!def->nsearch)
        return nw_api_end(nw_error_set(err, NW_E_QUERY, def->name, NULL, "search", "%s has no search fields (declare `search: [...]`)", def->name));
    uint32_t tl = 0;
    const char *text = nval_str(nval_get(v, "text"), &tl);
    if (!text) return nw_api_end(nw_error_set(err, NW_E_QUERY, def->name, NULL, "search", "search text must be a string"));
    double limit = nval_num(nval_get(v, "limit"), -1);
    nw_query *q = NULL;
    const uint8_t *where = nval_get(v, "where");
    if (where && where[0] != NVAL_NULL && (rc = nw_query_parse(store, table, v, &q, err))) return nw_api_end(rc);
    nw_fts *f = nw_table_fts(t);
    if (!f) { nw_query_free(q); return nw_api_end(nw_error_nomem(err)); }
    nw_fts_hit *hits = NULL;
    size_t n = 0;
    if (nw_fts_query(f, text, tl, &hits, &n) != 0) { nw_query_free(q); return nw_api_end(nw_error_nomem(err)); }
    nw_buf *o = nw_api_out();
    size_t count_at = o->len;
    nw_buf_u32(o, 0);
    uint32_t k = 0;
    for (size_t i = 0; i < n && (limit < 0 || k < limit); i++) {
        uint32_t slot = hits[i].slot;
        if (!nw_table_visible(store, t, slot)) continue;
        if (q && !nw_query_matches(q, nw_table_row(t, slot))) continue;
        put_row(o, nw_table_row(t, slot));
        k++;
    }
    nw_buf_patch_u32(o, count_at, k);
    nw_free(hits);
    nw_query_free(q);
    return nw_api_end(NW_OK);
}
