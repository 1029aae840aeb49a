/* api_sync.c - WebAssembly exports of the change log (changelog.h) and of
 * applying server state (nw_store_put), for js/sync.js and the reference
 * server. Calling convention: api.h.
 *
 * The sync client reads the outbox only as nw_sync_push writes it (the push
 * body in JSON plus an index of its mutations, sync_json.h). nw_sync_outbox
 * returns entries in the arena layout of changelog.c, for C tests and tools:
 *   u32 size, u8 op, u8 flags, u16 0, u32 table, f64 seq, f64 base,
 *   u32 mask low, u32 mask high, u32 id length, id, u32 fields length,
 *   stored field bytes (record.h) of the fields in the mask, in order. */
#include "api.h"
#include "sync_json.h"
#include "journal.h"
#include "nval.h"
#include "alloc.h"
#include <string.h>

static nw_changelog *log_of(nw_instance *I, nw_error *err) {
    nw_store *s = nw_api_store(I, err);
    return s ? nw_store_changelog(s) : NULL;
}

static nw_code not_in_tx(nw_store *s, nw_error *err) {
    if (!nw_store_in_tx(s)) return NW_OK;
    return nw_error_set(err, NW_E_CONFLICT, NULL, NULL, "transaction", "the outbox cannot change inside a transaction");
}

/* Logging on (1) or off (0) for the whole store. */
NW_EXPORT int nw_sync_enable(nw_instance *I, uint32_t on) {
    nw_api_begin(I);
    nw_changelog *c = log_of(I, nw_api_err(I));
    if (c) nw_changelog_enable(c, on != 0);
    return nw_api_end(I, c ? NW_OK : NW_E_LIMIT);
}

/* Table flags: NW_CLT_LOCAL (1), NW_CLT_VERSIONS (2). */
NW_EXPORT int nw_sync_table(nw_instance *I, uint32_t table, uint32_t flags) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_store *s = nw_api_store(I, err);
    if (!s) return nw_api_end(I, NW_E_LIMIT);
    if (!nw_store_table(s, table)) return nw_api_end(I, nw_error_set(err, NW_E_SCHEMA, NULL, NULL, "schema", "no such entity"));
    return nw_api_end(I, nw_changelog_set_table(nw_store_changelog(s), table, flags, err));
}

/* Input: the client id bytes. */
NW_EXPORT int nw_sync_set_client(nw_instance *I, uint32_t len) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_changelog *c = log_of(I, err);
    if (!c) return nw_api_end(I, NW_E_LIMIT);
    return nw_api_end(I, nw_changelog_set_client(c, nw_api_in(I), len, err));
}

/* Input: the cursor bytes. */
NW_EXPORT int nw_sync_set_cursor(nw_instance *I, uint32_t len) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_changelog *c = log_of(I, err);
    if (!c) return nw_api_end(I, NW_E_LIMIT);
    return nw_api_end(I, nw_changelog_set_cursor(c, nw_api_in(I), len, err));
}

/* Output: u32 client length, client, u32 cursor length, cursor, f64 next
 * seq, u32 pending, f64 lowest seq not marked conflicted (0 = none). */
NW_EXPORT int nw_sync_state(nw_instance *I) {
    nw_api_begin(I);
    nw_changelog *c = log_of(I, nw_api_err(I));
    if (!c) return nw_api_end(I, NW_E_LIMIT);
    nw_buf *o = nw_api_out(I);
    uint32_t n;
    const uint8_t *p = nw_changelog_client(c, &n);
    nw_buf_u32(o, n);
    nw_buf_append(o, p, n);
    p = nw_changelog_cursor(c, &n);
    nw_buf_u32(o, n);
    nw_buf_append(o, p, n);
    nw_buf_f64(o, nw_changelog_next_seq(c));
    nw_buf_u32(o, nw_changelog_pending(c));
    nw_buf_f64(o, nw_changelog_first_unsent(c));
    return nw_api_end(I, NW_OK);
}

/* Number of outbox entries (no output buffer: cheap enough for a getter). */
NW_EXPORT uint32_t nw_sync_pending(nw_instance *I) {
    nw_changelog *c = log_of(I, nw_api_err(I));
    return c ? nw_changelog_pending(c) : 0;
}

/* Up to `max` entries in seq order. Input: one byte per table (1 = include
 * that table's entries; tables past the input are excluded). flags bit 0:
 * include entries marked conflicted. Output: u32 count, then the entries. */
