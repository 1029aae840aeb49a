/* test_query_plan.c - the planner's index kinds (descending compound keys,
 * trigram candidates) and early-stopping walks, checked against a reference
 * (filter every visible record with nw_query_matches, sort with
 * nw_query_cmp_slots, apply the window), through writes, rollbacks and the
 * failing allocator. */
#include "check.h"
#include "store.h"
#include "query.h"
#include "trigram.h"
#include "alloc.h"
#include "textval.h"


static const char *const WORDS[] = { "alpha", "beta", "review", "signal", "Patch", "caf\xc3\xa9", "omega" };
static const char *const STATUS[] = { "open", "done", "later" };

static nw_store *make(uint32_t n) {
    nw_store *s = nw_store_new();
    nw_error err;
    uint32_t idx, slot;
    nw_store_set_now(s, 1700000000000.0);
    CHECK_EQ(nw_store_define(s, val("{name: Task, fields: {title: {type: string}, notes: {type: string}, status: {type: enum, values: [open, done, later]},"
        " priority: {type: int}}, indexes: [[status, \"-priority\", id], \"-priority\", status], search: [title, notes]}"), &idx, &err), NW_OK);
    char rec[256];
    for (uint32_t i = 0; i < n; i++) {
        char prio[16];
        if (i % 7 == 3) snprintf(prio, sizeof prio, "null"); else snprintf(prio, sizeof prio, "%u", 1 + (i * 3) % 5);
        snprintf(rec, sizeof rec, "{id: t%04u, title: \"%s %s %u\", notes: \"%s\", status: %s, priority: %s}", i,
                 WORDS[i % 7], WORDS[(i * 5) % 7], i, WORDS[(i * 3) % 7], STATUS[i % 3], prio);
        CHECK_EQ(nw_store_create(s, 0, val(rec), -1, false, &slot, &err), NW_OK);
        nw_store_release(s, 0);
    }
    return s;
}

/* The reference result of a parsed query. */
static const nw_query *ref_q;
static nw_store *ref_s;
static int ref_cmp(const void *a, const void *b) { return nw_query_cmp_slots(ref_q, *(const uint32_t *)a, *(const uint32_t *)b); }

static uint32_t reference(nw_store *s, const nw_query *q, uint32_t *v) {
    nw_table *t = nw_store_table(s, 0);
    uint32_t n = 0;
    for (uint32_t slot = 0; slot < nw_table_nslots(t); slot++)
        if (nw_table_visible(s, t, slot) && nw_query_matches(q, nw_table_row(t, slot))) v[n++] = slot;
    ref_q = q;
    ref_s = s;
    qsort(v, n, sizeof *v, ref_cmp);
    double off = nw_query_offset(q), lim = nw_query_limit(q);
    uint32_t skip = off < n ? (uint32_t)off : n;
    uint32_t keep = n - skip;
    if (lim >= 0 && lim < keep) keep = (uint32_t)lim;
    memmove(v, v + skip, keep * sizeof *v);
    return keep;
}

typedef struct explained { uint32_t flags, scanned, results; char index[64]; } explained;

/* Runs spec and compares the result and count with the reference; fills ex. */
static void same(nw_store *s, const char *spec, explained *ex) {
    nw_error err;
    nw_query *q = NULL;
    CHECK_EQ(nw_query_parse(s, 0, val(spec), &q, &err), NW_OK);
    if (!q) return;
    static uint32_t want[4096];
    uint32_t nwant = reference(s, q, want), *got = NULL, ngot = 0, count = 0;
    CHECK_EQ(nw_query_run(s, q, false, &got, &ngot, &err), NW_OK);
    CHECK_EQ(ngot, nwant);
    for (uint32_t i = 0; i < ngot && i < nwant; i++) if (got[i] != want[i]) { fprintf(stderr, "  %s: result %u differs\n", spec, i); CHECK(0); break; }
    nw_free(got);
    CHECK_EQ(nw_query_count(s, q, &count, &err), NW_OK);
    uint32_t all = 0;
    nw_table *t = nw_store_table(s, 0);
    for (uint32_t slot = 0; slot < nw_table_nslots(t); slot++) all += nw_table_visible(s, t, slot) && nw_query_matches(q, nw_table_row(t, slot));
    CHECK_EQ(count, all);
    nw_buf o;
    nw_buf_init(&o);
    CHECK_EQ(nw_query_explain(s, q, &o, &err), NW_OK);
    if (ex && o.len >= 16) {
        ex->flags = nw_rd_u32(o.p);
        ex->scanned = nw_rd_u32(o.p + 4);
        ex->results = nw_rd_u32(o.p + 8);
        uint32_t l = nw_rd_u32(o.p + 12);
        if (l > 63) l = 63;
        memcpy(ex->index, o.p + 16, l);
        ex->index[l] = 0;
        CHECK_EQ(ex->results, nwant);
    }
    nw_buf_free(&o);
    nw_query_free(q);
}

