/* test_hardening.c - the C side of issue 15: reserved keys (__proto__,
 * constructor, prototype) refused as ids, ref values, json keys, data keys,
 * field and entity names; schema mistakes refused; the one depth limit of a
 * value (NVAL_MAX_DEPTH) enforced on json fields under any envelope; huge
 * limits meaning no limit; writing a ref to an undefined entity is SCHEMA. */
#include "check.h"
#include "nvb.h"
#include "store.h"
#include "query.h"
#include "record.h"
#include "alloc.h"
#include <math.h>

static const char *const RESERVED[] = { "__proto__", "constructor", "prototype" };

/* Task { title: string, meta: json, projectId: ref Project } and Project { name } */
static nw_store *make_store(uint32_t *task, uint32_t *project, bool with_project) {
    nw_store *s = nw_store_new();
    nw_buf b; nw_buf_init(&b);
    nw_error err; nw_error_clear(&err);
    nvb_obj(&b, 2);
    nvb_key(&b, "name"); nvb_str(&b, "Task");
    nvb_key(&b, "fields"); nvb_obj(&b, 3);
      nvb_key(&b, "title"); nvb_obj(&b, 1); nvb_key(&b, "type"); nvb_str(&b, "string");
      nvb_key(&b, "meta"); nvb_obj(&b, 1); nvb_key(&b, "type"); nvb_str(&b, "json");
      nvb_key(&b, "projectId"); nvb_obj(&b, 2); nvb_key(&b, "type"); nvb_str(&b, "ref"); nvb_key(&b, "entity"); nvb_str(&b, "Project");
    CHECK_EQ(nw_store_define(s, b.p, task, &err), NW_OK);
    if (with_project) {
        nw_buf_reset(&b);
        nvb_obj(&b, 2);
        nvb_key(&b, "name"); nvb_str(&b, "Project");
        nvb_key(&b, "fields"); nvb_obj(&b, 1);
          nvb_key(&b, "name"); nvb_obj(&b, 1); nvb_key(&b, "type"); nvb_str(&b, "string");
        CHECK_EQ(nw_store_define(s, b.p, project, &err), NW_OK);
    }
    nw_buf_free(&b);
    nw_store_set_now(s, 1700000000000.0);
    return s;
}

static nw_code create(nw_store *s, uint32_t table, const nw_buf *b, nw_error *err) {
    uint32_t slot;
    CHECK(nval_check(b->p, b->len) == b->len);
    size_t mark = nw_store_mark(s);
    nw_code rc = nw_store_create(s, table, b->p, -1, false, &slot, err);
    if (rc) nw_store_rollback(s, mark); else nw_store_release(s, mark);
    return rc;
}

static void test_reserved_ids_and_refs(void) {
    uint32_t tb, pb;
    nw_store *s = make_store(&tb, &pb, true);
    nw_buf b; nw_buf_init(&b);
    nw_error err;
    for (int i = 0; i < 3; i++) {
        nw_buf_reset(&b);
        nvb_obj(&b, 2); nvb_key(&b, "id"); nvb_str(&b, RESERVED[i]); nvb_key(&b, "title"); nvb_str(&b, "x");
        nw_error_clear(&err);
        CHECK_EQ(create(s, tb, &b, &err), NW_E_VALIDATION);
        CHECK(strcmp(err.rule, "reserved-key") == 0);
        CHECK(strcmp(err.entity, "Task") == 0);
        CHECK(strcmp(err.field, "id") == 0);
        /* sync apply (server state) goes through the same check */
        nw_buf_reset(&b);
        nvb_obj(&b, 1); nvb_key(&b, "title"); nvb_str(&b, "x");
        nw_error_clear(&err);
        size_t mark = nw_store_mark(s);
        nw_code rc = nw_store_put(s, tb, RESERVED[i], strlen(RESERVED[i]), b.p, &err);
        if (rc) nw_store_rollback(s, mark); else nw_store_release(s, mark);
        CHECK_EQ(rc, NW_E_VALIDATION);
        CHECK(strcmp(err.rule, "reserved-key") == 0);
        /* as a ref value */
        nw_buf_reset(&b);
        nvb_obj(&b, 1); nvb_key(&b, "projectId"); nvb_str(&b, RESERVED[i]);
        nw_error_clear(&err);
        CHECK_EQ(create(s, tb, &b, &err), NW_E_VALIDATION);
        CHECK(strcmp(err.rule, "reserved-key") == 0);
        CHECK(strcmp(err.field, "projectId") == 0);
        /* as a data key */
        nw_buf_reset(&b);
        nvb_obj(&b, 1); nvb_key(&b, RESERVED[i]); nvb_str(&b, "x");
        nw_error_clear(&err);
        CHECK_EQ(create(s, tb, &b, &err), NW_E_VALIDATION);
        CHECK(strcmp(err.rule, "reserved-key") == 0);
    }
    CHECK_EQ(nw_table_live(nw_store_table(s, tb)), 0);
    /* near misses are ordinary ids */
    nw_buf_reset(&b);
    nvb_obj(&b, 1); nvb_key(&b, "id"); nvb_str(&b, "__proto");
    nw_error_clear(&err);
    CHECK_EQ(create(s, tb, &b, &err), NW_OK);
    CHECK(nw_reserved_key("prototype", 9));
    CHECK(!nw_reserved_key("prototypes", 10));
    CHECK(!nw_reserved_key("constructo", 10));
    nw_buf_free(&b);
    nw_store_free(s);
}

