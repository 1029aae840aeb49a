/* test_nval.c - the value encoding that crosses from JS (nval.h): the
 * validator on well-formed, truncated, oversized and too-deep input, the
 * in-place views and readers, and FIELDS maps (records keyed by field
 * index, as js/ sends them) through the store. */
#include "check.h"
#include "nvb.h"
#include "nval.h"
#include "store.h"
#include "alloc.h"

static void test_check_accepts_and_spans(void) {
    nw_buf b; nw_buf_init(&b);
    nvb_obj(&b, 7);
    nvb_key(&b, "n"); nvb_null(&b);
    nvb_key(&b, "t"); nvb_bool(&b, 1);
    nvb_key(&b, "x"); nvb_num(&b, 1.5);
    nvb_key(&b, "d"); nw_buf_byte(&b, NVAL_DATE); nw_buf_f64(&b, 86400000.0);
    nvb_key(&b, "s"); nvb_str(&b, "h\xC3\xA9");
    nvb_key(&b, "a"); nvb_arr(&b, 2); nvb_bool(&b, 0); nw_buf_byte(&b, NVAL_QUERY); nw_buf_u32(&b, 3);
    nvb_key(&b, "f"); nw_buf_byte(&b, NVAL_FIELDS); nw_buf_u32(&b, 2);
        nw_buf_byte(&b, NVAL_FIELD); nw_buf_u32(&b, 1); nvb_num(&b, 2);
        nw_buf_byte(&b, NVAL_UNKNOWN); nw_buf_u32(&b, 2); nw_buf_str(&b, "zz"); nvb_null(&b);
    CHECK_EQ(nval_check(b.p, b.len), b.len);
    CHECK_EQ(nval_span(b.p), b.len);
    CHECK_EQ(nval_check(b.p, b.len + 0), b.len);
    /* every truncation is refused */
    for (size_t n = 0; n < b.len; n++) CHECK_EQ(nval_check(b.p, n), 0);
    CHECK_EQ(nval_check(NULL, 4), 0);
    /* readers */
    CHECK(nval_get(b.p, "n")[0] == NVAL_NULL);
    CHECK(nval_get(b.p, "missing") == NULL);
    CHECK(nval_get(NULL, "n") == NULL);
    CHECK(nval_num(nval_get(b.p, "x"), 0) == 1.5);
    CHECK(nval_num(nval_get(b.p, "d"), 0) == 86400000.0);
    CHECK(nval_num(nval_get(b.p, "s"), -7) == -7);
    CHECK(nval_bool(nval_get(b.p, "t"), false));
    CHECK(!nval_bool(nval_get(b.p, "a") + 5, true));
    CHECK(nval_bool(nval_get(b.p, "x"), true));
    CHECK(nval_bool(NULL, true));
    uint32_t sl = 0;
    const char *sp = nval_str(nval_get(b.p, "s"), &sl);
    CHECK_MEM(sp, sl, "h\xC3\xA9");
    CHECK(nval_str(nval_get(b.p, "x"), &sl) == NULL);
    const uint8_t *it;
    CHECK_EQ(nval_arr(nval_get(b.p, "a"), &it), 2);
    CHECK_EQ(nval_arr(nval_get(b.p, "s"), &it), 0);
    CHECK_EQ(nval_span(nval_get(b.p, "f")), 1 + 4 + 5 + 9 + 7 + 1);
    nw_buf_free(&b);
}

