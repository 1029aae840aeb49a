/* fuzz_sync_json.c - libFuzzer target for pull responses applied straight
 * from JSON text (sync_json.c): the strict JSON reader, change records,
 * deletions, unique-key displacement, skipped changes, and the merge under
 * pending local changes (the fixture's creates are in the outbox; with bit
 * 2 of the first byte they count as sent and "a" has a local update and "b"
 * a local delete pending, so server changes meet update, delete and create
 * entries), then the push body written from the outbox.
 *
 * Input: JSON text (docs/sync.md's pull response), applied to fuzz_world.h's
 * User/Task store holding a few records; the first byte's low bits clear the
 * mask byte of User (bit 0) or Task (bit 1). The call succeeds, or fails
 * with ARG (malformed JSON) or LIMIT, and a failed call rolled back leaves
 * every record as it was; the skips list is well formed and as long as the
 * skipped count; the outbox is as it was (the merge logs nothing); the
 * push body is written or fails with LIMIT; the store's invariants hold.
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

static void local_writes(nw_store *s) {
    nw_changelog_mark_sent(nw_store_changelog(s), 1e9);
    nw_buf b; nw_buf_init(&b);
    size_t pos = 0;
    const char *patch = "{title: Avocado, priority: 4}";
    fuzz_text_value((const uint8_t *)patch, strlen(patch), &pos, &b);
    nw_error err;
    uint32_t slot;
    bool existed;
    size_t mark = nw_store_mark(s);
    if (nw_store_update(s, 1, "a", 1, b.p, -1, &slot, &err) || nw_store_delete(s, 1, "b", 1, &existed, &err)) abort();
    nw_store_release(s, mark);
    nw_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size) {
    if (size == 0) return 0;
    nw_store *s = fuzz_world_new();
    fuzz_world_create(s, 0, "{id: u1, name: Ann}");
    fuzz_world_create(s, 1, "{id: a, title: Apple, status: open, priority: 2, tags: [red], owner: u1}");
    fuzz_world_create(s, 1, "{id: b, title: Banana, status: done}");
    if (in[0] & 4) local_writes(s);
    uint32_t pending = nw_changelog_pending(nw_store_changelog(s));
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
            for (int k = 0; k < 5; k++) {
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
    if (nw_changelog_pending(nw_store_changelog(s)) != pending) abort();
    uint32_t count = 0;
    nw_buf_reset(&before);
    nw_buf_reset(&after);
    nw_code prc = nw_sync_json_push(s, mask, 2, 100, NW_PUSH_CONFLICTED, &before, &after, &count, &err);
    if (prc && prc != NW_E_LIMIT) abort();
    if (!prc && (count > pending || after.len != (size_t)count * 24)) abort();
    if (nw_store_check(s) != 0) abort();
    nw_buf_free(&before); nw_buf_free(&after); nw_buf_free(&skips);
    nw_store_free(s);
    return 0;
}
