/* test_changelog.c - the outbox under ASan/UBSan: every write is logged in
 * its own commit and undone with it, server state is not logged, entries
 * survive the snapshot section, allocation failures leave log and store
 * consistent, and committed writes coalesce per record (changelog.h). */
#include "check.h"
#include "nvb.h"
#include "store.h"
#include "changelog.h"
#include "alloc.h"
#include <stdlib.h>

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

/* Tests of the log's mechanics keep every entry: after each write all
 * entries count as sent, so nothing coalesces. */
static bool keep_all;

static void done(nw_store *s, size_t mark, nw_code rc) {
    if (rc) nw_store_rollback(s, mark); else nw_store_release(s, mark);
    nw_changelog *c = nw_store_changelog(s);
    if (keep_all && !nw_store_in_tx(s)) nw_changelog_mark_sent(c, nw_changelog_next_seq(c));
}

/* One committed write. */
static nw_code create(nw_store *s, uint32_t tb, nw_buf *b, double ttl) {
    nw_error err; nw_error_clear(&err);
    size_t mark = nw_store_mark(s);
    uint32_t slot;
    nw_code rc = nw_store_create(s, tb, b->p, ttl, false, &slot, &err);
    done(s, mark, rc);
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
    done(s, mark, rc);
    nw_buf_free(&b);
    return rc;
}

