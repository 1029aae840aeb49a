/* test_refs.c - references between records (store.c): a ref must name an
 * existing record; deleting the target runs the field's onDelete rule
 * (restrict, cascade, nullify), through chains, cycles and expired
 * records, all or nothing. */
#include "check.h"
#include "store.h"
#include "alloc.h"
#include "textval.h"


static nw_error err;

static uint32_t define(nw_store *s, const char *text) {
    uint32_t idx = 99;
    nw_code rc = nw_store_define(s, val(text), &idx, &err);
    if (rc) fprintf(stderr, "  define: %s\n", err.message);
    CHECK_EQ(rc, NW_OK);
    return idx;
}

static nw_code create(nw_store *s, uint32_t t, const char *text) {
    uint32_t slot;
    size_t mark = nw_store_mark(s);
    nw_error_clear(&err);
    nw_code rc = nw_store_create(s, t, val(text), -1, false, &slot, &err);
    if (rc) nw_store_rollback(s, mark); else nw_store_release(s, mark);
    return rc;
}

static nw_code del(nw_store *s, uint32_t t, const char *id) {
    bool existed;
    size_t mark = nw_store_mark(s);
    nw_error_clear(&err);
    nw_code rc = nw_store_delete(s, t, id, strlen(id), &existed, &err);
    if (rc) nw_store_rollback(s, mark); else nw_store_release(s, mark);
    return rc;
}

static nw_code update(nw_store *s, uint32_t t, const char *id, const char *patch) {
    uint32_t slot;
    size_t mark = nw_store_mark(s);
    nw_error_clear(&err);
    nw_code rc = nw_store_update(s, t, id, strlen(id), val(patch), -1, &slot, &err);
    if (rc) nw_store_rollback(s, mark); else nw_store_release(s, mark);
    return rc;
}

static bool has(nw_store *s, uint32_t t, const char *id) {
    nw_table *tb_ = nw_store_table(s, t);
    uint32_t slot = nw_table_find(tb_, id, strlen(id));
    return slot != NW_NO_SLOT && nw_table_visible(s, tb_, slot);
}

static void test_restrict_cascade_nullify(void) {
    nw_store *s = nw_store_new();
    uint32_t user = define(s, "{name: User, fields: {name: {type: string}}}");
    uint32_t post = define(s, "{name: Post, fields: {by: {type: ref, entity: User, onDelete: cascade}}}");
    uint32_t note = define(s, "{name: Note, fields: {about: {type: ref, entity: Post, onDelete: nullify}}}");
    uint32_t pin = define(s, "{name: Pin, fields: {on: {type: ref, entity: Note}}}");   /* restrict by default */
    CHECK_EQ(create(s, user, "{id: u1}"), NW_OK);
    CHECK_EQ(create(s, user, "{id: u2}"), NW_OK);
    CHECK_EQ(create(s, post, "{id: p1, by: u1}"), NW_OK);
    CHECK_EQ(create(s, post, "{id: p2, by: u2}"), NW_OK);
    CHECK_EQ(create(s, post, "{id: p3, by: nobody}"), NW_E_VALIDATION);
    CHECK(strcmp(err.field, "by") == 0 && strcmp(err.rule, "ref") == 0);
    CHECK_EQ(create(s, note, "{id: n1, about: p1}"), NW_OK);
    CHECK_EQ(create(s, pin, "{id: x1, on: n1}"), NW_OK);
    /* u1 -> p1 (cascade) -> n1.about nulled; n1 stays, so x1 is fine */
    CHECK_EQ(del(s, user, "u1"), NW_OK);
    CHECK(!has(s, post, "p1") && has(s, note, "n1") && has(s, post, "p2"));
    nw_table *nt = nw_store_table(s, note);
    CHECK(nw_row_field(nw_table_row(nt, nw_table_find(nt, "n1", 2)), 1)[0] == NVAL_NULL);
    /* restrict: n1 cannot go while x1 points at it, and nothing changes */
    CHECK_EQ(del(s, note, "n1"), NW_E_CONFLICT);
    CHECK(strcmp(err.entity, "Pin") == 0 && strcmp(err.field, "on") == 0 && strcmp(err.rule, "restrict") == 0);
    CHECK(has(s, note, "n1"));
    CHECK_EQ(del(s, pin, "x1"), NW_OK);
    CHECK_EQ(del(s, note, "n1"), NW_OK);
    /* an update must also name an existing record */
    CHECK_EQ(update(s, post, "p2", "{by: ghost}"), NW_E_VALIDATION);
    CHECK_EQ(update(s, post, "p2", "{by: u2}"), NW_OK);
    CHECK_EQ(nw_store_check(s), 0);
    nw_store_free(s);
}

/* A required ref cannot be nullified: the delete is refused whole. */
static void test_nullify_required_refused(void) {
    nw_store *s = nw_store_new();
    uint32_t user = define(s, "{name: User, fields: {n: {type: int}}}");
    uint32_t task = define(s, "{name: Task, fields: {owner: {type: ref, entity: User, required: true, onDelete: nullify}}}");
    CHECK_EQ(create(s, user, "{id: u1}"), NW_OK);
    CHECK_EQ(create(s, task, "{id: t1, owner: u1}"), NW_OK);
    CHECK_EQ(del(s, user, "u1"), NW_E_VALIDATION);
    CHECK(strcmp(err.entity, "Task") == 0 && strcmp(err.field, "owner") == 0 && strcmp(err.rule, "required") == 0);
    CHECK(has(s, user, "u1") && has(s, task, "t1"));
    CHECK_EQ(nw_store_check(s), 0);
    nw_store_free(s);
}

