/* fuzz_template.c - libFuzzer target for the template compiler and renderer.
 *
 * Input: NUL-separated sources; the first is the template, the others are
 * partials named "a", "b", "c", ... (so templates can include them and each
 * other). The first byte's low bit selects strict mode. Whatever compiles is
 * rendered against a small fixed value; compile and render must return a
 * code (never crash, hang or leak), and render output must be valid UTF-8
 * when the data is (raw values here are valid UTF-8).
 *
 *   bash build.sh --fuzz && build/fuzz/fuzz_template -max_total_time=60 -max_len=4096
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "template.h"
#include "escape.h"
#include "nval.h"
#include "alloc.h"
#include "fuzz_sources.h"

static nw_buf data;

static void str(const char *s) { nw_buf_byte(&data, NVAL_STR); nw_buf_u32(&data, (uint32_t)strlen(s)); nw_buf_str(&data, s); }
static void key(const char *k) { nw_buf_u32(&data, (uint32_t)strlen(k)); nw_buf_str(&data, k); }
static void num(double v) { nw_buf_byte(&data, NVAL_NUM); nw_buf_f64(&data, v); }

static void build_data(void) {
    nw_buf_init(&data);
    nw_buf_byte(&data, NVAL_OBJ); nw_buf_u32(&data, 9);
    key("name"); str("x<&\"'` \xC3\xA9");
    key("u"); str("javascript:alert(1)");
    key("list"); nw_buf_byte(&data, NVAL_ARR); nw_buf_u32(&data, 3);
        num(1); str("two");
        nw_buf_byte(&data, NVAL_OBJ); nw_buf_u32(&data, 2); key("a"); str("b"); key("list"); nw_buf_byte(&data, NVAL_ARR); nw_buf_u32(&data, 0);
    key("t"); nw_buf_byte(&data, NVAL_TRUE);
    key("f"); nw_buf_byte(&data, NVAL_FALSE);
    key("n"); num(0);
    key("d"); nw_buf_byte(&data, NVAL_DATE); nw_buf_f64(&data, 1.7e12);
    key("obj"); nw_buf_byte(&data, NVAL_OBJ); nw_buf_u32(&data, 1); key("deep"); nw_buf_byte(&data, NVAL_OBJ); nw_buf_u32(&data, 1); key("v"); num(1.5);
    key("nul"); nw_buf_byte(&data, NVAL_NULL);
}

static int valid_utf8(const uint8_t *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t bad, k = nw_utf8_seq(p + i, n - i, &bad);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size) {
    if (!data.p) build_data();
    if (size == 0) return 0;
    int strict = in[0] & 1;
    const char *src = (const char *)in + 1;
    size_t len = size - 1;
    nw_tpl_partial parts[8];
    size_t main_len, np = fuzz_sources(src, len, &main_len, parts);
    nw_error err;
    nw_tpl *t = NULL;
    nw_code rc = nw_tpl_compile(src, main_len, parts, np, strict, &t, &err);
    if (rc == NW_OK) {
        nv v;
        nval_view(&v, data.p, NULL);
        nw_buf out;
        nw_buf_init(&out);
        bool ascii = false;
        rc = nw_tpl_render(t, &v, &out, &ascii, &err);
        if (rc != NW_OK && rc != NW_E_LIMIT) abort();
        if (rc == NW_OK) {
            /* literal text is made valid at compile time and the data is
             * valid: the output must be valid UTF-8, and ASCII when flagged */
            if (!valid_utf8(out.p, out.len)) abort();
            if (ascii) for (size_t i = 0; i < out.len; i++) if (out.p[i] >= 0x80) abort();
        }
        nw_buf_free(&out);
        nw_tpl_free(t);
    } else {
        if (rc != NW_E_TEMPLATE && rc != NW_E_LIMIT) abort();
        if (rc == NW_E_TEMPLATE && (err.line == 0 || err.column == 0)) abort();
    }
    return 0;
}