static nw_code del(nw_store *s, uint32_t tb, const char *id) {
    nw_error err; nw_error_clear(&err);
    size_t mark = nw_store_mark(s);
    bool existed;
    nw_code rc = nw_store_delete(s, tb, id, strlen(id), &existed, &err);
    done(s, mark, rc);
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

/* ---- coalescing -------------------------------------------------------------------- */

static nw_code update_title(nw_store *s, uint32_t tb, const char *id, const char *title) {
    nw_buf b; nw_buf_init(&b);
    nvb_obj(&b, 1); nvb_key(&b, "title"); nvb_str(&b, title);
    nw_error err; nw_error_clear(&err);
    size_t mark = nw_store_mark(s);
    uint32_t slot;
    nw_code rc = b.oom ? NW_E_LIMIT : nw_store_update(s, tb, id, strlen(id), b.p, -1, &slot, &err);
    done(s, mark, rc);
    nw_buf_free(&b);
    return rc;
}

static nw_code update_project(nw_store *s, uint32_t tb, const char *id, const char *project) {
    nw_buf b; nw_buf_init(&b);
    nvb_obj(&b, 1); nvb_key(&b, "projectId"); nvb_str(&b, project);
    nw_error err; nw_error_clear(&err);
    size_t mark = nw_store_mark(s);
    uint32_t slot;
    nw_code rc = nw_store_update(s, tb, id, strlen(id), b.p, -1, &slot, &err);
    done(s, mark, rc);
    nw_buf_free(&b);
    return rc;
}

/* Field `fi` of an entry (mask says which are present), or NULL. */
static const uint8_t *entry_field(const nw_cl_entry *e, uint32_t fi) {
    if (!(e->mask >> fi & 1)) return NULL;
    const uint8_t *f = e->fields;
    for (uint32_t i = 0; i < fi; i++) if (e->mask >> i & 1) f += nw_field_span(f);
    return f;
}

static double entry_num(const nw_cl_entry *e, uint32_t fi) {
    const uint8_t *f = entry_field(e, fi);
    return f && f[0] == NVAL_NUM ? nw_rd_f64(f + 1) : -1;
}

static void test_create_update_is_create(void) {
    uint32_t pj, tk;
    nw_store *s = make_store(&pj, &tk);
    nw_changelog *c = nw_store_changelog(s);
    nw_buf b; nw_buf_init(&b);
    char d[256];
    task(&b, "t1", "one", 1, NULL);
    CHECK_EQ(create(s, tk, &b, -1), NW_OK);
    CHECK_EQ(update_n(s, tk, "t1", 7), NW_OK);
    CHECK_EQ(update_title(s, tk, "t1", "renamed"), NW_OK);
    describe(c, d, sizeof d);
    CHECK_MEM(d, strlen(d), "c1:t1:1 ");
    nw_cl_entry e;
    CHECK(nw_changelog_next(c, 0, &e));
    CHECK_EQ(e.mask, 0xF);                       /* still every field */
    CHECK_EQ(entry_num(&e, 2), 7);
    const uint8_t *t = entry_field(&e, 1);
    CHECK(t && t[0] == NVAL_STR);
    if (t) CHECK_MEM(t + 5, nw_rd_u32(t + 1), "renamed");
    CHECK_EQ(nw_changelog_next_seq(c), 4);      /* folded seqs are not reused */
    CHECK_EQ(nw_store_check(s), 0);
    nw_buf_free(&b);
    nw_store_free(s);
}

static void test_create_delete_is_nothing(void) {
    uint32_t pj, tk;
    nw_store *s = make_store(&pj, &tk);
    nw_changelog *c = nw_store_changelog(s);
    nw_buf b; nw_buf_init(&b);
    task(&b, "t1", "one", 1, NULL);
    CHECK_EQ(create(s, tk, &b, -1), NW_OK);
    CHECK_EQ(update_n(s, tk, "t1", 2), NW_OK);
    CHECK_EQ(del(s, tk, "t1"), NW_OK);
    CHECK_EQ(nw_changelog_pending(c), 0);
    nw_cl_entry e;
    CHECK_EQ(nw_changelog_next(c, 0, &e), 0);
    /* created again later: a fresh create */
    CHECK_EQ(create(s, tk, &b, -1), NW_OK);
    char d[128];
    describe(c, d, sizeof d);
    CHECK_MEM(d, strlen(d), "c1:t1:4 ");
    nw_buf_free(&b);
    nw_store_free(s);
}

static void test_update_update_is_one_update(void) {
    uint32_t pj, tk;
    nw_store *s = make_store(&pj, &tk);
    nw_changelog *c = nw_store_changelog(s);
    nw_buf b; nw_buf_init(&b);
    char d[128];
    task(&b, "t1", "one", 1, NULL);
    CHECK_EQ(create(s, tk, &b, -1), NW_OK);
    nw_changelog_mark_sent(c, 1);                /* the create went out */
    CHECK_EQ(update_n(s, tk, "t1", 2), NW_OK);
    CHECK_EQ(update_title(s, tk, "t1", "two"), NW_OK);
    CHECK_EQ(update_n(s, tk, "t1", 3), NW_OK);
    describe(c, d, sizeof d);
    CHECK_MEM(d, strlen(d), "c1:t1:1 u1:t1:2 ");
    nw_cl_entry e;
    size_t pos = nw_changelog_next(c, 0, &e);
    CHECK(nw_changelog_next(c, pos, &e));
    CHECK_EQ(e.mask, (1u << 1) | (1u << 2));     /* the union of the changed fields */
    CHECK_EQ(entry_num(&e, 2), 3);               /* the later value wins */
    nw_buf_free(&b);
    nw_store_free(s);
}

static void test_update_delete_is_delete(void) {
    uint32_t pj, tk;
    nw_store *s = make_store(&pj, &tk);
    nw_changelog *c = nw_store_changelog(s);
    nw_buf b; nw_buf_init(&b);
    nw_error err; nw_error_clear(&err);
    char d[128];
    CHECK_EQ(nw_changelog_set_table(c, tk, NW_CLT_VERSIONS, &err), NW_OK);
    CHECK_EQ(nw_changelog_set_version(c, tk, (const uint8_t *)"t1", 2, 40, &err), NW_OK);
    task(&b, "t1", "one", 1, NULL);
    CHECK_EQ(create(s, tk, &b, -1), NW_OK);
    nw_changelog_mark_sent(c, 1);
    CHECK_EQ(nw_changelog_set_version(c, tk, (const uint8_t *)"t1", 2, 41, &err), NW_OK);
    CHECK_EQ(update_n(s, tk, "t1", 2), NW_OK);
    CHECK_EQ(nw_changelog_set_version(c, tk, (const uint8_t *)"t1", 2, 42, &err), NW_OK);
    CHECK_EQ(del(s, tk, "t1"), NW_OK);
    describe(c, d, sizeof d);
    CHECK_MEM(d, strlen(d), "c1:t1:1 d1:t1:2 ");
    nw_cl_entry e;
    size_t pos = nw_changelog_next(c, 0, &e);
    CHECK(nw_changelog_next(c, pos, &e));
    CHECK_EQ(e.mask, 0);
    CHECK_EQ(e.flen, 0);
    CHECK_EQ(e.base, 41);                        /* the version the first folded write was made on */
    nw_buf_free(&b);
    nw_store_free(s);
}

static void test_sent_and_conflicted_are_kept(void) {
    uint32_t pj, tk;
    nw_store *s = make_store(&pj, &tk);
    nw_changelog *c = nw_store_changelog(s);
    nw_buf b; nw_buf_init(&b);
    char d[256];
    task(&b, "t1", "one", 1, NULL);
    CHECK_EQ(create(s, tk, &b, -1), NW_OK);
    nw_changelog_mark_sent(c, 1);                /* in flight: never changed */
    CHECK_EQ(del(s, tk, "t1"), NW_OK);
    describe(c, d, sizeof d);
    CHECK_MEM(d, strlen(d), "c1:t1:1 d1:t1:2 ");
    /* a delete is never folded into */
    CHECK_EQ(create(s, tk, &b, -1), NW_OK);
    describe(c, d, sizeof d);
    CHECK_MEM(d, strlen(d), "c1:t1:1 d1:t1:2 c1:t1:3 ");
    /* a conflicted entry waits for the app */
    CHECK(nw_changelog_flag(c, 3, NW_CL_CONFLICT, true));
    CHECK_EQ(update_n(s, tk, "t1", 5), NW_OK);
    describe(c, d, sizeof d);
    CHECK_MEM(d, strlen(d), "c1:t1:1 d1:t1:2 c1:t1:3! u1:t1:4 ");
    /* a restored log counts as sent */
    nw_buf out; nw_buf_init(&out);
    nw_changelog_write(c, &out);
    nw_changelog *r = nw_changelog_new();
    nw_error err; nw_error_clear(&err);
    size_t used;
    CHECK_EQ(nw_changelog_read(r, out.p, out.len, 2, accept_fields, s, &used, &err), NW_OK);
    CHECK_EQ(nw_changelog_append(r, NW_CL_DELETE, tk, (const uint8_t *)"t1", 2, 0, NULL, 0, &used, &err), NW_OK);
    nw_changelog_commit(r);
    describe(r, d, sizeof d);
    CHECK_MEM(d, strlen(d), "c1:t1:1 d1:t1:2 c1:t1:3! u1:t1:4 d1:t1:5 ");
    nw_changelog_free(r);
    nw_buf_free(&out);
    nw_buf_free(&b);
    nw_store_free(s);
}

static void test_only_safe_moves_across_other_records(void) {
    uint32_t pj, tk;
    nw_store *s = make_store(&pj, &tk);
    nw_changelog *c = nw_store_changelog(s);
    nw_buf b; nw_buf_init(&b);
    char d[512];
    project(&b, "p1", "alpha");
    CHECK_EQ(create(s, pj, &b, -1), NW_OK);              /* 1 */
    task(&b, "t1", "one", 1, NULL);
    CHECK_EQ(create(s, tk, &b, -1), NW_OK);              /* 2 */
    project(&b, "p2", "beta");
    CHECK_EQ(create(s, pj, &b, -1), NW_OK);              /* 3 */
    /* a plain field moves earlier across p2 */
    CHECK_EQ(update_n(s, tk, "t1", 9), NW_OK);           /* folded into 2 */
    /* a reference does not: p2 must exist first */
    CHECK_EQ(update_project(s, tk, "t1", "p2"), NW_OK);  /* 5 */
    describe(c, d, sizeof d);
    CHECK_MEM(d, strlen(d), "c0:p1:1 c1:t1:2 c0:p2:3 u1:t1:5 ");
    /* a unique field does not move across other records either */
    project(&b, "p3", "gamma");
    CHECK_EQ(create(s, pj, &b, -1), NW_OK);              /* 6 */
    task(&b, "t9", "nine", 1, NULL);
    CHECK_EQ(create(s, tk, &b, -1), NW_OK);              /* 7 */
    nw_buf_reset(&b);
    nvb_obj(&b, 1); nvb_key(&b, "name"); nvb_str(&b, "delta");
    nw_error err; nw_error_clear(&err);
    uint32_t slot;
    size_t mark = nw_store_mark(s);
    CHECK_EQ(nw_store_update(s, pj, "p3", 2, b.p, -1, &slot, &err), NW_OK);   /* 8 */
    done(s, mark, NW_OK);
    describe(c, d, sizeof d);
    CHECK_MEM(d, strlen(d), "c0:p1:1 c1:t1:2 c0:p2:3 u1:t1:5 c0:p3:6 c1:t9:7 u0:p3:8 ");
    /* deleting a record others may refer to does not move earlier; a
     * delete of a record nothing refers to does */
    task(&b, "t8", "eight", 1, NULL);
    CHECK_EQ(create(s, tk, &b, -1), NW_OK);              /* 9 */
    CHECK_EQ(del(s, pj, "p3"), NW_OK);                   /* 10 */
    CHECK_EQ(del(s, tk, "t1"), NW_OK);                   /* folds into 5 */
    describe(c, d, sizeof d);
    CHECK_MEM(d, strlen(d), "c0:p1:1 c1:t1:2 c0:p2:3 d1:t1:5 c0:p3:6 c1:t9:7 u0:p3:8 c1:t8:9 d0:p3:10 ");
    /* next to each other anything folds */
    CHECK_EQ(del(s, tk, "t8"), NW_OK);
    CHECK_EQ(update_n(s, tk, "t9", 4), NW_OK);
    project(&b, "p4", "eps");
    CHECK_EQ(create(s, pj, &b, -1), NW_OK);              /* 14 */
    CHECK_EQ(del(s, pj, "p4"), NW_OK);
    describe(c, d, sizeof d);
    CHECK_MEM(d, strlen(d), "c0:p1:1 c1:t1:2 c0:p2:3 d1:t1:5 c0:p3:6 c1:t9:7 u0:p3:8 d0:p3:10 ");
    CHECK_EQ(nw_store_check(s), 0);
    nw_buf_free(&b);
    nw_store_free(s);
}

static void test_rollback_inside_a_transaction(void) {
    uint32_t pj, tk;
    nw_store *s = make_store(&pj, &tk);
    nw_changelog *c = nw_store_changelog(s);
    nw_buf b; nw_buf_init(&b);
    char d[128];
    task(&b, "t1", "one", 1, NULL);
    CHECK_EQ(create(s, tk, &b, -1), NW_OK);              /* committed: 1 */
    nw_store_tx_begin(s);
    CHECK_EQ(update_n(s, tk, "t1", 2), NW_OK);           /* 2 */
    size_t mark = nw_store_mark(s);
    CHECK_EQ(update_n(s, tk, "t1", 3), NW_OK);           /* 3, undone below */
    nw_store_rollback(s, mark);
    nw_store_tx_end(s);                                  /* commits 2: folds into 1 */
    describe(c, d, sizeof d);
    CHECK_MEM(d, strlen(d), "c1:t1:1 ");
    nw_cl_entry e;
    CHECK(nw_changelog_next(c, 0, &e));
    CHECK_EQ(entry_num(&e, 2), 2);
    CHECK_EQ(nw_changelog_next_seq(c), 3);
    /* a whole transaction rolled back leaves the committed entry alone */
    nw_store_tx_begin(s);
    CHECK_EQ(del(s, tk, "t1"), NW_OK);
    nw_store_rollback(s, 0);
    nw_store_tx_end(s);
    describe(c, d, sizeof d);
    CHECK_MEM(d, strlen(d), "c1:t1:1 ");
    CHECK_EQ(nw_store_check(s), 0);
    nw_buf_free(&b);
    nw_store_free(s);
}

static void test_memory_returns_to_steady_state(void) {
    uint32_t pj, tk;
    nw_store *s = make_store(&pj, &tk);
    nw_changelog *c = nw_store_changelog(s);
    nw_buf b; nw_buf_init(&b);
    char id[24];
    size_t peak = 0;
    for (int i = 0; i < 100000; i++) {
        snprintf(id, sizeof id, "r%d", i);
        task(&b, id, "a title of some length", i, NULL);
        CHECK_EQ(create(s, tk, &b, -1), NW_OK);
        if (i % 1000 == 999) {
            /* the deletes of a batch: not next to their creates */
            for (int k = i - 999; k <= i; k++) {
                snprintf(id, sizeof id, "r%d", k);
                CHECK_EQ(del(s, tk, id), NW_OK);
            }
            size_t now = nw_changelog_bytes(c);
            if (now > peak) peak = now;
        }
    }
    CHECK_EQ(nw_changelog_pending(c), 0);
    CHECK(peak < (1u << 20));
    nw_changelog_compact(c);
    CHECK(nw_changelog_bytes(c) < (1u << 18));
    nw_buf_free(&b);
    nw_store_free(s);
}

/* Creates tasks r0..r<n-1>, task ri with n = i and a title long enough
 * that a copy of the row would show in the outbox's size. */
static void create_long(nw_store *s, uint32_t tk, nw_buf *b, int n) {
    char id[24];
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, "r%d", i);
        task(b, id, "a title long enough that a copy of the row would show in the outbox's size", i, NULL);
        CHECK_EQ(create(s, tk, b, -1), NW_OK);
    }
}

