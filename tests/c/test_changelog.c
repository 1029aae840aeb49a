/* test_changelog.c - the outbox under ASan/UBSan: every write is logged in
 * its own commit and undone with it, server state is not logged, entries
 * survive the snapshot section, and allocation failures leave log and store
 * consistent. */
#include "check.h"
#include "nvb.h"
#include "store.h"
#include "changelog.h"
#include "alloc.h"

/* Project { name: string unique }, Task { title: string required,
 * n: int, projectId: ref Project onDelete cascade } */
static nw_store *make_store(uint32_t *proj, uint32_t *task) {
    nw_store *s = nw_store_new();
    if (!s) return NULL;
    nw_buf b; nw_buf_init(&b);
    nw_error err; nw_error_clear(&err);
    nvb_obj(&b, 3);
    nvb_key(&b, "name"); nvb_str(&b, "Project");
    nvb_key(&b, "fields"); nvb_obj(&b, 1);
      nvb_key(&b, "name"); nvb_obj(&b, 1); nvb_key(&b, "type"); nvb_str(&b, "string");
    nvb_key(&b, "unique"); nvb_arr(&b, 1); nvb_str(&b, "name");
    nw_code rc = nw_store_define(s, b.p, proj, &err);
    nw_buf_reset(&b);
    nvb_obj(&b, 2);
    nvb_key(&b, "name"); nvb_str(&b, "Task");
    nvb_key(&b, "fields"); nvb_obj(&b, 3);
      nvb_key(&b, "title"); nvb_obj(&b, 2); nvb_key(&b, "type"); nvb_str(&b, "string"); nvb_key(&b, "required"); nvb_bool(&b, 1);
      nvb_key(&b, "n"); nvb_obj(&b, 1); nvb_key(&b, "type"); nvb_str(&b, "int");
      nvb_key(&b, "projectId"); nvb_obj(&b, 3); nvb_key(&b, "type"); nvb_str(&b, "ref");
        nvb_key(&b, "entity"); nvb_str(&b, "Project"); nvb_key(&b, "onDelete"); nvb_str(&b, "cascade");
    if (!rc) rc = nw_store_define(s, b.p, task, &err);
    nw_buf_free(&b);
    if (rc) { nw_store_free(s); return NULL; }
    nw_store_set_now(s, 1700000000000.0);
    return s;
}

static void task(nw_buf *b, const char *id, const char *title, double n, const char *project) {
    nw_buf_reset(b);
    nvb_obj(b, project ? 4 : 3);
    nvb_key(b, "id"); nvb_str(b, id);
    nvb_key(b, "title"); nvb_str(b, title);
    nvb_key(b, "n"); nvb_num(b, n);
    if (project) { nvb_key(b, "projectId"); nvb_str(b, project); }
}

static void project(nw_buf *b, const char *id, const char *name) {
    nw_buf_reset(b);
    nvb_obj(b, 2);
    nvb_key(b, "id"); nvb_str(b, id);
    nvb_key(b, "name"); nvb_str(b, name);
}

/* One committed write. */
static nw_code create(nw_store *s, uint32_t tb, nw_buf *b, double ttl) {
    nw_error err; nw_error_clear(&err);
    size_t mark = nw_store_mark(s);
    uint32_t slot;
    nw_code rc = nw_store_create(s, tb, b->p, ttl, false, &slot, &err);
    if (rc) nw_store_rollback(s, mark); else nw_store_release(s, mark);
    return rc;
}

static nw_code update_n(nw_store *s, uint32_t tb, const char *id, double n) {
    nw_buf b; nw_buf_init(&b);
    nvb_obj(&b, 1); nvb_key(&b, "n"); nvb_num(&b, n);
    if (b.oom) { nw_buf_free(&b); return NW_E_LIMIT; }   /* injected failure */
    nw_error err; nw_error_clear(&err);
    size_t mark = nw_store_mark(s);
    uint32_t slot;
    nw_code rc = nw_store_update(s, tb, id, strlen(id), b.p, -1, &slot, &err);
    if (rc) nw_store_rollback(s, mark); else nw_store_release(s, mark);
    nw_buf_free(&b);
    return rc;
}

