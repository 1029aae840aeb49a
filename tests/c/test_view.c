/* test_view.c - live results (live.c), the DOM program (tpl_dom.c), the
 * keyed move planner (lis.c) and the view diff (view.c), under ASan/UBSan. */
#include "check.h"
#include "nvb.h"
#include "live.h"
#include "view.h"
#include "lis.h"
#include "nval.h"
#include <stdlib.h>

static nw_store *new_store(uint32_t *table) {
    nw_store *s = nw_store_new();
    nw_buf b; nw_buf_init(&b);
    nvb_obj(&b, 2);
    nvb_key(&b, "name"); nvb_str(&b, "R");
    nvb_key(&b, "fields"); nvb_obj(&b, 3);
      nvb_key(&b, "id"); nvb_obj(&b, 1); nvb_key(&b, "type"); nvb_str(&b, "id");
      nvb_key(&b, "label"); nvb_obj(&b, 1); nvb_key(&b, "type"); nvb_str(&b, "string");
      nvb_key(&b, "pos"); nvb_obj(&b, 1); nvb_key(&b, "type"); nvb_str(&b, "int");
    nw_error e = { 0 };
    CHECK_EQ(nw_store_define(s, b.p, table, &e), NW_OK);
    nw_buf_free(&b);
    return s;
}

static void put(nw_store *s, uint32_t t, const char *id, const char *label, double pos) {
    nw_buf b; nw_buf_init(&b);
    nvb_obj(&b, 3);
    nvb_key(&b, "id"); nvb_str(&b, id);
    nvb_key(&b, "label"); nvb_str(&b, label);
    nvb_key(&b, "pos"); nvb_num(&b, pos);
    nw_error e = { 0 };
    uint32_t slot;
    size_t m = nw_store_mark(s);
    CHECK_EQ(nw_store_create(s, t, b.p, -1, true, &slot, &e), NW_OK);
    nw_store_release(s, m);
    nw_buf_free(&b);
}

static void del(nw_store *s, uint32_t t, const char *id) {
    nw_error e = { 0 };
    bool existed;
    size_t m = nw_store_mark(s);
    CHECK_EQ(nw_store_delete(s, t, id, strlen(id), &existed, &e), NW_OK);
    nw_store_release(s, m);
}

/* { order: [["pos", false]], limit: n } */
static void order_spec(nw_buf *b, double limit) {
    nvb_obj(b, limit >= 0 ? 2 : 1);
    nvb_key(b, "order"); nvb_arr(b, 1); nvb_arr(b, 2); nvb_str(b, "pos"); nvb_bool(b, 0);
    if (limit >= 0) { nvb_key(b, "limit"); nvb_num(b, limit); }
}

static void test_lis(void) {
    uint32_t seq[] = { 3, 0, 1, 7, 2, 5, 4, 6 };
    bool keep[8];
    CHECK_EQ(nw_lis(seq, 8, keep), NW_OK);
    int n = 0; uint32_t last = 0; bool first = true, increasing = true;
    for (int i = 0; i < 8; i++) if (keep[i]) { n++; if (!first && seq[i] <= last) increasing = false; last = seq[i]; first = false; }
    CHECK_EQ(n, 5);   /* 0 1 2 4 6 or 0 1 2 5 6 */
    CHECK(increasing);
    CHECK_EQ(nw_lis(seq, 0, keep), NW_OK);
}

static void test_live_limited(void) {
    uint32_t t;
    nw_store *s = new_store(&t);
    nw_live *L = nw_live_new();
    nw_live_attach(L, s);
    nw_buf q; nw_buf_init(&q);
    order_spec(&q, 2);
    nw_sub *sub; nw_error e = { 0 };
    CHECK_EQ(nw_live_subscribe(L, s, t, q.p, true, &sub, &e), NW_OK);
    put(s, t, "a", "A", 5);
    put(s, t, "b", "B", 3);
    put(s, t, "c", "C", 9);    /* past the limit */
    uint32_t n; const uint32_t *slots = nw_sub_slots(sub, &n);
    CHECK_EQ(n, 2);
    put(s, t, "a", "A", 1);    /* moves to the front */
    del(s, t, "b");            /* a full limited result refills: c enters */
    slots = nw_sub_slots(sub, &n);
    CHECK_EQ(n, 2);
    const nw_table *tb = nw_store_table(s, t);
    CHECK_MEM(nw_table_row(tb, slots[0]) + 9, 1, "a");
    CHECK_MEM(nw_table_row(tb, slots[1]) + 9, 1, "c");
    CHECK(nw_live_report_count(L) >= 3);
    nw_live_stats st = nw_live_get_stats(L);
    CHECK(st.incremental >= 3 && st.reruns >= 1);
    nw_live_unsubscribe(L, sub);
    nw_buf_free(&q);
    nw_live_free(L);
    nw_store_free(s);
}

