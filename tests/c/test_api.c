/* test_api.c - the WebAssembly exports (api*.c), called as js/ calls them:
 * input written through nw_input, one call, then the output or the encoded
 * error read back. One instance (nw_instance_new) for the whole file. */
#include "check.h"
#include "api.h"
#include "nval.h"
#include "record.h"
#include "alloc.h"
#include "../../fuzz/fuzz_text.h"

nw_instance *nw_instance_new(void);
void nw_instance_free(nw_instance *I);
static nw_instance *I;
uint8_t *nw_input(nw_instance *I, uint32_t len);
uint8_t *nw_out_ptr(nw_instance *I);
const uint8_t *nw_events_ptr(nw_instance *I);
uint32_t nw_out_len(nw_instance *I);
uint8_t *nw_err_ptr(nw_instance *I);
uint32_t nw_err_len(nw_instance *I);
void nw_trim(nw_instance *I);
int nw_constants(nw_instance *I);
uint32_t nw_heap_bytes(nw_instance *I);
void nw_set_now(nw_instance *I, double now);
int nw_set_client(nw_instance *I, uint32_t len);
int nw_entity_define(nw_instance *I, uint32_t len);
int nw_create(nw_instance *I, uint32_t table, uint32_t len, double ttl, uint32_t flags, uint32_t upsert);
int nw_insert_many(nw_instance *I, uint32_t table, uint32_t len, double ttl, uint32_t flags, uint32_t mode);
int nw_update(nw_instance *I, uint32_t table, uint32_t len, double ttl, uint32_t flags);
int nw_delete(nw_instance *I, uint32_t table, uint32_t len, uint32_t flags);
int nw_expire(nw_instance *I, int32_t table, double now, uint32_t flags);
int nw_get(nw_instance *I, uint32_t table, uint32_t len);
int nw_get_many(nw_instance *I, uint32_t table, uint32_t len);
int nw_all(nw_instance *I, uint32_t table);
int nw_count(nw_instance *I, uint32_t table);
int nw_tx_begin(nw_instance *I);
int nw_tx_commit(nw_instance *I);
int nw_tx_rollback(nw_instance *I, uint32_t mark);
int nw_guard_end(nw_instance *I, uint32_t mark, uint32_t commit);
int nw_stats(nw_instance *I);
int nw_query_exec(nw_instance *I, uint32_t table, uint32_t len, uint32_t op, uint32_t flags);
int nw_query_prepare(nw_instance *I, uint32_t len);
int nw_snapshot(nw_instance *I);
int nw_restore(nw_instance *I, uint32_t len);
int nw_search(nw_instance *I, uint32_t table, uint32_t len);
int nw_template_compile(nw_instance *I, uint32_t len);
int nw_template_render(nw_instance *I, uint32_t id, uint32_t len);
int nw_template_ascii(nw_instance *I);
int nw_template_free(nw_instance *I, uint32_t id);
uint32_t nw_template_count(nw_instance *I);
uint8_t *nw_template_utf16(nw_instance *I);
uint32_t nw_template_utf16_len(nw_instance *I);
int nw_sub_new(nw_instance *I, uint32_t table, uint32_t len, uint32_t report);
int nw_sub_free(nw_instance *I, uint32_t id);
int nw_sub_ids(nw_instance *I, uint32_t id);
int nw_sub_result(nw_instance *I, uint32_t id);
int nw_sub_has(nw_instance *I, uint32_t id, uint32_t len);
uint32_t nw_live_pending(nw_instance *I);
int nw_live_take(nw_instance *I);
int nw_view_program(nw_instance *I, uint32_t tpl);
int nw_view_new(nw_instance *I, uint32_t tpl, uint32_t len);
int nw_view_update(nw_instance *I, uint32_t id, uint32_t len);
int nw_view_flush(nw_instance *I);
int nw_view_free(nw_instance *I, uint32_t id);
uint32_t nw_view_bytes_total(nw_instance *I);
int nw_live_counters(nw_instance *I);
int nw_sync_enable(nw_instance *I, uint32_t on);
int nw_sync_table(nw_instance *I, uint32_t table, uint32_t flags);
int nw_sync_set_client(nw_instance *I, uint32_t len);
int nw_sync_set_cursor(nw_instance *I, uint32_t len);
int nw_sync_state(nw_instance *I);
uint32_t nw_sync_pending(nw_instance *I);
int nw_sync_outbox(nw_instance *I, uint32_t max, uint32_t ntables, uint32_t flags);
int nw_sync_ack(nw_instance *I, uint32_t len);
int nw_sync_flag(nw_instance *I, double seq, uint32_t flags, uint32_t on);
int nw_sync_requeue(nw_instance *I, double seq, double base);
int nw_sync_version(nw_instance *I, uint32_t table, uint32_t len);
int nw_sync_apply(nw_instance *I, uint32_t len, uint32_t flags);
int nw_sync_set_version(nw_instance *I, uint32_t table, uint32_t len, double version);
int nw_sync_apply_json(nw_instance *I, uint32_t len, uint32_t flags);

/* Writes a value in fuzz_text.h notation as the next input; its length. */
static uint32_t in(const char *text) {
    nw_buf b;
    nw_buf_init(&b);
    size_t pos = 0;
    fuzz_text_value((const uint8_t *)text, strlen(text), &pos, &b);
    memcpy(nw_input(I, (uint32_t)b.len), b.p, b.len);
    uint32_t n = (uint32_t)b.len;
    nw_buf_free(&b);
    return n;
}
/* Raw bytes as the next input. */
static uint32_t raw(const void *p, size_t n) { memcpy(nw_input(I, (uint32_t)n), p, n); return (uint32_t)n; }
static uint32_t str(const char *s) { return raw(s, strlen(s)); }

