/* test_query.c - where trees, ordering, windows and the planner (query.c)
 * over a store with every field type, indexes and a unique key. Records
 * and queries are written in fuzz/fuzz_text.h's notation. */
#include "check.h"
#include "store.h"
#include "query.h"
#include "record_view.h"
#include "alloc.h"
#include "textval.h"


/* User { name }, Task { title unique, status enum, priority int 1..5,
 * score float, flag bool, due datetime, tags list, meta json, owner ref },
 * indexes on status, (status, priority), priority, due. */
static nw_store *make(void) {
    nw_store *s = nw_store_new();
    nw_error err;
    uint32_t idx;
    nw_store_set_now(s, 1700000000000.0);
    CHECK_EQ(nw_store_define(s, val("{name: User, fields: {name: {type: string}}}"), &idx, &err), NW_OK);
    CHECK_EQ(nw_store_define(s, val("{name: Task, fields: {title: {type: string}, status: {type: enum, values: [open, done, later]},"
        " priority: {type: int, min: 1, max: 5}, score: {type: float}, flag: {type: bool}, due: {type: datetime},"
        " tags: {type: list, of: string}, meta: {type: json}, owner: {type: ref, entity: User}},"
        " indexes: [status, [status, priority], priority, due], unique: [title]}"), &idx, &err), NW_OK);
    return s;
}

static void add(nw_store *s, uint32_t table, const char *text) {
    nw_error err;
    uint32_t slot;
    nw_code rc = nw_store_create(s, table, val(text), -1, false, &slot, &err);
    if (rc) fprintf(stderr, "  add %s: %s\n", text, err.message);
    CHECK_EQ(rc, NW_OK);
    nw_store_release(s, 0);
}

/* Five tasks: a open p1, b done p3, c open p(null), d later p5, e open p3. */
static nw_store *tasks(void) {
    nw_store *s = make();
    add(s, 0, "{id: u1, name: Ann}");
    add(s, 0, "{id: u2, name: Bob}");
    add(s, 1, "{id: a, title: Apple, status: open, priority: 1, score: 0.5, flag: true, due: \"2024-01-01\", tags: [x, y], meta: {k: 1}, owner: u1}");
    add(s, 1, "{id: b, title: Banana, status: done, priority: 3, score: -1, flag: false, due: \"2024-03-01\", tags: [y], owner: u2}");
    add(s, 1, "{id: c, title: Cherry, status: open, score: 2, due: null, tags: []}");
    add(s, 1, "{id: d, title: Date, status: later, priority: 5, flag: true, due: \"2023-12-31T23:00:00Z\", meta: [1, 2], owner: u1}");
    add(s, 1, "{id: e, title: Elder, status: open, priority: 3, score: 0.5, flag: false, tags: [x], meta: {k: 1}}");
    return s;
}

/* Runs a query on Task and writes the ids of the result, comma-separated,
 * to out; returns the code of parse or run. *count gets nw_query_count. */
static char out[256];
static nw_error qerr;
static nw_code run(nw_store *s, const char *spec, uint32_t *count) {
    nw_query *q = NULL;
    out[0] = 0;
    nw_error_clear(&qerr);
    nw_code rc = nw_query_parse(s, 1, val(spec), &q, &qerr);
    if (rc) return rc;
    uint32_t *slots = NULL, n = 0;
    rc = nw_query_run(s, q, false, &slots, &n, &qerr);
    nw_table *t = nw_store_table(s, 1);
    size_t at = 0;
    for (uint32_t i = 0; !rc && i < n; i++) {
        const uint8_t *f = nw_table_row(t, slots[i]) + 4;
        at += (size_t)snprintf(out + at, sizeof out - at, "%s%.*s", i ? "," : "", (int)nw_rd_u32(f + 1), (const char *)f + 5);
    }
    if (!rc && count) rc = nw_query_count(s, q, count, &qerr);
    nw_free(slots);
    nw_query_free(q);
    return rc;
}