static nw_tpl *compile(const char *src) {
    nw_tpl *t = NULL; nw_error e = { 0 };
    CHECK_EQ(nw_tpl_compile(src, strlen(src), NULL, 0, false, &t, &e), NW_OK);
    return t;
}

static void test_dom_program(void) {
    nw_tpl *t = compile("<ul class=\"x {{#on}}on{{/on}}\">{{#items}}<li>{{name}}</li>{{/items}}</ul><p>a {{b}} c</p>");
    nw_tpl_dom *d = NULL; nw_error e = { 0 };
    CHECK_EQ(nw_tpl_dom_build(t, &d, &e), NW_OK);
    CHECK_EQ(d->nblocks, 2);
    const nw_dom_block *root = &d->blocks[0];
    CHECK_MEM(d->pool + root->html, root->nhtml, "<ul class=\"\"><!--nw--></ul><p></p>");
    CHECK_EQ(root->nslots, 3);
    CHECK_EQ(d->slots[root->slot0].kind, DS_ATTR);
    CHECK_EQ(d->slots[root->slot0 + 1].kind, DS_LIST);
    CHECK(d->slots[root->slot0 + 1].flags & DSF_ONLY);
    CHECK_EQ(d->slots[root->slot0 + 2].kind, DS_CONTENT);   /* the whole content of <p> */
    const nw_dom_block *item = &d->blocks[1];
    CHECK_MEM(d->pool + item->html, item->nhtml, "<li></li>");
    CHECK_EQ(d->slots[item->slot0].kind, DS_CONTENT);
    nw_tpl_dom_free(d);
    nw_tpl_free(t);
    const char *refused[] = { "<div {{#x}}hidden{{/x}}></div>", "{{#x}}<b>{{/x}}", "<p><!-- {{x}} --></p>", "<a><b></a>" };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        t = compile(refused[i]);
        e = (nw_error){ 0 };
        CHECK_EQ(nw_tpl_dom_build(t, &d, &e), NW_E_TEMPLATE);
        nw_tpl_free(t);
    }
}

/* Counts the edit ops of each kind in an edit stream; *max_id (if given)
 * gets the highest instance id created. */
static void count_ops(const nw_edits *ed, uint32_t *count, uint32_t *max_id) {
    const uint8_t *p = ed->ops.p;
    size_t n = ed->ops.len / 4;
    static const uint8_t width[] = { 0, 5, 5, 5, 5, 5, 5, 5, 2, 3, 2, 2, 2 };
    memset(count, 0, sizeof(uint32_t) * NW_ED_COUNT);
    for (size_t i = 0; i < n;) {
        uint32_t op = nw_rd_u32(p + i * 4);
        CHECK(op > 0 && op < NW_ED_COUNT);
        if (!(op > 0 && op < NW_ED_COUNT)) return;
        count[op]++;
        if (op == NW_ED_CREATE && max_id && nw_rd_u32(p + (i + 1) * 4) > *max_id) *max_id = nw_rd_u32(p + (i + 1) * 4);
        i += width[op];
    }
}

/* A store of R records, a live query over them ordered by pos, and a view
 * of `src` over { rows: that query }. */
typedef struct fixture {
    uint32_t t; nw_store *s; nw_live *L; nw_tpl *tp; nw_tpl_dom *d;
    nw_buf q, data; nw_view *v; nw_edits ed; nw_error e;
} fixture;