static const char *const SPECS[] = {
    "{where: {status: open}, order: [[priority, true], [id]], limit: 50}",
    "{where: {status: open, priority: {gte: 3}}, order: [[priority, true], [id]], limit: 20}",
    "{where: {status: done, priority: {lt: 3}}, order: [[priority, true]], limit: 20, offset: 5}",
    "{where: {status: later, priority: {gt: 1, lte: 4}}, order: [[priority]], limit: 7}",
    "{where: {status: open}, order: [[priority]], limit: 10}",
    "{where: {status: open}, limit: 30}",
    "{where: {priority: 2}, limit: 30}",
    "{order: [[priority, true]], limit: 25}",
    "{order: [[priority]], limit: 25}",
    "{order: [[id, true]], limit: 5}",
    "{where: {title: {contains: view}}}",
    "{where: {title: {contains: view}}, limit: 3}",
    "{where: {title: {contains: \"caf\xc3\xa9 \"}}, order: [[priority, true]]}",
    "{where: {title: {startsWith: sig}}, order: [[title]]}",
    "{where: {notes: {startsWith: Pat}, status: done}}",
    "{where: {$or: [{title: {contains: lph}}, {notes: {contains: ega}}]}, order: [[id, true]], limit: 40}",
    "{where: {title: {contains: zzz}}}",
    "{where: {title: {contains: al}}, limit: 4}",
    "{where: {$and: [{status: open}, {priority: {lte: 2}}]}, order: [[priority, true], [id]], limit: 9}",
    "{where: {notes: {startsWith: al}}, limit: 30}",
};

static void test_plans_match_reference(void) {
    nw_store *s = make(600);
    for (size_t i = 0; i < sizeof SPECS / sizeof *SPECS; i++) same(s, SPECS[i], NULL);
    nw_store_free(s);
}

static void test_explain_names_the_plan(void) {
    nw_store *s = make(3000);
    explained ex;
    memset(&ex, 0, sizeof ex);
    same(s, SPECS[0], &ex);
    CHECK(!strcmp(ex.index, "status,-priority,id"));
    CHECK_EQ(ex.flags, NW_EXPLAIN_ORDERED | NW_EXPLAIN_STOPS);
    CHECK_EQ(ex.scanned, 50);
    memset(&ex, 0, sizeof ex);
    same(s, SPECS[1], &ex);   /* the range on the descending key keeps the walk */
    CHECK(!strcmp(ex.index, "status,-priority,id"));
    CHECK_EQ(ex.scanned, 20);
    memset(&ex, 0, sizeof ex);
    same(s, SPECS[5], &ex);   /* limit without orderBy: the status index walks in id order */
    CHECK(!strcmp(ex.index, "status"));
    CHECK(ex.flags & NW_EXPLAIN_STOPS);
    CHECK_EQ(ex.scanned, 30);
    memset(&ex, 0, sizeof ex);
    same(s, SPECS[6], &ex);   /* an equality on the whole -priority key: its range is in id order */
    CHECK(!strcmp(ex.index, "-priority"));
    CHECK_EQ(ex.scanned, 30);
    memset(&ex, 0, sizeof ex);
    same(s, SPECS[19], &ex);   /* no index helps (2 bytes: no trigram): walk the ids, stop early */
    CHECK(!strcmp(ex.index, "id"));
    CHECK(ex.flags & NW_EXPLAIN_STOPS);
    CHECK(ex.scanned < 300);
    memset(&ex, 0, sizeof ex);
    same(s, SPECS[7], &ex);
    CHECK(!strcmp(ex.index, "-priority"));
    CHECK_EQ(ex.scanned, 25);
    memset(&ex, 0, sizeof ex);
    same(s, SPECS[8], &ex);   /* the reverse order walks -priority backwards by groups */
    CHECK(!strcmp(ex.index, "-priority"));
    CHECK(ex.flags & NW_EXPLAIN_STOPS);
    memset(&ex, 0, sizeof ex);
    same(s, SPECS[10], &ex);
    CHECK(!strcmp(ex.index, "trigram:title"));
    CHECK(ex.scanned < 3000 / 2);
    memset(&ex, 0, sizeof ex);
    same(s, SPECS[15], &ex);
    CHECK(!strcmp(ex.index, "trigram:title|notes") || !strcmp(ex.index, "id"));
    memset(&ex, 0, sizeof ex);
    same(s, SPECS[16], &ex);
    CHECK(!strcmp(ex.index, "trigram:title"));
    CHECK_EQ(ex.scanned, 0);
    nw_store_free(s);
}

