/* api_store.c - WebAssembly exports of the entity store (see api.h for the
 * calling convention). One store per instance (instance.h).
 *
 * Record output: u32 length + stored field bytes (record.h); length 0 means
 * "no record". Write calls append the captured events after their results:
 * u32 count, u32 length; the event records themselves (layout: wire.h
 * NW_WIRE_EVLAYOUT) stay in the store's event buffer, at nw_events_ptr,
 * until the next write: a batch's megabytes of events are not copied into
 * the output. */
#include "api.h"
#include "store.h"
#include "snapshot.h"
#include "nval.h"
#include "alloc.h"
#include <string.h>


static nw_code need_store(nw_instance *I, nw_error *err) {
    if (I->store) return NW_OK;
    I->store = nw_store_new();
    return I->store ? NW_OK : nw_error_nomem(err);
}

static nw_code need_table(nw_instance *I, uint32_t table, nw_table **t, nw_error *err) {
    nw_code rc = need_store(I, err);
    if (rc) return rc;
    *t = nw_store_table(I->store, table);
    return *t ? NW_OK : nw_error_set(err, NW_E_SCHEMA, NULL, NULL, "schema", "no such entity (handle %u)", table);
}

/* Validates the whole input as one NVAL value. */
static nw_code input_value(nw_instance *I, uint32_t len, const uint8_t **v, nw_error *err) {
    const uint8_t *in = nw_api_in(I);
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

/* put_row for each of slots[0..n) (live rows), warming them NW_WARM_ROWS
 * at a time: slots from an index or a search are scattered in memory. */
static void put_rows(nw_buf *o, const nw_table *t, const uint32_t *slots, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        nw_table_warm_ahead(t, slots, n, i);
        put_row(o, nw_table_row(t, slots[i]));
    }
}

/* Starts a write. One that JS must approve (NW_WF_BEFORE: validate,
 * before* handlers) opens a savepoint here and puts its mark first in the
 * output (u32); JS ends it with nw_guard_end: one call to approve, none to
 * open. */
static void begin_write(nw_instance *I, uint32_t flags) {
    nw_store_clear_events(I->store);
    nw_store_capture_events(I->store, flags & NW_WF_EVENTS, flags & NW_WF_BEFORE);
    if (flags & NW_WF_BEFORE) {
        I->guard_mark = nw_store_mark(I->store);
        nw_store_tx_begin(I->store);
        I->guard_open = true;
        nw_buf_u32(nw_api_out(I), (uint32_t)I->guard_mark);
    }
}

/* Ends a write: keep or undo, then append the events. A failed guarded
 * write also closes its savepoint: there is nothing left to approve. */
static int end_write(nw_instance *I, size_t mark, nw_code rc) {
    if (rc) {
        nw_store_rollback(I->store, mark);
        nw_store_clear_events(I->store);
        if (I->guard_open) nw_store_tx_end(I->store);
    } else {
        nw_store_release(I->store, mark);
        nw_buf *o = nw_api_out(I);
        nw_buf *ev = nw_store_events(I->store);
        nw_buf_u32(o, nw_store_event_count(I->store));
        nw_buf_u32(o, (uint32_t)ev->len);
        if (ev->oom || o->oom) {
            /* nothing reaches JS, so nothing is left to approve */
            rc = nw_error_nomem(nw_api_err(I));
            if (I->guard_open) {
                nw_store_rollback(I->store, I->guard_mark);
                nw_store_tx_end(I->store);
            }
        }
    }
    I->guard_open = false;
    nw_store_capture_events(I->store, false, false);
    return nw_api_end(I, rc);
}

/* Where the last write's event records are (its output gives their count
 * and length); valid until the next write. NULL before the first. */
NW_EXPORT const uint8_t *nw_events_ptr(nw_instance *I) {
    return I->store ? nw_store_events(I->store)->p : NULL;
}

nw_store *nw_api_store(nw_instance *I, nw_error *err) { return need_store(I, err) == NW_OK ? I->store : NULL; }
void nw_api_begin_write(nw_instance *I, uint32_t flags) { begin_write(I, flags); }
int nw_api_end_write(nw_instance *I, size_t mark, nw_code rc) { return end_write(I, mark, rc); }

