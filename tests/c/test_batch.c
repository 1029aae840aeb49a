/* test_batch.c - writes applied in one call, each in its own savepoint
 * (batch.h), and the nw_write_batch export over it (api_batch.c): statuses,
 * a failed write undone alone, the rows cascades change, the conflict,
 * ref, exists and scope checks, the guard savepoint, malformed input and
 * allocation failures. */
#include "check.h"
#include "batch.h"
#include "api.h"
#include "alloc.h"
#include "../../fuzz/fuzz_text.h"

nw_instance *nw_instance_new(void);
void nw_instance_free(nw_instance *I);
uint8_t *nw_input(nw_instance *I, uint32_t len);
uint8_t *nw_out_ptr(nw_instance *I);
uint32_t nw_out_len(nw_instance *I);
uint8_t *nw_err_ptr(nw_instance *I);
int nw_entity_define(nw_instance *I, uint32_t len);
int nw_count(nw_instance *I, uint32_t table);
int nw_write_batch(nw_instance *I, uint32_t len, double now);
int nw_guard_end(nw_instance *I, uint32_t mark, uint32_t commit);

/* Up to 16 values parsed from text, each kept until the test ends. */
static nw_buf vals[16];
static int nvals;
static const uint8_t *val(const char *text) {
    nw_buf *b = &vals[nvals++ % 16];
    nw_buf_reset(b);
    size_t pos = 0;
    fuzz_text_value((const uint8_t *)text, strlen(text), &pos, b);
    return b->p;
}

static uint32_t define(nw_store *s, const char *text) {
    nw_error err;
    uint32_t idx = 99;
    CHECK_EQ(nw_store_define(s, val(text), &idx, &err), NW_OK);
    return idx;
}

static bool visible(nw_store *s, uint32_t table, const char *id) {
    nw_table *t = nw_store_table(s, table);
    uint32_t slot = nw_table_find(t, id, strlen(id));
    return slot != NW_NO_SLOT && nw_table_visible(s, t, slot);
}

/* What `done` saw, per write: statuses, event kinds, events that share
 * the rows of the event before them (flag SAME) and the id of the last. */
typedef struct seen { nw_batch_status st[16]; nw_code code[16]; char rule[16][24]; uint32_t nev[16]; uint32_t kinds[16][8]; uint32_t same[16]; char last_id[16][8]; } seen;

/* The id of the event at ev + at (the first field of its record or previous). */
static void event_id(const uint8_t *ev, size_t at, char out[8]) {
    if (ev[at + NW_EVL_FLAGS] & NW_EVF_SAME) at -= nw_rd_u32(ev + at + NW_EVL_HEADER);
    uint32_t rl = nw_rd_u32(ev + at + NW_EVL_HEADER);
    const uint8_t *f = ev + at + NW_EVL_HEADER + 4 + (rl ? 0 : 4);
    uint32_t n = nw_rd_u32(f + 1);
    if (n > 7) n = 7;
    memcpy(out, f + 5, n);
    out[n] = 0;
}

static void record(void *ud, uint32_t i, nw_batch_status st, const nw_error *err, const uint8_t *ev, size_t len, uint32_t count) {
    seen *s = ud;
    s->st[i] = st;
    s->code[i] = st == NW_BST_FAILED ? err->code : NW_OK;
    strcpy(s->rule[i], st == NW_BST_FAILED ? err->rule : "");
    s->nev[i] = count;
    memset(s->kinds[i], 0, sizeof s->kinds[i]);
    s->same[i] = 0;
    s->last_id[i][0] = 0;
    for (size_t at = 0; at < len;) {
        s->kinds[i][ev[at] & 7]++;
        event_id(ev, at, s->last_id[i]);
        if (ev[at + NW_EVL_FLAGS] & NW_EVF_SAME) {
            CHECK(nw_rd_u32(ev + at + NW_EVL_HEADER) <= at);   /* within this write's events */
            s->same[i]++;
            at += NW_EVL_HEADER + 4 + NW_EVL_MASK_BYTES;
            continue;
        }
        uint32_t rl = nw_rd_u32(ev + at + NW_EVL_HEADER);
        uint32_t pl = nw_rd_u32(ev + at + NW_EVL_HEADER + 4 + rl);
        at += NW_EVL_HEADER + 8 + rl + pl + NW_EVL_MASK_BYTES;
    }
}