NW_EXPORT int nw_sync_outbox(nw_instance *I, uint32_t max, uint32_t ntables, uint32_t flags) {
    nw_api_begin(I);
    nw_changelog *c = log_of(I, nw_api_err(I));
    if (!c) return nw_api_end(I, NW_E_LIMIT);
    const uint8_t *want = nw_api_in(I);
    nw_buf *o = nw_api_out(I);
    size_t count_at = o->len;
    nw_buf_u32(o, 0);
    uint32_t k = 0;
    nw_cl_entry e;
    for (size_t pos = nw_changelog_next(c, 0, &e); pos && k < max; pos = nw_changelog_next(c, pos, &e)) {
        if (e.table >= ntables || !want[e.table]) continue;
        if ((e.flags & NW_CL_CONFLICT) && !(flags & 1)) continue;
        nw_cl_entry_put(&e, o);
        k++;
    }
    nw_buf_patch_u32(o, count_at, k);
    return nw_api_end(I, NW_OK);
}

/* The push body of up to `max` entries (sync_json.h nw_sync_json_push):
 * the outbox as its readers see it, written by C. Input: one byte per table
 * (1 = include that table's entries). flags: NW_PUSH_CONFLICTED (1)
 * includes entries marked conflicted, marked "conflicted": true. Output:
 * u32 count, u32 body length, the body (JSON), then per mutation f64 seq,
 * u32 table, u8 op, u8 flags, u16 0, u32 start, u32 end of its object in
 * the body. */
NW_EXPORT int nw_sync_push(nw_instance *I, uint32_t max, uint32_t ntables, uint32_t flags) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_store *s = nw_api_store(I, err);
    if (!s) return nw_api_end(I, NW_E_LIMIT);
    nw_buf body, index;
    nw_buf_init(&body);
    nw_buf_init(&index);
    uint32_t count = 0;
    nw_code rc = nw_sync_json_push(s, nw_api_in(I), ntables, max, flags, &body, &index, &count, err);
    if (!rc) {
        nw_buf *o = nw_api_out(I);
        nw_buf_u32(o, count);
        nw_buf_u32(o, (uint32_t)body.len);
        nw_buf_append(o, body.p, body.len);
        nw_buf_append(o, index.p, index.len);
        if (o->oom) rc = nw_error_nomem(err);
    }
    nw_buf_free(&body);
    nw_buf_free(&index);
    return nw_api_end(I, rc);
}

/* Entries up to `seq` are being sent: they are never coalesced into again. */
NW_EXPORT void nw_sync_sent(nw_instance *I, double seq) {
    nw_changelog *c = log_of(I, nw_api_err(I));
    if (c) nw_changelog_mark_sent(c, seq);
}

/* Removes answered entries. Input: f64 seqs. Output: u32 removed. */
NW_EXPORT int nw_sync_ack(nw_instance *I, uint32_t len) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_store *s = nw_api_store(I, err);
    if (!s) return nw_api_end(I, NW_E_LIMIT);
    nw_code rc = not_in_tx(s, err);
    if (rc) return nw_api_end(I, rc);
    const uint8_t *in = nw_api_in(I);
    uint32_t removed = 0;
    for (uint32_t at = 0; at + 8 <= len; at += 8) removed += nw_changelog_remove(nw_store_changelog(s), nw_rd_f64(in + at));
    nw_store_compact_log(s);
    nw_buf_u32(nw_api_out(I), removed);
    return nw_api_end(I, NW_OK);
}

/* Sets (on = 1) or clears entry flags (1 = conflicted). */
NW_EXPORT int nw_sync_flag(nw_instance *I, double seq, uint32_t flags, uint32_t on) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_changelog *c = log_of(I, err);
    if (!c) return nw_api_end(I, NW_E_LIMIT);
    if (!nw_changelog_flag(c, seq, (uint8_t)flags, on != 0))
        return nw_api_end(I, nw_error_set(err, NW_E_NOT_FOUND, NULL, NULL, NULL, "no pending mutation %g", seq));
    return nw_api_end(I, NW_OK);
}

/* Moves entry `seq` to the end under a new seq with base `base`. Output:
 * f64 the new seq. */
NW_EXPORT int nw_sync_requeue(nw_instance *I, double seq, double base) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_store *s = nw_api_store(I, err);
    if (!s) return nw_api_end(I, NW_E_LIMIT);
    nw_code rc = not_in_tx(s, err);
    nw_changelog *c = nw_store_changelog(s);
    double next = nw_changelog_next_seq(c);
    if (!rc) rc = nw_changelog_requeue(c, seq, base, err);
    if (!rc) nw_buf_f64(nw_api_out(I), next);
    return nw_api_end(I, rc);
}

