/* test_journal.c - the storage journal (journal.h) under ASan/UBSan: the
 * frames of a store's commits, replayed into a fresh store, give the same
 * store and outbox (coalescing included); every torn prefix applies exactly
 * its whole frames; allocation failures during replay leave the frames
 * before the failing one applied, never part of one. */
#include "check.h"
#include "nvb.h"
#include "store.h"
#include "changelog.h"
#include "journal.h"
#include "snapshot.h"
#include "alloc.h"

/* Project { name: string unique }, Task { title: string, n: int, projectId: ref Project cascade } */
static nw_store *make_store(void) {
    nw_store *s = nw_store_new();
    if (!s) return NULL;
    nw_buf b; nw_buf_init(&b);
    nw_error err; nw_error_clear(&err);
    uint32_t idx;
    nvb_obj(&b, 3);
    nvb_key(&b, "name"); nvb_str(&b, "Project");
    nvb_key(&b, "fields"); nvb_obj(&b, 1);
      nvb_key(&b, "name"); nvb_obj(&b, 1); nvb_key(&b, "type"); nvb_str(&b, "string");
    nvb_key(&b, "unique"); nvb_arr(&b, 1); nvb_str(&b, "name");
    nw_code rc = nw_store_define(s, b.p, &idx, &err);
    nw_buf_reset(&b);
    nvb_obj(&b, 2);
    nvb_key(&b, "name"); nvb_str(&b, "Task");
    nvb_key(&b, "fields"); nvb_obj(&b, 3);
      nvb_key(&b, "title"); nvb_obj(&b, 1); nvb_key(&b, "type"); nvb_str(&b, "string");
      nvb_key(&b, "n"); nvb_obj(&b, 1); nvb_key(&b, "type"); nvb_str(&b, "int");
      nvb_key(&b, "projectId"); nvb_obj(&b, 3); nvb_key(&b, "type"); nvb_str(&b, "ref");
        nvb_key(&b, "entity"); nvb_str(&b, "Project"); nvb_key(&b, "onDelete"); nvb_str(&b, "cascade");
    if (!rc) rc = nw_store_define(s, b.p, &idx, &err);
    nw_buf_free(&b);
    if (rc) { nw_store_free(s); return NULL; }
    nw_store_set_now(s, 1700000000000.0);
    return s;
}

static void obj2(nw_buf *b, const char *k1, const char *v1, const char *k2, const char *v2) {
    nw_buf_reset(b);
    nvb_obj(b, 2);
    nvb_key(b, k1); nvb_str(b, v1);
    nvb_key(b, k2); nvb_str(b, v2);
}

static void create(nw_store *s, uint32_t t, nw_buf *b) {
    nw_error err; nw_error_clear(&err);
    size_t mark = nw_store_mark(s);
    uint32_t slot;
    nw_code rc = nw_store_create(s, t, b->p, -1, false, &slot, &err);
    CHECK_EQ(rc, NW_OK);
    if (rc) nw_store_rollback(s, mark); else nw_store_release(s, mark);
}

static void update(nw_store *s, uint32_t t, const char *id, nw_buf *patch) {
    nw_error err; nw_error_clear(&err);
    size_t mark = nw_store_mark(s);
    uint32_t slot;
    nw_code rc = nw_store_update(s, t, id, strlen(id), patch->p, -1, &slot, &err);
    CHECK_EQ(rc, NW_OK);
    if (rc) nw_store_rollback(s, mark); else nw_store_release(s, mark);
}

static void del(nw_store *s, uint32_t t, const char *id) {
    nw_error err; nw_error_clear(&err);
    size_t mark = nw_store_mark(s);
    bool existed;
    CHECK_EQ(nw_store_delete(s, t, id, strlen(id), &existed, &err), NW_OK);
    nw_store_release(s, mark);
}

static void snap(nw_store *s, nw_buf *out) {
    nw_error err; nw_error_clear(&err);
    nw_buf_reset(out);
    CHECK_EQ(nw_snapshot_write(s, out, &err), NW_OK);
}

#define MAXF 16
typedef struct history { nw_buf frames; size_t ends[MAXF]; nw_buf states[MAXF + 1]; uint32_t n; } history;

