/* test_oindex.c - the ordered index against a sorted-array model. */
#include "check.h"
#include "oindex.h"
#include "alloc.h"
#include <stdint.h>
#include <stdlib.h>

/* Slots are ordered by key[slot], ties by slot number (as the store breaks
 * ties by primary key). Comparisons are counted to hold the index to its
 * promise of few comparisons. */
#define MAXSLOT 300000
static uint32_t key[MAXSLOT];
static long ncmp;

static int cmp_slots(const void *ctx, uint32_t a, uint32_t b) {
    (void)ctx;
    ncmp++;
    if (key[a] != key[b]) return key[a] < key[b] ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
}

static int cmp_key(const void *ctx, const void *k, uint32_t s) {
    (void)ctx;
    ncmp++;
    uint32_t kv = *(const uint32_t *)k;
    return kv < key[s] ? -1 : kv > key[s] ? 1 : 0;
}

/* xorshift: deterministic across runs and platforms */
static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

/* --- the model: a plain sorted array ------------------------------------------- */
static uint32_t model[MAXSLOT];
static size_t nmodel;
static unsigned char present[MAXSLOT];

static size_t model_pos(uint32_t slot) {   /* first position not before slot */
    size_t lo = 0, hi = nmodel;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cmp_slots(NULL, model[mid], slot) < 0) lo = mid + 1; else hi = mid;
    }
    return lo;
}
static void model_insert(uint32_t slot) {
    size_t p = model_pos(slot);
    memmove(model + p + 1, model + p, (nmodel - p) * sizeof *model);
    model[p] = slot;
    nmodel++;
    present[slot] = 1;
}
static void model_remove(uint32_t slot) {
    size_t p = model_pos(slot);
    memmove(model + p, model + p + 1, (nmodel - p - 1) * sizeof *model);
    nmodel--;
    present[slot] = 0;
}
static size_t model_lower(uint32_t k, int upper) {
    size_t r = 0;
    while (r < nmodel && (upper ? key[model[r]] <= k : key[model[r]] < k)) r++;
    return r;
}
static void model_reset(void) {
    nmodel = 0;
    memset(present, 0, sizeof present);
}

/* Every rank, both cursor directions and some bounds agree with the model. */
static int same_as_model(const nw_oindex *ix) {
    int ok = nw_oindex_size(ix) == nmodel && nw_oindex_check(ix) == 0;
    for (size_t r = 0; ok && r < nmodel; r++) ok = nw_oindex_at(ix, r) == model[r];
    if (ok && nw_oindex_at(ix, nmodel) != NW_OINDEX_NONE) ok = 0;
    nw_ocursor c;
    uint32_t s;
    nw_ocursor_seek(&c, ix, 0);
    for (size_t r = 0; ok && r < nmodel; r++) ok = nw_ocursor_next(&c, &s) && s == model[r];
    if (ok && nw_ocursor_next(&c, &s)) ok = 0;
    for (size_t r = nmodel; ok && r > 0; r--) ok = nw_ocursor_prev(&c, &s) && s == model[r - 1];
    if (ok && nw_ocursor_prev(&c, &s)) ok = 0;
    return ok;
}

/* --- tests ------------------------------------------------------------------------ */

static void test_empty(void) {
    nw_oindex *ix = nw_oindex_new(cmp_slots, NULL);
    CHECK(ix != NULL);
    uint32_t k = 5, s = 77;
    CHECK_EQ(nw_oindex_size(ix), 0);
    CHECK_EQ(nw_oindex_lower(ix, &k, cmp_key), 0);
    CHECK_EQ(nw_oindex_upper(ix, &k, cmp_key), 0);
    CHECK_EQ(nw_oindex_at(ix, 0), NW_OINDEX_NONE);
    CHECK_EQ(nw_oindex_remove(ix, 3), -1);
    CHECK_EQ(nw_oindex_rank(ix, 3), (size_t)-1);
    nw_ocursor c;
    nw_ocursor_seek(&c, ix, 0);
    CHECK(!nw_ocursor_next(&c, &s));
    CHECK(!nw_ocursor_prev(&c, &s));
    CHECK_EQ(s, 77);
    CHECK_EQ(nw_oindex_check(ix), 0);
    nw_oindex_free(ix);
    nw_oindex_free(NULL);
}