/* A merge that is no bigger than the entry it folds into is written over
 * it: updating records whose creates are still unsent, again and again,
 * does not grow the outbox (it used to append the merged entry anew each
 * time, and the arena grew until compaction copied it). A merged create
 * whose fields are the stored row shares that row, as the create did. */
static void test_merges_in_place(void) {
    uint32_t pj, tk;
    nw_store *s = make_store(&pj, &tk);
    nw_changelog *c = nw_store_changelog(s);
    nw_buf b; nw_buf_init(&b);
    char id[24];
    size_t empty = nw_changelog_bytes(c);
    create_long(s, tk, &b, 2000);
    size_t base = nw_changelog_bytes(c);
    for (int round = 1; round <= 20; round++) {
        for (int i = 0; i < 2000; i++) {
            snprintf(id, sizeof id, "r%d", i);
            CHECK_EQ(update_n(s, tk, id, i + round * 10000), NW_OK);
        }
        CHECK(nw_changelog_bytes(c) <= base);
    }
    CHECK(nw_changelog_bytes(c) - empty < 2000 * 100);   /* no copies of the rows */
    CHECK_EQ(nw_changelog_pending(c), 2000);
    nw_cl_entry e;
    CHECK(nw_changelog_next(c, 0, &e));
    CHECK_EQ(e.op, NW_CL_CREATE);
    CHECK_EQ(entry_num(&e, 2), 200000);          /* the latest value */
    CHECK_EQ(nw_store_check(s), 0);
    nw_buf_free(&b);
    nw_store_free(s);
}