static nw_code del(nw_store *s, uint32_t tb, const char *id) {
    nw_error err; nw_error_clear(&err);
    size_t mark = nw_store_mark(s);
    bool existed;
    nw_code rc = nw_store_delete(s, tb, id, strlen(id), &existed, &err);
    if (rc) nw_store_rollback(s, mark); else nw_store_release(s, mark);
    return rc;
}

/* The entries as "op:table:id:seq" lines, for compact assertions. */
static void describe(nw_changelog *c, char *out, size_t cap) {
    size_t n = 0;
    out[0] = 0;
    nw_cl_entry e;
    for (size_t pos = nw_changelog_next(c, 0, &e); pos; pos = nw_changelog_next(c, pos, &e)) {
        static const char ops[] = "?cud";
        int k = snprintf(out + n, cap - n, "%c%u:%.*s:%g%s ", ops[e.op], e.table, (int)e.idlen, (const char *)e.id, e.seq,
                         e.flags & NW_CL_CONFLICT ? "!" : "");
        if (k < 0 || (size_t)k >= cap - n) return;
        n += (size_t)k;
    }
}

static void test_writes_are_logged(void) {
    uint32_t pj, tk;
    nw_store *s = make_store(&pj, &tk);
    nw_changelog *c = nw_store_changelog(s);
    nw_buf b; nw_buf_init(&b);
    char d[512];
    project(&b, "p1", "alpha");
    CHECK_EQ(create(s, pj, &b, -1), NW_OK);
    task(&b, "t1", "one", 1, "p1");
    CHECK_EQ(create(s, tk, &b, -1), NW_OK);
    CHECK_EQ(update_n(s, tk, "t1", 2), NW_OK);
    CHECK_EQ(update_n(s, tk, "t1", 2), NW_OK);     /* no change: nothing logged */
    describe(c, d, sizeof d);
    CHECK_MEM(d, strlen(d), "c0:p1:1 c1:t1:2 u1:t1:3 ");
    /* the update holds only field n (index 2) */
    nw_cl_entry e;
    size_t pos = nw_changelog_next(c, 0, &e);
    pos = nw_changelog_next(c, pos, &e);
    CHECK_EQ(e.mask, 0xF);
    pos = nw_changelog_next(c, pos, &e);
    CHECK_EQ(e.mask, 1u << 2);
    CHECK_EQ(e.flen, 9);
    CHECK_EQ(e.fields[0], NVAL_NUM);
    /* a refused write logs nothing and uses no number */
    task(&b, "t2", "", 1, "nope");
    CHECK_EQ(create(s, tk, &b, -1), NW_E_VALIDATION);
    CHECK_EQ(nw_changelog_next_seq(c), 4);
    /* a cascade is logged as the writes it makes */
    task(&b, "t2", "two", 1, "p1");
    CHECK_EQ(create(s, tk, &b, -1), NW_OK);
    CHECK_EQ(del(s, pj, "p1"), NW_OK);
    describe(c, d, sizeof d);
    CHECK_MEM(d, strlen(d), "c0:p1:1 c1:t1:2 u1:t1:3 c1:t2:4 d0:p1:5 d1:t1:6 d1:t2:7 ");
    /* a transaction rolled back gives everything back */
    nw_store_tx_begin(s);
    size_t mark = nw_store_mark(s);
    project(&b, "p2", "beta");
    CHECK_EQ(create(s, pj, &b, -1), NW_OK);
    CHECK_EQ(nw_changelog_pending(c), 8);
    nw_store_rollback(s, mark);
    nw_store_tx_end(s);
    CHECK_EQ(nw_changelog_pending(c), 7);
    CHECK_EQ(nw_changelog_next_seq(c), 8);
    /* expiry is not a logged delete */
    project(&b, "p3", "gamma");
    CHECK_EQ(create(s, pj, &b, 10), NW_OK);
    nw_error err; nw_error_clear(&err);
    uint32_t count;
    CHECK_EQ(nw_store_expire(s, -1, 1800000000000.0, &count, &err), NW_OK);
    nw_store_release(s, 0);
    CHECK_EQ(count, 1);
    CHECK_EQ(nw_changelog_pending(c), 8);
    /* logging off, or a local table: nothing */
    nw_changelog_enable(c, false);
    project(&b, "p4", "delta");
    CHECK_EQ(create(s, pj, &b, -1), NW_OK);
    nw_changelog_enable(c, true);
    CHECK_EQ(nw_changelog_set_table(c, pj, NW_CLT_LOCAL, &err), NW_OK);
    project(&b, "p5", "epsilon");
    CHECK_EQ(create(s, pj, &b, -1), NW_OK);
    CHECK_EQ(nw_changelog_pending(c), 8);
    CHECK_EQ(nw_store_check(s), 0);
    nw_buf_free(&b);
    nw_store_free(s);
}

