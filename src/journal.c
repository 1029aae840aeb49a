/* journal.c - the storage journal (see journal.h). */
#include "journal.h"
#include "snapshot.h"
#include "changelog.h"
#include "record.h"
#include "alloc.h"
#include <string.h>

struct nw_journal {
    nw_buf buf;
    bool incomplete, paused;
};

nw_journal *nw_journal_new(void) {
    nw_journal *j = nw_calloc(1, sizeof *j);
    if (j) nw_buf_init(&j->buf);
    return j;
}

void nw_journal_free(nw_journal *j) {
    if (!j) return;
    nw_buf_free(&j->buf);
    nw_free(j);
}

const nw_buf *nw_journal_bytes(const nw_journal *j) { return &j->buf; }
bool nw_journal_incomplete(const nw_journal *j) { return j->incomplete; }
void nw_journal_pause(nw_journal *j, bool paused) { j->paused = paused; }

void nw_journal_clear(nw_journal *j) {
    nw_buf_reset(&j->buf);
    if (j->buf.cap > (1u << 20)) nw_buf_free(&j->buf);   /* give a big burst back */
    j->incomplete = false;
}

static void on_commit(void *ud, nw_store *s) {
    nw_journal *j = ud;
    if (j->paused || j->incomplete) return;
    nw_buf *b = &j->buf;
    size_t start = b->len;
    nw_buf_u32(b, 0);
    nw_buf_u32(b, 0);
    uint32_t n = nw_store_batch_len(s), table, slot;
    const uint8_t *old;
    for (uint32_t i = 0; i < n; i++) {
        if (!nw_store_batch_entry(s, i, &table, &slot, &old) || !old) continue;
        const uint8_t *id = nw_row_field(old, 0);
        nw_buf_byte(b, 'D');
        nw_buf_u32(b, table);
        nw_buf_u32(b, nw_rd_u32(id + 1));
        nw_buf_append(b, id + 5, nw_rd_u32(id + 1));
    }
    for (uint32_t i = 0; i < n; i++) {
        if (!nw_store_batch_entry(s, i, &table, &slot, &old)) continue;
        nw_table *t = nw_store_table(s, table);
        const uint8_t *row = nw_table_row(t, slot);
        if (!row) continue;
        nw_buf_byte(b, 'P');
        nw_buf_u32(b, table);
        nw_buf_f64(b, nw_table_expires(t, slot));
        nw_buf_u32(b, nw_row_len(row));
        nw_buf_append(b, row + 4, nw_row_len(row));
    }
    nw_changelog *c = nw_store_changelog(s);
    nw_cl_entry e;
    for (size_t pos = nw_changelog_next(c, nw_changelog_uncommitted(c), &e); pos; pos = nw_changelog_next(c, pos, &e)) {
        nw_buf_byte(b, 'O');
        nw_cl_entry_put(&e, b);
    }
    nw_changelog_commit_ops(c, b);   /* coalesces now, recording what it did ('R', 'X') */
    if (b->oom) {
        nw_buf_free(b);
        j->incomplete = true;
        return;
    }
    size_t plen = b->len - start - 8;
    if (plen == 0) { b->len = start; return; }
    nw_buf_patch_u32(b, start, (uint32_t)plen);
    nw_buf_patch_u32(b, start + 4, nw_crc32(b->p + start + 8, plen));
}

void nw_journal_attach(nw_journal *j, nw_store *s) {
    if (s) nw_store_set_journal_hook(s, on_commit, j);
}

/* ---- replay ---------------------------------------------------------------------------- */

typedef struct rctx { nw_store *s; nw_buf scratch; bool oom; } rctx;