NW_EXPORT void nw_set_now(nw_instance *I, double now) {
    if (need_store(I, nw_api_err(I)) == NW_OK) nw_store_set_now(I->store, now);
}

NW_EXPORT int nw_set_client(nw_instance *I, uint32_t len) {
    nw_api_begin(I);
    nw_code rc = need_store(I, nw_api_err(I));
    if (!rc) nw_store_set_client(I->store, (const char *)nw_api_in(I), len);
    return nw_api_end(I, rc);
}

/* The table index, then the fields in stored order, each as JS decodes it:
 * u32 count, count x (u8 hint (NW_HINT_*, wire.h), u32 name length, name). */
static void put_fields(nw_instance *I, nw_buf *o, uint32_t index) {
    const nw_entity_def *def = nw_table_def(nw_store_table(I->store, index));
    nw_buf_u32(o, index);
    nw_buf_u32(o, def->nfields);
    for (uint32_t i = 0; i < def->nfields; i++) {
        nw_buf_byte(o, nw_field_hint(&def->fields[i]));
        nw_buf_u32(o, def->fields[i].name_len);
        nw_buf_append(o, def->fields[i].name, def->fields[i].name_len);
    }
}

NW_EXPORT int nw_entity_define(nw_instance *I, uint32_t len) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    const uint8_t *v;
    uint32_t index = 0;
    nw_code rc = need_store(I, err);
    if (!rc) rc = input_value(I, len, &v, err);
    if (!rc) rc = nw_store_define(I->store, v, &index, err);
    if (!rc) put_fields(I, nw_api_out(I), index);
    return nw_api_end(I, rc);
}

/* create / upsert: input is one record (object or FIELDS map). */
NW_EXPORT int nw_create(nw_instance *I, uint32_t table, uint32_t len, double ttl, uint32_t flags, uint32_t upsert) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_table *t;
    const uint8_t *v;
    nw_code rc = need_table(I, table, &t, err);
    if (!rc) rc = input_value(I, len, &v, err);
    if (rc) return nw_api_end(I, rc);
    begin_write(I, flags);
    size_t mark = nw_store_mark(I->store);
    uint32_t slot;
    rc = nw_store_create(I->store, table, v, ttl, upsert != 0, &slot, err);
    if (!rc) {
        nw_buf_u32(nw_api_out(I), 1);
        put_row(nw_api_out(I), nw_table_row(t, slot));
    }
    return end_write(I, mark, rc);
}

/* insertMany / upsertMany: input is an array of records; all or nothing.
 * `mode` bit 0: upsert; bits 1-2 what comes back: 0 the records, 1 their
 * ids, 2 nothing. Output: u32 count, then per record (u32 length + stored
 * fields) or (u32 length + id bytes), then the events. */
enum { RET_RECORDS = 0, RET_IDS = 1, RET_NONE = 2 };
static void put_slot(void *ud, const nw_table *t, uint32_t slot) { put_row(ud, nw_table_row(t, slot)); }
static void put_id(void *ud, const nw_table *t, uint32_t slot) {
    const uint8_t *f = nw_table_row(t, slot) + 4;   /* field 0, the id: tag, u32 length, bytes */
    nw_buf_append(ud, f + 1, 4 + (size_t)nw_rd_u32(f + 1));
}

NW_EXPORT int nw_insert_many(nw_instance *I, uint32_t table, uint32_t len, double ttl, uint32_t flags, uint32_t mode) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_table *t;
    const uint8_t *v;
    nw_code rc = need_table(I, table, &t, err);
    if (!rc) rc = input_value(I, len, &v, err);
    if (!rc && v[0] != NVAL_ARR) rc = nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "expected an array");
    if (rc) return nw_api_end(I, rc);
    begin_write(I, flags);
    size_t mark = nw_store_mark(I->store);
    nw_buf *o = nw_api_out(I);
    nw_buf_u32(o, nw_rd_u32(v + 1));   /* the array's length */
    uint32_t ret = (mode >> 1) & 3;
    nw_slot_fn each = ret == RET_RECORDS ? put_slot : ret == RET_IDS ? put_id : NULL;
    if (ret == RET_RECORDS) nw_buf_hint(o, len + 8 * (size_t)nw_rd_u32(v + 1));   /* records: about their input */
    rc = nw_store_insert_many(I->store, table, v, ttl, (mode & 1) != 0, each, o, err);
    return end_write(I, mark, rc);
}

