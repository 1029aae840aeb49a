/* test_sync_merge.c - server state applied under unsent local edits, in C
 * (sync_json.h): each case of the overlay the client used to run in JS
 * (server change on a field with a local edit, on another field, delete vs
 * edit both ways, create vs create, enums kept by name), the outbox left as
 * it was, versions, and every allocation failing in turn. */
#include "check.h"
#include "nvb.h"
#include "store.h"
#include "sync_json.h"
#include "changelog.h"
#include "alloc.h"

/* Task { title: string, n: int, st: enum [a, b] } with versions (conflict: 'reject'). */
static nw_store *make_store(void) {
    nw_store *s = nw_store_new();
    nw_buf b; nw_buf_init(&b);
    nw_error err; nw_error_clear(&err);
    uint32_t t;
    nvb_obj(&b, 2);
    nvb_key(&b, "name"); nvb_str(&b, "Task");
    nvb_key(&b, "fields"); nvb_obj(&b, 3);
      nvb_key(&b, "title"); nvb_obj(&b, 1); nvb_key(&b, "type"); nvb_str(&b, "string");
      nvb_key(&b, "n"); nvb_obj(&b, 1); nvb_key(&b, "type"); nvb_str(&b, "int");
      nvb_key(&b, "st"); nvb_obj(&b, 2); nvb_key(&b, "type"); nvb_str(&b, "enum");
        nvb_key(&b, "values"); nvb_arr(&b, 2); nvb_str(&b, "a"); nvb_str(&b, "b");
    CHECK_EQ(nw_store_define(s, b.p, &t, &err), NW_OK);
    CHECK_EQ(nw_changelog_set_table(nw_store_changelog(s), t, NW_CLT_VERSIONS, &err), NW_OK);
    nw_buf_free(&b);
    return s;
}

static const uint8_t mask1[1] = { 1 };

static nw_code apply(nw_store *s, const char *json, nw_pull_result *r) {
    nw_error err; nw_error_clear(&err);
    nw_buf skips; nw_buf_init(&skips);
    size_t mark = nw_store_mark(s);
    nw_code rc = nw_sync_json_apply(s, (const uint8_t *)json, strlen(json), mask1, 1, r, &skips, &err);
    if (rc) nw_store_rollback(s, mark); else nw_store_release(s, mark);
    nw_buf_free(&skips);
    return rc;
}

/* A local write (logged in the outbox): create {id, title, n, st} or update {title | n}. */
static void local_create(nw_store *s, const char *id, const char *title, double n, const char *st) {
    nw_buf b; nw_buf_init(&b);
    nvb_obj(&b, 4);
    nvb_key(&b, "id"); nvb_str(&b, id);
    nvb_key(&b, "title"); nvb_str(&b, title);
    nvb_key(&b, "n"); nvb_num(&b, n);
    nvb_key(&b, "st"); nvb_str(&b, st);
    nw_error err; nw_error_clear(&err);
    uint32_t slot;
    size_t mark = nw_store_mark(s);
    CHECK_EQ(nw_store_create(s, 0, b.p, -1, false, &slot, &err), NW_OK);
    nw_store_release(s, mark);
    nw_buf_free(&b);
}

static void local_update(nw_store *s, const char *id, const char *key, const char *str, double num) {
    nw_buf b; nw_buf_init(&b);
    nvb_obj(&b, 1);
    nvb_key(&b, key);
    if (str) nvb_str(&b, str); else nvb_num(&b, num);
    nw_error err; nw_error_clear(&err);
    uint32_t slot;
    size_t mark = nw_store_mark(s);
    CHECK_EQ(nw_store_update(s, 0, id, strlen(id), b.p, -1, &slot, &err), NW_OK);
    nw_store_release(s, mark);
    nw_buf_free(&b);
}

static void local_delete(nw_store *s, const char *id) {
    nw_error err; nw_error_clear(&err);
    bool existed;
    size_t mark = nw_store_mark(s);
    CHECK_EQ(nw_store_delete(s, 0, id, strlen(id), &existed, &err), NW_OK);
    nw_store_release(s, mark);
}