/* The known server version of a record. Input: id bytes. Output: f64. */
NW_EXPORT int nw_sync_version(nw_instance *I, uint32_t table, uint32_t len) {
    nw_api_begin(I);
    nw_changelog *c = log_of(I, nw_api_err(I));
    if (!c) return nw_api_end(I, NW_E_LIMIT);
    nw_buf_f64(nw_api_out(I), nw_changelog_version(c, table, nw_api_in(I), len));
    return nw_api_end(I, NW_OK);
}

/* Applies server state. Input: NVAL array of changes, each an array
 * [table, id, version, record | null] (record: object or FIELDS map).
 * All or nothing; `index` names a failing change. Versions are recorded for
 * tables with NW_CLT_VERSIONS. Output: u32 1, u32 changes applied, then the
 * captured events (flags as for writes). */
NW_EXPORT int nw_sync_apply(nw_instance *I, uint32_t len, uint32_t flags) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_store *s = nw_api_store(I, err);
    if (!s) return nw_api_end(I, NW_E_LIMIT);
    const uint8_t *in = nw_api_in(I);
    if (!len || nval_check(in, len) != len || in[0] != NVAL_ARR)
        return nw_api_end(I, nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "malformed input"));
    nw_changelog *c = nw_store_changelog(s);
    nw_api_begin_write(I, flags);
    size_t mark = nw_store_mark(s);
    const uint8_t *it;
    uint32_t n = nval_arr(in, &it);
    nw_code rc = NW_OK;
    /* first the rows (undone together on failure), then the versions */
    const uint8_t *first = it;
    for (uint32_t i = 0; i < n && !rc; i++, it += nval_span(it)) {
        const uint8_t *f;
        uint32_t nf = nval_arr(it, &f);
        const uint8_t *tv = f, *idv = nf > 1 ? tv + nval_span(tv) : NULL;
        const uint8_t *vv = nf > 2 ? idv + nval_span(idv) : NULL, *data = nf > 3 ? vv + nval_span(vv) : NULL;
        uint32_t il = 0;
        const char *id = idv ? nval_str(idv, &il) : NULL;
        double table = nf ? nval_num(tv, -1) : -1;
        if (nf != 4 || !id || !(table >= 0 && table < nw_store_ntables(s)))
            rc = nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "malformed change");
        else
            rc = nw_store_put(s, (uint32_t)table, id, il, data[0] == NVAL_NULL ? NULL : data, err);
        if (rc) err->index = (int32_t)i;
    }
    it = first;
    bool versions = false;
    for (uint32_t t = 0; t < nw_store_ntables(s); t++) versions |= (nw_changelog_table_flags(c, t) & NW_CLT_VERSIONS) != 0;
    for (uint32_t i = 0; i < n && !rc && versions; i++, it += nval_span(it)) {
        const uint8_t *f;
        nval_arr(it, &f);
        uint32_t table = (uint32_t)nval_num(f, 0);
        if (!(nw_changelog_table_flags(c, table) & NW_CLT_VERSIONS)) continue;
        const uint8_t *idv = f + nval_span(f), *vv = idv + nval_span(idv), *data = vv + nval_span(vv);
        uint32_t il;
        const char *id = nval_str(idv, &il);
        double v = data[0] == NVAL_NULL ? 0 : nval_num(vv, 0);
        rc = nw_changelog_set_version(c, table, (const uint8_t *)id, il, v > 0 ? v : 0, err);
    }
    if (!rc) {
        nw_buf_u32(nw_api_out(I), 1);
        nw_buf_u32(nw_api_out(I), n);
    }
    return nw_api_end_write(I, mark, rc);
}

/* Records the server version of a record (tables with NW_CLT_VERSIONS; a
 * no-op for others). Input: id bytes. */
NW_EXPORT int nw_sync_set_version(nw_instance *I, uint32_t table, uint32_t len, double version) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_changelog *c = log_of(I, err);
    if (!c) return nw_api_end(I, NW_E_LIMIT);
    if (!(nw_changelog_table_flags(c, table) & NW_CLT_VERSIONS)) return nw_api_end(I, NW_OK);
    return nw_api_end(I, nw_changelog_set_version(c, table, nw_api_in(I), len, version > 0 ? version : 0, err));
}

/* Applies a pull response straight from its JSON text (sync_json.h), with
 * the pending local entries of each record re-applied on top: the client's
 * one path for server state (pull pages, live events, push answers). Input: u32 table count
 * n, n mask bytes (1 = apply that table's changes), then the JSON. All or
 * nothing for malformed JSON; a change the store refuses is skipped alone.
 * Output: u32 1, u32 applied, u32 more (0/1), u32 checkpoint length,
 * checkpoint, u32 skipped, the skips (u32 index, u32 code, then entity,
 * field, rule, message, id as u32 length + bytes), then the captured events. */
