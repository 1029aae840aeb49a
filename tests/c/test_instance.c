/* test_instance.c - several nw_instance in one process (instance.h): each
 * has its own store, templates, live results, journal, output and error;
 * nw_instance_free releases everything one holds (LeakSanitizer checks),
 * also after allocation failures at any point. */
#include "check.h"
#include "api.h"
#include "nval.h"
#include "alloc.h"
#include "../../fuzz/fuzz_text.h"

nw_instance *nw_instance_new(void);
void nw_instance_free(nw_instance *I);
uint8_t *nw_input(nw_instance *I, uint32_t len);
uint8_t *nw_out_ptr(nw_instance *I);
uint32_t nw_out_len(nw_instance *I);
uint8_t *nw_err_ptr(nw_instance *I);
uint32_t nw_err_len(nw_instance *I);
int nw_entity_define(nw_instance *I, uint32_t len);
int nw_create(nw_instance *I, uint32_t table, uint32_t len, double ttl, uint32_t flags, uint32_t upsert);
int nw_get(nw_instance *I, uint32_t table, uint32_t len);
int nw_count(nw_instance *I, uint32_t table);
int nw_template_compile(nw_instance *I, uint32_t len);
int nw_template_render(nw_instance *I, uint32_t id, uint32_t len);
uint32_t nw_template_count(nw_instance *I);
int nw_sub_new(nw_instance *I, uint32_t table, uint32_t len, uint32_t report);
uint32_t nw_live_pending(nw_instance *I);
int nw_view_new(nw_instance *I, uint32_t tpl, uint32_t len);
int nw_journal_enable(nw_instance *I, uint32_t on);
int nw_journal_take(nw_instance *I);
int nw_query_prepare(nw_instance *I, uint32_t len);
uint32_t nw_sync_pending(nw_instance *I);

/* Writes a value in fuzz_text.h notation as I's next input; its length. */
static uint32_t in(nw_instance *I, const char *text) {
    nw_buf b;
    nw_buf_init(&b);
    size_t pos = 0;
    fuzz_text_value((const uint8_t *)text, strlen(text), &pos, &b);
    uint8_t *p = nw_input(I, (uint32_t)b.len);
    uint32_t n = p ? (uint32_t)b.len : 0;
    if (p && b.len) memcpy(p, b.p, b.len);
    nw_buf_free(&b);
    return n;
}
static uint32_t str(nw_instance *I, const char *s) {
    uint8_t *p = nw_input(I, (uint32_t)strlen(s));
    if (!p) return 0;
    memcpy(p, s, strlen(s));
    return (uint32_t)strlen(s);
}
static uint32_t out_u32(nw_instance *I, size_t at) { return nw_rd_u32(nw_out_ptr(I) + at); }

static const char task_def[] = "{name: Task, fields: {title: {type: string, required: true}}}";
static const char note_def[] = "{name: Note, fields: {body: {type: string, required: true}, n: {type: int, min: 0}}}";

static void test_stores_are_separate(void) {
    nw_instance *a = nw_instance_new(), *b = nw_instance_new();
    CHECK(a && b && a != b);
    CHECK_EQ(nw_entity_define(a, in(a, task_def)), NW_OK);
    CHECK_EQ(nw_entity_define(b, in(b, note_def)), NW_OK);
    CHECK_EQ(out_u32(a, 0), 0);
    CHECK_EQ(out_u32(b, 0), 0);   /* both are table 0, of different entities */
    CHECK_EQ(nw_create(a, 0, in(a, "{id: x, title: \"Only in a\"}"), -1, 0, 0), NW_OK);
    CHECK_EQ(nw_count(a, 0), NW_OK);
    CHECK_EQ(out_u32(a, 0), 1);
    CHECK_EQ(nw_count(b, 0), NW_OK);
    CHECK_EQ(out_u32(b, 0), 0);
    CHECK_EQ(out_u32(a, 0), 1);   /* b's call left a's output alone */
    CHECK_EQ(nw_get(b, 0, str(b, "x")), NW_OK);
    CHECK_EQ(out_u32(b, 0), 0);   /* no record */
    CHECK_EQ(nw_get(a, 0, str(a, "x")), NW_OK);
    CHECK(out_u32(a, 0) > 0);
    /* b's schema is b's: a Note field is refused in a */
    CHECK_EQ(nw_create(a, 0, in(a, "{id: y, body: b}"), -1, 0, 0), NW_E_VALIDATION);
    CHECK_EQ(nw_create(b, 0, in(b, "{id: y, body: b, n: 1}"), -1, 0, 0), NW_OK);
    /* outboxes are separate too */
    CHECK_EQ(nw_sync_pending(a), 1);
    CHECK_EQ(nw_sync_pending(b), 1);
    nw_instance_free(a);
    CHECK_EQ(nw_count(b, 0), NW_OK);
    CHECK_EQ(out_u32(b, 0), 1);   /* b outlives a */
    nw_instance_free(b);
}