static nw_code put(nw_store *s, uint32_t tb, const char *id, const nw_buf *b) {
    nw_error err; nw_error_clear(&err);
    size_t mark = nw_store_mark(s);
    nw_code rc = nw_store_put(s, tb, id, strlen(id), b ? b->p : NULL, &err);
    if (rc) nw_store_rollback(s, mark); else nw_store_release(s, mark);
    return rc;
}

static void test_put_applies_server_state(void) {
    uint32_t pj, tk;
    nw_store *s = make_store(&pj, &tk);
    nw_changelog *c = nw_store_changelog(s);
    nw_buf b; nw_buf_init(&b);
    /* a task whose project is not here yet: refs are the server's business */
    task(&b, "t1", "one", 1, "p9");
    CHECK_EQ(put(s, tk, "t1", &b), NW_OK);
    /* a local project holds the unique name the server's project needs */
    project(&b, "local", "alpha");
    CHECK_EQ(create(s, pj, &b, -1), NW_OK);
    CHECK_EQ(nw_changelog_pending(c), 1);
    project(&b, "p9", "alpha");
    CHECK_EQ(put(s, pj, "p9", &b), NW_OK);
    nw_table *pt = nw_store_table(s, pj);
    CHECK_EQ(nw_table_find(pt, "local", 5), NW_NO_SLOT);
    CHECK(nw_table_find(pt, "p9", 2) != NW_NO_SLOT);
    /* deleting the project does not cascade: the server sends those changes */
    CHECK_EQ(put(s, pj, "p9", NULL), NW_OK);
    CHECK(nw_table_find(nw_store_table(s, tk), "t1", 2) != NW_NO_SLOT);
    /* the id inside the record must be the change's id */
    task(&b, "t2", "two", 1, NULL);
    CHECK_EQ(put(s, tk, "t3", &b), NW_E_VALIDATION);
    CHECK_EQ(nw_changelog_pending(c), 1);   /* only the local create */
    CHECK_EQ(nw_store_check(s), 0);
    nw_buf_free(&b);
    nw_store_free(s);
}