static uint32_t out_u32(size_t at) { return nw_rd_u32(nw_out_ptr(I) + at); }

/* The encoded error: code, index, then entity, field, rule, message. */
typedef struct { uint32_t code; int32_t index; char entity[64], field[64], rule[32], message[300]; } api_err;
static api_err last_err(void) {
    api_err e;
    memset(&e, 0, sizeof e);
    const uint8_t *p = nw_err_ptr(I);
    e.code = nw_rd_u32(p);
    e.index = (int32_t)nw_rd_u32(p + 4);
    size_t at = 16;
    char *dst[4] = { e.entity, e.field, e.rule, e.message };
    size_t cap[4] = { sizeof e.entity, sizeof e.field, sizeof e.rule, sizeof e.message };
    for (int i = 0; i < 4; i++) {
        uint32_t n = nw_rd_u32(p + at);
        memcpy(dst[i], p + at + 4, n < cap[i] - 1 ? n : cap[i] - 1);
        at += 4 + n;
    }
    CHECK_EQ(at, nw_err_len(I));
    return e;
}

/* Field i of the record that starts at out+at (u32 length, fields). */
static const uint8_t *rec_field(size_t at, uint32_t i) { return nw_row_field(nw_out_ptr(I) + at, i); }

static uint32_t user_t, task_t;

static void test_define_and_errors(void) {
    CHECK_EQ(nw_entity_define(I, in("{name: User, fields: {name: {type: string, required: true}}}")), NW_OK);
    user_t = out_u32(0);
    CHECK_EQ(nw_entity_define(I, in("{name: Task, fields: {title: {type: string, required: true, maxLength: 20},"
        " status: {type: enum, values: [open, done], default: open}, n: {type: int, min: 0, default: 1},"
        " owner: {type: ref, entity: User, onDelete: cascade}}, indexes: [status], unique: [title], search: [title]}")), NW_OK);
    task_t = out_u32(0);
    CHECK(user_t == 0 && task_t == 1);
    CHECK_EQ(nw_entity_define(I, in("{name: Bad, fields: {x: {type: nope}}}")), NW_E_SCHEMA);
    api_err e = last_err();
    CHECK(e.code == NW_E_SCHEMA && strcmp(e.entity, "Bad") == 0 && strcmp(e.field, "x") == 0 && strcmp(e.rule, "schema") == 0);
    CHECK_EQ(nw_out_len(I), 0);
    /* malformed input is an ARG error, not a crash */
    CHECK_EQ(nw_entity_define(I, raw("\x06\xff\xff", 3)), NW_E_ARG);
    CHECK_EQ(nw_entity_define(I, 0), NW_E_ARG);
    CHECK_EQ(nw_create(I, 9, in("{}"), -1, 0, 0), NW_E_SCHEMA);
    CHECK(strstr(last_err().message, "no such entity") != NULL);
    /* the constants table JS reads once */
    CHECK_EQ(nw_constants(I), NW_OK);
    CHECK(nw_out_len(I) > 20 && memcmp(nw_out_ptr(I), "{\"codes\":[\"OK\"", 14) == 0);
    CHECK(nw_heap_bytes(I) > 0);
}

