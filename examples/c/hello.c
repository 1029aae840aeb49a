/* hello.c - the nitro C core used from C: define an entity, store records,
 * query them in order and render them with a Mustache template, no JS.
 *
 * Build (bash build.sh --emscripten makes dist/c/) and run:
 *   emcc -O2 -sALLOW_MEMORY_GROWTH -sENVIRONMENT=node -sWASM_ASYNC_COMPILATION=0 \
 *     examples/c/hello.c -Idist/c/include dist/c/libnitro.a -o hello.js
 *   node hello.js
 * (tests/emcc/c-library.test.js does exactly this.)
 *
 * Values cross into the store as NVAL bytes (nval.h); a few helpers below
 * write them with an nw_buf (buf.h).
 */
#include <stdio.h>
#include <string.h>
#include "nitro.h"   /* store.h, query.h, record_view.h, template.h, nval.h, alloc.h */

static void put_key(nw_buf *b, const char *k) { nw_buf_u32(b, (uint32_t)strlen(k)); nw_buf_str(b, k); }
static void put_str(nw_buf *b, const char *s) { nw_buf_byte(b, NVAL_STR); put_key(b, s); }
static void put_obj(nw_buf *b, uint32_t n) { nw_buf_byte(b, NVAL_OBJ); nw_buf_u32(b, n); }
static void put_arr(nw_buf *b, uint32_t n) { nw_buf_byte(b, NVAL_ARR); nw_buf_u32(b, n); }
static void put_bool(nw_buf *b, int v) { nw_buf_byte(b, v ? NVAL_TRUE : NVAL_FALSE); }

/* Task { title: string required, done: bool default false } */
static void task_schema(nw_buf *b) {
    put_obj(b, 2);
    put_key(b, "name"); put_str(b, "Task");
    put_key(b, "fields"); put_obj(b, 2);
      put_key(b, "title"); put_obj(b, 2);
        put_key(b, "type"); put_str(b, "string");
        put_key(b, "required"); put_bool(b, 1);
      put_key(b, "done"); put_obj(b, 2);
        put_key(b, "type"); put_str(b, "bool");
        put_key(b, "default"); put_bool(b, 0);
}

/* Creates a task (title NULL: without one) and commits it. */
static nw_code add_task(nw_store *s, uint32_t table, const char *title, int done, nw_error *err) {
    nw_buf b; nw_buf_init(&b);
    put_obj(&b, title ? 2 : 1);
    if (title) { put_key(&b, "title"); put_str(&b, title); }
    put_key(&b, "done"); put_bool(&b, done);
    uint32_t slot;
    size_t mark = nw_store_mark(s);
    nw_code rc = b.oom ? nw_error_nomem(err) : nw_store_create(s, table, b.p, -1, false, &slot, err);
    if (rc == NW_OK) nw_store_release(s, mark);   /* commit */
    else nw_store_rollback(s, mark);
    nw_buf_free(&b);
    return rc;
}

/* Slots of every task ordered by title. *slots is nw_malloc'd. */
static nw_code tasks_by_title(nw_store *s, uint32_t table, uint32_t **slots, uint32_t *n, nw_error *err) {
    nw_buf b; nw_buf_init(&b);
    put_obj(&b, 1);
    put_key(&b, "order"); put_arr(&b, 1); put_arr(&b, 1); put_str(&b, "title");
    nw_query *q = NULL;
    nw_code rc = b.oom ? nw_error_nomem(err) : nw_query_parse(s, table, b.p, &q, err);
    if (rc == NW_OK) rc = nw_query_run(s, q, false, slots, n, err);
    nw_query_free(q);
    nw_buf_free(&b);
    return rc;
}

/* The template's root context: {{heading}} and the {{#tasks}} list. */
typedef struct page { const char *heading; nv tasks; } page;

static bool page_get(const nv *self, const char *key, size_t klen, nv *out) {
    const page *p = self->a;
    if (klen == 5 && memcmp(key, "tasks", 5) == 0) { *out = p->tasks; return true; }
    if (klen == 7 && memcmp(key, "heading", 7) == 0) {
        *out = (nv){ .kind = NV_STR, .u.str = { p->heading, strlen(p->heading) } };
        return true;
    }
    return false;
}

static const nv_ops page_ops = { .get = page_get };

static const char TEMPLATE[] =
    "<h1>{{heading}}</h1>\n"
    "<ul>\n"
    "{{#tasks}}\n"
    "  <li>{{title}}{{#done}} (done){{/done}}</li>\n"
    "{{/tasks}}\n"
    "</ul>\n";

static nw_code render(nw_store *s, uint32_t table, nw_buf *html, nw_error *err) {
    uint32_t *slots = NULL, n = 0;
    nw_code rc = tasks_by_title(s, table, &slots, &n, err);
    nw_tpl *tpl = NULL;
    if (rc == NW_OK) rc = nw_tpl_compile(TEMPLATE, sizeof TEMPLATE - 1, NULL, 0, true, &tpl, err);
    if (rc == NW_OK) {
        page p = { .heading = "Tasks <from C>" };
        nw_slots_view(&p.tasks, nw_store_table(s, table), slots, n);
        nv root = { .kind = NV_MAP, .ops = &page_ops, .a = &p };
        nw_record_views_reset(s);
        rc = nw_tpl_render(tpl, &root, html, NULL, err);
    }
    nw_tpl_free(tpl);
    nw_free(slots);
    return rc;
}

int main(void) {
    nw_error err; nw_error_clear(&err);
    nw_store *s = nw_store_new();
    if (!s) { fputs("out of memory\n", stderr); return 1; }
    nw_store_set_now(s, 1700000000000.0);   /* TTLs and generated ids use this clock */
    nw_buf b; nw_buf_init(&b);
    task_schema(&b);
    uint32_t table = 0;
    nw_code rc = b.oom ? nw_error_nomem(&err) : nw_store_define(s, b.p, &table, &err);
    if (rc == NW_OK) rc = add_task(s, table, "write the docs", 0, &err);
    if (rc == NW_OK) rc = add_task(s, table, "build with emcc", 1, &err);
    if (rc == NW_OK) rc = add_task(s, table, "link libnitro.a & render", 0, &err);
    if (rc == NW_OK) {   /* refused: the title is required, and nothing is stored */
        nw_error why; nw_error_clear(&why);
        nw_code refused = add_task(s, table, NULL, 1, &why);
        printf("<!-- %s: %s.%s %s -->\n", nw_code_name(refused), why.entity, why.field, why.rule);
    }
    nw_buf html; nw_buf_init(&html);
    if (rc == NW_OK) rc = render(s, table, &html, &err);
    if (rc == NW_OK) fwrite(html.p, 1, html.len, stdout);
    else fprintf(stderr, "%s: %s (entity %s, field %s, rule %s)\n", nw_code_name(rc), err.message, err.entity, err.field, err.rule);
    nw_buf_free(&html);
    nw_buf_free(&b);
    nw_store_free(s);
    return rc == NW_OK ? 0 : 1;
}