static bool check_entry(void *ud, uint32_t table, uint64_t mask, const uint8_t *fields, uint32_t flen) {
    rctx *r = ud;
    nw_table *t = nw_store_table(r->s, table);
    if (!t || !nw_table_check_fields(t, mask, fields, flen)) return false;
    const nw_entity_def *def = nw_table_def(t);
    size_t off = 0;
    nw_error e;
    for (uint32_t i = 0; i < def->nfields; i++) {
        if (!(mask >> i & 1)) continue;
        nw_code rc = nw_field_check_stored(def, i, fields + off, &r->scratch, &e);
        if (rc == NW_E_LIMIT) r->oom = true;
        if (rc) return false;
        off += nw_field_span(fields + off);
    }
    return true;
}

static nw_code bad(nw_error *err, const char *what) {
    return nw_error_set(err, NW_E_CORRUPT, NULL, NULL, "journal", "stored journal is malformed (%s)", what);
}

/* One pass over a payload: pass 0 removes, 1 writes records, 2 appends
 * entries, 3 replays coalescing ('R', 'X'; checked and room reserved by
 * check_outbox first). */
static nw_code apply_pass(rctx *r, int pass, const uint8_t *p, size_t len, size_t *first_mark, nw_error *err) {
    nw_store *s = r->s;
    nw_changelog *c = nw_store_changelog(s);
    for (size_t at = 0; at < len;) {
        uint8_t tag = p[at++];
        if (tag == 'R' || tag == 'X') {
            size_t span;
            nw_code rc = nw_changelog_check_fold(c, tag, p + at, len - at, nw_store_ntables(s), check_entry, r, &span, err);
            if (rc) return rc;
            if (pass == 3) {
                bool ok = tag == 'R' ? nw_changelog_replace(c, p + at) : nw_changelog_remove(c, nw_rd_f64(p + at));
                if (!ok) return bad(err, "coalesced entry");
            }
            at += span;
            continue;
        }
        if (tag == 'D' || tag == 'P') {
            size_t head = tag == 'D' ? 8 : 16;
            if (len - at < head) return bad(err, "truncated");
            uint32_t table = nw_rd_u32(p + at);
            uint32_t n = nw_rd_u32(p + at + head - 4);
            if (n > len - at - head) return bad(err, "truncated");
            nw_table *t = nw_store_table(s, table);
            if (!t) return bad(err, "table");
            const uint8_t *body = p + at + head;
            nw_code rc = NW_OK;
            if (tag == 'D' && pass == 0) {
                rc = nw_store_put(s, table, (const char *)body, n, NULL, err);
            } else if (tag == 'P' && pass == 1) {
                double exp = nw_rd_f64(p + at + 4);
                if (!(exp >= 0 && exp <= 8.64e15)) return bad(err, "expiry");
                const uint8_t *f = body;
                if (n < 5 || f[0] != NVAL_STR || nw_rd_u32(f + 1) > n - 5) return bad(err, "record");
                rc = nw_store_put(s, table, (const char *)f + 5, nw_rd_u32(f + 1), NULL, err);
                if (!rc) rc = nw_store_insert_raw(s, table, body, n, exp, err);
                if (!rc) rc = nw_snapshot_check_record(nw_table_def(t), body, n, &r->scratch, err);
            }
            if (rc) return rc;
            at += head + n;
        } else if (tag == 'O') {
            if (len - at < 4) return bad(err, "truncated");
            uint32_t size = nw_rd_u32(p + at);
            if (size > len - at) return bad(err, "truncated");
            if (pass == 2) {
                size_t mark;
                nw_code rc = nw_changelog_append_raw(nw_store_changelog(s), p + at, size, nw_store_ntables(s), check_entry, r, &mark, err);
                if (rc) return rc;
                if (*first_mark == SIZE_MAX) *first_mark = mark;
            }
            at += size;
        } else {
            return bad(err, "record tag");
        }
    }
    return NW_OK;
}

/* Before anything of the outbox changes: every 'R' and 'X' names a live
 * entry (of the same record, for 'R') as the frame's earlier changes leave
 * things, and there is room for every entry the frame appends or replaces,
 * so that passes 2 and 3 cannot fail halfway. */