static void test_writes_and_reads(void) {
    nw_set_now(I, 1700000000000.0);
    CHECK_EQ(nw_create(I, user_t, in("{id: u1, name: Ann}"), -1, 1, 0), NW_OK);
    CHECK_EQ(out_u32(0), 1);
    CHECK_EQ(nw_create(I, task_t, in("{id: a, title: Alpha, owner: u1}"), -1, 1, 0), NW_OK);
    /* the stored record comes back with its defaults, then the events */
    CHECK_EQ(out_u32(0), 1);
    const uint8_t *status = rec_field(4, 2), *n = rec_field(4, 3);
    CHECK(status[0] == NW_ROW_ENUM && status[1] == 0);
    CHECK(n[0] == NVAL_NUM && nw_rd_f64(n + 1) == 1);
    size_t after = 8 + out_u32(4);
    CHECK_EQ(out_u32(after), 1);                         /* one event captured, */
    CHECK(out_u32(after + 4) > 20);                      /* its bytes at nw_events_ptr: */
    CHECK_EQ(nw_events_ptr(I)[NW_EVL_KIND], NW_EV_CREATED);
    CHECK_EQ(nw_out_len(I), after + 8);
    CHECK_EQ(nw_create(I, task_t, in("{id: b, title: Alpha}"), -1, 0, 0), NW_E_DUPLICATE);
    CHECK(strcmp(last_err().field, "title") == 0);
    CHECK_EQ(nw_create(I, task_t, in("{id: b, title: Beta, n: -1}"), -1, 0, 0), NW_E_VALIDATION);
    api_err e = last_err();
    CHECK(strcmp(e.entity, "Task") == 0 && strcmp(e.field, "n") == 0 && strcmp(e.rule, "min") == 0);
    CHECK_EQ(nw_create(I, task_t, in("{id: b, title: Beta, owner: nobody}"), -1, 0, 0), NW_E_VALIDATION);
    CHECK(strcmp(last_err().field, "owner") == 0);
    /* insertMany is all or nothing and names the failing item */
    CHECK_EQ(nw_insert_many(I, task_t, in("[{id: b, title: Beta}, {id: c, title: Gamma}, {id: d, title: Beta}]"), -1, 0, 0), NW_E_DUPLICATE);
    CHECK_EQ(last_err().index, 2);
    CHECK_EQ(nw_count(I, task_t), NW_OK);
    CHECK_EQ(out_u32(0), 1);
    CHECK_EQ(nw_insert_many(I, task_t, in("{}"), -1, 0, 0), NW_E_ARG);
    CHECK_EQ(nw_insert_many(I, task_t, in("[{id: b, title: Beta, status: done}, {id: c, title: Gamma, n: 5}]"), -1, 0, 0), NW_OK);
    CHECK_EQ(out_u32(0), 2);
    /* upsert replaces */
    CHECK_EQ(nw_create(I, task_t, in("{id: c, title: Gamma2, n: 6}"), -1, 0, 1), NW_OK);
    CHECK_EQ(nw_insert_many(I, task_t, in("[{id: c, title: Gamma3, n: 7}]"), -1, 0, 1), NW_OK);
    /* update: u32 id length, id, patch */
    uint8_t buf[64];
    uint32_t il = 1;
    memcpy(buf, &il, 4); buf[4] = 'b';
    nw_buf p; nw_buf_init(&p);
    size_t pos = 0;
    fuzz_text_value((const uint8_t *)"{n: 9}", 6, &pos, &p);
    memcpy(buf + 5, p.p, p.len);
    CHECK_EQ(nw_update(I, task_t, raw(buf, 5 + p.len), -1, 1), NW_OK);
    CHECK(nw_rd_f64(rec_field(4, 3) + 1) == 9);
    buf[4] = 'z';
    CHECK_EQ(nw_update(I, task_t, raw(buf, 5 + p.len), -1, 0), NW_E_NOT_FOUND);
    CHECK_EQ(nw_update(I, task_t, raw(buf, 3), -1, 0), NW_E_ARG);
    nw_buf_free(&p);
    /* get, getMany, all */
    CHECK_EQ(nw_get(I, task_t, str("b")), NW_OK);
    CHECK(out_u32(0) > 0);
    CHECK_EQ(nw_get(I, task_t, str("zz")), NW_OK);
    CHECK_EQ(out_u32(0), 0);
    CHECK_EQ(nw_get_many(I, task_t, in("[a, zz, c, 5]")), NW_OK);
    CHECK_EQ(out_u32(0), 4);
    size_t at = 4;
    uint32_t lens[4];
    for (int i = 0; i < 4; i++) { lens[i] = out_u32(at); at += 4 + lens[i]; }
    CHECK(lens[0] > 0 && lens[1] == 0 && lens[2] > 0 && lens[3] == 0);
    CHECK_EQ(nw_get_many(I, task_t, in("{}")), NW_E_ARG);
    CHECK_EQ(nw_all(I, task_t), NW_OK);
    CHECK_EQ(out_u32(0), 3);
    CHECK_EQ(nw_stats(I), NW_OK);
    CHECK(strstr((const char *)nw_out_ptr(I), "\"Task\":{\"records\":3") != NULL);
    /* delete: existed or not; cascade removes the user's tasks */
    CHECK_EQ(nw_delete(I, task_t, str("zz"), 0), NW_OK);
    CHECK(out_u32(0) == 1 && out_u32(4) == 0);
    CHECK_EQ(nw_delete(I, user_t, str("u1"), 1), NW_OK);
    CHECK(out_u32(0) == 1 && out_u32(4) == 1);
    CHECK_EQ(nw_get(I, task_t, str("a")), NW_OK);
    CHECK_EQ(out_u32(0), 0);
    /* records with a lifetime expire */
    CHECK_EQ(nw_create(I, task_t, in("{id: t1, title: Short}"), 1000, 0, 0), NW_OK);
    CHECK_EQ(nw_count(I, task_t), NW_OK);
    CHECK_EQ(out_u32(0), 3);
    CHECK_EQ(nw_expire(I, -1, 1700000005000.0, 1), NW_OK);
    CHECK(out_u32(0) == 1 && out_u32(4) == 1);
    CHECK_EQ(nw_count(I, task_t), NW_OK);
    CHECK_EQ(out_u32(0), 2);
}

static void test_transactions(void) {
    CHECK_EQ(nw_tx_begin(I), NW_OK);
    uint32_t mark = out_u32(0);
    CHECK_EQ(nw_create(I, task_t, in("{id: x1, title: Temp}"), -1, 0, 0), NW_OK);
    CHECK_EQ(nw_tx_rollback(I, mark), NW_OK);
    CHECK_EQ(nw_get(I, task_t, str("x1")), NW_OK);
    CHECK_EQ(out_u32(0), 0);
    CHECK_EQ(nw_tx_begin(I), NW_OK);
    CHECK_EQ(nw_create(I, task_t, in("{id: x2, title: Kept}"), -1, 0, 0), NW_OK);
    CHECK_EQ(nw_tx_commit(I), NW_OK);
    CHECK_EQ(nw_get(I, task_t, str("x2")), NW_OK);
    CHECK(out_u32(0) > 0);
    CHECK_EQ(nw_tx_commit(I), NW_OK);          /* no transaction: nothing to do */
    CHECK_EQ(nw_tx_rollback(I, 0), NW_OK);
    CHECK_EQ(nw_get(I, task_t, str("x2")), NW_OK);
    CHECK(out_u32(0) > 0);
}

/* A write JS must approve (flag 2, NW_WF_BEFORE) opens its own savepoint and
 * puts the mark first in its output; nw_guard_end keeps or undoes it, and
 * a guarded write that fails in C leaves no savepoint behind. */