/* A directory key that agrees with cmp_slots where it differs and ties
 * often (eight key values share one). */
static uint64_t coarse_key(const void *ctx, uint32_t slot) {
    (void)ctx;
    return key[slot] / 8;
}

/* Random inserts and removes with ties in the keys; invariants after every
 * step, the whole order against the model every so often. With a
 * directory key function, set before the first insert or halfway. */
static void random_model(nw_okey kf, bool halfway) {
    model_reset();
    nw_oindex *ix = nw_oindex_new(cmp_slots, NULL);
    if (!halfway) nw_oindex_set_key(ix, kf);
    const uint32_t nslots = 6000;
    for (uint32_t s = 0; s < nslots; s++) key[s] = rnd(500);
    int bad_step = -1;
    for (int step = 0; step < 40000 && bad_step < 0; step++) {
        /* grow to ~4000, then churn around it, then drain */
        int phase = step < 12000 ? 0 : step < 30000 ? 1 : 2;
        int want_insert = phase == 0 ? rnd(10) < 9 : phase == 1 ? rnd(2) == 0 : rnd(10) == 0;
        uint32_t s = rnd(nslots);
        if (want_insert && !present[s]) {
            if (nw_oindex_insert(ix, s) != 0) { bad_step = step; break; }
            model_insert(s);
            if (nw_oindex_rank(ix, s) != model_pos(s)) bad_step = step;
        } else if (!want_insert) {
            int r = nw_oindex_remove(ix, s);
            if (r != (present[s] ? 0 : -1)) bad_step = step;
            if (present[s]) model_remove(s);
            if (nw_oindex_rank(ix, s) != (size_t)-1) bad_step = step;
        }
        if (nw_oindex_check(ix) != 0 || nw_oindex_size(ix) != nmodel) bad_step = step;
        uint32_t k = rnd(520);
        if (nw_oindex_lower(ix, &k, cmp_key) != model_lower(k, 0)) bad_step = step;
        if (nw_oindex_upper(ix, &k, cmp_key) != model_lower(k, 1)) bad_step = step;
        if (nmodel) {
            size_t r = rnd((uint32_t)nmodel);
            if (nw_oindex_at(ix, r) != model[r]) bad_step = step;
        }
        if (step % 997 == 0 && !same_as_model(ix)) bad_step = step;
        if (halfway && step == 20000) nw_oindex_set_key(ix, kf);
    }
    if (bad_step >= 0) fprintf(stderr, "  diverged at step %d\n", bad_step);
    CHECK_EQ(bad_step, -1);
    CHECK(same_as_model(ix));
    /* drain completely: merging and freeing blocks */
    while (nmodel) {
        uint32_t s = model[rnd((uint32_t)nmodel)];
        CHECK_EQ(nw_oindex_remove(ix, s), 0);
        model_remove(s);
        if (nmodel % 257 == 0) CHECK(same_as_model(ix));
    }
    CHECK(same_as_model(ix));
    CHECK_EQ(nw_oindex_check(ix), 0);
    nw_oindex_free(ix);
}

static void test_random_model(void) { random_model(NULL, false); }
static void test_random_model_with_keys(void) {
    random_model(coarse_key, false);
    random_model(coarse_key, true);
}

/* Exact directory keys spare the block search its comparisons: inserting
 * and removing 20,000 slots in random order makes far fewer cmp calls, and
 * a key that is out of date is caught by the check. */