/* A create shares the stored row instead of copying it, and keeps it: the
 * record is updated and deleted after its create was sent (nothing folds),
 * rolled-back creates release theirs, and the entry still reads the fields
 * the create wrote, in place and through the snapshot section. ASan checks
 * that no shared row is used after it is freed or leaked. */
static void test_creates_share_rows(void) {
    uint32_t pj, tk;
    nw_store *s = make_store(&pj, &tk);
    nw_changelog *c = nw_store_changelog(s);
    nw_buf b; nw_buf_init(&b);
    char id[24];
    size_t before = nw_changelog_bytes(c);
    create_long(s, tk, &b, 1000);
    /* an entry is its header, its id and an address: well under the row */
    CHECK(nw_changelog_bytes(c) - before < 1000 * 100);
    /* a rolled-back create gives its reference back */
    size_t mark = nw_store_mark(s);
    task(&b, "gone", "rolled back", 1, NULL);
    nw_error err; nw_error_clear(&err);
    uint32_t slot;
    CHECK_EQ(nw_store_create(s, tk, b.p, -1, false, &slot, &err), NW_OK);
    nw_store_rollback(s, mark);
    nw_changelog_mark_sent(c, nw_changelog_next_seq(c));
    for (int i = 0; i < 1000; i += 2) {
        snprintf(id, sizeof id, "r%d", i);
        CHECK_EQ(update_title(s, tk, id, "changed"), NW_OK);
        CHECK_EQ(del(s, tk, id), NW_OK);
    }
    nw_buf snap; nw_buf_init(&snap);
    nw_changelog_write(c, &snap);
    nw_changelog *back = nw_changelog_new();
    size_t used = 0;
    CHECK_EQ(nw_changelog_read(back, snap.p, snap.len, 2, accept_fields, s, &used, &err), NW_OK);
    nw_changelog *logs[2] = { c, back };
    for (int k = 0; k < 2; k++) {
        nw_cl_entry e;
        int creates = 0;
        for (size_t pos = nw_changelog_next(logs[k], 0, &e); pos; pos = nw_changelog_next(logs[k], pos, &e)) {
            if (e.op != NW_CL_CREATE) continue;
            const uint8_t *t = entry_field(&e, 1);
            CHECK(t && t[0] == NVAL_STR && nw_rd_u32(t + 1) > 20);
            CHECK_EQ(entry_num(&e, 2), atoi((const char *)e.id + 1));
            creates++;
        }
        CHECK_EQ(creates, 1000);
    }
    CHECK_EQ(nw_store_check(s), 0);
    nw_changelog_free(back);
    nw_buf_free(&snap);
    nw_buf_free(&b);
    nw_store_free(s);
}