static void test_guarded_writes(void) {
    CHECK_EQ(nw_create(I, task_t, in("{id: g1, title: Refused}"), -1, 3, 0), NW_OK);
    uint32_t mark = out_u32(0);
    CHECK_EQ(nw_guard_end(I, mark, 0), NW_OK);
    CHECK_EQ(nw_get(I, task_t, str("g1")), NW_OK);
    CHECK_EQ(out_u32(0), 0);
    CHECK_EQ(nw_create(I, task_t, in("{id: g2, title: Approved}"), -1, 3, 0), NW_OK);
    mark = out_u32(0);
    /* a guarded write from a handler nests inside the first one */
    CHECK_EQ(nw_create(I, task_t, in("{id: g3, title: Nested}"), -1, 3, 0), NW_OK);
    CHECK_EQ(nw_guard_end(I, out_u32(0), 1), NW_OK);
    CHECK_EQ(nw_guard_end(I, mark, 1), NW_OK);
    CHECK_EQ(nw_get(I, task_t, str("g3")), NW_OK);
    CHECK(out_u32(0) > 0);
    /* refused in C: no savepoint stays open, so a later rollback undoes */
    CHECK_EQ(nw_create(I, task_t, in("{id: g4, title: Bad, n: -1}"), -1, 3, 0), NW_E_VALIDATION);
    CHECK_EQ(nw_tx_begin(I), NW_OK);
    mark = out_u32(0);
    CHECK_EQ(nw_create(I, task_t, in("{id: g5, title: Undone}"), -1, 0, 0), NW_OK);
    CHECK_EQ(nw_tx_rollback(I, mark), NW_OK);
    CHECK_EQ(nw_get(I, task_t, str("g5")), NW_OK);
    CHECK_EQ(out_u32(0), 0);
    CHECK_EQ(nw_tx_commit(I), NW_OK);          /* nothing open: nothing to do */
    CHECK_EQ(nw_get(I, task_t, str("g2")), NW_OK);
    CHECK(out_u32(0) > 0);
    CHECK_EQ(nw_delete(I, task_t, str("g2"), 0), NW_OK);   /* leave the store as the next tests expect */
    CHECK_EQ(nw_delete(I, task_t, str("g3"), 0), NW_OK);
}

static void test_queries_and_search(void) {
    /* b Beta done 9, c Gamma3 open 7, x2 Kept open 1 */
    CHECK_EQ(nw_query_exec(I, task_t, in("{where: {status: open}, order: [[n, true]]}"), 0, 0), NW_OK);
    CHECK_EQ(out_u32(0), 2);
    CHECK_MEM(rec_field(4, 0) + 5, 1, "c");
    CHECK_EQ(nw_query_exec(I, task_t, in("{where: {status: open}, order: [[n]]}"), 1, 0), NW_OK);   /* first */
    CHECK_EQ(out_u32(0), 1);
    CHECK_MEM(rec_field(4, 0) + 5, 2, "x2");
    CHECK_EQ(nw_query_exec(I, task_t, in("{where: {n: {gt: 1}}}"), 2, 0), NW_OK);              /* count */
    CHECK_EQ(out_u32(0), 2);
    CHECK_EQ(nw_query_exec(I, task_t, in("{order: [[id, true]]}"), 3, 0), NW_OK);               /* ids */
    CHECK(out_u32(0) == 3 && out_u32(4) == 2);
    CHECK_MEM(nw_out_ptr(I) + 8, 2, "x2");
    CHECK_EQ(nw_query_exec(I, task_t, in("{where: {status: open}, patch: {n: 3}}"), 4, 1), NW_OK);  /* update */
    CHECK(out_u32(0) == 1 && out_u32(4) == 2);
    CHECK_EQ(nw_query_exec(I, task_t, in("{where: {status: open}}"), 4, 0), NW_E_ARG);           /* update without patch */
    CHECK_EQ(nw_query_exec(I, task_t, in("{where: {status: open}, patch: {n: -5}}"), 4, 0), NW_E_VALIDATION);
    CHECK_EQ(last_err().index, 0);
    CHECK_EQ(nw_query_exec(I, task_t, in("{where: {n: 3}}"), 2, 0), NW_OK);
    CHECK_EQ(out_u32(0), 2);                                                                  /* all or nothing */
    CHECK_EQ(nw_query_exec(I, task_t, in("{where: {nope: 1}}"), 0, 0), NW_E_QUERY);
    CHECK(strcmp(last_err().field, "nope") == 0);
    CHECK_EQ(nw_query_exec(I, task_t, in("{where: {title: Kept}}"), 5, 1), NW_OK);              /* delete */
    CHECK(out_u32(0) == 1 && out_u32(4) == 1);
    /* search: every word, the last as a prefix, with an optional where */
    CHECK_EQ(nw_create(I, task_t, in("{id: s1, title: \"Gamma ray\"}"), -1, 0, 0), NW_OK);
    CHECK_EQ(nw_search(I, task_t, in("{text: gam}")), NW_OK);
    CHECK_EQ(out_u32(0), 2);
    CHECK_EQ(nw_search(I, task_t, in("{text: gam, limit: 1}")), NW_OK);
    CHECK_EQ(out_u32(0), 1);
    CHECK_EQ(nw_search(I, task_t, in("{text: gam, where: {id: s1}}")), NW_OK);
    CHECK_EQ(out_u32(0), 1);
    CHECK_MEM(rec_field(4, 0) + 5, 2, "s1");
    CHECK_EQ(nw_search(I, task_t, in("{text: 3}")), NW_E_QUERY);
    CHECK_EQ(nw_search(I, user_t, in("{text: ann}")), NW_E_QUERY);
    CHECK(strcmp(last_err().rule, "search") == 0);
    CHECK_EQ(nw_search(I, task_t, in("{text: gam, where: {nope: 1}}")), NW_E_QUERY);
}