static nw_code reserve_outbox(rctx *r, const uint8_t *p, size_t len, nw_error *err) {
    nw_changelog *c = nw_store_changelog(r->s);
    size_t bytes = 0;
    uint32_t entries = 0, n = 0, cap = 0, cap2 = 0;
    double *seqs = NULL;                 /* the frame's entries so far, in order ... */
    const uint8_t **bodies = NULL;       /* ... and their bodies (NULL: removed by an 'X') */
    nw_code rc = NW_OK;
    for (size_t at = 0; at < len && !rc;) {
        uint8_t tag = p[at++];
        if (tag == 'D' || tag == 'P') { at += (tag == 'D' ? 8 : 16) + (size_t)nw_rd_u32(p + at + (tag == 'D' ? 4 : 12)); continue; }
        size_t k = tag == 'X' ? 8 : nw_rd_u32(p + at);
        if (tag != 'X') bytes += k;
        if (tag == 'O') entries++;
        double seq = nw_rd_f64(p + at + (tag == 'X' ? 0 : 12));
        if (tag != 'O') {
            const uint8_t *cur = NULL;
            bool mine = false;
            for (uint32_t i = n; i-- > 0;) if (seqs[i] == seq) { cur = bodies[i]; mine = true; break; }
            nw_cl_entry e;
            if (!mine && nw_changelog_get(c, seq, &e)) cur = e.raw;
            if (!cur) rc = bad(err, "coalesced entry");
            else if (tag == 'R' && (nw_rd_u32(cur + 8) != nw_rd_u32(p + at + 8) || nw_rd_u32(cur + 36) != nw_rd_u32(p + at + 36) ||
                                    memcmp(cur + 40, p + at + 40, nw_rd_u32(cur + 36)) != 0)) rc = bad(err, "coalesced entry");
        }
        if (!rc && (!nw_grow((void **)&seqs, &cap, sizeof *seqs, n + 1) || !nw_grow((void **)&bodies, &cap2, sizeof *bodies, n + 1)))
            rc = nw_error_nomem(err);
        if (!rc) {
            seqs[n] = seq;
            bodies[n++] = tag == 'X' ? NULL : p + at;
        }
        at += k;
    }
    nw_free(seqs);
    nw_free(bodies);
    if (rc) return rc;
    return nw_changelog_reserve(c, bytes, entries) ? NW_OK : nw_error_nomem(err);
}

static nw_code apply_frame(nw_store *s, const uint8_t *p, size_t len, nw_error *err) {
    rctx r = { s, { 0 }, false };
    nw_buf_init(&r.scratch);
    nw_store_tx_begin(s);
    size_t mark = nw_store_mark(s), first = SIZE_MAX;
    nw_code rc = NW_OK;
    for (int pass = 0; pass < 4 && !rc; pass++) {
        if (pass == 2) rc = reserve_outbox(&r, p, len, err);
        if (!rc) rc = apply_pass(&r, pass, p, len, &first, err);
    }
    if (rc == NW_E_CORRUPT && r.oom) rc = nw_error_nomem(err);   /* a check ran out of memory */
    nw_changelog *c = nw_store_changelog(s);
    if (rc) {
        if (first != SIZE_MAX) nw_changelog_truncate(c, first);
        nw_store_rollback(s, mark);
    } else {
        nw_changelog_commit_replayed(c);
    }
    nw_store_tx_end(s);
    nw_buf_free(&r.scratch);
    return rc;
}

nw_code nw_journal_apply(nw_store *s, const uint8_t *p, size_t len, size_t *used, uint32_t *batches, nw_error *err) {
    size_t at = 0;
    *batches = 0;
    nw_code rc = NW_OK;
    while (len - at >= 8) {
        uint32_t n = nw_rd_u32(p + at);
        if (n > len - at - 8 || nw_crc32(p + at + 8, n) != nw_rd_u32(p + at + 4)) break;   /* torn tail */
        if ((rc = apply_frame(s, p + at + 8, n, err))) break;
        at += 8 + (size_t)n;
        (*batches)++;
    }
    *used = at;
    return rc;
}