#define EXPECT(s, spec, ids, cnt) do { uint32_t _c = 99; CHECK_EQ(run(s, spec, &_c), NW_OK); \
    CHECK_MEM(out, strlen(out), ids); CHECK_EQ(_c, cnt); } while (0)

static void test_equality_and_planner(void) {
    nw_store *s = tasks();
    EXPECT(s, "{}", "a,b,c,d,e", 5);
    EXPECT(s, "{where: {status: open}}", "a,c,e", 3);
    EXPECT(s, "{where: {status: open, priority: 3}}", "e", 1);
    EXPECT(s, "{where: {status: nope}}", "", 0);                 /* a value the enum lacks */
    EXPECT(s, "{where: {status: {ne: nope}}}", "a,b,c,d,e", 5);
    EXPECT(s, "{where: {id: c}}", "c", 1);
    EXPECT(s, "{where: {id: zz}}", "", 0);
    EXPECT(s, "{where: {id: {in: [e, a, e, zz]}}}", "a,e", 2);
    EXPECT(s, "{where: {title: Banana}}", "b", 1);
    EXPECT(s, "{where: {priority: null}}", "c", 1);
    EXPECT(s, "{where: {priority: {ne: null}}}", "a,b,d,e", 4);
    EXPECT(s, "{where: {flag: true}}", "a,d", 2);
    EXPECT(s, "{where: {owner: u1}}", "a,d", 2);
    EXPECT(s, "{where: {meta: {k: 1}}}", "a,e", 2);
    EXPECT(s, "{where: {tags: [x, y]}}", "a", 1);
    EXPECT(s, "{where: {due: \"2024-01-01T00:00:00.000Z\"}}", "a", 1);
    nw_store_free(s);
}

/* Ranges through an index must not count records whose value is null
 * (null sorts first in the index): count() agreed with all() only when
 * the range had a lower bound. */
static void test_range_counts_skip_nulls(void) {
    nw_store *s = tasks();
    EXPECT(s, "{where: {priority: {lte: 4}}}", "a,b,e", 3);
    EXPECT(s, "{where: {priority: {lt: 3}}}", "a", 1);
    EXPECT(s, "{where: {status: open, priority: {lt: 5}}}", "a,e", 2);
    EXPECT(s, "{where: {due: {lt: \"2024-02-01\"}}}", "a,d", 2);
    EXPECT(s, "{where: {priority: {gte: 3}}}", "b,d,e", 3);
    EXPECT(s, "{where: {priority: {gt: 1, lte: 3}}}", "b,e", 2);
    nw_store_free(s);
}

static void test_operators(void) {
    nw_store *s = tasks();
    EXPECT(s, "{where: {status: {in: [done, later, nope]}}}", "b,d", 2);
    EXPECT(s, "{where: {status: {nin: [open]}}}", "b,d", 2);
    EXPECT(s, "{where: {priority: {in: [3, null]}}}", "b,e", 2);
    EXPECT(s, "{where: {priority: {nin: [3, null]}}}", "a,d", 2);
    EXPECT(s, "{where: {title: {startsWith: B}}}", "b", 1);
    EXPECT(s, "{where: {title: {contains: err}}}", "c", 1);
    EXPECT(s, "{where: {title: {contains: \"\"}}}", "a,b,c,d,e", 5);
    EXPECT(s, "{where: {tags: {contains: x}}}", "a,e", 2);
    EXPECT(s, "{where: {score: {gt: 0, lt: 2}}}", "a,e", 2);
    EXPECT(s, "{where: {score: {gte: 2}}}", "c", 1);
    EXPECT(s, "{where: {owner: {exists: true}}}", "a,b,d", 3);
    EXPECT(s, "{where: {owner: {exists: false}}}", "c,e", 2);
    EXPECT(s, "{where: {due: {gte: @1704067200000}}}", "a,b", 2);
    EXPECT(s, "{where: {$or: [{status: done}, {priority: 5}]}}", "b,d", 2);
    EXPECT(s, "{where: {$and: [{status: open}, {flag: false}]}}", "e", 1);
    EXPECT(s, "{where: {$not: {status: open}}}", "b,d", 2);
    EXPECT(s, "{where: {$or: []}}", "", 0);
    EXPECT(s, "{where: {$and: []}}", "a,b,c,d,e", 5);
    EXPECT(s, "{where: {flag: {eq: true}, status: {ne: open}}}", "d", 1);
    nw_store_free(s);
}