static void test_check_refuses(void) {
    static const struct { const char *bytes; size_t n; } bad[] = {
        { "\x0F", 1 },                                   /* unknown tag */
        { "\x03\0\0\0", 4 },                              /* short number */
        { "\x04\x05\0\0\0ab", 7 },                        /* string longer than input */
        { "\x04\xff\xff\xff\xff", 5 },
        { "\x05\xff\xff\xff\x7f", 5 },                    /* absurd count */
        { "\x05\x02\0\0\0\x00", 6 },                      /* fewer items than counted */
        { "\x06\x01\0\0\0\x09\0\0\0a", 10 },              /* key longer than input */
        { "\x06\x01\0\0\0\x01\0\0\0a", 9 },               /* key without a value */
        { "\x0A\x01\0\0\0\x00\0\0\0\0\x00", 11 },          /* FIELDS entry neither field nor unknown */
        { "\x0A\x01\0\0\0\x0B\x09\0\0\0a", 11 },          /* unknown key too long */
        { "\x0A\x02\0\0\0\x09\0\0\0\0\x00", 11 },          /* fewer entries */
        { "\x0A\x01\0\0\0\x09\0\0", 8 },
        { "\x0A\x01\0\0\0\x09\0\0\0\0", 10 },              /* field without a value */
        { "\x08\0\0", 3 },                                /* short query handle */
        { "\x09\0\0\0\0\x00", 6 },                        /* a lone FIELD entry is not a value */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (nval_check((const uint8_t *)bad[i].bytes, bad[i].n)) fprintf(stderr, "  accepted case %zu\n", i);
        CHECK_EQ(nval_check((const uint8_t *)bad[i].bytes, bad[i].n), 0);
    }
    /* trailing bytes: the value's own span is returned, not the input's */
    CHECK_EQ(nval_check((const uint8_t *)"\x00\x00", 2), 1);
    /* depth: a call's input may nest NVAL_MAX_DEPTH levels of value inside
     * NVAL_ENVELOPE_DEPTH levels of wrappers; one more is refused */
    const int deepest = NVAL_MAX_DEPTH + NVAL_ENVELOPE_DEPTH;
    nw_buf b; nw_buf_init(&b);
    for (int i = 0; i < deepest; i++) nvb_arr(&b, 1);
    nvb_null(&b);
    CHECK_EQ(nval_check(b.p, b.len), b.len);
    nw_buf_reset(&b);
    for (int i = 0; i < deepest + 1; i++) nvb_arr(&b, 1);
    nvb_null(&b);
    CHECK_EQ(nval_check(b.p, b.len), 0);
    nw_buf_reset(&b);
    for (int i = 0; i < deepest + 1; i++) { nw_buf_byte(&b, NVAL_FIELDS); nw_buf_u32(&b, 1); nw_buf_byte(&b, NVAL_FIELD); nw_buf_u32(&b, 0); }
    nvb_null(&b);
    CHECK_EQ(nval_check(b.p, b.len), 0);
    nw_buf_free(&b);
}

static bool handle_7(void *ud, uint32_t h, nv *out) {
    (void)ud;
    if (h != 7) return false;
    memset(out, 0, sizeof *out);
    out->kind = NV_STR;
    out->u.str.p = "resolved";
    out->u.str.len = 8;
    return true;
}

static void test_views_and_text(void) {
    nw_buf b; nw_buf_init(&b);
    nvb_obj(&b, 4);
    nvb_key(&b, "list"); nvb_arr(&b, 5); nvb_num(&b, 1); nvb_str(&b, "x"); nvb_bool(&b, 1); nvb_obj(&b, 0); nvb_null(&b);
    nvb_key(&b, "q"); nw_buf_byte(&b, NVAL_QUERY); nw_buf_u32(&b, 7);
    nvb_key(&b, "q2"); nw_buf_byte(&b, NVAL_QUERY); nw_buf_u32(&b, 8);
    nvb_key(&b, "d"); nw_buf_byte(&b, NVAL_DATE); nw_buf_f64(&b, 0);
    CHECK_EQ(nval_check(b.p, b.len), b.len);
    nval_env env = { handle_7, NULL };
    nv root, v, e;
    nval_view(&root, b.p, &env);
    CHECK(root.kind == NV_MAP && nv_truthy(&root));
    CHECK(root.ops->get(&root, "list", 4, &v));
    CHECK(v.kind == NV_LIST && v.ops->len(&v) == 5 && nv_truthy(&v));
    nw_buf t; nw_buf_init(&t);
    nv_write_text(&t, &v);
    CHECK_MEM(t.p, t.len, "1,x,true,,");                /* as JS joins an array (objects left out) */
    nv_iter it = { 0, 0 };
    int kinds = 0;
    while (v.ops->next(&v, &it, &e)) kinds++;
    CHECK_EQ(kinds, 5);
    CHECK(root.ops->get(&root, "q", 1, &v));
    CHECK(v.kind == NV_STR);
    CHECK_MEM(v.u.str.p, v.u.str.len, "resolved");
    CHECK(root.ops->get(&root, "q2", 2, &v));         /* a handle the host does not know: null */
    CHECK(v.kind == NV_NULL && !nv_truthy(&v));
    CHECK(root.ops->get(&root, "d", 1, &v));
    CHECK(v.kind == NV_DATE && nv_truthy(&v));
    nw_buf_reset(&t);
    nv_write_text(&t, &v);
    CHECK_MEM(t.p, t.len, "1970-01-01T00:00:00.000Z");
    CHECK(!root.ops->get(&root, "nope", 4, &v));
    nw_buf_reset(&t);
    nv_write_text(&t, &root);
    CHECK_MEM(t.p, t.len, "[object Object]");
    nval_view(&v, (const uint8_t *)"\x03\0\0\0\0\0\0\xf8\x7f", NULL);   /* NaN */
    CHECK(v.kind == NV_NUM && !nv_truthy(&v));
    nval_view(&v, (const uint8_t *)"\x04\0\0\0\0", NULL);
    CHECK(v.kind == NV_STR && !nv_truthy(&v));
    nval_view(&v, (const uint8_t *)"\x05\0\0\0\0", NULL);
    CHECK(v.kind == NV_LIST && !nv_truthy(&v));
    nval_view(&v, (const uint8_t *)"\x01", NULL);
    CHECK(v.kind == NV_BOOL && !nv_truthy(&v));
    nw_buf_reset(&t);
    nv_write_text(&t, &v);
    CHECK_MEM(t.p, t.len, "false");
    nval_view(&v, (const uint8_t *)"\x08\x07\0\0\0", NULL);            /* no host: null */
    CHECK(v.kind == NV_NULL);
    nval_view(&v, (const uint8_t *)"\x0A\0\0\0\0", NULL);
    CHECK(v.kind == NV_NULL);
    nw_buf_free(&t);
    nw_buf_free(&b);
}

