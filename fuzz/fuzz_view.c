/* fuzz_view.c - libFuzzer target for live views: the DOM program compiler
 * (tpl_dom.c) and the diffing walk (view.c).
 *
 * Input: as fuzz_template.c (NUL-separated template and partials "a", "b",
 * ...; the first byte picks the data variants). Whatever compiles and
 * mounts is rendered over one value, then over another (items reordered,
 * dropped, changed), then again over the first. Every call must return a
 * code; the edit stream must be well formed (known ops, instance ids that
 * exist, string ranges inside the blob) and the blob valid UTF-8.
 *
 *   bash build.sh --fuzz && build/fuzz/fuzz_view -max_total_time=60 -max_len=4096
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "view.h"
#include "escape.h"
#include "nval.h"
#include "fuzz_sources.h"

static nw_buf data[3];

static void str(nw_buf *b, const char *s) { nw_buf_byte(b, NVAL_STR); nw_buf_u32(b, (uint32_t)strlen(s)); nw_buf_str(b, s); }
static void key(nw_buf *b, const char *k) { nw_buf_u32(b, (uint32_t)strlen(k)); nw_buf_str(b, k); }

static void item(nw_buf *b, const char *id, const char *name, int on) {
    nw_buf_byte(b, NVAL_OBJ); nw_buf_u32(b, 3);
    key(b, "id"); str(b, id);
    key(b, "name"); str(b, name);
    key(b, "on"); nw_buf_byte(b, on ? NVAL_TRUE : NVAL_FALSE);
}

static void build(nw_buf *b, int variant) {
    nw_buf_init(b);
    nw_buf_byte(b, NVAL_OBJ); nw_buf_u32(b, 4);
    key(b, "name"); str(b, variant ? "x<&\"'` \xC3\xA9 &amp;\r\n" : "plain");
    key(b, "u"); str(b, variant == 1 ? "javascript:alert(1)" : "/ok");
    key(b, "t"); nw_buf_byte(b, variant == 2 ? NVAL_FALSE : NVAL_TRUE);
    key(b, "list"); nw_buf_byte(b, NVAL_ARR);
    if (variant == 0) { nw_buf_u32(b, 4); item(b, "a", "A", 1); item(b, "b", "B", 0); item(b, "c", "C", 1); item(b, "d", "D", 0); }
    else if (variant == 1) { nw_buf_u32(b, 3); item(b, "d", "D", 1); item(b, "b", "B2", 0); item(b, "e", "<i>E</i>", 1); }
    else { nw_buf_u32(b, 2); item(b, "a", "A", 0); item(b, "a", "dup", 1); }
}

static void check_edits(const nw_edits *e, uint32_t *live, uint32_t cap) {
    static const uint8_t width[NW_ED_COUNT] = { 0, 5, 5, 5, 5, 5, 5, 5, 2, 3, 2, 2, 2 };
    size_t n = e->ops.len / 4;
    const uint8_t *p = e->ops.p;
    for (size_t i = 0; i < n;) {
        uint32_t op = nw_rd_u32(p + i * 4);
        if (op == 0 || op >= NW_ED_COUNT || i + width[op] > n) abort();
        uint32_t a = width[op] > 1 ? nw_rd_u32(p + (i + 1) * 4) : 0;
        if (op == NW_ED_CREATE) { if (a >= cap) abort(); live[a] = 1; }
        else if (op != NW_ED_VIEW) { if (a >= cap || !live[a]) abort(); }
        if (op == NW_ED_REMOVE || op == NW_ED_DROP) live[a] = 0;
        if (op >= NW_ED_TEXT && op <= NW_ED_DECODE) {
            uint32_t off = nw_rd_u32(p + (i + 3) * 4), len = nw_rd_u32(p + (i + 4) * 4);
            if (off > e->u16 || len > e->u16 - off) abort();
        }
        i += width[op];
    }
    for (size_t i = 0; i < e->strs.len;) {
        size_t bad, k = nw_utf8_seq(e->strs.p + i, e->strs.len - i, &bad);
        if (!k) abort();
        i += k;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size) {
    if (!data[0].p) for (int i = 0; i < 3; i++) build(&data[i], i);
    if (size == 0) return 0;
    const char *src = (const char *)in + 1;
    size_t len = size - 1;
    nw_tpl_partial parts[8];
    size_t main_len, np = fuzz_sources(src, len, &main_len, parts);
    nw_error err = { 0 };
    nw_tpl *t = NULL;
    if (nw_tpl_compile(src, main_len, parts, np, false, &t, &err) != NW_OK) return 0;
    nw_tpl_dom *d = NULL;
    nw_code rc = nw_tpl_dom_build(t, &d, &err);
    if (rc && rc != NW_E_TEMPLATE && rc != NW_E_LIMIT) abort();
    if (!rc) {
        nw_live *L = nw_live_new();
        nw_store *s = nw_store_new();
        nw_view *v = NULL;
        nw_edits e;
        nw_edits_init(&e);
        static uint32_t live[1 << 16];
        memset(live, 0, sizeof live);
        if (L && s && nw_view_create(1, d, L, &v, &err) == NW_OK) {
            int order[3] = { 0, 1 + (in[0] & 1), 0 };
            for (int k = 0; k < 3; k++) {
                if (nw_view_set_data(v, data[order[k]].p, data[order[k]].len, NULL, 0, &err) != NW_OK) break;
                nw_edits_reset(&e);
                rc = nw_view_render(v, s, true, &e, &err);
                if (rc && rc != NW_E_LIMIT) abort();
                if (e.ops.len / 4 < (1 << 16)) check_edits(&e, live, 1 << 16);
                if (rc) break;
            }
            nw_view_destroy(v);
        }
        nw_edits_free(&e);
        nw_store_free(s);
        nw_live_free(L);
        nw_tpl_dom_free(d);
    }
    nw_tpl_free(t);
    return 0;
}