/* Writes, deletes, rollbacks and a transaction undone keep every index in
 * step: the plans still agree with the reference. */
static void test_upkeep_through_writes_and_undo(void) {
    nw_store *s = make(400);
    for (size_t i = 0; i < sizeof SPECS / sizeof *SPECS; i++) same(s, SPECS[i], NULL);   /* builds the trigram indexes */
    nw_error err;
    uint32_t slot;
    char id[16];
    bool existed;
    for (uint32_t i = 0; i < 400; i += 3) {
        snprintf(id, sizeof id, "t%04u", i);
        size_t mark = nw_store_mark(s);
        const char *patch = i % 2 ? "{title: \"new review text\", priority: 4}" : "{notes: \"omega signal\", status: done}";
        CHECK_EQ(nw_store_update(s, 0, id, strlen(id), val(patch), -1, &slot, &err), NW_OK);
        if (i % 9 == 0) nw_store_rollback(s, mark); else nw_store_release(s, mark);
    }
    for (uint32_t i = 1; i < 400; i += 5) {
        snprintf(id, sizeof id, "t%04u", i);
        size_t mark = nw_store_mark(s);
        CHECK_EQ(nw_store_delete(s, 0, id, strlen(id), &existed, &err), NW_OK);
        if (i % 4 == 0) nw_store_rollback(s, mark); else nw_store_release(s, mark);
    }
    nw_store_tx_begin(s);
    size_t mark = nw_store_mark(s);
    CHECK_EQ(nw_store_create(s, 0, val("{id: zz1, title: \"zzz review\", notes: alpha, status: open, priority: 5}"), -1, false, &slot, &err), NW_OK);
    CHECK_EQ(nw_store_delete(s, 0, "t0002", 5, &existed, &err), NW_OK);
    nw_store_rollback(s, mark);
    nw_store_tx_end(s);
    CHECK_EQ(nw_store_create(s, 0, val("{id: zz2, title: \"zzzz\", status: later}"), -1, false, &slot, &err), NW_OK);
    nw_store_release(s, 0);
    for (size_t i = 0; i < sizeof SPECS / sizeof *SPECS; i++) same(s, SPECS[i], NULL);
    CHECK_EQ(nw_store_check(s), 0);
    nw_store_free(s);
}

static void test_trigram_unit(void) {
    nw_trigram *g = nw_trigram_new();
    CHECK(g != NULL);
    const uint32_t *l;
    CHECK_EQ(nw_trigram_add(g, 1, (const uint8_t *)"banana", 6), 0);
    CHECK_EQ(nw_trigram_add(g, 2, (const uint8_t *)"ban", 3), 0);
    CHECK_EQ(nw_trigram_add(g, 3, (const uint8_t *)"xy", 2), 0);
    CHECK_EQ(nw_trigram_candidates(g, (const uint8_t *)"ana", 3, &l), 1);   /* "ana" twice in banana: one posting */
    CHECK_EQ(l[0], 1);
    CHECK_EQ(nw_trigram_candidates(g, (const uint8_t *)"bana", 4, &l), 1);  /* rarest of ban (2), ana (1) */
    CHECK_EQ(nw_trigram_candidates(g, (const uint8_t *)"ban", 3, &l), 2);
    CHECK_EQ(nw_trigram_candidates(g, (const uint8_t *)"Ban", 3, &l), 0);   /* case-sensitive, like contains */
    CHECK(l == NULL);
    CHECK_EQ(nw_trigram_candidates(g, (const uint8_t *)"xy", 2, &l), (size_t)-1);
    nw_trigram_remove(g, 2, (const uint8_t *)"ban", 3);
    CHECK_EQ(nw_trigram_candidates(g, (const uint8_t *)"ban", 3, &l), 2);   /* stale until a rebuild */
    CHECK_EQ(nw_trigram_check(g), 0);
    CHECK(!nw_trigram_worn(g));
    for (uint32_t i = 0; i < 3000; i++) CHECK_EQ(nw_trigram_add(g, 10 + i, (const uint8_t *)"abcdef", 6), 0);
    for (uint32_t i = 0; i < 2000; i++) nw_trigram_remove(g, 10 + i, (const uint8_t *)"abcdef", 6);
    CHECK(nw_trigram_worn(g));
    CHECK_EQ(nw_trigram_check(g), 0);
    nw_trigram_free(g);
    nw_trigram_free(NULL);
}