/* update: input is u32 id length, id bytes, then the NVAL patch. */
NW_EXPORT int nw_update(nw_instance *I, uint32_t table, uint32_t len, double ttl, uint32_t flags) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_table *t;
    nw_code rc = need_table(I, table, &t, err);
    const uint8_t *in = nw_api_in(I);
    uint32_t il = len >= 4 ? nw_rd_u32(in) : 0;
    if (!rc && (len < 4 || il > len - 4 || nval_check(in + 4 + il, len - 4 - il) != len - 4 - il))
        rc = nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "malformed input");
    if (rc) return nw_api_end(I, rc);
    begin_write(I, flags);
    size_t mark = nw_store_mark(I->store);
    uint32_t slot;
    rc = nw_store_update(I->store, table, (const char *)in + 4, il, in + 4 + il, ttl, &slot, err);
    if (!rc) {
        nw_buf_u32(nw_api_out(I), 1);
        put_row(nw_api_out(I), nw_table_row(t, slot));
    }
    return end_write(I, mark, rc);
}

/* delete: input is the raw id bytes. Result: u32 1, u32 existed (0/1). */
NW_EXPORT int nw_delete(nw_instance *I, uint32_t table, uint32_t len, uint32_t flags) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_table *t;
    nw_code rc = need_table(I, table, &t, err);
    if (rc) return nw_api_end(I, rc);
    begin_write(I, flags);
    size_t mark = nw_store_mark(I->store);
    bool existed = false;
    rc = nw_store_delete(I->store, table, (const char *)nw_api_in(I), len, &existed, err);
    if (!rc) {
        nw_buf_u32(nw_api_out(I), 1);
        nw_buf_u32(nw_api_out(I), existed);
    }
    return end_write(I, mark, rc);
}

NW_EXPORT int nw_expire(nw_instance *I, int32_t table, double now, uint32_t flags) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_code rc = need_store(I, err);
    if (rc) return nw_api_end(I, rc);
    begin_write(I, flags);
    size_t mark = nw_store_mark(I->store);
    uint32_t count = 0;
    rc = nw_store_expire(I->store, table, now, &count, err);
    if (!rc) {
        nw_buf_u32(nw_api_out(I), 1);
        nw_buf_u32(nw_api_out(I), count);
    }
    return end_write(I, mark, rc);
}

/* get: input is the raw id bytes; output one record (length 0 = missing). */
NW_EXPORT int nw_get(nw_instance *I, uint32_t table, uint32_t len) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_table *t;
    nw_code rc = need_table(I, table, &t, err);
    if (rc) return nw_api_end(I, rc);
    uint32_t slot = nw_table_find(t, (const char *)nw_api_in(I), len);
    put_row(nw_api_out(I), slot != NW_NO_SLOT && nw_table_visible(I->store, t, slot) ? nw_table_row(t, slot) : NULL);
    return nw_api_end(I, NW_OK);
}

/* getMany: input NVAL array of id strings; output u32 count + records. */
NW_EXPORT int nw_get_many(nw_instance *I, uint32_t table, uint32_t len) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_table *t;
    const uint8_t *v;
    nw_code rc = need_table(I, table, &t, err);
    if (!rc) rc = input_value(I, len, &v, err);
    if (!rc && v[0] != NVAL_ARR) rc = nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "expected an array");
    if (rc) return nw_api_end(I, rc);
    const uint8_t *it;
    uint32_t n = nval_arr(v, &it);
    nw_buf *o = nw_api_out(I);
    nw_buf_u32(o, n);
    for (uint32_t i = 0; i < n; i++, it += nval_span(it)) {
        uint32_t il;
        const char *id = nval_str(it, &il);
        uint32_t slot = id ? nw_table_find(t, id, il) : NW_NO_SLOT;
        put_row(o, slot != NW_NO_SLOT && nw_table_visible(I->store, t, slot) ? nw_table_row(t, slot) : NULL);
    }
    return nw_api_end(I, NW_OK);
}