static void test_order_and_window(void) {
    nw_store *s = tasks();
    EXPECT(s, "{order: [[priority]]}", "c,a,b,e,d", 5);                 /* null first, ties by id */
    EXPECT(s, "{order: [[priority, true]]}", "d,b,e,a,c", 5);
    EXPECT(s, "{order: [[priority, true]], limit: 2}", "d,b", 5);
    EXPECT(s, "{order: [[priority, true]], limit: 2, offset: 2}", "e,a", 5);
    EXPECT(s, "{order: [[status], [title, true]]}", "e,c,a,b,d", 5);  /* enum declaration order */
    EXPECT(s, "{order: [[flag, true], [score]]}", "d,a,b,e,c", 5);
    EXPECT(s, "{order: [[due]]}", "c,e,d,a,b", 5);
    EXPECT(s, "{where: {status: open}, order: [[priority, true]]}", "e,a,c", 3);
    EXPECT(s, "{where: {status: open}, order: [[priority, true]], limit: 1}", "e", 3);
    EXPECT(s, "{where: {status: open}, limit: 2, offset: 1}", "c,e", 3);
    EXPECT(s, "{where: {priority: {gte: 1}}, order: [[priority, true]], offset: 1}", "b,e,a", 4);
    EXPECT(s, "{where: {priority: {gte: 1}}, order: [[priority, true]], limit: 3}", "d,b,e", 4);
    EXPECT(s, "{limit: 0}", "", 5);
    EXPECT(s, "{offset: 9}", "", 5);
    EXPECT(s, "{where: {id: a}, offset: 1}", "", 1);
    EXPECT(s, "{where: {id: a}, limit: 0}", "", 1);
    EXPECT(s, "{where: {id: {in: [d, a, b]}}, order: [[title, true]], limit: 2}", "d,b", 3);
    EXPECT(s, "{order: [[id, true]], limit: 2}", "e,d", 5);
    EXPECT(s, "{order: [[id]], limit: 2}", "a,b", 5);
    nw_store_free(s);
}

/* A huge limit means "all of them" and must not overflow when the walk
 * sizes its buffer (UBSan: 1e+20 is outside the range of size_t). */
static void test_huge_limit(void) {
    nw_store *s = tasks();
    EXPECT(s, "{order: [[priority]], limit: 1e20}", "c,a,b,e,d", 5);
    EXPECT(s, "{limit: 1e20, offset: 1e20}", "", 5);
    EXPECT(s, "{where: {status: open}, limit: 4294967297}", "a,c,e", 3);
    nw_store_free(s);
}

#define REFUSE(s, spec, code, field_, rule_) do { CHECK_EQ(run(s, spec, NULL), code); \
    CHECK(strcmp(qerr.entity, "Task") == 0); CHECK(strcmp(qerr.field, field_) == 0); \
    if (strcmp(qerr.rule, rule_)) fprintf(stderr, "  rule %s: %s\n", qerr.rule, qerr.message); \
    CHECK(strcmp(qerr.rule, rule_) == 0); } while (0)