static void test_snapshot_restore(void) {
    CHECK_EQ(nw_snapshot(I), NW_OK);
    uint32_t n = nw_out_len(I);
    uint8_t *snap = malloc(n);
    memcpy(snap, nw_out_ptr(I), n);
    CHECK_EQ(nw_create(I, task_t, in("{id: late, title: Late}"), -1, 0, 0), NW_OK);
    CHECK_EQ(nw_restore(I, raw(snap, n)), NW_OK);
    CHECK_EQ(nw_get(I, task_t, str("late")), NW_OK);
    CHECK_EQ(out_u32(0), 0);                            /* back to the snapshot */
    CHECK_EQ(nw_get(I, task_t, str("s1")), NW_OK);
    CHECK(out_u32(0) > 0);
    snap[n / 2] ^= 1;
    CHECK_EQ(nw_restore(I, raw(snap, n)), NW_E_CORRUPT);
    CHECK(strstr(last_err().message, "checksum") != NULL);
    snap[n / 2] ^= 1;
    CHECK_EQ(nw_restore(I, raw(snap, 10)), NW_E_CORRUPT);
    CHECK_EQ(nw_restore(I, raw("NOTASNAPSHOTATALL!!!!", 21)), NW_E_CORRUPT);
    memcpy(snap + 8, "\x09\0\0\0", 4);                  /* version 9 */
    CHECK_EQ(nw_restore(I, raw(snap, n)), NW_E_CORRUPT);
    CHECK(strstr(last_err().message, "version") != NULL);
    free(snap);
}

static uint32_t compile(const char *text) {
    int rc = nw_template_compile(I, in(text));
    return rc ? 0 : out_u32(0);
}

static void test_templates(void) {
    uint32_t before = nw_template_count(I);
    uint32_t t = compile("{src: \"<p>{{name}} {{#items}}[{{.}}]{{/items}}{{>tail}}</p>\", partials: {tail: \"!\"}}");
    CHECK(t > 0);
    CHECK_EQ(nw_template_count(I), before + 1);
    CHECK_EQ(nw_template_render(I, t, in("{name: \"<b>\", items: [1, 2]}")), NW_OK);
    CHECK_MEM(nw_out_ptr(I), nw_out_len(I), "<p>&lt;b&gt; [1][2]!</p>");
    CHECK_EQ(nw_template_ascii(I), 1);
    CHECK_EQ(nw_template_render(I, t, in("{name: \"\xC3\xA9\xF0\x9F\x98\x80\", items: []}")), NW_OK);
    CHECK_EQ(nw_template_ascii(I), 0);
    /* the UTF-16 copy: é is one unit, the emoji a surrogate pair */
    const uint8_t *u = nw_template_utf16(I);
    CHECK(u != NULL);
    CHECK_EQ(nw_template_utf16_len(I), 2 * (3 + 1 + 2 + 1 + 1 + 4));
    CHECK(u[6] == 0xE9 && u[7] == 0x00);
    CHECK(u[8] == 0x3D && u[9] == 0xD8 && u[10] == 0x00 && u[11] == 0xDE);
    CHECK_EQ(nw_template_render(I, t, raw("\x06\x01", 2)), NW_E_ARG);
    CHECK_EQ(nw_template_render(I, 999, in("{}")), NW_E_ARG);
    /* compile errors carry line and column */
    CHECK_EQ(nw_template_compile(I, in("{src: \"a\\n{{#x}}\"}")), NW_E_TEMPLATE);
    const uint8_t *ep = nw_err_ptr(I);
    CHECK(nw_rd_u32(ep + 8) == 2 && nw_rd_u32(ep + 12) > 0);
    CHECK_EQ(nw_template_compile(I, in("{src: 3}")), NW_E_ARG);
    CHECK_EQ(nw_template_compile(I, in("[1]")), NW_E_ARG);
    CHECK_EQ(nw_template_compile(I, in("{src: x, partials: {p: 3}}")), NW_E_ARG);
    CHECK(strstr(last_err().message, "partial \"p\"") != NULL);
    /* strict mode refuses a partial that is not given */
    CHECK_EQ(nw_template_compile(I, in("{src: \"{{>nope}}\", strict: true}")), NW_E_TEMPLATE);
    uint32_t s = compile("{src: \"[{{>nope}}]\"}");
    CHECK(s > 0);
    CHECK_EQ(nw_template_render(I, s, in("{}")), NW_OK);
    CHECK_MEM(nw_out_ptr(I), nw_out_len(I), "[]");
    /* ids are reused after free */
    CHECK_EQ(nw_template_free(I, s), NW_OK);
    CHECK_EQ(nw_template_free(I, s), NW_E_ARG);
    uint32_t again = compile("{src: ok}");
    CHECK_EQ(again, s);
    CHECK_EQ(nw_template_free(I, again), NW_OK);
    /* a query handle in the data renders the prepared query's records */
    CHECK_EQ(nw_query_prepare(I, in("[{table: 1, query: {where: {status: open}, order: [[title]]}}]")), NW_OK);
    uint32_t q = compile("{src: \"{{#tasks}}<i>{{title}}/{{status}}</i>{{/tasks}}\"}");
    uint8_t data[32];
    size_t dl = 0;
    data[dl++] = NVAL_OBJ; memcpy(data + dl, "\x01\0\0\0\x05\0\0\0tasks", 13); dl += 13;
    data[dl++] = NVAL_QUERY; memcpy(data + dl, "\0\0\0\0", 4); dl += 4;
    CHECK_EQ(nw_template_render(I, q, raw(data, dl)), NW_OK);
    CHECK_MEM(nw_out_ptr(I), nw_out_len(I), "<i>Gamma ray/open</i><i>Gamma3/open</i>");
    CHECK_EQ(nw_query_prepare(I, in("[{table: 1}]")), NW_E_ARG);
    CHECK_EQ(nw_query_prepare(I, in("{}")), NW_E_ARG);
    CHECK_EQ(nw_query_prepare(I, in("[{table: 1, query: {where: {nope: 1}}}]")), NW_E_QUERY);
    CHECK_EQ(nw_template_free(I, q), NW_OK);
    CHECK_EQ(nw_template_free(I, t), NW_OK);
    CHECK_EQ(nw_template_count(I), before);
    nw_trim(I);
}