/* Coalescing when allocations fail: a merge that cannot get memory leaves
 * the entries as they were; the outbox still describes the store. */
static void test_coalescing_under_alloc_failures(void) {
    for (long k = 0; k < 150; k++) {
        uint32_t pj, tk;
        nw_store *s = make_store(&pj, &tk);
        if (!s) continue;
        nw_changelog *c = nw_store_changelog(s);
        nw_buf b; nw_buf_init(&b);
        nw_buf_reserve(&b, 256);
        char id[8];
        nw_alloc_fail_after(k);
        for (int i = 0; i < 40; i++) {
            snprintf(id, sizeof id, "t%d", i % 5);
            task(&b, id, "x", i, NULL);
            (void)(i % 3 == 2 ? update_n(s, tk, id, i + 100) : i % 4 == 3 ? del(s, tk, id) : create(s, tk, &b, -1));
        }
        nw_alloc_fail_reset();
        CHECK_EQ(nw_store_check(s), 0);
        /* replaying the outbox from nothing gives exactly the stored records */
        bool exists[5] = { 0 };
        nw_cl_entry e;
        for (size_t pos = nw_changelog_next(c, 0, &e); pos; pos = nw_changelog_next(c, pos, &e)) {
            int r = e.id[1] - '0';
            if (e.op == NW_CL_CREATE) { CHECK(!exists[r]); exists[r] = true; }
            else if (e.op == NW_CL_UPDATE) CHECK(exists[r]);
            else { CHECK(exists[r]); exists[r] = false; }
        }
        for (int r = 0; r < 5; r++) {
            snprintf(id, sizeof id, "t%d", r);
            CHECK_EQ(exists[r], nw_table_find(nw_store_table(s, tk), id, 2) != NW_NO_SLOT);
        }
        nw_buf_free(&b);
        nw_store_free(s);
    }
}