/* all: every visible record in primary key order: u32 count + records. */
NW_EXPORT int nw_all(nw_instance *I, uint32_t table) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_table *t;
    nw_code rc = need_table(I, table, &t, err);
    uint32_t *slots = NULL, n = 0;
    if (!rc) rc = nw_table_scan(I->store, t, &slots, &n, err);
    if (!rc) {
        nw_buf *o = nw_api_out(I);
        nw_buf_u32(o, n);
        put_rows(o, t, slots, n);
    }
    nw_free(slots);
    return nw_api_end(I, rc);
}

NW_EXPORT int nw_count(nw_instance *I, uint32_t table) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_table *t;
    nw_code rc = need_table(I, table, &t, err);
    if (rc) return nw_api_end(I, rc);
    uint32_t n = nw_table_count_visible(I->store, t);
    nw_buf_u32(nw_api_out(I), n);
    return nw_api_end(I, NW_OK);
}

/* Transactions and savepoints. nw_tx_begin returns (in the output) a mark;
 * nw_tx_rollback(mark) undoes everything since it; nw_tx_commit ends one
 * level (the outermost commit makes the writes permanent). The shim uses
 * them for nitro.transaction() and for writes that JS must approve first
 * (validate, beforeSave/beforeDelete handlers). */
NW_EXPORT int nw_tx_begin(nw_instance *I) {
    nw_api_begin(I);
    nw_code rc = need_store(I, nw_api_err(I));
    if (!rc) {
        nw_buf_u32(nw_api_out(I), (uint32_t)nw_store_mark(I->store));
        nw_store_tx_begin(I->store);
    }
    return nw_api_end(I, rc);
}

NW_EXPORT int nw_tx_commit(nw_instance *I) {
    nw_api_begin(I);
    if (I->store && nw_store_in_tx(I->store)) nw_store_tx_end(I->store);
    return nw_api_end(I, NW_OK);
}

NW_EXPORT int nw_tx_rollback(nw_instance *I, uint32_t mark) {
    nw_api_begin(I);
    if (I->store && nw_store_in_tx(I->store)) {
        nw_store_rollback(I->store, mark);
        nw_store_tx_end(I->store);
    }
    return nw_api_end(I, NW_OK);
}

/* Ends the savepoint a guarded write opened at `mark` (the first u32 of its
 * output): kept when JS approved (commit != 0), undone when it refused. */
NW_EXPORT int nw_guard_end(nw_instance *I, uint32_t mark, uint32_t commit) {
    nw_api_begin(I);
    if (I->store && nw_store_in_tx(I->store)) {
        if (!commit) nw_store_rollback(I->store, mark);
        nw_store_tx_end(I->store);
    }
    return nw_api_end(I, NW_OK);
}

/* stats: JSON {"heapBytes":n,"entities":{"Task":{"records":n,"bytes":n}}} */
NW_EXPORT int nw_stats(nw_instance *I) {
    nw_api_begin(I);
    nw_code rc = need_store(I, nw_api_err(I));
    if (rc) return nw_api_end(I, rc);
    nw_buf *o = nw_api_out(I);
    nw_buf_str(o, "{\"heapBytes\":");
    nw_buf_num(o, (double)nw_alloc_bytes());
    nw_buf_str(o, ",\"entities\":{");
    for (uint32_t i = 0; i < nw_store_ntables(I->store); i++) {
        nw_table *t = nw_store_table(I->store, i);
        if (i) nw_buf_byte(o, ',');
        nw_buf_byte(o, '"');
        nw_buf_str(o, nw_table_def(t)->name);
        nw_buf_str(o, "\":{\"records\":");
        nw_buf_num(o, nw_table_count_visible(I->store, t));
        nw_buf_str(o, ",\"stored\":");
        nw_buf_num(o, nw_table_live(t));
        nw_buf_str(o, ",\"bytes\":");
        nw_buf_num(o, (double)nw_table_bytes(t));
        nw_buf_str(o, ",\"indexes\":");
        nw_buf_num(o, nw_table_def(t)->nindexes);
        nw_buf_byte(o, '}');
    }
    nw_buf_str(o, "}}");
    return nw_api_end(I, NW_OK);
}

