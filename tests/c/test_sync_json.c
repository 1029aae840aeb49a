/* test_sync_json.c - pull responses applied from JSON text (sync_json.h):
 * values and escapes, ignored keys, refused changes skipped alone, and every
 * malformed or truncated input refused without a crash. */
#include "check.h"
#include "nvb.h"
#include "store.h"
#include "sync_json.h"
#include "alloc.h"

/* Task { title: string required maxLength 20, n: int max 5, tags: list of
 * string, meta: json, due: datetime }, Other { x: int } */
static nw_store *make_store(void) {
    nw_store *s = nw_store_new();
    nw_buf b; nw_buf_init(&b);
    nw_error err; nw_error_clear(&err);
    uint32_t t;
    nvb_obj(&b, 2);
    nvb_key(&b, "name"); nvb_str(&b, "Task");
    nvb_key(&b, "fields"); nvb_obj(&b, 5);
      nvb_key(&b, "title"); nvb_obj(&b, 3); nvb_key(&b, "type"); nvb_str(&b, "string"); nvb_key(&b, "required"); nvb_bool(&b, 1); nvb_key(&b, "maxLength"); nvb_num(&b, 20);
      nvb_key(&b, "n"); nvb_obj(&b, 2); nvb_key(&b, "type"); nvb_str(&b, "int"); nvb_key(&b, "max"); nvb_num(&b, 5);
      nvb_key(&b, "tags"); nvb_obj(&b, 2); nvb_key(&b, "type"); nvb_str(&b, "list"); nvb_key(&b, "of"); nvb_str(&b, "string");
      nvb_key(&b, "meta"); nvb_obj(&b, 1); nvb_key(&b, "type"); nvb_str(&b, "json");
      nvb_key(&b, "due"); nvb_obj(&b, 1); nvb_key(&b, "type"); nvb_str(&b, "datetime");
    CHECK_EQ(nw_store_define(s, b.p, &t, &err), NW_OK);
    nw_buf_reset(&b);
    nvb_obj(&b, 2);
    nvb_key(&b, "name"); nvb_str(&b, "Other");
    nvb_key(&b, "fields"); nvb_obj(&b, 1);
      nvb_key(&b, "x"); nvb_obj(&b, 1); nvb_key(&b, "type"); nvb_str(&b, "int");
    CHECK_EQ(nw_store_define(s, b.p, &t, &err), NW_OK);
    nw_buf_free(&b);
    return s;
}

static const uint8_t both[2] = { 1, 1 };

static nw_code apply(nw_store *s, const char *json, const uint8_t *mask, nw_pull_result *r, nw_buf *skips) {
    nw_error err; nw_error_clear(&err);
    size_t mark = nw_store_mark(s);
    nw_buf_reset(skips);
    nw_code rc = nw_sync_json_apply(s, (const uint8_t *)json, strlen(json), mask, 2, r, skips, &err);
    if (rc) nw_store_rollback(s, mark); else nw_store_release(s, mark);
    return rc;
}

/* Field i of record id in table t, or NULL. */
static const uint8_t *field(nw_store *s, uint32_t t, const char *id, uint32_t i) {
    nw_table *tb = nw_store_table(s, t);
    uint32_t slot = nw_table_find(tb, id, strlen(id));
    return slot == NW_NO_SLOT ? NULL : nw_row_field(nw_table_row(tb, slot), i);
}