static void fx_open(fixture *f, const char *src) {
    memset(f, 0, sizeof *f);
    f->s = new_store(&f->t);
    f->L = nw_live_new();
    nw_live_attach(f->L, f->s);
    f->tp = compile(src);
    CHECK_EQ(nw_tpl_dom_build(f->tp, &f->d, &f->e), NW_OK);
    nw_buf_init(&f->q); order_spec(&f->q, -1);
    nw_sub *sub;
    CHECK_EQ(nw_live_subscribe(f->L, f->s, f->t, f->q.p, false, &sub, &f->e), NW_OK);
    nw_buf_init(&f->data);
    nvb_obj(&f->data, 1); nvb_key(&f->data, "rows"); nw_buf_byte(&f->data, NVAL_QUERY); nw_buf_u32(&f->data, 0);
    nw_edits_init(&f->ed);
    CHECK_EQ(nw_view_create(1, f->d, f->L, &f->v, &f->e), NW_OK);
    CHECK_EQ(nw_view_set_data(f->v, f->data.p, f->data.len, &sub, 1, &f->e), NW_OK);
}

/* Renders into fresh edits and counts them. */
static void fx_render(fixture *f, bool full, uint32_t *count, uint32_t *max_id) {
    nw_edits_reset(&f->ed);
    CHECK_EQ(nw_view_render(f->v, f->s, full, &f->ed, &f->e), NW_OK);
    count_ops(&f->ed, count, max_id);
}

static void fx_close(fixture *f) {
    nw_view_destroy(f->v);
    nw_edits_free(&f->ed);
    nw_buf_free(&f->data);
    nw_buf_free(&f->q);
    nw_tpl_dom_free(f->d);
    nw_tpl_free(f->tp);
    nw_live_free(f->L);
    nw_store_free(f->s);
}

static void test_view_diff(void) {
    fixture f;
    fx_open(&f, "{{#rows}}<tr><td>{{id}}</td><td>{{label}}</td></tr>{{/rows}}");
    for (int i = 0; i < 5; i++) { char id[4] = { (char)('a' + i), 0 }; put(f.s, f.t, id, "x", i); }
    uint32_t c[NW_ED_COUNT];
    fx_render(&f, true, c, NULL);
    CHECK_EQ(c[NW_ED_CREATE], 6);   /* the root and 5 rows */
    CHECK_EQ(c[NW_ED_INSERT], 5);
    CHECK_EQ(c[NW_ED_TEXT], 10);
    /* one label changed: one text edit, nothing else */
    put(f.s, f.t, "c", "changed", 2);
    CHECK(nw_view_stale(f.v));
    fx_render(&f, false, c, NULL);
    CHECK_EQ(c[NW_ED_TEXT], 1);
    CHECK_EQ(c[NW_ED_CREATE] + c[NW_ED_INSERT] + c[NW_ED_MOVE] + c[NW_ED_REMOVE], 0);
    /* swap the first and last: two moves at most, no text */
    put(f.s, f.t, "a", "x", 10);
    put(f.s, f.t, "e", "x", -1);
    fx_render(&f, false, c, NULL);
    CHECK(c[NW_ED_MOVE] >= 1 && c[NW_ED_MOVE] <= 2);
    CHECK_EQ(c[NW_ED_TEXT] + c[NW_ED_CREATE], 0);
    /* delete everything: one clear (the list is the whole content) */
    for (int i = 0; i < 5; i++) { char id[4] = { (char)('a' + i), 0 }; del(f.s, f.t, id); }
    fx_render(&f, false, c, NULL);
    CHECK_EQ(c[NW_ED_CLEAR], 1);
    CHECK_EQ(c[NW_ED_DROP], 5);
    CHECK(!nw_view_stale(f.v));
    fx_close(&f);
}

/* Instances removed are reused: after clearing and refilling a long list
 * again and again, no id exceeds the most instances held at once. */
static void test_ids_reused(void) {
    fixture f;
    fx_open(&f, "{{#rows}}<p>{{label}}</p>{{/rows}}");
    uint32_t c[NW_ED_COUNT], max_id = 0, next = 0;
    char id[16];
    for (int round = 0; round < 6; round++, next += 200) {
        for (int i = 0; i < 200; i++) { snprintf(id, sizeof id, "r%u", next + (uint32_t)i); put(f.s, f.t, id, "x", i); }
        fx_render(&f, round == 0, c, &max_id);
        for (int i = 0; i < 200; i++) { snprintf(id, sizeof id, "r%u", next + (uint32_t)i); del(f.s, f.t, id); }
        fx_render(&f, false, c, &max_id);
    }
    CHECK(max_id > 0 && max_id <= 201);   /* the root and 200 rows */
    fx_close(&f);
}

int main(void) {
    RUN(test_lis);
    RUN(test_live_limited);
    RUN(test_dom_program);
    RUN(test_view_diff);
    RUN(test_ids_reused);
    return check_summary("view");
}