static void test_remove_requeue_compact(void) {
    uint32_t pj, tk;
    nw_store *s = make_store(&pj, &tk);
    nw_changelog *c = nw_store_changelog(s);
    nw_buf b; nw_buf_init(&b);
    nw_error err; nw_error_clear(&err);
    char d[512];
    task(&b, "t1", "one", 1, NULL);
    CHECK_EQ(create(s, tk, &b, -1), NW_OK);
    for (int i = 2; i <= 5; i++) CHECK_EQ(update_n(s, tk, "t1", i), NW_OK);
    CHECK(nw_changelog_remove(c, 2));
    CHECK(!nw_changelog_remove(c, 2));
    CHECK(nw_changelog_flag(c, 1, NW_CL_CONFLICT, true));
    CHECK_EQ(nw_changelog_first_unsent(c), 3);
    CHECK_EQ(nw_changelog_requeue(c, 1, 42, &err), NW_OK);
    CHECK_EQ(nw_changelog_requeue(c, 1, 42, &err), NW_E_NOT_FOUND);
    describe(c, d, sizeof d);
    CHECK_MEM(d, strlen(d), "u1:t1:3 u1:t1:4 u1:t1:5 c1:t1:6 ");
    nw_store_compact_log(s);
    describe(c, d, sizeof d);
    CHECK_MEM(d, strlen(d), "u1:t1:3 u1:t1:4 u1:t1:5 c1:t1:6 ");
    nw_cl_entry e;
    double last_base = -1;
    for (size_t pos = nw_changelog_next(c, 0, &e); pos; pos = nw_changelog_next(c, pos, &e)) last_base = e.base;
    CHECK_EQ(last_base, 42);
    /* a rollback after removals keeps the counts right */
    nw_store_tx_begin(s);
    size_t mark = nw_store_mark(s);
    CHECK_EQ(update_n(s, tk, "t1", 9), NW_OK);
    CHECK(nw_changelog_remove(c, 7));
    nw_store_rollback(s, mark);
    nw_store_tx_end(s);
    CHECK_EQ(nw_changelog_pending(c), 4);
    CHECK_EQ(nw_changelog_next_seq(c), 7);
    for (double q = 3; q <= 6; q++) CHECK(nw_changelog_remove(c, q));
    nw_store_compact_log(s);
    CHECK_EQ(nw_changelog_pending(c), 0);
    CHECK_EQ(nw_changelog_next(c, 0, &e), 0);
    nw_buf_free(&b);
    nw_store_free(s);
}

static void test_versions(void) {
    nw_changelog *c = nw_changelog_new();
    nw_error err; nw_error_clear(&err);
    enum { N = 700 };
    double want[N] = { 0 };
    char id[16];
    unsigned r = 12345;
    for (int step = 0; step < 6000; step++) {
        r = r * 1103515245u + 12345u;
        int k = (int)((r >> 8) % N);
        double v = ((r >> 20) % 4 == 0) ? 0 : (double)(step + 1);
        snprintf(id, sizeof id, "r%d", k);
        CHECK_EQ(nw_changelog_set_version(c, (uint32_t)(k % 3), (const uint8_t *)id, (uint32_t)strlen(id), v, &err), NW_OK);
        want[k] = v;
    }
    for (int k = 0; k < N; k++) {
        snprintf(id, sizeof id, "r%d", k);
        CHECK_EQ(nw_changelog_version(c, (uint32_t)(k % 3), (const uint8_t *)id, (uint32_t)strlen(id)), want[k]);
        CHECK_EQ(nw_changelog_version(c, (uint32_t)(k % 3) + 1, (const uint8_t *)id, (uint32_t)strlen(id)), 0);
    }
    nw_changelog_free(c);
}

static bool accept_fields(void *ud, uint32_t table, uint64_t mask, const uint8_t *f, uint32_t n) {
    nw_store *s = ud;
    return nw_table_check_fields(nw_store_table(s, table), mask, f, n);
}