static void test_directory_keys_save_comparisons(void) {
    long calls[2];
    for (int keyed = 0; keyed < 2; keyed++) {
        nw_oindex *ix = nw_oindex_new(cmp_slots, NULL);
        if (keyed) nw_oindex_set_key(ix, coarse_key);
        for (uint32_t s = 0; s < 20000; s++) key[s] = (s * 7919u) % 100000u;
        ncmp = 0;
        for (uint32_t s = 0; s < 20000; s++) CHECK_EQ(nw_oindex_insert(ix, s), 0);
        for (uint32_t s = 0; s < 20000; s += 2) CHECK_EQ(nw_oindex_remove(ix, s), 0);
        calls[keyed] = ncmp;
        CHECK_EQ(nw_oindex_check(ix), 0);
        if (keyed) {
            uint32_t first = nw_oindex_at(ix, 0);
            key[first] += 8;   /* its directory key no longer matches */
            CHECK_EQ(nw_oindex_check(ix) == 7 || nw_oindex_check(ix) == 6, 1);
            key[first] -= 8;
        }
        nw_oindex_free(ix);
    }
    CHECK(calls[1] * 10 < calls[0] * 7);
}

/* Cursors from every kind of starting rank, both ways, mixed steps. */
static void test_cursors(void) {
    model_reset();
    nw_oindex *ix = nw_oindex_new(cmp_slots, NULL);
    for (uint32_t s = 0; s < 3000; s++) key[s] = rnd(100000);
    for (uint32_t s = 0; s < 3000; s++) { CHECK_EQ(nw_oindex_insert(ix, s), 0); model_insert(s); }
    for (int t = 0; t < 500; t++) {
        size_t r = rnd(3002);   /* includes size and beyond */
        nw_ocursor c;
        nw_ocursor_seek(&c, ix, r);
        size_t at = r > nmodel ? nmodel : r;
        for (int k = 0; k < 40; k++) {
            uint32_t s = 0;
            if (rnd(2)) {
                bool got = nw_ocursor_next(&c, &s);
                CHECK_EQ(got, at < nmodel);
                if (got) { CHECK_EQ(s, model[at]); at++; }
            } else {
                bool got = nw_ocursor_prev(&c, &s);
                CHECK_EQ(got, at > 0);
                if (got) { at--; CHECK_EQ(s, model[at]); }
            }
        }
    }
    nw_oindex_free(ix);
}

/* Bulk build replaces contents; the result behaves like an inserted index. */
static void test_build(void) {
    model_reset();
    nw_oindex *ix = nw_oindex_new(cmp_slots, NULL);
    CHECK_EQ(nw_oindex_insert(ix, 1), 0);
    for (uint32_t s = 0; s < 5000; s++) key[s] = rnd(1000);
    for (uint32_t s = 0; s < 5000; s++) model_insert(s);
    CHECK_EQ(nw_oindex_build(ix, model, nmodel), 0);
    CHECK(same_as_model(ix));
    /* keep working after a build: inserts into full blocks split them */
    for (int i = 0; i < 2000; i++) {
        uint32_t s = 5000 + (uint32_t)i;
        key[s] = rnd(1000);
        CHECK_EQ(nw_oindex_insert(ix, s), 0);
        model_insert(s);
    }
    CHECK(same_as_model(ix));
    for (int i = 0; i < 4000; i++) {
        uint32_t s = model[rnd((uint32_t)nmodel)];
        CHECK_EQ(nw_oindex_remove(ix, s), 0);
        model_remove(s);
    }
    CHECK(same_as_model(ix));
    /* exact block multiple, one element, and empty */
    model_reset();
    for (uint32_t s = 0; s < 2 * NW_OINDEX_BLOCK; s++) model_insert(s);
    CHECK_EQ(nw_oindex_build(ix, model, nmodel), 0);
    CHECK(same_as_model(ix));
    CHECK_EQ(nw_oindex_build(ix, model, 1), 0);
    nmodel = 1;
    CHECK(same_as_model(ix));
    CHECK_EQ(nw_oindex_build(ix, NULL, 0), 0);
    nmodel = 0;
    CHECK(same_as_model(ix));
    CHECK_EQ(nw_oindex_insert(ix, 9), 0);
    CHECK_EQ(nw_oindex_size(ix), 1);
    nw_oindex_free(ix);
}