/* ---- the outbox against a model of the server -------------------------------------- */

/* What a server that applied every acknowledged entry holds: per record,
 * whether it exists and its fields' stored bytes (Task: id, title, n,
 * projectId; Project: id, name). */
typedef struct { bool exists; uint8_t f[4][96]; size_t fl[4]; } model_rec;
typedef struct { model_rec task[6], proj[2]; } model;

static model_rec *model_find(model *m, uint32_t table, uint32_t tk, const uint8_t *id) {
    return table == tk ? &m->task[id[1] - '0'] : &m->proj[id[1] - '0'];
}

/* Applies one entry as a server would: a create sets every field, an
 * update the fields in its mask, a delete drops the record. */
static void model_apply(model *m, uint32_t tk, const nw_cl_entry *e) {
    model_rec *r = model_find(m, e->table, tk, e->id);
    if (e->op == NW_CL_DELETE) { memset(r, 0, sizeof *r); return; }
    if (e->op == NW_CL_CREATE) { CHECK(!r->exists); memset(r, 0, sizeof *r); r->exists = true; }
    else CHECK(r->exists);
    uint32_t nf = e->table == tk ? 4 : 2;
    for (uint32_t i = 0; i < nf; i++) {
        const uint8_t *f = entry_field(e, i);
        if (!f) continue;
        size_t n = nw_field_span(f);
        CHECK(n <= sizeof r->f[i]);
        if (n > sizeof r->f[i]) continue;
        memcpy(r->f[i], f, n);
        r->fl[i] = n;
    }
}

