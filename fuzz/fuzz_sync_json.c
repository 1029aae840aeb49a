/* fuzz_sync_json.c - libFuzzer target for pull responses applied straight
 * from JSON text (sync_json.c): the strict JSON reader, change records,
 * deletions, unique-key displacement and skipped changes.
 *
 * Input: JSON text (docs/sync.md's pull response), applied to fuzz_world.h's
 * User/Task store holding a few records; the first byte's low bits clear the
 * mask byte of User (bit 0) or Task (bit 1). The call succeeds, or fails
 * with ARG (malformed JSON) or LIMIT, and a failed call rolled back leaves
 * every record as it was; the skips list is well formed and as long as the
 * skipped count; the store's invariants hold.
 *
 *   bash build.sh --fuzz && build/fuzz/fuzz_sync_json -max_total_time=60 fuzz/corpus/fuzz_sync_json build/fuzz-corpus/fuzz_sync_json
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "sync_json.h"
#include "fuzz_world.h"

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
            nw_buf_append(d, row, 4 + (size_t)nw_row_len(row));
        }
        nw_free(slots);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size) {
    if (size == 0) return 0;
    nw_store *s = fuzz_world_new();
    fuzz_world_create(s, 0, "{id: u1, name: Ann}");
    fuzz_world_create(s, 1, "{id: a, title: Apple, status: open, priority: 2, tags: [red], owner: u1}");
    fuzz_world_create(s, 1, "{id: b, title: Banana, status: done}");
    uint8_t mask[2] = { !(in[0] & 1), !(in[0] & 2) };
    nw_buf before, after, skips;
    nw_buf_init(&before); nw_buf_init(&after); nw_buf_init(&skips);
    digest(s, &before);
    nw_error err;
    nw_error_clear(&err);
    nw_pull_result r;
    memset(&r, 0, sizeof r);
    size_t mark = nw_store_mark(s);
    nw_code rc = nw_sync_json_apply(s, in + 1, size - 1, mask, 2, &r, &skips, &err);
    if (rc) {
        if (rc != NW_E_ARG && rc != NW_E_LIMIT) abort();
        nw_store_rollback(s, mark);
        digest(s, &after);
        if (after.len != before.len || memcmp(after.p, before.p, after.len) != 0) abort();
    } else {
        nw_store_release(s, mark);
        size_t at = 0;
        uint32_t n = 0;
        while (at < skips.len) {
            if (skips.len - at < 8) abort();
            at += 8;
            for (int k = 0; k < 4; k++) {
                if (skips.len - at < 4) abort();
                uint32_t l = nw_rd_u32(skips.p + at);
                if (l > skips.len - at - 4) abort();
                at += 4 + l;
            }
            n++;
        }
        if (n != r.skipped) abort();
        if (r.checkpoint && (r.checkpoint < in + 1 || r.checkpoint + r.checkpoint_len > in + size)) abort();
    }
    if (nw_store_check(s) != 0) abort();
    nw_buf_free(&before); nw_buf_free(&after); nw_buf_free(&skips);
    nw_store_free(s);
    return 0;
}