static void test_applies_changes(void) {
    nw_store *s = make_store();
    nw_buf skips; nw_buf_init(&skips);
    nw_pull_result r;
    const char *json =
        " { \"more\" : true, \"extra\": [1, {\"a\": null}],\n"
        "  \"changes\": [\n"
        "   {\"entity\":\"Task\",\"id\":\"a\",\"version\":3,\"record\":{\"id\":\"a\",\"title\":\"caf\\u00e9 \\ud83d\\ude00\\n\",\"n\":2,"
        "     \"tags\":[\"x\",\"y\"],\"meta\":{\"deep\":[1.5e2,-0,true,false,null,{}]},\"due\":\"2024-01-02T03:04:05.000Z\",\"unknown\":{\"z\":[1]}}},\n"
        "   {\"record\":{\"title\":\"first\",\"id\":\"b\"},\"version\":4,\"id\":\"b\",\"entity\":\"Task\"},\n"
        "   {\"entity\":\"Nope\",\"id\":\"q\",\"version\":5,\"record\":{\"x\":1}},\n"
        "   {\"entity\":\"Other\",\"id\":\"o\",\"version\":6,\"record\":{\"id\":\"o\",\"x\":7}}\n"
        "  ], \"checkpoint\" : \"6\" } ";
    CHECK_EQ(apply(s, json, both, &r, &skips), NW_OK);
    CHECK_EQ(r.applied, 3);
    CHECK(r.more);
    CHECK_MEM(r.checkpoint, r.checkpoint_len, "6");
    const uint8_t *title = field(s, 0, "a", 1);
    CHECK(title != NULL);
    if (title) CHECK_MEM(title + 5, nw_rd_u32(title + 1), "caf\xc3\xa9 \xf0\x9f\x98\x80\n");
    const uint8_t *n = field(s, 0, "a", 2);
    CHECK(n && n[0] == NVAL_NUM && nw_rd_f64(n + 1) == 2);
    const uint8_t *due = field(s, 0, "a", 5);
    CHECK(due && due[0] == NVAL_NUM && nw_rd_f64(due + 1) == 1704164645000.0);
    CHECK(field(s, 0, "b", 1) != NULL);
    CHECK(field(s, 1, "o", 1) != NULL);
    /* deletes, a refused change skipped alone, a table masked out */
    const uint8_t only_task[2] = { 1, 0 };
    json = "{\"changes\":[{\"entity\":\"Task\",\"id\":\"a\",\"version\":7,\"deleted\":true},"
           "{\"entity\":\"Task\",\"id\":\"c\",\"version\":8,\"record\":{\"id\":\"c\",\"title\":\"x\",\"n\":9}},"
           "{\"entity\":\"Task\",\"id\":\"d\",\"version\":9,\"record\":{\"id\":\"e\",\"title\":\"x\"}},"
           "{\"entity\":\"Task\",\"id\":\"b\",\"version\":10,\"record\":{\"id\":\"b\",\"title\":\"second\"}},"
           "{\"entity\":\"Other\",\"id\":\"o\",\"version\":11,\"deleted\":true}],\"checkpoint\":11,\"more\":false}";
    CHECK_EQ(apply(s, json, only_task, &r, &skips), NW_OK);
    CHECK_EQ(r.applied, 2);
    CHECK_EQ(r.skipped, 2);
    CHECK(!r.more);
    CHECK_MEM(r.checkpoint, r.checkpoint_len, "11");
    CHECK(field(s, 0, "a", 0) == NULL);
    CHECK(field(s, 0, "c", 0) == NULL);
    CHECK(field(s, 1, "o", 0) != NULL);
    const uint8_t *b1 = field(s, 0, "b", 1);
    CHECK(b1 && b1[0] == NVAL_STR);
    if (b1) CHECK_MEM(b1 + 5, nw_rd_u32(b1 + 1), "second");
    CHECK_EQ(nw_rd_u32(skips.p), 1);                 /* index of the first skip */
    CHECK_EQ(nw_rd_u32(skips.p + 4), NW_E_VALIDATION);
    CHECK_EQ(nw_store_check(s), 0);
    nw_buf_free(&skips);
    nw_store_free(s);
}