/* The server's state plus every live entry replayed in seq order equals
 * the store, record by record and field by field. */
static void check_replay(nw_store *s, const model *server, uint32_t pj, uint32_t tk) {
    model m = *server;
    nw_cl_entry e;
    nw_changelog *c = nw_store_changelog(s);
    for (size_t pos = nw_changelog_next(c, 0, &e); pos; pos = nw_changelog_next(c, pos, &e)) model_apply(&m, tk, &e);
    for (int k = 0; k < 8; k++) {
        uint32_t tb = k < 6 ? tk : pj;
        char id[3] = { k < 6 ? 't' : 'p', (char)('0' + (k < 6 ? k : k - 6)), 0 };
        model_rec *r = model_find(&m, tb, tk, (const uint8_t *)id);
        nw_table *t = nw_store_table(s, tb);
        uint32_t slot = nw_table_find(t, id, 2);
        CHECK_EQ(r->exists, slot != NW_NO_SLOT);
        if (!r->exists || slot == NW_NO_SLOT) continue;
        const uint8_t *f = nw_table_row(t, slot) + 4;
        for (uint32_t i = 0; i < (tb == tk ? 4u : 2u); i++) {
            size_t n = nw_field_span(f);
            if (r->fl[i] || f[0] != NVAL_NULL) CHECK(n == r->fl[i] && memcmp(f, r->f[i], n) == 0);
            f += n;
        }
    }
}

/* One random write; failures (a duplicate id, a unique name, a missing
 * record) are rolled back like any failed write. */
static void random_write(nw_store *s, uint32_t pj, uint32_t tk, nw_buf *b, uint32_t (*rnd)(void)) {
    char id[3] = { 't', (char)('0' + rnd() % 6), 0 }, pid[3] = { 'p', (char)('0' + rnd() % 2), 0 };
    static const char *titles[] = { "a", "bb", "a title of medium size", "a title long enough to need a bigger entry than before" };
    switch (rnd() % 9) {
    case 0: case 1:
        task(b, id, titles[rnd() % 4], rnd() % 100, rnd() % 2 ? pid : NULL);
        (void)create(s, tk, b, -1);
        break;
    case 2: (void)update_title(s, tk, id, titles[rnd() % 4]); break;
    case 3: case 4: (void)update_n(s, tk, id, rnd() % 100); break;
    case 5: (void)update_project(s, tk, id, pid); break;
    case 6: (void)del(s, tk, id); break;
    case 7: project(b, pid, rnd() % 2 ? "one" : "two"); (void)create(s, pj, b, -1); break;
    default: (void)del(s, pj, pid); break;
    }
}

/* Sends what is pending, then the server acknowledges the first `n` sent
 * entries: they are applied to the server and leave the log. */