static void test_errors_name_field_and_rule(void) {
    nw_store *s = tasks();
    REFUSE(s, "{where: {nope: 1}}", NW_E_QUERY, "nope", "unknown");
    REFUSE(s, "{where: {priority: {between: 1}}}", NW_E_QUERY, "priority", "operator");
    REFUSE(s, "{where: {priority: abc}}", NW_E_QUERY, "priority", "eq");
    REFUSE(s, "{where: {priority: NaN}}", NW_E_QUERY, "priority", "eq");
    REFUSE(s, "{where: {title: 3}}", NW_E_QUERY, "title", "eq");
    REFUSE(s, "{where: {flag: 1}}", NW_E_QUERY, "flag", "eq");
    REFUSE(s, "{where: {due: notadate}}", NW_E_QUERY, "due", "eq");
    REFUSE(s, "{where: {status: 3}}", NW_E_QUERY, "status", "eq");
    REFUSE(s, "{where: {status: {lt: nope}}}", NW_E_QUERY, "status", "lt");
    REFUSE(s, "{where: {priority: {lt: null}}}", NW_E_QUERY, "priority", "lt");
    REFUSE(s, "{where: {priority: {in: 3}}}", NW_E_QUERY, "priority", "in");
    REFUSE(s, "{where: {owner: {exists: 1}}}", NW_E_QUERY, "owner", "exists");
    REFUSE(s, "{where: {priority: {startsWith: x}}}", NW_E_QUERY, "priority", "startsWith");
    REFUSE(s, "{where: {flag: {contains: x}}}", NW_E_QUERY, "flag", "contains");
    REFUSE(s, "{where: {tags: {lt: [x]}}}", NW_E_QUERY, "tags", "lt");
    REFUSE(s, "{where: {$or: {status: open}}}", NW_E_QUERY, "", "$or");
    REFUSE(s, "{where: [1]}", NW_E_QUERY, "", "type");
    REFUSE(s, "{order: [[nope]]}", NW_E_QUERY, "nope", "unknown");
    REFUSE(s, "{order: [[]]}", NW_E_QUERY, "", "unknown");
    REFUSE(s, "{limit: -1}", NW_E_QUERY, "", "limit");
    REFUSE(s, "{limit: 1.5}", NW_E_QUERY, "", "limit");
    REFUSE(s, "{offset: -2}", NW_E_QUERY, "", "offset");
    /* 33 levels of $not: the depth limit */
    char deep[512] = "{where: ";
    for (int i = 0; i < 34; i++) strcat(deep, "{$not: ");
    strcat(deep, "{status: open}");
    for (int i = 0; i < 34; i++) strcat(deep, "}");
    strcat(deep, "}");
    REFUSE(s, deep, NW_E_LIMIT, "", "depth");
    nw_error err;
    nw_query *q = NULL;
    CHECK_EQ(nw_query_parse(s, 7, val("{}"), &q, &err), NW_E_SCHEMA);
    nw_store_free(s);
}

/* startsWith and contains with null compare nothing: refused like lt. */
static void test_null_patterns_refused(void) {
    nw_store *s = tasks();
    REFUSE(s, "{where: {title: {startsWith: null}}}", NW_E_QUERY, "title", "startsWith");
    REFUSE(s, "{where: {title: {contains: null}}}", NW_E_QUERY, "title", "contains");
    nw_store_free(s);
}

/* Matching a row against a query through field pointers, the comparison
 * used for ordering, and the window accessors. */
static void test_matches_and_cmp(void) {
    nw_store *s = tasks();
    nw_error err;
    nw_query *q = NULL;
    CHECK_EQ(nw_query_parse(s, 1, val("{where: {status: open}, order: [[priority, true]], limit: 2, offset: 1}"), &q, &err), NW_OK);
    nw_table *t = nw_store_table(s, 1);
    uint32_t a = nw_table_find(t, "a", 1), b = nw_table_find(t, "b", 1), e = nw_table_find(t, "e", 1);
    const uint8_t *fields[NW_MAX_FIELDS];
    nw_query_row_fields(t, nw_table_row(t, a), fields);
    CHECK(nw_query_matches_fields(q, fields));
    nw_query_row_fields(t, nw_table_row(t, b), fields);
    CHECK(!nw_query_matches_fields(q, fields));
    CHECK(nw_query_cmp_slots(q, e, a) < 0);
    CHECK(nw_query_cmp_slots(q, a, e) > 0);
    CHECK_EQ(nw_query_cmp_slots(q, a, a), 0);
    CHECK_EQ(nw_query_table(q), 1);
    CHECK(nw_query_limit(q) == 2 && nw_query_offset(q) == 1);
    nw_query_free(q);
    nw_store_free(s);
}