/* Records of one entity in a cascade cycle and a self-referencing tree. */
static void test_cycles_and_trees(void) {
    nw_store *s = nw_store_new();
    uint32_t node = define(s, "{name: Node, fields: {parent: {type: ref, entity: Node, onDelete: cascade}}}");
    CHECK_EQ(create(s, node, "{id: a}"), NW_OK);
    CHECK_EQ(create(s, node, "{id: b, parent: a}"), NW_OK);
    CHECK_EQ(update(s, node, "a", "{parent: b}"), NW_OK);       /* a <-> b */
    CHECK_EQ(create(s, node, "{id: c, parent: b}"), NW_OK);
    CHECK_EQ(create(s, node, "{id: d}"), NW_OK);
    CHECK_EQ(del(s, node, "a"), NW_OK);
    CHECK(!has(s, node, "a") && !has(s, node, "b") && !has(s, node, "c") && has(s, node, "d"));
    CHECK_EQ(nw_store_check(s), 0);
    /* a chain deeper than the cascade limit is refused whole */
    char rec[64];
    CHECK_EQ(create(s, node, "{id: k0}"), NW_OK);
    for (int i = 1; i <= 70; i++) {
        snprintf(rec, sizeof rec, "{id: k%d, parent: k%d}", i, i - 1);
        CHECK_EQ(create(s, node, rec), NW_OK);
    }
    CHECK_EQ(del(s, node, "k0"), NW_E_LIMIT);
    CHECK(strcmp(err.rule, "depth") == 0);
    CHECK(has(s, node, "k0") && has(s, node, "k70"));
    CHECK_EQ(del(s, node, "k20"), NW_OK);                       /* 50 deep: fine */
    CHECK(has(s, node, "k19") && !has(s, node, "k20") && !has(s, node, "k70"));
    CHECK_EQ(nw_store_check(s), 0);
    nw_store_free(s);
}

/* A ref to an entity that is never defined: records naming something are
 * refused with SCHEMA (the definition is incomplete; null is fine). */
static void test_ref_to_undefined_entity(void) {
    nw_store *s = nw_store_new();
    uint32_t t = define(s, "{name: Orphan, fields: {to: {type: ref, entity: Nowhere}}}");
    CHECK_EQ(create(s, t, "{id: o1}"), NW_OK);
    CHECK_EQ(create(s, t, "{id: o2, to: x}"), NW_E_SCHEMA);
    CHECK(strcmp(err.field, "to") == 0 && strcmp(err.rule, "ref") == 0);
    nw_store_free(s);
}

/* Expired records that point at a deleted record go with it, whatever the
 * rule (they are already invisible). */
static void test_expired_referrers(void) {
    nw_store *s = nw_store_new();
    nw_store_set_now(s, 1000);
    uint32_t user = define(s, "{name: User, fields: {n: {type: int}}}");
    uint32_t sess = define(s, "{name: Session, fields: {user: {type: ref, entity: User}}}");   /* restrict */
    CHECK_EQ(create(s, user, "{id: u1}"), NW_OK);
    uint32_t slot;
    CHECK_EQ(nw_store_create(s, sess, val("{id: s1, user: u1}"), 10, false, &slot, &err), NW_OK);
    nw_store_release(s, 0);
    CHECK_EQ(del(s, user, "u1"), NW_E_CONFLICT);
    nw_store_set_now(s, 5000);
    CHECK(!has(s, sess, "s1"));
    CHECK_EQ(del(s, user, "u1"), NW_OK);
    CHECK_EQ(nw_table_live(nw_store_table(s, sess)), 0);
    CHECK_EQ(nw_store_check(s), 0);
    nw_store_free(s);
}

/* Cascades under allocation failure: refused cleanly, store unchanged. */
static void test_alloc_failures(void) {
    for (long k = 0; k < 120; k++) {
        nw_store *s = nw_store_new();
        uint32_t user = define(s, "{name: User, fields: {n: {type: int}}, indexes: [n]}");
        uint32_t post = define(s, "{name: Post, fields: {by: {type: ref, entity: User, onDelete: cascade}, t: {type: string}}, indexes: [by], search: [t]}");
        uint32_t note = define(s, "{name: Note, fields: {p: {type: ref, entity: Post, onDelete: nullify}}, indexes: [p]}");
        CHECK_EQ(create(s, user, "{id: u1, n: 1}"), NW_OK);
        for (int i = 0; i < 6; i++) {
            char rec[64];
            snprintf(rec, sizeof rec, "{id: p%d, by: u1, t: \"words %d\"}", i, i);
            CHECK_EQ(create(s, post, rec), NW_OK);
            snprintf(rec, sizeof rec, "{id: n%d, p: p%d}", i, i);
            CHECK_EQ(create(s, note, rec), NW_OK);
        }
        nw_alloc_fail_after(k);
        nw_code rc = del(s, user, "u1");
        nw_alloc_fail_reset();
        CHECK(rc == NW_OK || rc == NW_E_LIMIT);
        CHECK_EQ(has(s, user, "u1"), rc != NW_OK);
        CHECK_EQ(has(s, post, "p3"), rc != NW_OK);
        CHECK(has(s, note, "n3"));
        CHECK_EQ(nw_store_check(s), 0);
        nw_store_free(s);
    }
}

int main(void) {
    nw_buf_init(&tb);
    RUN(test_restrict_cascade_nullify);
    RUN(test_nullify_required_refused);
    RUN(test_cycles_and_trees);
    RUN(test_ref_to_undefined_entity);
    RUN(test_expired_referrers);
    RUN(test_alloc_failures);
    nw_buf_free(&tb);
    return check_summary("refs");
}