/* 200k appends: one comparison each, blocks filled completely. */
static void test_appends(void) {
    const uint32_t n = 200000;
    nw_oindex *ix = nw_oindex_new(cmp_slots, NULL);
    for (uint32_t s = 0; s < n; s++) key[s] = s / 3;   /* ties broken by slot */
    ncmp = 0;
    int fails = 0;
    for (uint32_t s = 0; s < n; s++) fails += nw_oindex_insert(ix, s) != 0;
    CHECK_EQ(fails, 0);
    CHECK(ncmp <= (long)n);    /* the first insert compares nothing */
    CHECK_EQ(nw_oindex_size(ix), n);
    CHECK_EQ(nw_oindex_check(ix), 0);
    int wrong = 0;
    for (uint32_t r = 0; r < n; r += 7) wrong += nw_oindex_at(ix, r) != r;
    CHECK_EQ(wrong, 0);
    /* memory: about 4 bytes per slot */
    double per = (double)nw_oindex_bytes(ix) / n;
    if (per > 4.2) fprintf(stderr, "  %.2f bytes per slot\n", per);
    CHECK(per <= 4.2);
    /* a search costs about log2(n) + 1 comparisons (log2(200000) < 18) */
    uint32_t k = 31337;
    ncmp = 0;
    size_t lo = nw_oindex_lower(ix, &k, cmp_key);
    CHECK(ncmp <= 20);
    CHECK_EQ(lo, 3 * 31337);
    ncmp = 0;
    CHECK_EQ(nw_oindex_upper(ix, &k, cmp_key), 3 * 31337 + 3);
    CHECK(ncmp <= 20);
    ncmp = 0;
    CHECK_EQ(nw_oindex_rank(ix, 123457), 123457);
    CHECK(ncmp <= 20);
    /* removal from the middle and rank afterwards */
    CHECK_EQ(nw_oindex_remove(ix, 100), 0);
    CHECK_EQ(nw_oindex_at(ix, 100), 101);
    CHECK_EQ(nw_oindex_rank(ix, 101), 100);
    CHECK_EQ(nw_oindex_remove(ix, 100), -1);
    CHECK_EQ(nw_oindex_check(ix), 0);
    /* deleting every other record gives the memory back */
    for (uint32_t s = 0; s < n; s += 2) if (s != 100) CHECK_EQ(nw_oindex_remove(ix, s), 0);
    CHECK_EQ(nw_oindex_size(ix), n / 2);
    CHECK_EQ(nw_oindex_check(ix), 0);
    CHECK_EQ(nw_oindex_at(ix, 0), 1);
    per = (double)nw_oindex_bytes(ix) / (n / 2);
    if (per > 4.6) fprintf(stderr, "  %.2f bytes per slot after deletes\n", per);
    CHECK(per <= 4.6);
    nw_oindex_free(ix);
}

/* Random-order inserts keep memory near the 4-5 bytes per slot target. */
static void test_random_memory(void) {
    const uint32_t n = 100000;
    nw_oindex *ix = nw_oindex_new(cmp_slots, NULL);
    for (uint32_t s = 0; s < n; s++) key[s] = rnd(0xFFFFFFFFu);
    int fails = 0;
    for (uint32_t s = 0; s < n; s++) fails += nw_oindex_insert(ix, s) != 0;
    CHECK_EQ(fails, 0);
    CHECK_EQ(nw_oindex_check(ix), 0);
    double per = (double)nw_oindex_bytes(ix) / n;
    if (per > 5.0) fprintf(stderr, "  %.2f bytes per slot\n", per);
    CHECK(per <= 5.0);
    nw_oindex_free(ix);
}