/* Template views of records: fields by name, enums as their names, dates
 * as dates; a list of slots iterates record views that say their slot. */
static void test_record_views(void) {
    nw_store *s = tasks();
    nw_table *t = nw_store_table(s, 1);
    uint32_t slots[2] = { nw_table_find(t, "d", 1), nw_table_find(t, "a", 1) };
    nv list, rec, f;
    nw_slots_view(&list, t, slots, 2);
    CHECK_EQ(list.kind, NV_LIST);
    CHECK_EQ(list.ops->len(&list), 2);
    nv_iter it = { 0 };
    CHECK(list.ops->next(&list, &it, &rec));
    nw_record_views_reset(s);
    CHECK(rec.ops->get(&rec, "status", 6, &f));
    CHECK_EQ(f.kind, NV_STR);
    CHECK_MEM(f.u.str.p, f.u.str.len, "later");
    CHECK(rec.ops->get(&rec, "due", 3, &f));
    CHECK_EQ(f.kind, NV_DATE);
    CHECK(rec.ops->get(&rec, "priority", 8, &f));
    CHECK(f.kind == NV_NUM && f.u.num == 5);
    CHECK(rec.ops->get(&rec, "title", 5, &f));
    CHECK_MEM(f.u.str.p, f.u.str.len, "Date");
    CHECK(!rec.ops->get(&rec, "nope", 4, &f));
    const nw_table *vt;
    uint32_t slot, idlen;
    const char *id;
    CHECK(nw_record_view_info(&rec, &vt, &slot, &id, &idlen));
    CHECK(vt == t && slot == slots[0]);
    CHECK_MEM(id, idlen, "d");
    CHECK(list.ops->next(&list, &it, &rec));
    CHECK(rec.ops->get(&rec, "title", 5, &f));
    CHECK_MEM(f.u.str.p, f.u.str.len, "Apple");
    CHECK(!list.ops->next(&list, &it, &rec));
    CHECK(!nw_record_view_info(&f, &vt, &slot, &id, &idlen));
    nw_store_free(s);
}

/* Every allocation of parse and run fails in turn: each call reports
 * NW_E_LIMIT or succeeds, and nothing leaks (ASan). */
static void test_alloc_failures(void) {
    nw_store *s = tasks();
    static const char *const specs[] = {
        "{where: {status: {in: [open, done]}, $or: [{priority: 3}, {$not: {flag: true}}]}, order: [[priority, true]], limit: 2}",
        "{where: {id: {in: [a, b]}}}", "{where: {priority: {gte: 1}}, order: [[title]]}", "{order: [[priority]], limit: 9000}",
    };
    for (size_t k = 0; k < sizeof specs / sizeof *specs; k++) {
        for (long n = 0; n < 40; n++) {
            const uint8_t *spec = val(specs[k]);
            nw_alloc_fail_after(n);
            nw_error err;
            nw_query *q = NULL;
            nw_code rc = nw_query_parse(s, 1, spec, &q, &err);
            uint32_t *slots = NULL, cnt = 0;
            if (!rc) rc = nw_query_run(s, q, false, &slots, &cnt, &err);
            if (!rc) rc = nw_query_count(s, q, &cnt, &err);
            nw_alloc_fail_reset();
            CHECK(rc == NW_OK || rc == NW_E_LIMIT);
            nw_free(slots);
            nw_query_free(q);
        }
    }
    nw_store_free(s);
}

int main(void) {
    nw_buf_init(&tb);
    RUN(test_equality_and_planner);
    RUN(test_range_counts_skip_nulls);
    RUN(test_operators);
    RUN(test_order_and_window);
    RUN(test_huge_limit);
    RUN(test_errors_name_field_and_rule);
    RUN(test_null_patterns_refused);
    RUN(test_matches_and_cmp);
    RUN(test_record_views);
    RUN(test_alloc_failures);
    nw_buf_free(&tb);
    return check_summary("query");
}