static nw_batch_write wr(uint32_t op, uint32_t table, const char *id, const char *data) {
    nw_batch_write w;
    memset(&w, 0, sizeof w);
    w.op = op;
    w.table = table;
    w.id = id;
    w.idlen = (uint32_t)strlen(id);
    w.data = data ? val(data) : NULL;
    return w;
}

typedef struct world { nw_store *s; uint32_t user, post, note; } world;

static world make_world(void) {
    world w;
    w.s = nw_store_new();
    w.user = define(w.s, "{name: User, fields: {name: {type: string}}}");
    w.post = define(w.s, "{name: Post, fields: {by: {type: ref, entity: User, onDelete: cascade}}}");
    w.note = define(w.s, "{name: Note, fields: {about: {type: ref, entity: Post, onDelete: nullify}, text: {type: string, maxLength: 5}}}");
    nw_batch_write setup[] = {
        wr(NW_BOP_SAVE, w.user, "u1", "{id: u1, name: Ann}"),
        wr(NW_BOP_SAVE, w.post, "p1", "{id: p1, by: u1}"),
        wr(NW_BOP_SAVE, w.note, "n1", "{id: n1, about: p1, text: hi}"),
    };
    seen sn;
    nw_batch b;
    uint32_t mark;
    nw_batch_begin(&b, w.s, NULL, 0);
    nw_batch_apply(&b, setup, 3, 3, record, &sn);
    nw_batch_end(&b, true, &mark);
    CHECK_EQ(mark, NW_BGUARD_NONE);
    for (int i = 0; i < 3; i++) CHECK_EQ(sn.st[i], NW_BST_APPLIED);
    CHECK(!nw_store_in_tx(w.s));
    return w;
}

static void test_applied_and_failed_in_one_batch(void) {
    world w = make_world();
    nw_batch_write ws[] = {
        wr(NW_BOP_SAVE, w.post, "p2", "{id: p2, by: u1}"),                 /* applied: a create */
        wr(NW_BOP_SAVE, w.note, "n2", "{id: n2, text: toolong}"),          /* failed: maxLength */
        wr(NW_BOP_SAVE, w.note, "n1", "{id: n1, text: ok}"),               /* applied: an update (it exists) */
        wr(NW_BOP_UPDATE, w.note, "nx", "{text: a}"),                      /* failed: NOT_FOUND */
        wr(NW_BOP_SAVE, w.post, "p3", "{id: p3, by: nobody}"),             /* failed: the store's ref check */
        wr(NW_BOP_DELETE, w.user, "u1", NULL),                             /* applied: cascades */
        wr(NW_BOP_DELETE, w.user, "u9", NULL),                             /* applied: nothing to delete */
        wr(NW_BOP_SAVE, w.user, "u2", "{name: Bo}"),                       /* failed: the data names no u2 */
    };
    seen sn;
    nw_batch b;
    uint32_t mark;
    nw_batch_begin(&b, w.s, NULL, 0);
    nw_batch_apply(&b, ws, 8, 8, record, &sn);
    CHECK(!nw_batch_events_oom(&b));
    nw_batch_end(&b, true, &mark);
    CHECK_EQ(sn.st[0], NW_BST_APPLIED);
    CHECK_EQ(sn.kinds[0][NW_EV_CREATED], 1);
    CHECK_EQ(sn.st[1], NW_BST_FAILED);
    CHECK_EQ(sn.code[1], NW_E_VALIDATION);
    CHECK_EQ(sn.st[2], NW_BST_APPLIED);
    CHECK_EQ(sn.kinds[2][NW_EV_UPDATED], 1);
    CHECK_EQ(sn.st[3], NW_BST_FAILED);
    CHECK_EQ(sn.code[3], NW_E_NOT_FOUND);
    CHECK_EQ(sn.st[4], NW_BST_FAILED);
    CHECK(strcmp(sn.rule[4], "ref") == 0);
    /* the cascade's rows: the user, both posts deleted, the note nullified */
    CHECK_EQ(sn.st[5], NW_BST_APPLIED);
    CHECK_EQ(sn.nev[5], 4);
    CHECK_EQ(sn.kinds[5][NW_EV_DELETED], 3);
    CHECK_EQ(sn.kinds[5][NW_EV_UPDATED], 1);
    CHECK_EQ(sn.kinds[5][NW_EV_BEFORE_DELETE], 0);   /* unguarded: no before events */
    CHECK_EQ(sn.st[6], NW_BST_APPLIED);
    CHECK_EQ(sn.nev[6], 0);
    CHECK_EQ(sn.st[7], NW_BST_FAILED);
    CHECK_EQ(sn.code[7], NW_E_ARG);
    CHECK_EQ(nw_table_count_visible(w.s, nw_store_table(w.s, w.user)), 0);
    /* committed, and the failed writes left nothing */
    CHECK(!nw_store_in_tx(w.s));
    CHECK(!visible(w.s, w.user, "u1"));
    CHECK(!visible(w.s, w.post, "p2"));
    CHECK(!visible(w.s, w.note, "n2"));
    CHECK(!visible(w.s, w.post, "p3"));
    CHECK(visible(w.s, w.note, "n1"));
    CHECK_EQ(nw_store_check(w.s), 0);
    nw_store_free(w.s);
}