/* The posting lists of a pattern's distinct trigrams come rarest first,
 * capped, and none when one trigram occurs nowhere. */
static void test_trigram_lists(void) {
    nw_trigram *g = nw_trigram_new();
    CHECK(g != NULL);
    CHECK_EQ(nw_trigram_add(g, 1, (const uint8_t *)"abcXdef", 7), 0);
    CHECK_EQ(nw_trigram_add(g, 2, (const uint8_t *)"abcdef", 6), 0);
    CHECK_EQ(nw_trigram_add(g, 3, (const uint8_t *)"defabc", 6), 0);
    CHECK_EQ(nw_trigram_add(g, 4, (const uint8_t *)"aaaa", 4), 0);
    nw_tlist l[4];
    CHECK_EQ(nw_trigram_lists(g, (const uint8_t *)"abcdef", 6, l, 4), 4);   /* abc, bcd, cde, def */
    CHECK_EQ(l[0].n, 1);
    CHECK_EQ(l[0].v[0], 2);
    CHECK_EQ(l[1].n, 1);
    CHECK_EQ(l[2].n, 3);
    CHECK_EQ(l[3].n, 3);
    CHECK_EQ(nw_trigram_lists(g, (const uint8_t *)"abcdef", 6, l, 2), 2);   /* the two rarest */
    CHECK(l[0].n == 1 && l[1].n == 1 && l[0].v != l[1].v);
    CHECK_EQ(nw_trigram_lists(g, (const uint8_t *)"fabc", 4, l, 4), 2);    /* fab (3), abc */
    CHECK_EQ(l[0].n, 1);
    CHECK_EQ(l[0].v[0], 3);
    CHECK_EQ(l[1].n, 3);
    CHECK_EQ(nw_trigram_lists(g, (const uint8_t *)"aaaaa", 5, l, 4), 1);   /* aaa three times: one list */
    CHECK_EQ(nw_trigram_lists(g, (const uint8_t *)"abcdeX", 6, l, 4), 0);  /* deX occurs nowhere */
    CHECK_EQ(nw_trigram_lists(g, (const uint8_t *)"ab", 2, l, 4), (size_t)-1);
    nw_trigram_free(g);
}

/* A substring query checks only the records that hold every trigram of
 * the pattern, not every record holding its rarest one. */
static void test_trigram_candidates_intersect(void) {
    nw_store *s = make(0);
    nw_error err;
    uint32_t slot;
    char rec[128];
    for (uint32_t i = 0; i < 260; i++) {
        /* 10 matches; 50 hold only "b c" (the rarest trigram); 200 hold "ab " and " cd" apart */
        const char *title = i < 10 ? "ab cd" : i < 60 ? "b c zz" : "ab zz cd";
        snprintf(rec, sizeof rec, "{id: r%03u, title: \"%s %u\", status: open, priority: 1}", i, title, i);
        CHECK_EQ(nw_store_create(s, 0, val(rec), -1, false, &slot, &err), NW_OK);
        nw_store_release(s, 0);
    }
    explained ex;
    memset(&ex, 0, sizeof ex);
    same(s, "{where: {title: {contains: \"ab cd\"}}}", &ex);
    CHECK(!strcmp(ex.index, "trigram:title"));
    CHECK_EQ(ex.results, 10);
    CHECK_EQ(ex.scanned, 10);
    memset(&ex, 0, sizeof ex);
    same(s, "{where: {$or: [{title: {contains: \"ab cd\"}}, {title: {contains: \"b c z\"}}]}}", &ex);
    CHECK_EQ(ex.results, 60);
    CHECK_EQ(ex.scanned, 60);
    /* stale postings: a match edited away and back is found once */
    CHECK_EQ(nw_store_update(s, 0, "r003", 4, val("{title: \"zz\"}"), -1, &slot, &err), NW_OK);
    nw_store_release(s, 0);
    same(s, "{where: {title: {contains: \"ab cd\"}}}", &ex);
    CHECK_EQ(ex.results, 9);
    CHECK_EQ(nw_store_update(s, 0, "r003", 4, val("{title: \"ab cd again\"}"), -1, &slot, &err), NW_OK);
    nw_store_release(s, 0);
    same(s, "{where: {title: {contains: \"ab cd\"}}}", &ex);
    CHECK_EQ(ex.results, 10);
    CHECK_EQ(nw_store_check(s), 0);
    nw_store_free(s);
}