static void ack(nw_changelog *c, model *server, uint32_t tk, double sent, uint32_t n) {
    nw_cl_entry e;
    double seqs[64];
    uint32_t k = 0;
    for (size_t pos = nw_changelog_next(c, 0, &e); pos && k < n && k < 64; pos = nw_changelog_next(c, pos, &e)) {
        if (e.seq > sent) break;
        model_apply(server, tk, &e);
        seqs[k++] = e.seq;
    }
    for (uint32_t i = 0; i < k; i++) CHECK(nw_changelog_remove(c, seqs[i]));
}

static uint32_t lcg_state;
static uint32_t lcg(void) { lcg_state = lcg_state * 1103515245u + 12345u; return lcg_state >> 8; }

/* Random writes, transactions (committed and rolled back), sends,
 * partial acknowledgements, compaction and snapshot round trips: the
 * outbox always replays the server's state into the store's. */
static void test_outbox_replays_to_the_store(void) {
    for (uint32_t seed = 1; seed <= 300; seed++) {
        lcg_state = seed;
        uint32_t pj, tk;
        nw_store *s = make_store(&pj, &tk);
        CHECK(s != NULL);
        if (!s) return;
        nw_changelog *c = nw_store_changelog(s);
        nw_buf b; nw_buf_init(&b);
        model server;
        memset(&server, 0, sizeof server);
        double sent = 0;
        for (int step = 0; step < 120; step++) {
            uint32_t r = lcg() % 20;
            if (r < 12) random_write(s, pj, tk, &b, lcg);
            else if (r < 15) {
                nw_store_tx_begin(s);
                size_t mark = nw_store_mark(s);
                for (uint32_t k = 1 + lcg() % 4; k > 0; k--) random_write(s, pj, tk, &b, lcg);
                if (lcg() % 3 == 0) nw_store_rollback(s, mark);
                nw_store_tx_end(s);
            } else if (r < 17) {
                sent = nw_changelog_next_seq(c) - 1;
                nw_changelog_mark_sent(c, sent);
            } else if (r < 19) ack(c, &server, tk, sent, 1 + lcg() % 4);
            else if (lcg() % 2) nw_store_compact_log(s);
            else {
                nw_buf snap; nw_buf_init(&snap);
                nw_changelog_write(c, &snap);
                nw_changelog *back = nw_changelog_new();
                nw_error err; nw_error_clear(&err);
                size_t used = 0;
                CHECK(back != NULL);
                if (back) CHECK_EQ(nw_changelog_read(back, snap.p, snap.len, 2, accept_fields, s, &used, &err), NW_OK);
                nw_buf again; nw_buf_init(&again);
                if (back) nw_changelog_write(back, &again);
                CHECK(again.len == snap.len && memcmp(again.p, snap.p, snap.len) == 0);
                nw_buf_free(&again);
                nw_changelog_free(back);
                nw_buf_free(&snap);
            }
            check_replay(s, &server, pj, tk);
            CHECK_EQ(nw_store_check(s), 0);
        }
        nw_buf_free(&b);
        nw_store_free(s);
    }
}

int main(void) {
    keep_all = true;
    RUN(test_writes_are_logged);
    RUN(test_put_applies_server_state);
    RUN(test_remove_requeue_compact);
    RUN(test_versions);
    RUN(test_snapshot_section);
    RUN(test_alloc_failures);
    keep_all = false;
    RUN(test_create_update_is_create);
    RUN(test_create_delete_is_nothing);
    RUN(test_update_update_is_one_update);
    RUN(test_update_delete_is_delete);
    RUN(test_sent_and_conflicted_are_kept);
    RUN(test_only_safe_moves_across_other_records);
    RUN(test_rollback_inside_a_transaction);
    RUN(test_memory_returns_to_steady_state);
    RUN(test_merges_in_place);
    RUN(test_creates_share_rows);
    RUN(test_coalescing_under_alloc_failures);
    RUN(test_outbox_replays_to_the_store);
    return check_summary("changelog");
}