static void test_malformed_input(void) {
    nw_store *s = make_store();
    nw_buf skips; nw_buf_init(&skips);
    nw_pull_result r;
    const char *good = "{\"changes\":[{\"entity\":\"Task\",\"id\":\"a\",\"version\":1,\"record\":{\"id\":\"a\",\"title\":\"t\\\"\\u0041\",\"tags\":[\"x\"],\"meta\":{\"k\":[1,2.5e-3]}}}],\"checkpoint\":\"1\",\"more\":false}";
    size_t n = strlen(good);
    char buf[512];
    /* every truncation is refused and leaves nothing behind */
    for (size_t cut = 0; cut < n; cut++) {
        memcpy(buf, good, cut);
        buf[cut] = 0;
        CHECK_EQ(apply(s, buf, both, &r, &skips), NW_E_ARG);
        CHECK(field(s, 0, "a", 0) == NULL);
    }
    const char *bad[] = {
        "", "[]", "{\"changes\":{}}", "{\"checkpoint\":\"1\"} x", "{\"changes\":[],\"more\":false}",
        "{\"changes\":[1],\"checkpoint\":\"1\"}", "{\"changes\":[{\"id\":\"a\"}],\"checkpoint\":\"1\"}",
        "{\"changes\":[],\"checkpoint\":\"1\",}", "{\"changes\":[],\"checkpoint\":\"\\q\"}",
        "{\"changes\":[],\"checkpoint\":01}", "{\"changes\":[],\"checkpoint\":1.}", "{\"changes\":[],\"checkpoint\":-}",
        "{\"changes\":[{\"entity\":\"Task\",\"id\":\"a\",\"record\":{\"title\":\"a\nb\"}}],\"checkpoint\":\"1\"}",
        "{\"changes\":[{\"entity\":\"Task\",\"id\":\"a\",\"record\":{\"title\":\"\\u12\"}}],\"checkpoint\":\"1\"}",
        "{\"changes\":[{\"entity\":\"Task\",\"id\":\"a\",\"record\":{\"title\":tru}}],\"checkpoint\":\"1\"}",
        "{\"changes\":[],\"checkpoint\":\"1\",\"more\":maybe}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) CHECK_EQ(apply(s, bad[i], both, &r, &skips), NW_E_ARG);
    /* nesting past the limit is refused, not recursed into */
    nw_buf deep; nw_buf_init(&deep);
    nw_buf_str(&deep, "{\"changes\":[],\"x\":");
    for (int i = 0; i < 200; i++) nw_buf_byte(&deep, '[');
    for (int i = 0; i < 200; i++) nw_buf_byte(&deep, ']');
    nw_buf_str(&deep, ",\"checkpoint\":\"1\"}");
    nw_buf_byte(&deep, 0);
    CHECK_EQ(apply(s, (const char *)deep.p, both, &r, &skips), NW_E_ARG);
    nw_buf_free(&deep);
    CHECK_EQ(apply(s, good, both, &r, &skips), NW_OK);
    CHECK(field(s, 0, "a", 0) != NULL);
    /* random byte flips: refused or applied, never a crash or a leak */
    for (size_t at = 0; at < n; at++) {
        memcpy(buf, good, n + 1);
        buf[at] ^= 0x21;
        nw_code rc = apply(s, buf, both, &r, &skips);
        CHECK(rc == NW_OK || rc == NW_E_ARG);
    }
    CHECK_EQ(nw_store_check(s), 0);
    nw_buf_free(&skips);
    nw_store_free(s);
}

static void test_alloc_failures(void) {
    const char *json = "{\"changes\":[{\"entity\":\"Task\",\"id\":\"a\",\"version\":1,\"record\":{\"id\":\"a\",\"title\":\"one\",\"tags\":[\"x\",\"y\"]}},"
                       "{\"entity\":\"Task\",\"id\":\"b\",\"version\":2,\"record\":{\"title\":\"two\",\"id\":\"b\",\"meta\":{\"k\":\"v\"}}}],\"checkpoint\":\"2\",\"more\":false}";
    for (long k = 0; k < 60; k++) {
        nw_store *s = make_store();
        nw_buf skips; nw_buf_init(&skips);
        nw_buf_reserve(&skips, 256);
        nw_pull_result r;
        nw_alloc_fail_after(k);
        nw_code rc = apply(s, json, both, &r, &skips);
        nw_alloc_fail_reset();
        CHECK(rc == NW_OK || rc == NW_E_LIMIT);
        if (rc == NW_OK) CHECK_EQ(r.applied + r.skipped, 2);
        else CHECK(field(s, 0, "a", 0) == NULL);
        CHECK_EQ(nw_store_check(s), 0);
        nw_buf_free(&skips);
        nw_store_free(s);
    }
}

int main(void) {
    RUN(test_applies_changes);
    RUN(test_malformed_input);
    RUN(test_alloc_failures);
    return check_summary("sync_json");
}