static void test_trigram_alloc_failures(void) {
    for (long n = 0; n < 60; n++) {
        nw_alloc_fail_after(n);
        nw_trigram *g = nw_trigram_new();
        int rc = 0;
        char text[32];
        for (uint32_t i = 0; g && i < 200 && !rc; i++) {
            snprintf(text, sizeof text, "w%u-%u-x", i * 7919 % 1000, i);
            rc = nw_trigram_add(g, i, (const uint8_t *)text, strlen(text));
        }
        nw_alloc_fail_reset();
        if (g) CHECK_EQ(nw_trigram_check(g), 0);
        nw_trigram_free(g);
    }
}

/* Queries and writes under the failing allocator: OK or out of memory,
 * never a wrong answer afterwards (a dropped trigram index is rebuilt). */
static void test_alloc_failures(void) {
    nw_store *s = make(300);
    nw_error err;
    for (size_t k = 0; k < sizeof SPECS / sizeof *SPECS; k++) {
        for (long n = 0; n < 12; n++) {
            const uint8_t *spec = val(SPECS[k]);
            nw_alloc_fail_after(n);
            nw_query *q = NULL;
            nw_code rc = nw_query_parse(s, 0, spec, &q, &err);
            uint32_t *slots = NULL, cnt = 0;
            if (!rc) rc = nw_query_run(s, q, false, &slots, &cnt, &err);
            if (!rc) rc = nw_query_count(s, q, &cnt, &err);
            nw_buf o;
            nw_buf_init(&o);
            if (!rc) rc = nw_query_explain(s, q, &o, &err);
            nw_alloc_fail_reset();
            CHECK(rc == NW_OK || rc == NW_E_LIMIT);
            nw_buf_free(&o);
            nw_free(slots);
            nw_query_free(q);
        }
    }
    uint32_t slot;
    char rec[128];
    for (long n = 0; n < 40; n++) {
        snprintf(rec, sizeof rec, "{id: f%ld, title: \"fail review %ld\", notes: \"signal\", status: open, priority: %ld}", n, n, 1 + n % 5);
        const uint8_t *v = val(rec);
        nw_alloc_fail_after(n);
        size_t mark = nw_store_mark(s);
        nw_code rc = nw_store_create(s, 0, v, -1, false, &slot, &err);
        if (rc) nw_store_rollback(s, mark); else nw_store_release(s, mark);
        nw_alloc_fail_reset();
        CHECK(rc == NW_OK || rc == NW_E_LIMIT);
    }
    for (size_t k = 0; k < sizeof SPECS / sizeof *SPECS; k++) same(s, SPECS[k], NULL);
    CHECK_EQ(nw_store_check(s), 0);
    nw_store_free(s);
}

static void test_descending_schema(void) {
    nw_store *s = nw_store_new();
    nw_error err;
    uint32_t idx;
    CHECK_EQ(nw_store_define(s, val("{name: A, fields: {x: {type: int}}, indexes: [[\"-x\", \"-id\"]]}"), &idx, &err), NW_OK);
    CHECK_EQ(nw_table_index_key(nw_store_table(s, 0), 1)->desc, 3);
    CHECK_EQ(nw_store_define(s, val("{name: B, fields: {x: {type: int}}, indexes: [[\"-nope\"]]}"), &idx, &err), NW_E_SCHEMA);
    CHECK_EQ(nw_store_define(s, val("{name: C, fields: {x: {type: int}}, unique: [[\"-x\"]]}"), &idx, &err), NW_E_SCHEMA);   /* direction only in indexes */
    nw_store_free(s);
}

/* Abbreviated index keys (store.c) stand for the rows' order: indexes over
 * every type that has a byte key, ascending and descending, with nulls,
 * negative and huge numbers, -0, texts sharing long prefixes or holding
 * NUL bytes, through random writes and rollbacks. nw_store_check walks
 * each index and checks every abbreviation against its row and every
 * neighbour pair by the rows themselves. */