static void test_snapshot_section(void) {
    uint32_t pj, tk;
    nw_store *s = make_store(&pj, &tk);
    nw_changelog *c = nw_store_changelog(s);
    nw_buf b; nw_buf_init(&b);
    nw_error err; nw_error_clear(&err);
    CHECK_EQ(nw_changelog_set_client(c, (const uint8_t *)"client-1", 8, &err), NW_OK);
    CHECK_EQ(nw_changelog_set_cursor(c, (const uint8_t *)"77", 2, &err), NW_OK);
    CHECK_EQ(nw_changelog_set_version(c, tk, (const uint8_t *)"t1", 2, 12, &err), NW_OK);
    task(&b, "t1", "one", 1, NULL);
    CHECK_EQ(create(s, tk, &b, -1), NW_OK);
    CHECK_EQ(update_n(s, tk, "t1", 5), NW_OK);
    CHECK_EQ(del(s, tk, "t1"), NW_OK);
    CHECK(nw_changelog_remove(c, 2));
    CHECK(nw_changelog_flag(c, 3, NW_CL_CONFLICT, true));
    nw_buf out; nw_buf_init(&out);
    nw_changelog_write(c, &out);
    CHECK(!out.oom);

    nw_changelog *r = nw_changelog_new();
    size_t used = 0;
    CHECK_EQ(nw_changelog_read(r, out.p, out.len, 2, accept_fields, s, &used, &err), NW_OK);
    CHECK_EQ(used, out.len);
    char d1[256], d2[256];
    describe(c, d1, sizeof d1);
    describe(r, d2, sizeof d2);
    CHECK_MEM(d2, strlen(d2), d1);
    CHECK_EQ(nw_changelog_next_seq(r), 4);
    CHECK_EQ(nw_changelog_version(r, tk, (const uint8_t *)"t1", 2), 12);
    uint32_t n;
    const uint8_t *cur = nw_changelog_cursor(r, &n);
    CHECK_MEM(cur, n, "77");
    nw_changelog_free(r);

    /* every truncation and a damaged entry are CORRUPT, never a crash */
    for (size_t cut = 0; cut < out.len; cut++) {
        r = nw_changelog_new();
        CHECK_EQ(nw_changelog_read(r, out.p, cut, 2, accept_fields, s, &used, &err), NW_E_CORRUPT);
        nw_changelog_free(r);
    }
    for (size_t at = 0; at < out.len; at++) {
        uint8_t saved = out.p[at];
        out.p[at] ^= 0x5a;
        r = nw_changelog_new();
        nw_code rc = nw_changelog_read(r, out.p, out.len, 2, accept_fields, s, &used, &err);
        CHECK(rc == NW_OK || rc == NW_E_CORRUPT);
        nw_changelog_free(r);
        out.p[at] = saved;
    }
    nw_buf_free(&out);
    nw_buf_free(&b);
    nw_store_free(s);
}

/* Allocation failures at every step of logged writes: the log holds exactly
 * the writes that succeeded, and the store stays consistent. */
static void test_alloc_failures(void) {
    for (long k = 0; k < 120; k++) {
        uint32_t pj, tk;
        nw_store *s = make_store(&pj, &tk);
        if (!s) continue;
        nw_changelog *c = nw_store_changelog(s);
        nw_buf b; nw_buf_init(&b);
        nw_buf_reserve(&b, 256);    /* the input is built before failures start */
        char id[8];
        uint32_t ok = 0;
        nw_alloc_fail_after(k);
        for (int i = 0; i < 30; i++) {
            snprintf(id, sizeof id, "t%d", i % 7);
            task(&b, id, "x", i, NULL);
            nw_code rc = i % 3 == 2 ? update_n(s, tk, id, i + 100) : i % 5 == 4 ? del(s, tk, id) : create(s, tk, &b, -1);
            if (rc == NW_OK) ok++;
        }
        nw_alloc_fail_reset();
        (void)ok;
        CHECK_EQ(nw_store_check(s), 0);
        /* seqs are dense: every failed write gave its number back */
        CHECK_EQ(nw_changelog_next_seq(c), nw_changelog_pending(c) + 1);
        nw_buf_free(&b);
        nw_store_free(s);
    }
}

int main(void) {
    RUN(test_writes_are_logged);
    RUN(test_put_applies_server_state);
    RUN(test_remove_requeue_compact);
    RUN(test_versions);
    RUN(test_snapshot_section);
    RUN(test_alloc_failures);
    return check_summary("changelog");
}