static void test_live_queries_and_views(void) {
    CHECK_EQ(nw_sub_new(I, task_t, in("{where: {status: open}, order: [[title]]}"), 1), NW_OK);
    uint32_t sub = out_u32(0);
    CHECK_EQ(nw_sub_ids(I, sub), NW_OK);
    CHECK(out_u32(0) == 2 && out_u32(4) == 2);
    CHECK_MEM(nw_out_ptr(I) + 8, 2, "s1");
    CHECK_EQ(nw_sub_result(I, sub), NW_OK);
    CHECK_EQ(out_u32(0), 2);
    CHECK_EQ(nw_sub_has(I, sub, in("[s1, b, zz, 3]")), NW_OK);
    CHECK(nw_out_len(I) == 4 && memcmp(nw_out_ptr(I), "\x01\x00\x00\x00", 4) == 0);
    CHECK_EQ(nw_sub_has(I, sub, in("{}")), NW_E_ARG);
    CHECK_EQ(nw_sub_has(I, 9999, in("[]")), NW_E_ARG);
    CHECK_EQ(nw_sub_new(I, task_t, in("{where: {nope: 1}}"), 1), NW_E_QUERY);
    CHECK_EQ(nw_sub_new(I, task_t, raw("\x06", 1), 1), NW_E_ARG);
    /* a write that changes the result is reported */
    nw_live_take(I);
    CHECK_EQ(nw_create(I, task_t, in("{id: n1, title: Aardvark}"), -1, 0, 0), NW_OK);
    CHECK(nw_live_pending(I) > 0);
    CHECK_EQ(nw_live_take(I), NW_OK);
    CHECK(out_u32(0) > 0);
    CHECK_EQ(nw_live_pending(I), 0);
    CHECK_EQ(nw_live_counters(I), NW_OK);
    CHECK(out_u32(0) >= 1);
    CHECK_EQ(nw_sub_free(I, sub), NW_OK);
    CHECK_EQ(nw_sub_ids(I, sub), NW_E_ARG);
    /* a view: the program, a mount, an update after a write, a flush */
    uint32_t t = compile("{src: \"<ul>{{#tasks}}<li>{{title}}</li>{{/tasks}}</ul><p>{{who}}</p>\"}");
    CHECK(t > 0);
    CHECK_EQ(nw_view_program(I, t), NW_OK);
    CHECK(nw_out_len(I) > 0);
    uint8_t data[512];
    size_t dl = 0;
    nw_buf b; nw_buf_init(&b);
    size_t pos = 0;
    const char *qs = "{queries: [{table: 1, query: {where: {status: open}, order: [[title]]}}]}";
    fuzz_text_value((const uint8_t *)qs, strlen(qs), &pos, &b);
    /* { data: { tasks: <query 0>, who: "me" }, queries: [...] } */
    data[dl++] = NVAL_OBJ; memcpy(data + dl, "\x02\0\0\0\x04\0\0\0data", 12); dl += 12;
    data[dl++] = NVAL_OBJ; memcpy(data + dl, "\x02\0\0\0\x05\0\0\0tasks", 13); dl += 13;
    data[dl++] = NVAL_QUERY; memcpy(data + dl, "\0\0\0\0", 4); dl += 4;
    memcpy(data + dl, "\x03\0\0\0who", 7); dl += 7;
    data[dl++] = NVAL_STR; memcpy(data + dl, "\x02\0\0\0me", 6); dl += 6;
    memcpy(data + dl, b.p + 5, b.len - 5); dl += b.len - 5;   /* the queries entry */
    nw_buf_free(&b);
    CHECK_EQ(nval_check(data, dl), dl);
    CHECK_EQ(nw_view_new(I, t, raw(data, dl)), NW_OK);
    uint32_t view = out_u32(0);
    CHECK(out_u32(4) > 0);                                  /* edit words */
    CHECK(nw_view_bytes_total(I) > 0);
    CHECK_EQ(nw_create(I, task_t, in("{id: n2, title: Abacus}"), -1, 0, 0), NW_OK);
    CHECK_EQ(nw_view_flush(I), NW_OK);
    CHECK(out_u32(0) > 0);                                  /* the new item */
    bool found = false;
    for (uint32_t i = 0; i + 6 <= nw_out_len(I) && !found; i++) found = memcmp(nw_out_ptr(I) + i, "Abacus", 6) == 0;
    CHECK(found);
    CHECK_EQ(nw_view_flush(I), NW_OK);
    CHECK_EQ(out_u32(0), 0);                                /* nothing stale */
    CHECK_EQ(nw_view_update(I, view, raw(data, dl)), NW_OK);
    CHECK_EQ(nw_view_update(I, view, in("[1]")), NW_E_ARG);
    CHECK_EQ(nw_view_update(I, view, in("{queries: []}")), NW_E_ARG);
    CHECK_EQ(nw_view_update(I, view, in("{data: {}, queries: [{table: 1}]}")), NW_E_ARG);
    CHECK_EQ(nw_view_new(I, 999, raw(data, dl)), NW_E_ARG);
    CHECK_EQ(nw_view_free(I, view), NW_OK);
    CHECK_EQ(nw_view_update(I, view, raw(data, dl)), NW_E_CLOSED);
    /* freeing the template unmounts its views */
    CHECK_EQ(nw_view_new(I, t, raw(data, dl)), NW_OK);
    uint32_t v2 = out_u32(0);
    CHECK_EQ(nw_template_free(I, t), NW_OK);
    CHECK_EQ(nw_view_update(I, v2, raw(data, dl)), NW_E_CLOSED);
    CHECK_EQ(nw_live_counters(I), NW_OK);
    CHECK_EQ(out_u32(12), 0);
}