static const char *pick(const char *const *a, size_t n, uint32_t *x) {
    *x = *x * 1103515245u + 12345u;
    return a[(*x >> 8) % n];
}

static void test_abbreviated_keys_follow_rows(void) {
    nw_store *s = nw_store_new();
    nw_error err;
    uint32_t tb_idx, slot;
    nw_store_set_now(s, 1700000000000.0);
    CHECK_EQ(nw_store_define(s, val("{name: K, fields: {s: {type: string}, i: {type: int}, f: {type: float}, d: {type: datetime},"
        " b: {type: bool}, e: {type: enum, values: [x, y, z]}, r: {type: string, required: true}},"
        " indexes: [[s, i], [\"-i\", s], [\"-f\", b], [e, \"-d\"], \"-s\", [b, e, i, f], [r, \"-r\"], [\"-e\", \"-b\", \"-d\", \"-f\"]]}"),
        &tb_idx, &err), NW_OK);
    static const char *const STR[] = { "null", "\"\"", "\"a\"", "\"a\\x00\"", "\"a\\x00b\"", "\"ab\"", "\"abcdefghijklmnopq1\"",
                                       "\"abcdefghijklmnopq2\"", "\"abcdefghijklmnop\"", "\"\\xff\\xfe\"", "\"caf\\xc3\\xa9\"" };
    static const char *const INT[] = { "null", "0", "1", "-1", "255", "256", "-256", "-255", "65536", "9007199254740991",
                                       "-9007199254740991", "3", "-3" };
    static const char *const FLT[] = { "null", "0", "-0", "0.5", "-0.5", "1e300", "-1e300", "5e-324", "-5e-324", "3", "-3" };
    static const char *const DAT[] = { "null", "@0", "@1700000000000", "@-1000", "@1700000000001", "@8640000000000000" };
    static const char *const BOL[] = { "null", "true", "false" };
    static const char *const ENM[] = { "null", "x", "y", "z" };
    uint32_t x = 12345;
#define rnd() (x = x * 1103515245u + 12345u, x >> 8)
#define PICK(a) pick(a, sizeof a / sizeof *a, &x)
    char rec[512], id[16];
    for (uint32_t step = 0; step < 3000; step++) {
        snprintf(id, sizeof id, "k%u", rnd() % 400);
        const char *v[8] = { PICK(STR), PICK(INT), PICK(FLT), PICK(DAT), PICK(BOL), PICK(ENM), pick(STR + 1, sizeof STR / sizeof *STR - 1, &x) };
        snprintf(rec, sizeof rec, "{id: %s, s: %s, i: %s, f: %s, d: %s, b: %s, e: %s, r: %s}", id, v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
        size_t mark = nw_store_mark(s);
        nw_code rc;
        uint32_t what = rnd() % 10;
        if (what < 6) {
            rc = nw_store_create(s, tb_idx, val(rec), -1, true, &slot, &err);
        } else if (what < 8) {
            bool existed;
            rc = nw_store_delete(s, tb_idx, id, strlen(id), &existed, &err);
        } else {
            const char *i = PICK(INT), *t = PICK(STR);
            snprintf(rec, sizeof rec, "{i: %s, s: %s}", i, t);
            rc = nw_store_update(s, tb_idx, id, strlen(id), val(rec), -1, &slot, &err);
            if (rc == NW_E_NOT_FOUND) rc = NW_OK;
        }
        CHECK_EQ(rc, NW_OK);
        if (rnd() % 5 == 0) nw_store_rollback(s, mark);
        else nw_store_release(s, mark);
        if (step % 100 == 99) CHECK_EQ(nw_store_check(s), 0);
    }
#undef rnd
#undef PICK
    CHECK_EQ(nw_store_check(s), 0);
    nw_store_free(s);
}

int main(void) {
    nw_buf_init(&tb);
    RUN(test_descending_schema);
    RUN(test_trigram_unit);
    RUN(test_trigram_lists);
    RUN(test_trigram_candidates_intersect);
    RUN(test_trigram_alloc_failures);
    RUN(test_plans_match_reference);
    RUN(test_explain_names_the_plan);
    RUN(test_upkeep_through_writes_and_undo);
    RUN(test_alloc_failures);
    RUN(test_abbreviated_keys_follow_rows);
    nw_buf_free(&tb);
    return check_summary("query_plan");
}