NW_EXPORT int nw_sync_apply_json(nw_instance *I, uint32_t len, uint32_t flags) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_store *s = nw_api_store(I, err);
    if (!s) return nw_api_end(I, NW_E_LIMIT);
    const uint8_t *in = nw_api_in(I);
    uint32_t nmask = len >= 4 ? nw_rd_u32(in) : 0;
    if (len < 4 || nmask > len - 4) return nw_api_end(I, nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "malformed input"));
    nw_api_begin_write(I, flags);
    size_t mark = nw_store_mark(s);
    nw_buf skips;
    nw_buf_init(&skips);
    nw_pull_result r;
    nw_code rc = nw_sync_json_apply(s, in + 4 + nmask, len - 4 - nmask, in + 4, nmask, &r, &skips, err);
    if (!rc) {
        nw_buf *o = nw_api_out(I);
        nw_buf_u32(o, 1);
        nw_buf_u32(o, r.applied);
        nw_buf_u32(o, r.more);
        nw_buf_u32(o, r.checkpoint_len);
        nw_buf_append(o, r.checkpoint, r.checkpoint_len);
        nw_buf_u32(o, r.skipped);
        nw_buf_append(o, skips.p, skips.len);
    }
    nw_buf_free(&skips);
    return nw_api_end_write(I, mark, rc);
}

/* ---- the storage journal (journal.h) ------------------------------------------------------ */

/* On (1): every commit from now on is recorded for storage; off (0) drops it. */
NW_EXPORT int nw_journal_enable(nw_instance *I, uint32_t on) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_store *s = nw_api_store(I, err);
    if (!s) return nw_api_end(I, NW_E_LIMIT);
    if (!on) {
        nw_store_set_journal_hook(s, NULL, NULL);
        nw_journal_free(I->journal);
        I->journal = NULL;
        return nw_api_end(I, NW_OK);
    }
    if (!I->journal && !(I->journal = nw_journal_new())) return nw_api_end(I, nw_error_nomem(err));
    nw_journal_attach(I->journal, s);
    return nw_api_end(I, NW_OK);
}

void nw_api_journal_store_replaced(nw_instance *I, nw_store *s) {
    if (!I->journal) return;
    nw_journal_attach(I->journal, s);
    nw_journal_clear(I->journal);
}

/* The frames recorded since the last take, and forgets them. Output: u32
 * 1 when the journal is incomplete (storage needs a snapshot), then the
 * frames. */
NW_EXPORT int nw_journal_take(nw_instance *I) {
    nw_api_begin(I);
    nw_buf *o = nw_api_out(I);
    if (!I->journal) { nw_buf_u32(o, 0); return nw_api_end(I, NW_OK); }
    const nw_buf *b = nw_journal_bytes(I->journal);
    nw_buf_u32(o, nw_journal_incomplete(I->journal) ? 1 : 0);
    nw_buf_append(o, b->p, b->len);
    nw_code rc = o->oom ? nw_error_nomem(nw_api_err(I)) : NW_OK;
    if (!rc) nw_journal_clear(I->journal);
    return nw_api_end(I, rc);
}

/* Replays stored frames into the store (journal.h). Output: u32 bytes
 * used, u32 frames applied. A frame that does not apply is the error. */
NW_EXPORT int nw_journal_replay(nw_instance *I, uint32_t len) {
    nw_api_begin(I);
    nw_error *err = nw_api_err(I);
    nw_store *s = nw_api_store(I, err);
    if (!s) return nw_api_end(I, NW_E_LIMIT);
    nw_code rc = not_in_tx(s, err);
    if (rc) return nw_api_end(I, rc);
    size_t used = 0;
    uint32_t batches = 0;
    if (I->journal) nw_journal_pause(I->journal, true);
    rc = nw_journal_apply(s, nw_api_in(I), len, &used, &batches, err);
    if (I->journal) nw_journal_pause(I->journal, false);
    nw_buf *o = nw_api_out(I);
    nw_buf_u32(o, (uint32_t)used);
    nw_buf_u32(o, batches);
    return nw_api_end(I, rc);
}

/* Frees the journal (instance.c). */
void nw_api_journal_free(nw_instance *I) {
    if (I->journal && I->store) nw_store_set_journal_hook(I->store, NULL, NULL);
    nw_journal_free(I->journal);
    I->journal = NULL;
}