static void test_errors_are_separate(void) {
    nw_instance *a = nw_instance_new(), *b = nw_instance_new();
    CHECK(a && b);
    CHECK_EQ(nw_entity_define(a, in(a, "{name: Bad, fields: {x: {type: nope}}}")), NW_E_SCHEMA);
    uint32_t alen = nw_err_len(a);
    CHECK(alen > 0);
    CHECK_EQ(nw_err_len(b), 0);
    CHECK_EQ(nw_entity_define(b, in(b, note_def)), NW_OK);
    CHECK_EQ(nw_create(b, 0, in(b, "{id: y, body: b, n: -1}"), -1, 0, 0), NW_E_VALIDATION);
    /* a's error is still a's: code SCHEMA, entity Bad */
    const uint8_t *p = nw_err_ptr(a);
    CHECK_EQ(nw_err_len(a), alen);
    CHECK_EQ(nw_rd_u32(p), NW_E_SCHEMA);
    CHECK_EQ(nw_rd_u32(p + 16), 3);
    CHECK(memcmp(p + 20, "Bad", 3) == 0);
    CHECK_EQ(nw_rd_u32(nw_err_ptr(b)), NW_E_VALIDATION);
    nw_instance_free(a);
    nw_instance_free(b);
}

static void test_templates_are_separate(void) {
    nw_instance *a = nw_instance_new(), *b = nw_instance_new();
    CHECK(a && b);
    CHECK_EQ(nw_template_compile(a, in(a, "{src: \"<p>{{x}}</p>\"}")), NW_OK);
    uint32_t id = out_u32(a, 0);
    CHECK_EQ(nw_template_count(a), 1);
    CHECK_EQ(nw_template_count(b), 0);
    CHECK_EQ(nw_template_render(b, id, in(b, "{x: 1}")), NW_E_ARG);   /* no such template in b */
    CHECK_EQ(nw_template_compile(b, in(b, "{src: \"<i>{{x}}</i>\"}")), NW_OK);
    CHECK_EQ(out_u32(b, 0), id);   /* ids are per instance */
    CHECK_EQ(nw_template_render(a, id, in(a, "{x: 1}")), NW_OK);
    CHECK_MEM(nw_out_ptr(a), nw_out_len(a), "<p>1</p>");
    CHECK_EQ(nw_template_render(b, id, in(b, "{x: 2}")), NW_OK);
    CHECK_MEM(nw_out_ptr(b), nw_out_len(b), "<i>2</i>");
    nw_instance_free(a);
    nw_instance_free(b);
}

static void test_live_and_journal_are_separate(void) {
    nw_instance *a = nw_instance_new(), *b = nw_instance_new();
    CHECK(a && b);
    CHECK_EQ(nw_entity_define(a, in(a, task_def)), NW_OK);
    CHECK_EQ(nw_entity_define(b, in(b, task_def)), NW_OK);
    CHECK_EQ(nw_sub_new(a, 0, in(a, "{}"), 1), NW_OK);
    CHECK_EQ(nw_journal_enable(a, 1), NW_OK);
    CHECK_EQ(nw_create(b, 0, in(b, "{id: x, title: \"In b\"}"), -1, 0, 0), NW_OK);
    CHECK_EQ(nw_live_pending(a), 0);
    CHECK_EQ(nw_journal_take(a), NW_OK);
    CHECK_EQ(nw_out_len(a), 4);   /* the complete flag, no frames */
    CHECK_EQ(nw_create(a, 0, in(a, "{id: x, title: \"In a\"}"), -1, 0, 0), NW_OK);
    CHECK_EQ(nw_live_pending(a), 1);
    CHECK_EQ(nw_journal_take(a), NW_OK);
    CHECK(nw_out_len(a) > 4);
    nw_instance_free(a);
    nw_instance_free(b);
}

/* An instance holding some of everything; returns false at the first step
 * that failed (out of memory), leaving the rest undone. */
static bool fill(nw_instance *I) {
    if (nw_entity_define(I, in(I, task_def)) != NW_OK) return false;
    if (nw_create(I, 0, in(I, "{id: a, title: A}"), -1, 1, 0) != NW_OK) return false;
    if (nw_journal_enable(I, 1) != NW_OK) return false;
    if (nw_sub_new(I, 0, in(I, "{where: {title: A}}"), 1) != NW_OK) return false;
    if (nw_template_compile(I, in(I, "{src: \"{{#q}}<b>{{title}}</b>{{/q}}\"}")) != NW_OK) return false;
    uint32_t tpl = out_u32(I, 0);
    if (nw_query_prepare(I, in(I, "[{table: 0, query: {}}]")) != NW_OK) return false;
    if (nw_view_new(I, tpl, in(I, "{data: {q: 1}, queries: [{table: 0, query: {}}]}")) != NW_OK) return false;
    if (nw_create(I, 0, in(I, "{id: b, title: B}"), -1, 1, 0) != NW_OK) return false;
    return true;
}

/* Everything an instance holds is freed with it (the sanitizer's leak check
 * fails otherwise), whatever step ran out of memory. */
static void test_free_after_failures(void) {
    nw_instance *I = nw_instance_new();
    CHECK(I && fill(I));
    nw_instance_free(I);
    bool completed = false;
    for (long k = 0; k < 400 && !completed; k++) {
        nw_alloc_fail_after(k);
        I = nw_instance_new();
        if (I) completed = fill(I);
        nw_alloc_fail_reset();
        nw_instance_free(I);
    }
    CHECK(completed);
    nw_instance_free(NULL);
}

static size_t baseline;
/* The allocator's count is back where it started: nothing outlived its
 * instance. */
static void test_nothing_left(void) { CHECK_EQ(nw_alloc_bytes(), baseline); }

int main(void) {
    baseline = nw_alloc_bytes();
    RUN(test_stores_are_separate);
    RUN(test_errors_are_separate);
    RUN(test_templates_are_separate);
    RUN(test_live_and_journal_are_separate);
    RUN(test_free_after_failures);
    RUN(test_nothing_left);
    return check_summary("instance");
}
