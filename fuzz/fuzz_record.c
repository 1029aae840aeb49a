/* fuzz_record.c - libFuzzer target for writes: record conversion and
 * validation (record.c), defaults, unique keys, references and onDelete
 * rules, indexes and search (store.c, fts.c), and the undo log.
 *
 * Input: operations, one a line, on fuzz_world.h's User/Task store holding
 * a few records; the first byte of a line is the operation, lower case on
 * Task, upper case on User, the rest a value in fuzz_text.h's notation:
 *   c {record}   create          u {record}   upsert
 *   m [records]  insert many     p [id, {patch}]  update
 *   d id         delete          x ms         expire everything older
 *   b            begin a transaction (a mark)   r  roll back to it
 * A write that fails must return a store error code and, once rolled back,
 * leave every table exactly as it was; after every operation the store's
 * invariants hold (nw_store_check).
 *
 *   bash build.sh --fuzz && build/fuzz/fuzz_record -max_total_time=60 fuzz/corpus/fuzz_record build/fuzz-corpus/fuzz_record
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "fuzz_world.h"

/* Every record of every table, in primary key order, with its expiry. */
static void digest(nw_store *s, nw_buf *d) {
    nw_buf_reset(d);
    for (uint32_t i = 0; i < nw_store_ntables(s); i++) {
        nw_table *t = nw_store_table(s, i);
        uint32_t *slots = NULL, n = 0;
        nw_error err;
        if (nw_table_scan(s, t, &slots, &n, &err)) abort();
        nw_buf_u32(d, n);
        for (uint32_t k = 0; k < n; k++) {
            const uint8_t *row = nw_table_row(t, slots[k]);
            nw_buf_f64(d, nw_table_expires(t, slots[k]));
            nw_buf_append(d, row, 4 + (size_t)nw_row_len(row));
        }
        nw_free(slots);
    }
}

static void ok_code(nw_code rc) {
    if (rc != NW_E_VALIDATION && rc != NW_E_DUPLICATE && rc != NW_E_NOT_FOUND && rc != NW_E_CONFLICT &&
        rc != NW_E_ARG && rc != NW_E_LIMIT) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size) {
    nw_store *s = fuzz_world_new();
    fuzz_world_create(s, 0, "{id: u1, name: Ann}");
    fuzz_world_create(s, 0, "{id: u2, name: Bob}");
    fuzz_world_create(s, 1, "{id: a, title: Apple, status: open, priority: 2, tags: [red], owner: u1}");
    fuzz_world_create(s, 1, "{id: b, title: Banana, status: done, due: \"2024-01-01\", owner: u2}");
    fuzz_world_create(s, 1, "{id: c, title: Cherry, meta: {k: [1]}}");
    nw_buf v, before, after;
    nw_buf_init(&v); nw_buf_init(&before); nw_buf_init(&after);
    size_t tx_mark = 0;
    int in_tx = 0;
    for (size_t pos = 0; pos < size;) {
        const uint8_t *nl = memchr(in + pos, '\n', size - pos);
        size_t end = nl ? (size_t)(nl - in) : size;
        uint8_t op = in[pos];
        uint32_t table = op >= 'a' ? 1 : 0;
        op |= 0x20;
        nw_buf_reset(&v);
        size_t p = pos + 1;
        fuzz_text_value(in, end, &p, &v);
        pos = end + 1;
        if (v.oom || nval_check(v.p, v.len) != v.len) continue;
        if (op == 'b') { if (!in_tx) { tx_mark = nw_store_mark(s); nw_store_tx_begin(s); in_tx = 1; } continue; }
        if (op == 'r') { if (in_tx) { nw_store_rollback(s, tx_mark); nw_store_tx_end(s); in_tx = 0; } continue; }
        digest(s, &before);
        size_t mark = nw_store_mark(s);
        nw_error err;
        nw_error_clear(&err);
        uint32_t slot, count;
        bool existed;
        nw_code rc = NW_OK;
        const uint8_t *it;
        uint32_t il;
        const char *id;
        switch (op) {
        case 'c': case 'u': rc = nw_store_create(s, table, v.p, -1, op == 'u', &slot, &err); break;
        case 'm':
            if (v.p[0] != NVAL_ARR) continue;
            for (uint32_t n = nval_arr(v.p, &it), i = 0; i < n && !rc; i++, it += nval_span(it))
                rc = nw_store_create(s, table, it, i % 2 ? 60000 : -1, false, &slot, &err);
            break;
        case 'p':
            if (nval_arr(v.p, &it) != 2 || !(id = nval_str(it, &il))) continue;
            rc = nw_store_update(s, table, id, il, it + nval_span(it), -1, &slot, &err);
            break;
        case 'd':
            if (!(id = nval_str(v.p, &il))) continue;
            rc = nw_store_delete(s, table, id, il, &existed, &err);
            break;
        case 'x': rc = nw_store_expire(s, (int)table, 1700000000000.0 + nval_num(v.p, 0), &count, &err); break;
        default: continue;
        }
        if (rc) {
            ok_code(rc);
            nw_store_rollback(s, mark);
            digest(s, &after);
            if (after.len != before.len || memcmp(after.p, before.p, after.len) != 0) abort();
        } else {
            nw_store_release(s, mark);
        }
        if (nw_store_check(s) != 0) abort();
    }
    if (in_tx) nw_store_tx_end(s);
    if (nw_store_check(s) != 0) abort();
    nw_buf_free(&v); nw_buf_free(&before); nw_buf_free(&after);
    nw_store_free(s);
    return 0;
}