/* Acknowledges every outbox entry (writes so far were logged). */
static void ack_all(void) {
    uint8_t want[2] = { 1, 1 };
    raw(want, 2);
    CHECK_EQ(nw_sync_outbox(I, 100000, 2, 1), NW_OK);
    uint32_t n = out_u32(0);
    double *seqs = malloc((n ? n : 1) * sizeof *seqs);
    size_t at = 4;
    for (uint32_t i = 0; i < n; i++) { seqs[i] = nw_rd_f64(nw_out_ptr(I) + at + 12); at += out_u32(at); }
    CHECK_EQ(nw_sync_ack(I, raw(seqs, n * sizeof *seqs)), NW_OK);
    CHECK_EQ(out_u32(0), n);
    free(seqs);
    CHECK_EQ(nw_sync_pending(I), 0);
}

static void test_sync(void) {
    ack_all();
    CHECK_EQ(nw_sync_set_client(I, str("client-1")), NW_OK);
    CHECK_EQ(nw_sync_set_cursor(I, str("42")), NW_OK);
    CHECK_EQ(nw_sync_table(I, task_t, 2), NW_OK);             /* versions */
    CHECK_EQ(nw_sync_table(I, 77, 0), NW_E_SCHEMA);
    CHECK_EQ(nw_sync_enable(I, 1), NW_OK);
    CHECK_EQ(nw_create(I, task_t, in("{id: o1, title: Outbox}"), -1, 0, 0), NW_OK);
    CHECK_EQ(nw_delete(I, task_t, str("n1"), 0), NW_OK);
    CHECK_EQ(nw_sync_pending(I), 2);
    CHECK_EQ(nw_sync_state(I), NW_OK);
    CHECK(out_u32(0) == 8 && memcmp(nw_out_ptr(I) + 4, "client-1", 8) == 0);
    CHECK(out_u32(12) == 2 && memcmp(nw_out_ptr(I) + 16, "42", 2) == 0);
    CHECK_EQ(out_u32(26), 2);
    /* the outbox of Task only; entries in seq order */
    uint8_t want[2] = { 0, 1 };
    raw(want, 2);
    CHECK_EQ(nw_sync_outbox(I, 10, 2, 0), NW_OK);
    CHECK_EQ(out_u32(0), 2);
    double seq1 = nw_rd_f64(nw_out_ptr(I) + 4 + 12);
    raw(want, 1);
    CHECK_EQ(nw_sync_outbox(I, 10, 1, 0), NW_OK);
    CHECK_EQ(out_u32(0), 0);
    /* conflicted entries are left out unless asked for */
    CHECK_EQ(nw_sync_flag(I, seq1, 1, 1), NW_OK);
    raw(want, 2);
    CHECK_EQ(nw_sync_outbox(I, 10, 2, 0), NW_OK);
    CHECK_EQ(out_u32(0), 1);
    raw(want, 2);
    CHECK_EQ(nw_sync_outbox(I, 10, 2, 1), NW_OK);
    CHECK_EQ(out_u32(0), 2);
    CHECK_EQ(nw_sync_flag(I, 12345, 1, 1), NW_E_NOT_FOUND);
    CHECK_EQ(nw_sync_requeue(I, seq1, 3), NW_OK);
    double seq3 = nw_rd_f64(nw_out_ptr(I));
    CHECK(seq3 > seq1);
    /* not inside a transaction */
    CHECK_EQ(nw_tx_begin(I), NW_OK);
    CHECK_EQ(nw_sync_ack(I, raw(&seq3, 8)), NW_E_CONFLICT);
    CHECK_EQ(nw_sync_requeue(I, seq3, 1), NW_E_CONFLICT);
    CHECK_EQ(nw_tx_commit(I), NW_OK);
    CHECK_EQ(nw_sync_ack(I, raw(&seq3, 8)), NW_OK);
    CHECK_EQ(out_u32(0), 1);
    CHECK_EQ(nw_sync_pending(I), 1);
    /* versions of records */
    CHECK_EQ(nw_sync_set_version(I, task_t, str("o1"), 7), NW_OK);
    CHECK_EQ(nw_sync_version(I, task_t, str("o1")), NW_OK);
    CHECK(nw_rd_f64(nw_out_ptr(I)) == 7);
    CHECK_EQ(nw_sync_set_version(I, user_t, str("u1"), 7), NW_OK);    /* no versions kept: a no-op */
    CHECK_EQ(nw_sync_version(I, user_t, str("u1")), NW_OK);
    CHECK(nw_rd_f64(nw_out_ptr(I)) == 0);
    /* server state: [table, id, version, record | null], all or nothing */
    CHECK_EQ(nw_sync_apply(I, in("[[1, p1, 3, {id: p1, title: Pulled}], [1, o1, 8, null]]"), 1), NW_OK);
    CHECK(out_u32(0) == 1 && out_u32(4) == 2);
    CHECK_EQ(nw_get(I, task_t, str("o1")), NW_OK);
    CHECK_EQ(out_u32(0), 0);
    CHECK_EQ(nw_sync_version(I, task_t, str("p1")), NW_OK);
    CHECK(nw_rd_f64(nw_out_ptr(I)) == 3);
    CHECK_EQ(nw_sync_apply(I, in("[[1, p2, 1, {id: p2, title: Fine}], [1, p3, 1, {id: p3, title: null}]]"), 0), NW_E_VALIDATION);
    CHECK_EQ(last_err().index, 1);
    CHECK_EQ(nw_get(I, task_t, str("p2")), NW_OK);
    CHECK_EQ(out_u32(0), 0);
    CHECK_EQ(nw_sync_apply(I, in("[[9, x, 1, null]]"), 0), NW_E_ARG);
    CHECK_EQ(nw_sync_apply(I, in("[[1, x]]"), 0), NW_E_ARG);
    CHECK_EQ(nw_sync_apply(I, in("{}"), 0), NW_E_ARG);
    /* a pull response as JSON: u32 mask count, masks, the text */
    const char *json = "{\"changes\":[{\"entity\":\"Task\",\"id\":\"j1\",\"version\":5,\"record\":{\"id\":\"j1\",\"title\":\"Json\"}},"
                       "{\"entity\":\"Task\",\"id\":\"j2\",\"record\":{\"id\":\"j2\",\"title\":null}}],\"checkpoint\":\"9\",\"more\":true}";
    uint8_t buf[512];
    uint32_t two = 2;
    memcpy(buf, &two, 4); buf[4] = 1; buf[5] = 1;
    memcpy(buf + 6, json, strlen(json));
    CHECK_EQ(nw_sync_apply_json(I, raw(buf, 6 + strlen(json)), 0), NW_OK);
    CHECK(out_u32(0) == 1 && out_u32(4) == 1 && out_u32(8) == 1 && out_u32(12) == 1);
    CHECK(nw_out_ptr(I)[16] == '9' && out_u32(17) == 1);
    CHECK_EQ(nw_sync_apply_json(I, raw(buf, 6 + 5), 0), NW_E_ARG);
    CHECK_EQ(nw_sync_apply_json(I, raw(buf, 3), 0), NW_E_ARG);
    /* a snapshot keeps the sync state */
    CHECK_EQ(nw_snapshot(I), NW_OK);
    uint32_t n = nw_out_len(I);
    uint8_t *snap = malloc(n);
    memcpy(snap, nw_out_ptr(I), n);
    CHECK_EQ(nw_restore(I, raw(snap, n)), NW_OK);
    free(snap);
    CHECK_EQ(nw_sync_pending(I), 1);
    CHECK_EQ(nw_sync_state(I), NW_OK);
    CHECK(out_u32(0) == 8 && memcmp(nw_out_ptr(I) + 4, "client-1", 8) == 0);
    CHECK_EQ(nw_set_client(I, str("tab-2")), NW_OK);
    CHECK_EQ(nw_sync_enable(I, 0), NW_OK);
}

