/* batch.c - a list of writes in one call, each in its own savepoint (batch.h).
 * Built on store.h only: marks, rollback, the event buffer. */
#include "batch.h"
#include <string.h>

/* One event record of the buffer (layout: wire.h NW_WIRE_EVLAYOUT). */
typedef struct ev { uint32_t table; const char *id; uint32_t idlen; size_t size; } ev;

static ev ev_at(const uint8_t *p) {
    if (p[NW_EVL_FLAGS] & NW_EVF_SAME) {   /* the rows (so the id) of the event `back` bytes before */
        ev e = ev_at(p - nw_rd_u32(p + NW_EVL_HEADER));
        e.size = NW_EVL_HEADER + 4 + NW_EVL_MASK_BYTES;
        return e;
    }
    ev e;
    e.table = (uint32_t)p[NW_EVL_TABLE] | (uint32_t)p[NW_EVL_TABLE + 1] << 8;
    uint32_t rl = nw_rd_u32(p + NW_EVL_HEADER);
    const uint8_t *rec = p + NW_EVL_HEADER + 4;
    uint32_t pl = nw_rd_u32(rec + rl);
    const uint8_t *f = rl ? rec : rec + rl + 4;   /* the id is the first field of the record or previous */
    e.idlen = nw_rd_u32(f + 1);
    e.id = (const char *)f + 5;
    e.size = NW_EVL_HEADER + 4 + (size_t)rl + 4 + pl + NW_EVL_MASK_BYTES;
    return e;
}

/* Whether events[0..len) change the record (table, id). */
static bool touched(const uint8_t *events, size_t len, uint32_t table, const char *id, uint32_t idlen) {
    for (size_t at = 0; at < len;) {
        ev e = ev_at(events + at);
        if (e.table == table && e.idlen == idlen && memcmp(e.id, id, idlen) == 0) return true;
        at += e.size;
    }
    return false;
}

/* Whether events[0..len) change a row of a scoped table outside the write's scope. */
static bool out_of_scope(const nw_batch *b, const nw_batch_write *w, const uint8_t *events, size_t len) {
    for (size_t at = 0; at < len;) {
        ev e = ev_at(events + at);
        at += e.size;
        if (e.table >= b->nscoped || !b->scoped[e.table]) continue;
        if (e.idlen < w->scope_len || memcmp(e.id, w->scope, w->scope_len) != 0) return true;
    }
    return false;
}

/* The buffer's bytes from `at` (an empty buffer may have no bytes at all). */
static const uint8_t *from(const nw_buf *b, size_t at) { return b->p ? b->p + at : NULL; }

static bool exists(nw_store *s, nw_table *t, const char *id, uint32_t idlen) {
    uint32_t slot = nw_table_find(t, id, idlen);
    return slot != NW_NO_SLOT && nw_table_visible(s, t, slot);
}

static nw_code check_refs(nw_store *s, const nw_table *t, const nw_batch_write *w, nw_error *err) {
    const nw_entity_def *def = nw_table_def(t);
    for (uint32_t i = 0; i < w->nrefs; i++) {
        const nw_batch_ref *r = &w->refs[i];
        nw_table *target = nw_store_table(s, r->table);
        if (!target || r->field >= def->nfields)
            return nw_error_set(err, NW_E_ARG, def->name, NULL, "ref", "bad reference check");
        if (!exists(s, target, r->id, r->idlen))
            return nw_error_set(err, NW_E_VALIDATION, def->name, def->fields[r->field].name, "ref", "no %s with id \"%.*s\"",
                                nw_table_def(target)->name, (int)(r->idlen > 60 ? 60 : r->idlen), r->id);
    }
    return NW_OK;
}

/* The write's op, on the store as the earlier writes left it. */
static nw_code run_op(nw_store *s, nw_table *t, const nw_batch_write *w, nw_error *err) {
    uint32_t slot;
    bool existed;
    switch (w->op) {
    case NW_BOP_NONE:
        return NW_OK;
    case NW_BOP_SAVE: {
        if (exists(s, t, w->id, w->idlen)) return nw_store_update(s, w->table, w->id, w->idlen, w->data, -1, &slot, err);
        nw_code rc = nw_store_create(s, w->table, w->data, -1, false, &slot, err);
        /* the record created must be the one named (the data holds its id) */
        const uint8_t *f = rc ? NULL : nw_table_row(t, slot) + 4;
        if (f && (nw_rd_u32(f + 1) != w->idlen || memcmp(f + 5, w->id, w->idlen) != 0))
            rc = nw_error_set(err, NW_E_ARG, nw_table_def(t)->name, nw_table_def(t)->fields[0].name, NULL, "a save's data holds another id");
        return rc;
    }
    case NW_BOP_UPDATE:
        return nw_store_update(s, w->table, w->id, w->idlen, w->data, -1, &slot, err);
    case NW_BOP_DELETE:
        return nw_store_delete(s, w->table, w->id, w->idlen, &existed, err);
    default:
        return nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "unknown batch op %u", w->op);
    }
}