static void nest(nw_buf *b, int levels, const char *key) {
    for (int i = 0; i < levels; i++) {
        if (key && i == levels - 1) { nvb_obj(b, 1); nvb_key(b, key); }
        else nvb_arr(b, 1);
    }
    nvb_num(b, 1);
}

static void test_json_keys_and_depth(void) {
    uint32_t tb, pb;
    nw_store *s = make_store(&tb, &pb, true);
    nw_buf b; nw_buf_init(&b);
    nw_error err;
    for (int i = 0; i < 3; i++) {
        nw_buf_reset(&b);
        nvb_obj(&b, 1); nvb_key(&b, "meta"); nest(&b, 5, RESERVED[i]);
        nw_error_clear(&err);
        CHECK_EQ(create(s, tb, &b, &err), NW_E_VALIDATION);
        CHECK(strcmp(err.rule, "reserved-key") == 0);
        CHECK(strcmp(err.field, "meta") == 0);
    }
    /* exactly NVAL_MAX_DEPTH levels below the field value fit */
    nw_buf_reset(&b);
    nvb_obj(&b, 1); nvb_key(&b, "meta"); nest(&b, NVAL_MAX_DEPTH, NULL);
    nw_error_clear(&err);
    CHECK_EQ(create(s, tb, &b, &err), NW_OK);
    nw_buf_reset(&b);
    nvb_obj(&b, 1); nvb_key(&b, "meta"); nest(&b, NVAL_MAX_DEPTH + 1, NULL);
    nw_error_clear(&err);
    CHECK_EQ(create(s, tb, &b, &err), NW_E_VALIDATION);
    CHECK(strcmp(err.rule, "depth") == 0);
    /* the envelope around a value does not count against it */
    nw_buf_reset(&b);
    nvb_arr(&b, 1); nvb_arr(&b, 1); nvb_obj(&b, 1); nvb_key(&b, "meta"); nest(&b, NVAL_MAX_DEPTH, NULL);
    CHECK(nval_check(b.p, b.len) == b.len);
    nw_buf_reset(&b);
    nest(&b, NVAL_MAX_DEPTH + NVAL_ENVELOPE_DEPTH + 1, NULL);
    CHECK(nval_check(b.p, b.len) == 0);
    nw_buf_free(&b);
    nw_store_free(s);
}

static void test_ref_to_undefined_entity(void) {
    uint32_t tb, pb;
    nw_store *s = make_store(&tb, &pb, false);
    nw_buf b; nw_buf_init(&b);
    nw_error err; nw_error_clear(&err);
    nvb_obj(&b, 1); nvb_key(&b, "projectId"); nvb_str(&b, "p1");
    CHECK_EQ(create(s, tb, &b, &err), NW_E_SCHEMA);
    CHECK(strcmp(err.rule, "ref") == 0);
    CHECK(strcmp(err.field, "projectId") == 0);
    nw_buf_free(&b);
    nw_store_free(s);
}

/* One-field schema `E { f: <spec> }` with the spec written by fn. */
static nw_code define(nw_store *s, const char *entity, const char *field, void (*spec)(nw_buf *), nw_error *err) {
    nw_buf b; nw_buf_init(&b);
    nvb_obj(&b, 2);
    nvb_key(&b, "name"); nvb_str(&b, entity);
    nvb_key(&b, "fields"); nvb_obj(&b, 1);
    nvb_key(&b, field);
    spec(&b);
    uint32_t t;
    nw_error_clear(err);
    nw_code rc = nw_store_define(s, b.p, &t, err);
    nw_buf_free(&b);
    return rc;
}