static void test_conflict_refs_exists_scope(void) {
    world w = make_world();
    nw_batch_write ws[] = {
        wr(NW_BOP_SAVE, w.note, "n1", "{id: n1, text: a}"),   /* conflict: untouched */
        wr(NW_BOP_SAVE, w.note, "n1", "{id: n1, text: b}"),   /* touches n1 */
        wr(NW_BOP_SAVE, w.note, "n1", "{id: n1, text: c}"),   /* conflict flag, but touched: applied */
        wr(NW_BOP_NONE, w.note, "n5", NULL),                  /* ref check fails */
        wr(NW_BOP_NONE, w.note, "n6", NULL),                  /* exists check fails */
        wr(NW_BOP_DELETE, w.user, "u1", NULL),                /* cascades out of scope: refused */
    };
    ws[0].flags = NW_BWF_CONFLICT;
    ws[2].flags = NW_BWF_CONFLICT;
    nw_batch_ref ref = { w.post, 1, "p404", 4 };
    ws[3].refs = &ref;
    ws[3].nrefs = 1;
    ws[4].flags = NW_BWF_EXISTS;
    ws[5].scope = "u1";    /* user u1's own rows only, but post p1 is outside */
    ws[5].scope_len = 2;
    uint8_t scoped[3] = { 0, 1, 1 };
    seen sn;
    nw_batch b;
    uint32_t mark;
    nw_batch_begin(&b, w.s, scoped, 3);
    nw_batch_apply(&b, ws, 6, 6, record, &sn);
    nw_batch_end(&b, true, &mark);
    CHECK_EQ(sn.st[0], NW_BST_CONFLICT);
    CHECK_EQ(sn.st[1], NW_BST_APPLIED);
    CHECK_EQ(sn.st[2], NW_BST_APPLIED);
    CHECK_EQ(sn.st[3], NW_BST_FAILED);
    CHECK_EQ(sn.code[3], NW_E_VALIDATION);
    CHECK(strcmp(sn.rule[3], "ref") == 0);
    CHECK_EQ(sn.st[4], NW_BST_FAILED);
    CHECK_EQ(sn.code[4], NW_E_NOT_FOUND);
    CHECK_EQ(sn.st[5], NW_BST_FAILED);
    CHECK_EQ(sn.code[5], NW_E_CONFLICT);
    CHECK(strcmp(sn.rule[5], "restrict") == 0);
    CHECK(visible(w.s, w.user, "u1"));    /* the refused delete was undone with its cascade */
    CHECK(visible(w.s, w.post, "p1"));
    CHECK_EQ(nw_store_check(w.s), 0);
    nw_store_free(w.s);
}