/* Records keyed by field index: accepted like objects; an index past the
 * entity's fields or a name it does not have is refused naming it. */
static void test_fields_records(void) {
    nw_store *s = nw_store_new();
    nw_buf b; nw_buf_init(&b);
    nvb_obj(&b, 2);
    nvb_key(&b, "name"); nvb_str(&b, "T");
    nvb_key(&b, "fields"); nvb_obj(&b, 1); nvb_key(&b, "title"); nvb_obj(&b, 1); nvb_key(&b, "type"); nvb_str(&b, "string");
    nw_error err;
    uint32_t tb, slot;
    CHECK_EQ(nw_store_define(s, b.p, &tb, &err), NW_OK);
    nw_buf_reset(&b);
    nw_buf_byte(&b, NVAL_FIELDS); nw_buf_u32(&b, 2);
    nw_buf_byte(&b, NVAL_FIELD); nw_buf_u32(&b, 0); nvb_str(&b, "k1");
    nw_buf_byte(&b, NVAL_FIELD); nw_buf_u32(&b, 1); nvb_str(&b, "hello");
    CHECK_EQ(nval_check(b.p, b.len), b.len);
    CHECK_EQ(nw_store_create(s, tb, b.p, -1, false, &slot, &err), NW_OK);
    nw_store_release(s, 0);
    nw_table *t = nw_store_table(s, tb);
    CHECK_EQ(nw_table_find(t, "k1", 2), slot);
    nw_buf_reset(&b);
    nw_buf_byte(&b, NVAL_FIELDS); nw_buf_u32(&b, 1);
    nw_buf_byte(&b, NVAL_FIELD); nw_buf_u32(&b, 5); nvb_str(&b, "x");
    CHECK_EQ(nw_store_create(s, tb, b.p, -1, false, &slot, &err), NW_E_VALIDATION);
    CHECK(strcmp(err.rule, "unknown") == 0);
    nw_buf_reset(&b);
    nw_buf_byte(&b, NVAL_FIELDS); nw_buf_u32(&b, 1);
    nw_buf_byte(&b, NVAL_FIELD); nw_buf_u32(&b, 0x80000000u); nvb_str(&b, "x");
    CHECK_EQ(nw_store_create(s, tb, b.p, -1, false, &slot, &err), NW_E_VALIDATION);
    nw_buf_reset(&b);
    nw_buf_byte(&b, NVAL_FIELDS); nw_buf_u32(&b, 1);
    nw_buf_byte(&b, NVAL_UNKNOWN); nw_buf_u32(&b, 4); nw_buf_str(&b, "what"); nvb_null(&b);
    CHECK_EQ(nw_store_create(s, tb, b.p, -1, false, &slot, &err), NW_E_VALIDATION);
    CHECK(strcmp(err.field, "what") == 0 && strcmp(err.rule, "unknown") == 0);
    nw_store_rollback(s, 0);
    CHECK_EQ(nw_table_live(t), 1);
    CHECK_EQ(nw_store_check(s), 0);
    nw_buf_free(&b);
    nw_store_free(s);
}

int main(void) {
    RUN(test_check_accepts_and_spans);
    RUN(test_check_refuses);
    RUN(test_views_and_text);
    RUN(test_fields_records);
    return check_summary("nval");
}