/* Descending inserts (always at the front) and inserts at the end of one
 * key group in the middle (the store's hot spot for a secondary index). */
static void test_patterns(void) {
    model_reset();
    nw_oindex *ix = nw_oindex_new(cmp_slots, NULL);
    for (uint32_t s = 0; s < 3000; s++) { key[s] = 3000 - s; CHECK_EQ(nw_oindex_insert(ix, s), 0); model_insert(s); }
    CHECK(same_as_model(ix));
    for (uint32_t s = 3000; s < 6000; s++) { key[s] = 1500; CHECK_EQ(nw_oindex_insert(ix, s), 0); model_insert(s); }
    CHECK(same_as_model(ix));
    uint32_t k = 1500;
    CHECK_EQ(nw_oindex_upper(ix, &k, cmp_key) - nw_oindex_lower(ix, &k, cmp_key), 3001);
    nw_oindex_free(ix);
}

/* Every allocation an insert makes can fail: the index stays as it was and
 * nothing leaks; the same insert then succeeds. */
static void test_alloc_failure(void) {
    for (int scenario = 0; scenario < 4; scenario++) {
        model_reset();
        size_t base = nw_alloc_bytes();
        nw_oindex *ix = nw_oindex_new(cmp_slots, NULL);
        /* scenario 0: split of a full block with a full directory;
         * 1: new block after the full last block (append);
         * 2: growth of a block's capacity; 3: the very first insert */
        uint32_t n = scenario == 0 ? 4 * NW_OINDEX_BLOCK : scenario == 1 ? NW_OINDEX_BLOCK : scenario == 2 ? 16 : 0;
        for (uint32_t s = 0; s < n + 1; s++) key[s] = s * 2;
        for (uint32_t s = 0; s < n; s++) model_insert(s);
        CHECK_EQ(nw_oindex_build(ix, model, nmodel), 0);
        uint32_t s = n;
        key[s] = scenario == 0 ? NW_OINDEX_BLOCK + 1 : scenario == 2 ? 7 : 2 * n + 1;
        int failed = 0, ok = 0;
        for (long after = 0; after < 10 && !ok; after++) {
            long before_fail = nw_alloc_failures();
            size_t bytes_before = nw_oindex_bytes(ix);
            nw_alloc_fail_after(after);
            int r = nw_oindex_insert(ix, s);
            nw_alloc_fail_reset();
            if (r == 0) { ok = 1; model_insert(s); }
            else {
                failed++;
                CHECK_EQ(r, -1);
                CHECK(nw_alloc_failures() > before_fail);
                CHECK(same_as_model(ix));
                CHECK(nw_oindex_bytes(ix) >= bytes_before);
            }
        }
        CHECK(failed >= 1);
        CHECK(ok);
        CHECK(same_as_model(ix));
        /* bulk build under failure leaves the old contents */
        for (long after = 0; after < 3; after++) {
            nw_alloc_fail_after(after);
            int r = nw_oindex_build(ix, model, n > 1 ? n / 2 : 0);
            nw_alloc_fail_reset();
            if (r == 0) { nmodel = n > 1 ? n / 2 : 0; break; }
            CHECK(same_as_model(ix));
        }
        CHECK(same_as_model(ix));
        nw_oindex_free(ix);
        CHECK_EQ(nw_alloc_bytes(), base);
    }
    /* a failed allocation of the header itself */
    nw_alloc_fail_after(0);
    CHECK(nw_oindex_new(cmp_slots, NULL) == NULL);
    nw_alloc_fail_reset();
}

int main(void) {
    RUN(test_empty);
    RUN(test_random_model);
    RUN(test_random_model_with_keys);
    RUN(test_directory_keys_save_comparisons);
    RUN(test_cursors);
    RUN(test_build);
    RUN(test_appends);
    RUN(test_random_memory);
    RUN(test_patterns);
    RUN(test_alloc_failure);
    return check_summary("oindex");
}