void nw_batch_begin(nw_batch *b, nw_store *s, const uint8_t *scoped, uint32_t nscoped) {
    b->s = s;
    b->scoped = scoped;
    b->nscoped = nscoped;
    b->guarded = false;
    b->guard = 0;
    nw_store_clear_events(s);
    nw_store_capture_events(s, true, false);
    b->start = nw_store_mark(s);
    nw_store_tx_begin(s);
}

/* One write in its own savepoint: its status, its error in *err. */
static nw_batch_status apply_one(nw_batch *b, const nw_batch_write *w, nw_error *err) {
    nw_store *s = b->s;
    nw_buf *evb = nw_store_events(s);
    size_t len0 = evb->len;
    uint32_t count0 = nw_store_event_count(s);
    nw_table *t = nw_store_table(s, w->table);
    if (!t) {
        nw_error_set(err, NW_E_SCHEMA, NULL, NULL, "schema", "no such entity (handle %u)", w->table);
        return NW_BST_FAILED;
    }
    if ((w->flags & NW_BWF_CONFLICT) && !touched(from(evb, 0), len0, w->table, w->id, w->idlen)) return NW_BST_CONFLICT;
    size_t mark = nw_store_mark(s);
    nw_code rc = check_refs(s, t, w, err);
    if (!rc && (w->flags & NW_BWF_EXISTS) && !exists(s, t, w->id, w->idlen))
        rc = nw_error_set(err, NW_E_NOT_FOUND, nw_table_def(t)->name, nw_table_def(t)->fields[0].name, NULL,
                          "no record with id \"%.*s\"", (int)(w->idlen > 60 ? 60 : w->idlen), w->id);
    if (!rc) rc = run_op(s, t, w, err);
    if (!rc && evb->oom) rc = nw_error_nomem(err);
    if (!rc && w->scope_len && out_of_scope(b, w, from(evb, len0), evb->len - len0)) {
        const nw_entity_def *def = nw_table_def(t);
        rc = nw_error_set(err, NW_E_CONFLICT, def->name, def->fields[0].name, "restrict",
                          "other records still refer to this %s; it was not deleted", def->name);
    }
    if (!rc) return NW_BST_APPLIED;
    nw_store_rollback(s, mark);
    nw_store_truncate_events(s, len0, count0);
    return NW_BST_FAILED;
}

void nw_batch_apply(nw_batch *b, const nw_batch_write *w, uint32_t n, uint32_t guard_from, nw_batch_fn done, void *ud) {
    nw_store *s = b->s;
    nw_error err;
    for (uint32_t i = 0; i < n; i++) {
        if (i == guard_from && !b->guarded) {
            b->guard = nw_store_mark(s);
            nw_store_tx_begin(s);
            nw_store_capture_events(s, true, true);
            b->guarded = true;
        }
        nw_error_clear(&err);
        nw_buf *evb = nw_store_events(s);
        size_t len0 = evb->len;
        uint32_t count0 = nw_store_event_count(s);
        nw_batch_status st = apply_one(b, &w[i], &err);
        done(ud, i, st, &err, from(evb, len0), st == NW_BST_APPLIED ? evb->len - len0 : 0,
             st == NW_BST_APPLIED ? nw_store_event_count(s) - count0 : 0);
    }
}

bool nw_batch_events_oom(const nw_batch *b) { return nw_store_events(b->s)->oom; }

void nw_batch_end(nw_batch *b, bool keep, uint32_t *guard_mark) {
    nw_store *s = b->s;
    *guard_mark = NW_BGUARD_NONE;
    if (!keep) {
        nw_store_rollback(s, b->start);
        if (b->guarded) nw_store_tx_end(s);
        nw_store_tx_end(s);
        nw_store_clear_events(s);
    } else {
        /* one level ends; with a guard, the other stays open for the host */
        nw_store_tx_end(s);
        if (b->guarded) *guard_mark = (uint32_t)b->guard;
    }
    nw_store_capture_events(s, false, false);
    b->guarded = false;
}