/* ---- queries ---------------------------------------------------------------------- */
#include "query.h"
#include "record_view.h"

/* op: NW_Q_ALL ... NW_Q_EXPLAIN (wire.h) */

/* query: input is the NVAL spec of query.h (plus `patch` for updates).
 * Output: all/first: u32 count + records; count: u32; ids: u32 count + (u32
 * len + id bytes); update/delete: u32 1, u32 affected, then events;
 * explain: see nw_query_explain. */
NW_EXPORT int nw_query_exec(nw_instance *I, uint32_t table, uint32_t len, uint32_t op, uint32_t flags) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_table *t;
    const uint8_t *v;
    nw_code rc = need_table(I, table, &t, err);
    if (!rc) rc = input_value(I, len, &v, err);
    if (rc) return nw_api_end(I, rc);
    nw_query *q = NULL;
    if ((rc = nw_query_parse(I->store, table, v, &q, err))) return nw_api_end(I, rc);
    nw_buf *o = nw_api_out(I);
    if (op == NW_Q_COUNT) {
        uint32_t n = 0;
        rc = nw_query_count(I->store, q, &n, err);
        nw_buf_u32(o, n);
        nw_query_free(q);
        return nw_api_end(I, rc);
    }
    if (op == NW_Q_EXPLAIN) {
        rc = nw_query_explain(I->store, q, o, err);
        nw_query_free(q);
        return nw_api_end(I, rc);
    }
    uint32_t *slots = NULL, n = 0;
    if (op == NW_Q_FIRST) {
        /* first = limit 1 inside the window */
        rc = nw_query_run(I->store, q, false, &slots, &n, err);
        if (n > 1) n = 1;
    } else {
        rc = nw_query_run(I->store, q, false, &slots, &n, err);
    }
    if (rc) { nw_query_free(q); return nw_api_end(I, rc); }
    if (op == NW_Q_ALL || op == NW_Q_FIRST) {
        nw_buf_u32(o, n);
        put_rows(o, t, slots, n);
    } else if (op == NW_Q_IDS) {
        nw_buf_u32(o, n);
        for (uint32_t i = 0; i < n; i++) {
            nw_table_warm_ahead(t, slots, n, i);
            put_id(o, t, slots[i]);
        }
    } else {
        const uint8_t *patch = nval_get(v, "patch");
        if (op == NW_Q_UPDATE && !patch) rc = nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "update needs a patch");
        nw_query_free(q);
        if (rc) { nw_free(slots); return nw_api_end(I, rc); }
        begin_write(I, flags);
        size_t mark = nw_store_mark(I->store);
        uint32_t affected = 0;
        rc = nw_store_write_slots(I->store, table, slots, n, op == NW_Q_UPDATE ? patch : NULL, &affected, err);
        nw_free(slots);
        if (!rc) {
            nw_buf_u32(o, 1);
            nw_buf_u32(o, affected);
        }
        return end_write(I, mark, rc);
    }
    nw_free(slots);
    nw_query_free(q);
    return nw_api_end(I, rc);
}

/* Queries passed to templates: JS sends them once per render as an NVAL
 * array of { table, query }; each result stays alive until the next call of
 * nw_query_prepare, and the renderer reads it through the query hook. */
static void prep_clear(nw_instance *I) {
    for (uint32_t i = 0; i < I->nprep; i++) nw_free(I->prep[i].slots);
    nw_free(I->prep);
    I->prep = NULL;
    I->nprep = 0;
}

static bool prep_query(void *ud, uint32_t handle, nv *out) {
    nw_instance *I = ud;
    if (handle >= I->nprep) return false;
    nw_slots_view(out, I->prep[handle].t, I->prep[handle].slots, I->prep[handle].n);
    return true;
}