/* Field i of record id, or NULL. */
static const uint8_t *field(nw_store *s, const char *id, uint32_t i) {
    nw_table *tb = nw_store_table(s, 0);
    uint32_t slot = nw_table_find(tb, id, strlen(id));
    return slot == NW_NO_SLOT ? NULL : nw_row_field(nw_table_row(tb, slot), i);
}

static bool str_is(const uint8_t *f, const char *want) {
    return f && f[0] == NVAL_STR && nw_rd_u32(f + 1) == strlen(want) && memcmp(f + 5, want, strlen(want)) == 0;
}
static bool num_is(const uint8_t *f, double want) { return f && f[0] == NVAL_NUM && nw_rd_f64(f + 1) == want; }
static double version(nw_store *s, const char *id) { return nw_changelog_version(nw_store_changelog(s), 0, (const uint8_t *)id, (uint32_t)strlen(id)); }

/* The server's record x at version 5 (title T, n 9, st b), once synced. */
static nw_store *synced_x(void) {
    nw_store *s = make_store();
    nw_pull_result r;
    CHECK_EQ(apply(s, "{\"changes\":[{\"entity\":\"Task\",\"id\":\"x\",\"version\":5,\"record\":{\"id\":\"x\",\"title\":\"T\",\"n\":9,\"st\":\"b\"}}],\"checkpoint\":\"5\"}", &r), NW_OK);
    return s;
}

static const char *server_x6 = "{\"changes\":[{\"entity\":\"Task\",\"id\":\"x\",\"version\":6,\"record\":{\"id\":\"x\",\"title\":\"S\",\"n\":1,\"st\":\"a\"}}],\"checkpoint\":\"6\"}";
static const char *server_x_gone = "{\"changes\":[{\"entity\":\"Task\",\"id\":\"x\",\"version\":6,\"deleted\":true}],\"checkpoint\":\"6\"}";

static void test_server_change_under_local_field_edit(void) {
    nw_store *s = synced_x();
    local_update(s, "x", "title", "mine", 0);
    uint32_t pending = nw_changelog_pending(nw_store_changelog(s));
    nw_pull_result r;
    CHECK_EQ(apply(s, server_x6, &r), NW_OK);
    CHECK_EQ(r.applied, 1);
    CHECK(str_is(field(s, "x", 1), "mine"));       /* the local edit stays on top */
    CHECK(num_is(field(s, "x", 2), 1));            /* the server's other fields arrive */
    CHECK(field(s, "x", 3) && field(s, "x", 3)[0] == NW_ROW_ENUM && field(s, "x", 3)[1] == 0);
    CHECK_EQ(version(s, "x"), 6);
    CHECK_EQ(nw_changelog_pending(nw_store_changelog(s)), pending);   /* nothing logged */
    CHECK_EQ(nw_store_check(s), 0);
    nw_store_free(s);
}

static void test_local_enum_edit_kept_by_name(void) {
    nw_store *s = synced_x();
    local_update(s, "x", "st", "a", 0);
    local_update(s, "x", "n", NULL, 4);            /* folds into one update of st and n */
    nw_pull_result r;
    CHECK_EQ(apply(s, "{\"changes\":[{\"entity\":\"Task\",\"id\":\"x\",\"version\":7,\"record\":{\"id\":\"x\",\"title\":\"S\",\"n\":1,\"st\":\"b\"}}],\"checkpoint\":\"7\"}", &r), NW_OK);
    CHECK(str_is(field(s, "x", 1), "S"));
    CHECK(num_is(field(s, "x", 2), 4));
    CHECK(field(s, "x", 3) && field(s, "x", 3)[0] == NW_ROW_ENUM && field(s, "x", 3)[1] == 0);
    nw_store_free(s);
}

static void test_server_edit_vs_local_delete(void) {
    nw_store *s = synced_x();
    local_delete(s, "x");
    nw_pull_result r;
    CHECK_EQ(apply(s, server_x6, &r), NW_OK);
    CHECK_EQ(r.applied, 1);
    CHECK(field(s, "x", 0) == NULL);               /* stays deleted here */
    CHECK_EQ(version(s, "x"), 0);                  /* and its version is forgotten */
    CHECK_EQ(nw_changelog_pending(nw_store_changelog(s)), 1);
    nw_store_free(s);
}