/* Writes from guard_from on stay in a savepoint the host keeps or undoes. */
static void test_guard(void) {
    world w = make_world();
    nw_batch_write ws[] = {
        wr(NW_BOP_SAVE, w.post, "p2", "{id: p2, by: u1}"),
        wr(NW_BOP_SAVE, w.post, "p3", "{id: p3, by: u1}"),
    };
    for (int approve = 0; approve < 2; approve++) {
        seen sn;
        nw_batch b;
        uint32_t mark;
        nw_batch_begin(&b, w.s, NULL, 0);
        nw_batch_apply(&b, ws, 2, 1, record, &sn);
        nw_batch_end(&b, true, &mark);
        CHECK(mark != NW_BGUARD_NONE);
        CHECK(nw_store_in_tx(w.s));
        CHECK_EQ(sn.kinds[0][NW_EV_BEFORE_SAVE], 0);
        CHECK_EQ(sn.kinds[1][NW_EV_BEFORE_SAVE], 1);
        /* the guarded write's `created` refers to its beforeSave's row */
        CHECK_EQ(sn.same[0], 0);
        CHECK_EQ(sn.same[1], 1);
        CHECK_EQ(sn.kinds[1][NW_EV_CREATED], 1);
        CHECK(strcmp(sn.last_id[0], approve ? "" : "p2") == 0);   /* saved again unchanged: no event */
        CHECK(strcmp(sn.last_id[1], "p3") == 0);
        if (!approve) nw_store_rollback(w.s, mark);
        nw_store_tx_end(w.s);
        CHECK(!nw_store_in_tx(w.s));
        CHECK(visible(w.s, w.post, "p2"));
        CHECK_EQ(visible(w.s, w.post, "p3"), approve);
    }
    /* an undone call leaves nothing */
    nw_batch_write more[] = { wr(NW_BOP_SAVE, w.post, "p4", "{id: p4}"), wr(NW_BOP_SAVE, w.post, "p5", "{id: p5}") };
    seen sn;
    nw_batch b;
    uint32_t mark;
    nw_batch_begin(&b, w.s, NULL, 0);
    nw_batch_apply(&b, more, 2, 1, record, &sn);
    nw_batch_end(&b, false, &mark);
    CHECK_EQ(mark, NW_BGUARD_NONE);
    CHECK(!nw_store_in_tx(w.s));
    CHECK(!visible(w.s, w.post, "p4"));
    CHECK(!visible(w.s, w.post, "p5"));
    CHECK_EQ(nw_store_check(w.s), 0);
    nw_store_free(w.s);
}

/* ---- the export ------------------------------------------------------------------ */

static void put_str(nw_buf *b, const char *s) { nw_buf_u32(b, (uint32_t)strlen(s)); nw_buf_str(b, s); }

static void put_write(nw_buf *b, uint32_t op, uint32_t table, const char *id, const char *data) {
    nw_buf_byte(b, (uint8_t)op);
    nw_buf_byte(b, 0);
    nw_buf_byte(b, 0);
    nw_buf_byte(b, 0);
    nw_buf_u32(b, table);
    put_str(b, id);
    put_str(b, "");
    if (data) {
        size_t pos = 0;
        fuzz_text_value((const uint8_t *)data, strlen(data), &pos, b);
    }
}

static uint32_t send(nw_instance *I, const nw_buf *b) {
    memcpy(nw_input(I, (uint32_t)b->len), b->p, b->len);
    return (uint32_t)b->len;
}

static uint32_t count(nw_instance *I, uint32_t table) {
    CHECK_EQ(nw_count(I, table), NW_OK);
    return nw_rd_u32(nw_out_ptr(I));
}

static void batch_input(nw_buf *b, uint32_t guard_from) {
    nw_buf_reset(b);
    nw_buf_u32(b, guard_from);
    nw_buf_u32(b, 0);
    nw_buf_u32(b, 3);
    put_write(b, NW_BOP_SAVE, 0, "a", "{id: a, n: 1}");
    put_write(b, NW_BOP_SAVE, 0, "b", "{id: b, n: 99}");     /* fails: max 10 */
    put_write(b, NW_BOP_SAVE, 0, "c", "{id: c, n: 3}");
}