nw_code nw_api_prepare_queries(nw_instance *I, const uint8_t *v, nw_error *err) {
    prep_clear(I);
    nw_code rc = need_store(I, err);
    if (!rc && (!v || v[0] != NVAL_ARR)) rc = nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "expected an array");
    if (rc) return rc;
    nw_api_set_query_resolver(I, prep_query, I);
    const uint8_t *it;
    uint32_t n = nval_arr(v, &it);
    I->prep = nw_calloc(n ? n : 1, sizeof *I->prep);
    if (!I->prep) return nw_error_nomem(err);
    for (uint32_t i = 0; i < n && !rc; i++, it += nval_span(it)) {
        uint32_t table = (uint32_t)nval_num(nval_get(it, "table"), -1);
        const uint8_t *spec = nval_get(it, "query");
        nw_query *q = NULL;
        if (!spec) rc = nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "expected a query");
        if (!rc) rc = nw_query_parse(I->store, table, spec, &q, err);
        if (!rc) rc = nw_query_run(I->store, q, false, &I->prep[i].slots, &I->prep[i].n, err);
        if (!rc) { I->prep[i].t = nw_store_table(I->store, table); I->nprep = i + 1; }
        nw_query_free(q);
    }
    if (rc) prep_clear(I);
    return rc;
}

NW_EXPORT int nw_query_prepare(nw_instance *I, uint32_t len) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    const uint8_t *v = NULL;
    nw_code rc = need_store(I, err);
    if (!rc) rc = input_value(I, len, &v, err);
    if (!rc) rc = nw_api_prepare_queries(I, v, err);
    return nw_api_end(I, rc);
}

void nw_api_store_free(nw_instance *I) {
    prep_clear(I);
    nw_store_free(I->store);
    I->store = NULL;
}

/* ---- snapshots (format and checks: snapshot.h) ----------------------------------- */

NW_EXPORT int nw_snapshot(nw_instance *I) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_code rc = need_store(I, err);
    if (!rc) rc = nw_snapshot_write(I->store, nw_api_out(I), err);
    return nw_api_end(I, rc);
}

/* Restores into a fresh I->store with the same definitions; the current I->store
 * is replaced only when everything checked out. */
NW_EXPORT int nw_restore(nw_instance *I, uint32_t len) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_code rc = need_store(I, err);
    if (rc) return nw_api_end(I, rc);
    nw_store *fresh;
    rc = nw_snapshot_read(I->store, nw_api_in(I), len, &fresh, err);
    if (rc) return nw_api_end(I, rc);
    prep_clear(I);
    nw_store_free(I->store);
    I->store = fresh;
    nw_api_store_replaced(I, I->store);
    nw_api_journal_store_replaced(I, I->store);
    return nw_api_end(I, NW_OK);
}

static bool matches(void *q, const uint8_t *row) { return nw_query_matches(q, row); }

/* search: input { text, where?, limit? }; output u32 count + records, best
 * first (score, then insertion order). */
NW_EXPORT int nw_search(nw_instance *I, uint32_t table, uint32_t len) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_table *t;
    const uint8_t *v;
    nw_code rc = need_table(I, table, &t, err);
    if (!rc) rc = input_value(I, len, &v, err);
    if (rc) return nw_api_end(I, rc);
    const nw_entity_def *def = nw_table_def(t);
    if (!def->nsearch)
        return nw_api_end(I, nw_error_set(err, NW_E_QUERY, def->name, NULL, "search", "%s has no search fields (declare `search: [...]`)", def->name));
    uint32_t tl = 0;
    const char *text = nval_str(nval_get(v, "text"), &tl);
    if (!text) return nw_api_end(I, nw_error_set(err, NW_E_QUERY, def->name, NULL, "search", "search text must be a string"));
    double limit = nval_num(nval_get(v, "limit"), -1);
    nw_query *q = NULL;
    const uint8_t *where = nval_get(v, "where");
    if (where && where[0] != NVAL_NULL && (rc = nw_query_parse(I->store, table, v, &q, err))) return nw_api_end(I, rc);
    uint32_t *slots = NULL, n = 0;
    rc = nw_table_search(I->store, t, text, tl, limit, q ? matches : NULL, q, &slots, &n, err);
    nw_query_free(q);
    if (rc) return nw_api_end(I, rc);
    nw_buf *o = nw_api_out(I);
    nw_buf_u32(o, n);
    put_rows(o, t, slots, n);
    nw_free(slots);
    return nw_api_end(I, NW_OK);
}