static void test_server_delete_vs_local_edit(void) {
    nw_store *s = synced_x();
    local_update(s, "x", "title", "mine", 0);
    nw_pull_result r;
    CHECK_EQ(apply(s, server_x_gone, &r), NW_OK);
    CHECK_EQ(r.applied, 0);                        /* left to the server: not applied */
    CHECK(str_is(field(s, "x", 1), "mine"));
    CHECK_EQ(version(s, "x"), 5);                  /* version untouched */
    nw_store_free(s);
}

static void test_server_delete_vs_local_create(void) {
    nw_store *s = make_store();
    local_create(s, "x", "new", 2, "b");
    nw_pull_result r;
    CHECK_EQ(apply(s, server_x_gone, &r), NW_OK);
    CHECK_EQ(r.applied, 1);
    CHECK(str_is(field(s, "x", 1), "new"));
    CHECK(num_is(field(s, "x", 2), 2));
    nw_store_free(s);
}

static void test_create_vs_create(void) {
    nw_store *s = make_store();
    local_create(s, "x", "local", 3, "a");
    nw_pull_result r;
    CHECK_EQ(apply(s, server_x6, &r), NW_OK);
    CHECK_EQ(r.applied, 1);
    CHECK(str_is(field(s, "x", 1), "local"));      /* a create sets every field */
    CHECK(num_is(field(s, "x", 2), 3));
    CHECK(field(s, "x", 3) && field(s, "x", 3)[1] == 0);
    CHECK_EQ(version(s, "x"), 6);
    nw_store_free(s);
}

static void test_delete_then_create_then_update(void) {
    nw_store *s = synced_x();
    local_delete(s, "x");
    local_create(s, "x", "again", 1, "a");         /* after a delete: its own entry */
    local_update(s, "x", "n", NULL, 8);
    nw_pull_result r;
    CHECK_EQ(apply(s, server_x6, &r), NW_OK);
    CHECK(str_is(field(s, "x", 1), "again"));
    CHECK(num_is(field(s, "x", 2), 8));
    nw_store_free(s);
}

static void test_other_records_untouched(void) {
    nw_store *s = synced_x();
    local_update(s, "x", "title", "mine", 0);
    nw_pull_result r;
    CHECK_EQ(apply(s, "{\"changes\":[{\"entity\":\"Task\",\"id\":\"y\",\"version\":7,\"record\":{\"id\":\"y\",\"title\":\"Y\"}}],\"checkpoint\":\"7\"}", &r), NW_OK);
    CHECK(str_is(field(s, "y", 1), "Y"));
    CHECK(str_is(field(s, "x", 1), "mine"));
    nw_store_free(s);
}

static void test_alloc_failures(void) {
    for (long k = 0; k < 80; k++) {
        nw_store *s = synced_x();
        local_update(s, "x", "title", "mine", 0);
        local_create(s, "z", "zed", 1, "a");
        const char *json = "{\"changes\":[{\"entity\":\"Task\",\"id\":\"x\",\"version\":6,\"record\":{\"id\":\"x\",\"title\":\"S\",\"n\":1}},"
                           "{\"entity\":\"Task\",\"id\":\"z\",\"version\":7,\"deleted\":true}],\"checkpoint\":\"7\"}";
        nw_pull_result r;
        nw_alloc_fail_after(k);
        nw_code rc = apply(s, json, &r);
        nw_alloc_fail_reset();
        CHECK(rc == NW_OK || rc == NW_E_LIMIT);
        CHECK(str_is(field(s, "x", 1), "mine"));
        CHECK(str_is(field(s, "z", 1), "zed"));
        if (rc == NW_OK) CHECK_EQ(r.applied + r.skipped, 2);
        else CHECK(num_is(field(s, "x", 2), 9));
        CHECK_EQ(nw_store_check(s), 0);
        nw_store_free(s);
    }
}

int main(void) {
    RUN(test_server_change_under_local_field_edit);
    RUN(test_local_enum_edit_kept_by_name);
    RUN(test_server_edit_vs_local_delete);
    RUN(test_server_delete_vs_local_edit);
    RUN(test_server_delete_vs_local_create);
    RUN(test_create_vs_create);
    RUN(test_delete_then_create_then_update);
    RUN(test_other_records_untouched);
    RUN(test_alloc_failures);
    return check_summary("sync_merge");
}