/* Every export under allocation failure returns a code (never crashes),
 * and the instance still works afterwards. */
static void test_alloc_failures(void) {
    for (long k = 0; k < 60; k++) {
#define FAILING(input, call) do { uint32_t _l = input; (void)_l; nw_alloc_fail_after(k); int _rc = call; nw_alloc_fail_reset(); \
        CHECK(_rc == NW_OK || _rc == NW_E_LIMIT); } while (0)
        FAILING(in("{id: f1, title: Failing}"), nw_create(I, task_t, _l, -1, 1, 0));
        FAILING(in("{where: {status: open}, order: [[title]]}"), nw_query_exec(I, task_t, _l, 0, 0));
        FAILING(in("{text: gam}"), nw_search(I, task_t, _l));
        FAILING(0, nw_stats(I));
        FAILING(0, nw_snapshot(I));
        FAILING(in("[{id: f3, title: F3}, {id: f4, title: F4}]"), nw_insert_many(I, task_t, _l, -1, 1, 0));
        uint32_t l = in("{src: \"{{#a}}{{b}}{{/a}}\"}");
        nw_alloc_fail_after(k);
        int t = nw_template_compile(I, l);
        nw_alloc_fail_reset();
        CHECK(t == NW_OK || t == NW_E_LIMIT);
        if (t == NW_OK) CHECK_EQ(nw_template_free(I, out_u32(0)), NW_OK);
        nw_delete(I, task_t, str("f1"), 0);
        nw_delete(I, task_t, str("f3"), 0);
        nw_delete(I, task_t, str("f4"), 0);
#undef FAILING
    }
    CHECK_EQ(nw_create(I, task_t, in("{id: f2, title: Works}"), -1, 0, 0), NW_OK);
}

int main(void) {
    I = nw_instance_new();
    CHECK(I != NULL);
    RUN(test_define_and_errors);
    RUN(test_writes_and_reads);
    RUN(test_transactions);
    RUN(test_guarded_writes);
    RUN(test_queries_and_search);
    RUN(test_snapshot_restore);
    RUN(test_templates);
    RUN(test_live_queries_and_views);
    RUN(test_sync);
    RUN(test_alloc_failures);
    nw_instance_free(I);
    return check_summary("api");
}