static void test_export(void) {
    nw_instance *I = nw_instance_new();
    nw_buf b;
    nw_buf_init(&b);
    size_t pos = 0;
    const char *schema = "{name: Item, fields: {n: {type: int, max: 10}}}";
    fuzz_text_value((const uint8_t *)schema, strlen(schema), &pos, &b);
    CHECK_EQ(nw_entity_define(I, send(I, &b)), NW_OK);
    batch_input(&b, 3);
    CHECK_EQ(nw_write_batch(I, send(I, &b), 0), NW_OK);
    const uint8_t *o = nw_out_ptr(I);
    CHECK_EQ(nw_rd_u32(o), NW_BGUARD_NONE);
    CHECK_EQ(nw_rd_u32(o + 4), 3);
    CHECK_EQ(nw_rd_u32(o + 8), NW_BST_APPLIED);
    CHECK_EQ(nw_rd_u32(o + 12), 1);       /* one event: created, inline after its length */
    CHECK(nw_rd_u32(o + 16) > 20);
    CHECK_EQ(o[20], NW_EV_CREATED);
    CHECK_EQ(count(I, 0), 2);
    /* guarded: the mark comes back, nw_guard_end undoes the guarded part */
    nw_buf_reset(&b);
    nw_buf_u32(&b, 1);
    nw_buf_u32(&b, 0);
    nw_buf_u32(&b, 2);
    put_write(&b, NW_BOP_SAVE, 0, "d", "{id: d, n: 1}");
    put_write(&b, NW_BOP_SAVE, 0, "e", "{id: e, n: 1}");
    CHECK_EQ(nw_write_batch(I, send(I, &b), 0), NW_OK);
    uint32_t mark = nw_rd_u32(nw_out_ptr(I));
    CHECK(mark != NW_BGUARD_NONE);
    CHECK_EQ(nw_guard_end(I, mark, 0), NW_OK);
    CHECK_EQ(count(I, 0), 3);
    /* malformed input: refused as a whole */
    for (size_t cut = 0; cut < b.len; cut += 3) CHECK_EQ(nw_write_batch(I, (uint32_t)cut, 0), NW_E_ARG);
    CHECK_EQ(count(I, 0), 3);
    /* allocation failures: all or nothing, never a crash */
    uint32_t before = count(I, 0);
    int whole = 0, alone = 0;
    for (long k = 0; k < 40; k++) {
        nw_buf_reset(&b);
        nw_buf_u32(&b, 3);
        nw_buf_u32(&b, 0);
        nw_buf_u32(&b, 2);
        char rec[64], id[16];
        snprintf(id, sizeof id, "k%ld", k);
        snprintf(rec, sizeof rec, "{id: k%ld, n: 2}", k);
        put_write(&b, NW_BOP_SAVE, 0, id, rec);
        snprintf(id, sizeof id, "j%ld", k);
        snprintf(rec, sizeof rec, "{id: j%ld, n: 2}", k);
        put_write(&b, NW_BOP_SAVE, 0, id, rec);
        uint32_t len = send(I, &b);
        nw_alloc_fail_after(k);
        int rc = nw_write_batch(I, len, 0);
        nw_alloc_fail_reset();
        CHECK(rc == NW_OK || rc == NW_E_LIMIT);
        /* each write applied, or failed alone with LIMIT (read before count() replaces the output) */
        uint32_t applied = 0;
        if (rc == NW_OK) {
            const uint8_t *p = nw_out_ptr(I) + 8;
            for (int i = 0; i < 2; i++) {
                uint32_t st = nw_rd_u32(p);
                p += 4;
                if (st == NW_BST_APPLIED) {
                    applied++;
                    CHECK_EQ(nw_rd_u32(p), 1);                 /* its one event, inline */
                    p += 8 + nw_rd_u32(p + 4);
                } else {
                    CHECK_EQ(st, NW_BST_FAILED);
                    CHECK_EQ(nw_rd_u32(p), NW_E_LIMIT);
                    alone++;
                    p += 16;
                    for (int s = 0; s < 4; s++) p += 4 + nw_rd_u32(p);
                }
            }
            CHECK_EQ((size_t)(p - nw_out_ptr(I)), (size_t)nw_out_len(I));
        }
        uint32_t now = count(I, 0);
        if (rc == NW_E_LIMIT) { CHECK_EQ(now, before); whole++; }
        else CHECK_EQ(now, before + applied);
        before = now;
    }
    CHECK(whole > 0);   /* both kinds of failure were met */
    CHECK(alone > 0);
    batch_input(&b, 3);
    CHECK_EQ(nw_write_batch(I, send(I, &b), 0), NW_OK);
    nw_buf_free(&b);
    nw_instance_free(I);
}

int main(void) {
    RUN(test_applied_and_failed_in_one_batch);
    RUN(test_conflict_refs_exists_scope);
    RUN(test_guard);
    RUN(test_export);
    for (int i = 0; i < 16; i++) nw_buf_free(&vals[i]);
    return check_summary("batch");
}