static void spec_string(nw_buf *b) { nvb_obj(b, 1); nvb_key(b, "type"); nvb_str(b, "string"); }
static void spec_dup_enum(nw_buf *b) {
    nvb_obj(b, 2); nvb_key(b, "type"); nvb_str(b, "enum");
    nvb_key(b, "values"); nvb_arr(b, 3); nvb_str(b, "a"); nvb_str(b, "b"); nvb_str(b, "a");
}
static void spec_min_gt_max(nw_buf *b) {
    nvb_obj(b, 3); nvb_key(b, "type"); nvb_str(b, "int"); nvb_key(b, "min"); nvb_num(b, 5); nvb_key(b, "max"); nvb_num(b, 1);
}
static void spec_nan_min(nw_buf *b) { nvb_obj(b, 2); nvb_key(b, "type"); nvb_str(b, "float"); nvb_key(b, "min"); nvb_num(b, NAN); }
static void spec_nan_max(nw_buf *b) { nvb_obj(b, 2); nvb_key(b, "type"); nvb_str(b, "int"); nvb_key(b, "max"); nvb_num(b, NAN); }
static void spec_len(nw_buf *b) {
    nvb_obj(b, 3); nvb_key(b, "type"); nvb_str(b, "string"); nvb_key(b, "minLength"); nvb_num(b, 3); nvb_key(b, "maxLength"); nvb_num(b, 2);
}
static void spec_equal_bounds(nw_buf *b) {
    nvb_obj(b, 3); nvb_key(b, "type"); nvb_str(b, "int"); nvb_key(b, "min"); nvb_num(b, 2); nvb_key(b, "max"); nvb_num(b, 2);
}

static void test_schema_mistakes(void) {
    nw_store *s = nw_store_new();
    nw_error err;
    void (*bad[])(nw_buf *) = { spec_dup_enum, spec_min_gt_max, spec_nan_min, spec_nan_max, spec_len };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(define(s, "E", "f", bad[i], &err), NW_E_SCHEMA);
        CHECK(strcmp(err.field, "f") == 0);
    }
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(define(s, "E", RESERVED[i], spec_string, &err), NW_E_SCHEMA);
        CHECK(strcmp(err.rule, "reserved-key") == 0);
        CHECK_EQ(define(s, RESERVED[i], "f", spec_string, &err), NW_E_SCHEMA);
        CHECK(strcmp(err.rule, "reserved-key") == 0);
    }
    CHECK_EQ(nw_store_ntables(s), 0);
    CHECK_EQ(define(s, "E", "f", spec_equal_bounds, &err), NW_OK);
    CHECK_EQ(nw_store_ntables(s), 1);
    nw_store_free(s);
}

static void test_huge_limits(void) {
    uint32_t tb, pb;
    nw_store *s = make_store(&tb, &pb, true);
    nw_buf b; nw_buf_init(&b);
    nw_error err;
    for (int i = 0; i < 3; i++) {
        nw_buf_reset(&b);
        nvb_obj(&b, 1); nvb_key(&b, "title"); nvb_str(&b, "t");
        nw_error_clear(&err);
        CHECK_EQ(create(s, tb, &b, &err), NW_OK);
    }
    const double limits[] = { 1e20, 4294967297.0, 4294967296.0, 9007199254740991.0 };
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        for (int ordered = 0; ordered < 2; ordered++) {
            nw_buf_reset(&b);
            nvb_obj(&b, ordered ? 3 : 2);
            nvb_key(&b, "limit"); nvb_num(&b, limits[i]);
            nvb_key(&b, "offset"); nvb_num(&b, 1);
            if (ordered) { nvb_key(&b, "order"); nvb_arr(&b, 1); nvb_arr(&b, 2); nvb_str(&b, "title"); nvb_bool(&b, 1); }
            nw_query *q = NULL;
            nw_error_clear(&err);
            CHECK_EQ(nw_query_parse(s, tb, b.p, &q, &err), NW_OK);
            if (!q) continue;
            CHECK(nw_query_limit(q) < 0);
            uint32_t *slots = NULL, n = 0;
            CHECK_EQ(nw_query_run(s, q, false, &slots, &n, &err), NW_OK);
            CHECK_EQ(n, 2);
            nw_free(slots);
            nw_query_free(q);
        }
        /* an offset that large skips everything */
        nw_buf_reset(&b);
        nvb_obj(&b, 1); nvb_key(&b, "offset"); nvb_num(&b, limits[i]);
        nw_query *q = NULL;
        CHECK_EQ(nw_query_parse(s, tb, b.p, &q, &err), NW_OK);
        if (!q) continue;
        uint32_t *slots = NULL, n = 9;
        CHECK_EQ(nw_query_run(s, q, false, &slots, &n, &err), NW_OK);
        CHECK_EQ(n, 0);
        nw_free(slots);
        nw_query_free(q);
    }
    nw_buf_free(&b);
    nw_store_free(s);
}

int main(void) {
    RUN(test_reserved_ids_and_refs);
    RUN(test_json_keys_and_depth);
    RUN(test_ref_to_undefined_entity);
    RUN(test_schema_mistakes);
    RUN(test_huge_limits);
    return check_summary("test_hardening");
}