/* A store's writes, with the journal bytes and the state after each frame. */
static void record(history *h) {
    nw_store *s = make_store();
    nw_journal *j = nw_journal_new();
    nw_journal_attach(j, s);
    nw_buf b; nw_buf_init(&b);
    nw_buf_init(&h->frames);
    for (int i = 0; i <= MAXF; i++) nw_buf_init(&h->states[i]);
    h->n = 0;
    snap(s, &h->states[0]);
#define STEP() do { const nw_buf *jb = nw_journal_bytes(j); h->ends[h->n++] = jb->len; snap(s, &h->states[h->n]); } while (0)
    obj2(&b, "id", "p1", "name", "a"); create(s, 0, &b); STEP();
    obj2(&b, "id", "p2", "name", "b"); create(s, 0, &b); STEP();
    obj2(&b, "id", "t1", "title", "one"); create(s, 1, &b); STEP();
    obj2(&b, "title", "uno", "projectId", "p1"); update(s, 1, "t1", &b); STEP();   /* folds into the create */
    /* a transaction that swaps the unique names */
    nw_store_tx_begin(s);
    obj2(&b, "name", "tmp", "id", "p1"); update(s, 0, "p1", &b);
    obj2(&b, "name", "a", "id", "p2"); update(s, 0, "p2", &b);
    obj2(&b, "name", "b", "id", "p1"); update(s, 0, "p1", &b);
    nw_store_tx_end(s); STEP();
    obj2(&b, "id", "t2", "title", "two"); create(s, 1, &b); STEP();
    del(s, 1, "t2"); STEP();                                                           /* create + delete: nothing */
    nw_changelog_mark_sent(nw_store_changelog(s), 5);
    obj2(&b, "id", "t3", "title", "three"); create(s, 1, &b); STEP();
    del(s, 0, "p1"); STEP();                                                           /* cascades into t1 */
#undef STEP
    CHECK(h->n <= MAXF);
    nw_buf_append(&h->frames, nw_journal_bytes(j)->p, nw_journal_bytes(j)->len);
    CHECK(!nw_journal_incomplete(j));
    nw_buf_free(&b);
    nw_journal_free(j);
    nw_store_free(s);
}

static void free_history(history *h) {
    nw_buf_free(&h->frames);
    for (int i = 0; i <= MAXF; i++) nw_buf_free(&h->states[i]);
}

static bool same(const nw_buf *a, const nw_buf *b) { return a->len == b->len && memcmp(a->p, b->p, a->len) == 0; }

static void test_replay_gives_the_same_store(void) {
    history h;
    record(&h);
    nw_store *r = make_store();
    nw_error err; nw_error_clear(&err);
    size_t used;
    uint32_t batches;
    CHECK_EQ(nw_journal_apply(r, h.frames.p, h.frames.len, &used, &batches, &err), NW_OK);
    CHECK_EQ(used, h.frames.len);
    CHECK_EQ(batches, h.n);
    CHECK_EQ(nw_store_check(r), 0);
    nw_buf out; nw_buf_init(&out);
    snap(r, &out);
    CHECK(same(&out, &h.states[h.n]));     /* records and outbox, byte for byte */
    nw_buf_free(&out);
    nw_store_free(r);
    free_history(&h);
}

/* Cut anywhere: exactly the whole frames before the cut apply. */
static void test_torn_tail(void) {
    history h;
    record(&h);
    nw_buf out; nw_buf_init(&out);
    for (size_t cut = 0; cut <= h.frames.len; cut++) {
        nw_store *r = make_store();
        nw_error err; nw_error_clear(&err);
        size_t used;
        uint32_t batches;
        CHECK_EQ(nw_journal_apply(r, h.frames.p, cut, &used, &batches, &err), NW_OK);
        uint32_t whole = 0;
        while (whole < h.n && h.ends[whole] <= cut) whole++;
        CHECK_EQ(batches, whole);
        CHECK_EQ(used, whole ? h.ends[whole - 1] : 0);
        snap(r, &out);
        CHECK(same(&out, &h.states[whole]));
        CHECK_EQ(nw_store_check(r), 0);
        nw_store_free(r);
    }
    /* a flipped byte: the frames before it apply, nothing after */
    for (size_t at = 0; at < h.frames.len; at += 7) {
        h.frames.p[at] ^= 0x40;
        nw_store *r = make_store();
        nw_error err; nw_error_clear(&err);
        size_t used;
        uint32_t batches;
        nw_code rc = nw_journal_apply(r, h.frames.p, h.frames.len, &used, &batches, &err);
        CHECK(rc == NW_OK || rc == NW_E_CORRUPT);
        CHECK(used <= at);
        snap(r, &out);
        CHECK(same(&out, &h.states[batches]));
        nw_store_free(r);
        h.frames.p[at] ^= 0x40;
    }
    nw_buf_free(&out);
    free_history(&h);
}

/* Out of memory at every step of a replay: never part of a frame. */
static void test_replay_alloc_failures(void) {
    history h;
    record(&h);
    nw_buf out; nw_buf_init(&out);
    for (long k = 0; k < 400; k++) {
        nw_store *r = make_store();
        nw_error err; nw_error_clear(&err);
        size_t used;
        uint32_t batches;
        nw_alloc_fail_after(k);
        nw_code rc = nw_journal_apply(r, h.frames.p, h.frames.len, &used, &batches, &err);
        nw_alloc_fail_reset();
        if (!(rc == NW_OK || rc == NW_E_LIMIT)) fprintf(stderr, "  k=%ld rc=%d %s\n", k, rc, err.message);
        CHECK(rc == NW_OK || rc == NW_E_LIMIT);
        CHECK_EQ(nw_store_check(r), 0);
        snap(r, &out);
        CHECK(same(&out, &h.states[batches]));
        nw_store_free(r);
        if (rc == NW_OK && k > 0) break;
    }
    nw_buf_free(&out);
    free_history(&h);
}

int main(void) {
    RUN(test_replay_gives_the_same_store);
    RUN(test_torn_tail);
    RUN(test_replay_alloc_failures);
    return check_summary("journal");
}
