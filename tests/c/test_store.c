/* test_store.c - the repository under ASan/UBSan, including allocation
 * failures at every step of a write. */
#include "check.h"
#include "nvb.h"
#include "store.h"
#include "alloc.h"

/* Task { title: string required maxLength 10, priority: int 1..5 default 3,
 *        tags: list of string }, unique [title] */
static void task_schema(nw_buf *b) {
    nvb_obj(b, 3);
    nvb_key(b, "name"); nvb_str(b, "Task");
    nvb_key(b, "fields"); nvb_obj(b, 3);
      nvb_key(b, "title"); nvb_obj(b, 3);
        nvb_key(b, "type"); nvb_str(b, "string");
        nvb_key(b, "required"); nvb_bool(b, 1);
        nvb_key(b, "maxLength"); nvb_num(b, 10);
      nvb_key(b, "priority"); nvb_obj(b, 4);
        nvb_key(b, "type"); nvb_str(b, "int");
        nvb_key(b, "min"); nvb_num(b, 1);
        nvb_key(b, "max"); nvb_num(b, 5);
        nvb_key(b, "default"); nvb_num(b, 3);
      nvb_key(b, "tags"); nvb_obj(b, 2);
        nvb_key(b, "type"); nvb_str(b, "list");
        nvb_key(b, "of"); nvb_str(b, "string");
    nvb_key(b, "unique"); nvb_arr(b, 1); nvb_str(b, "title");
}

static void task(nw_buf *b, const char *id, const char *title, double prio) {
    nw_buf_reset(b);
    nvb_obj(b, id ? 3 : 2);
    if (id) { nvb_key(b, "id"); nvb_str(b, id); }
    nvb_key(b, "title"); nvb_str(b, title);
    nvb_key(b, "priority"); nvb_num(b, prio);
}

static nw_store *make_store(uint32_t *table) {
    nw_store *s = nw_store_new();
    nw_buf b; nw_buf_init(&b);
    task_schema(&b);
    nw_error err; nw_error_clear(&err);
    CHECK(nval_check(b.p, b.len) == b.len);
    CHECK_EQ(nw_store_define(s, b.p, table, &err), NW_OK);
    nw_buf_free(&b);
    nw_store_set_now(s, 1700000000000.0);
    return s;
}

static void test_crud(void) {
    uint32_t tb;
    nw_store *s = make_store(&tb);
    nw_buf b; nw_buf_init(&b);
    nw_error err; nw_error_clear(&err);
    uint32_t slot;
    task(&b, "a", "first", 2);
    CHECK_EQ(nw_store_create(s, tb, b.p, -1, false, &slot, &err), NW_OK);
    nw_store_release(s, 0);
    nw_table *t = nw_store_table(s, tb);
    CHECK_EQ(nw_table_find(t, "a", 1), slot);
    task(&b, "a", "again", 2);
    CHECK_EQ(nw_store_create(s, tb, b.p, -1, false, &slot, &err), NW_E_DUPLICATE);
    task(&b, "b", "first", 2);
    CHECK_EQ(nw_store_create(s, tb, b.p, -1, false, &slot, &err), NW_E_DUPLICATE);
    CHECK(strcmp(err.field, "title") == 0);
    task(&b, "b", "waytoolongtitle", 2);
    CHECK_EQ(nw_store_create(s, tb, b.p, -1, false, &slot, &err), NW_E_VALIDATION);
    CHECK(strcmp(err.rule, "maxLength") == 0);
    task(&b, "b", "ok", 9);
    CHECK_EQ(nw_store_create(s, tb, b.p, -1, false, &slot, &err), NW_E_VALIDATION);
    CHECK(strcmp(err.message, "must be <= 5 (got 9)") == 0);
    nw_store_rollback(s, 0);
    CHECK_EQ(nw_table_live(t), 1);
    bool existed;
    CHECK_EQ(nw_store_delete(s, tb, "a", 1, &existed, &err), NW_OK);
    CHECK(existed);
    nw_store_rollback(s, 0);   /* undo the delete */
    CHECK(nw_table_find(t, "a", 1) != NW_NO_SLOT);
    CHECK_EQ(nw_store_check(s), 0);
    nw_buf_free(&b);
    nw_store_free(s);
}

/* Every allocation of a sequence of writes fails in turn: each failing call
 * must report an error, roll back cleanly and leave the store consistent;
 * ASan reports any leak or bad access. */
static void test_alloc_failures(void) {
    for (long k = 0; k < 400; k++) {
        uint32_t tb;
        nw_store *s = make_store(&tb);
        if (!s) continue;
        nw_buf b; nw_buf_init(&b);
        char id[16], title[16];
        /* a base state, then failures during further writes */
        for (int i = 0; i < 40; i++) {
            id[0] = 'k'; id[1] = (char)('a' + i % 26); id[2] = (char)('a' + i / 26); id[3] = 0;
            memcpy(title, id, 4);
            task(&b, id, title, 1 + i % 5);
            nw_error err; nw_error_clear(&err);
            uint32_t slot;
            size_t mark = nw_store_mark(s);
            if (i == 20) nw_alloc_fail_after(k);
            nw_code rc = nw_store_create(s, tb, b.p, -1, false, &slot, &err);
            if (rc) nw_store_rollback(s, mark); else nw_store_release(s, mark);
            if (i >= 20 && i % 3 == 0) {
                bool existed;
                mark = nw_store_mark(s);
                rc = nw_store_delete(s, tb, "kaa", 3, &existed, &err);
                if (rc) nw_store_rollback(s, mark); else nw_store_release(s, mark);
            }
            CHECK_EQ(nw_store_check(s), 0);
        }
        nw_alloc_fail_reset();
        nw_buf_free(&b);
        nw_store_free(s);
    }
    CHECK(nw_alloc_failures() > 0);
}

int main(void) {
    RUN(test_crud);
    RUN(test_alloc_failures);
    return check_summary("store");
}
