/* fuzz_query.c - libFuzzer target for queries: the where/order/limit parser
 * (query.c) and the planner, checked against a brute-force answer.
 *
 * Input: one query spec in fuzz_text.h's notation, e.g.
 *   {where: {status: open, priority: {gte: 2}}, order: [[due, true]], limit: 5}
 * run over fuzz_world.h's 48 tasks (through a deletion or two when the
 * first byte is odd). A spec that parses must give, for run and count,
 * exactly what testing every row with nw_query_matches, sorting with
 * nw_query_cmp_slots and applying offset and limit gives; one that does not
 * parse must fail with QUERY (or LIMIT for depth) and name its entity.
 * The world's descending compound indexes, early-stopping walks (limits with
 * and without orderBy) and the trigram index of the search field `title`
 * (contains/startsWith of 3+ bytes, $or of them) are planner paths the
 * seeds reach; explain must report the same number of results. The fuzz
 * build sets NW_TRIGRAM_FEW=1 (build.sh), so that substring candidates are
 * intersected across trigram lists even in a world of 48 records.
 *
 *   bash build.sh --fuzz && build/fuzz/fuzz_query -max_total_time=60 fuzz/corpus/fuzz_query build/fuzz-corpus/fuzz_query
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "query.h"
#include "alloc.h"
#include "fuzz_world.h"

static nw_store *world[2];
static uint32_t *want;

static const nw_query *sort_q;
static int by_query(const void *a, const void *b) { return nw_query_cmp_slots(sort_q, *(const uint32_t *)a, *(const uint32_t *)b); }

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size) {
    if (!world[0]) {
        for (int w = 0; w < 2; w++) {
            world[w] = fuzz_world_new();
            fuzz_world_fill(world[w]);
        }
        /* world 1: a few records deleted (free slots in the middle) */
        nw_error err;
        bool existed;
        static const char *const gone[] = { "t03", "t17", "t40" };
        for (int i = 0; i < 3; i++) nw_store_delete(world[1], 1, gone[i], 3, &existed, &err);
        nw_store_release(world[1], 0);
        want = malloc(4096 * sizeof *want);
    }
    if (size == 0) return 0;
    nw_store *s = world[in[0] & 1];
    nw_buf spec;
    nw_buf_init(&spec);
    size_t pos = 1;
    fuzz_text_value(in, size, &pos, &spec);
    if (spec.oom || nval_check(spec.p, spec.len) != spec.len) { nw_buf_free(&spec); return 0; }
    nw_error err;
    nw_query *q = NULL;
    nw_code rc = nw_query_parse(s, 1, spec.p, &q, &err);
    if (rc) {
        if (rc != NW_E_QUERY && rc != NW_E_LIMIT) abort();
        if (strcmp(err.entity, "Task") != 0) abort();
        nw_buf_free(&spec);
        return 0;
    }
    nw_table *t = nw_store_table(s, 1);
    uint32_t nw = 0;
    for (uint32_t slot = 0; slot < nw_table_nslots(t); slot++)
        if (nw_table_row(t, slot) && nw_table_visible(s, t, slot) && nw_query_matches(q, nw_table_row(t, slot))) want[nw++] = slot;
    sort_q = q;
    qsort(want, nw, sizeof *want, by_query);
    uint32_t count = 0;
    if (nw_query_count(s, q, &count, &err) || count != nw) abort();
    for (int ignore = 0; ignore < 2; ignore++) {
        uint32_t *got = NULL, n = 0;
        if (nw_query_run(s, q, ignore, &got, &n, &err)) abort();
        double off = ignore ? 0 : nw_query_offset(q), lim = ignore ? -1 : nw_query_limit(q);
        uint32_t skip = off < nw ? (uint32_t)off : nw;
        uint32_t keep = nw - skip;
        if (lim >= 0 && lim < keep) keep = (uint32_t)lim;
        if (n != keep) abort();
        for (uint32_t i = 0; i < n; i++) if (got[i] != want[skip + i]) abort();
        nw_free(got);
    }
    /* explain runs the same plan: its result count must agree */
    nw_buf ex;
    nw_buf_init(&ex);
    if (nw_query_explain(s, q, &ex, &err) || ex.len < 16) abort();
    uint32_t skip = nw_query_offset(q) < nw ? (uint32_t)nw_query_offset(q) : nw, keep = nw - skip;
    if (nw_query_limit(q) >= 0 && nw_query_limit(q) < keep) keep = (uint32_t)nw_query_limit(q);
    if (nw_rd_u32(ex.p + 8) != keep) abort();
    nw_buf_free(&ex);
    nw_query_free(q);
    nw_buf_free(&spec);
    return 0;
}
