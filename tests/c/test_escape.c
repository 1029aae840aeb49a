/* test_escape.c - the C escaping rules (src/escape.h), natively under
 * ASan/UBSan. The shared JS/C table (tests/fixtures/escape-cases.json) runs
 * through WASM templates in tests/js/escape-wasm.test.js; this file covers
 * what only C sees: invalid UTF-8, the streaming URL check split at every
 * byte, and the ASCII flag. */
#include "check.h"
#include "escape.h"
#include "alloc.h"
#include <stdlib.h>

static nw_buf out;

/* Escapes s (length n) and compares with want. */
#define ESC(s, n, want) do { nw_buf_reset(&out); nw_escape_html(&out, (s), (n)); CHECK_MEM(out.p, out.len, (want)); } while (0)
#define ESCS(s, want) ESC((s), strlen(s), (want))

static void specials(void) {
    ESCS("", "");
    ESCS("plain text", "plain text");
    ESCS("&<>\"'`", "&amp;&lt;&gt;&quot;&#39;&#96;");
    ESCS("a < b && c > d", "a &lt; b &amp;&amp; c &gt; d");
    ESCS("&amp;", "&amp;amp;");
    ESCS("{{x}} ${y} = 1; /x/", "{{x}} ${y} = 1; /x/");
    ESCS("\t\r\n\x01\x1f\x7f", "\t\r\n\x01\x1f\x7f");
}

static void utf8_and_nul(void) {
    ESC("a\0b", 3, "a\xEF\xBF\xBD" "b");
    ESCS("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x9A\x80", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x9A\x80");
    /* one U+FFFD per maximal invalid subpart, as TextDecoder does */
    ESCS("\x80", "\xEF\xBF\xBD");
    ESCS("\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD");                 /* overlong lead */
    ESCS("\xE2\x82", "\xEF\xBF\xBD");                             /* truncated */
    ESCS("\xE2\x82x", "\xEF\xBF\xBDx");
    ESCS("\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  /* surrogate */
    ESCS("\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); /* > U+10FFFF */
    ESCS("\xF0\x9F\x9A", "\xEF\xBF\xBD");
    ESCS("\xFF<", "\xEF\xBF\xBD&lt;");
}

static void ascii_flag(void) {
    nw_buf_reset(&out);
    CHECK(!nw_escape_html(&out, "<ascii & only>", 14));
    CHECK(nw_escape_html(&out, "\xC3\xA9", 2));
    CHECK(nw_escape_html(&out, "\0", 1));
    CHECK(nw_escape_html(&out, "\x80", 1));
}

static void long_input(void) {
    /* crosses the 4 KiB chunking with specials and multi-byte characters
     * straddling the chunk borders */
    size_t n = 20000;
    char *s = malloc(n);
    for (size_t i = 0; i < n; i++) s[i] = (char)"ab<\xC3\xA9"[i % 5];
    nw_buf_reset(&out);
    nw_escape_html(&out, s, n);
    size_t lt = 0, e9 = 0;
    for (size_t i = 0; i + 4 <= out.len; i++) lt += !memcmp(out.p + i, "&lt;", 4);
    for (size_t i = 0; i + 2 <= out.len; i++) e9 += !memcmp(out.p + i, "\xC3\xA9", 2);
    CHECK_EQ(lt, n / 5);
    CHECK_EQ(e9, n / 5);
    CHECK_EQ(out.len, n / 5 * (2 + 4 + 2));
    free(s);
}

static bool safe(const char *s) { return nw_url_is_safe(s, strlen(s)); }

static void url_schemes(void) {
    const char *ok[] = {
        "", "https://example.com/", "/a:b", "?javascript:x", "#javascript:x", "mailto:a@b",
        "javascript", "xjavascript:alert(1)", "java script:x", "jav\xC3\xA1script:x",
        "data:image/png;base64,AAAA", "data:image/jpeg,x", "data:image/jpg;x", "data:image/webp,",
        "data:image/avif;", "data:image/bmp,", "data:image/gif;", "&#0;javascript:x",
        "&#x;javascript:x", "&#x6Aavascript:x", "&javascript:", "\xC2\xA0javascript:x",
        "java\x01script:x",
    };
    const char *bad[] = {
        "javascript:alert(1)", "JAVASCRIPT:x", " javascript:x", "\x01\x02javascript:x",
        "java\tscript:x", "java\nscript:x", "j\ta\rv\na\tscript:x", "&#106;avascript:x",
        "&#106avascript:x", "&#x6A;avascript:x", "&#X6a;avascript:x", "javascript&colon;x",
        "javascript&COLON;x", "javascript&colonx", "jav&Tab;ascript:x", "jav&tabascript:x",
        "java&NewLine;script:x", "&#32;javascript:x", "&Tab;javascript:x", "&#1\t06;avascript:x",
        "vbscript:x", "VBScript:x", "data:text/html,x", "data:", "data:image/png",
        "data:image/svg+xml,x", "data:image/pngx;x", "data: image/png;x", "DATA:image/",
        "&#100;ata:text/html", "javascript&#x3A%61lert(1)", "&#0000106;avascript:x",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (!safe(ok[i])) fprintf(stderr, "  should be safe: %s\n", ok[i]);
        CHECK(safe(ok[i]));
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (safe(bad[i])) fprintf(stderr, "  should be refused: %s\n", bad[i]);
        CHECK(!safe(bad[i]));
    }
    /* a NUL that is not leading is a character like any other */
    CHECK(nw_url_is_safe("java\0script:x", 13));
    CHECK(!nw_url_is_safe("\0javascript:x", 13));
    /* leading whitespace of any length */
    size_t n = 100000;
    char *s = malloc(n + 12);
    memset(s, ' ', n);
    memcpy(s + n, "javascript:", 11);
    CHECK(!nw_url_is_safe(s, n + 11));
    free(s);
}

/* Feeding a value in two pieces split anywhere gives the same verdict. */
static void url_streaming(void) {
    const char *vals[] = {
        "&#106;avascript:x", "javascript&colon;x", "jav&Tab;ascript:x", "&#x6Aavascript:x",
        "data:image/png;x", "data:image/pngx", "&#x;javascript:x", "java&NewLine;script:x",
        " \t&#32;vbscript:", "&co", "&#", "&#x", "&newlin", "https://x/&#58;",
    };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        size_t n = strlen(vals[i]);
        bool whole = nw_url_is_safe(vals[i], n);
        for (size_t cut = 0; cut <= n; cut++) {
            for (size_t cut2 = cut; cut2 <= n; cut2++) {
                nw_url_check c;
                nw_url_check_init(&c);
                nw_url_check_feed(&c, vals[i], cut);
                nw_url_check_feed(&c, vals[i] + cut, cut2 - cut);
                nw_url_check_feed(&c, vals[i] + cut2, n - cut2);
                CHECK_EQ(!nw_url_check_dangerous(&c), whole);
            }
        }
    }
}

static void url_attrs(void) {
    const char *yes[] = { "href", "HREF", "src", "action", "formaction", "FormAction", "xlink:href",
                          "poster", "cite", "background", "codebase", "data", "manifest",
                          "longdesc", "usemap", "profile", "classid", "icon" };
    const char *no[] = { "srcset", "title", "data-href", "href2", "xhref", "", "hre" };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) CHECK(nw_is_url_attr(yes[i], strlen(yes[i])));
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) CHECK(!nw_is_url_attr(no[i], strlen(no[i])));
}

static bool name_ok(const char *s) { return nw_is_valid_attr_name(s, strlen(s)); }

static void attr_names(void) {
    CHECK(name_ok("class"));
    CHECK(name_ok("data-on:click"));
    CHECK(name_ok("@click.prevent"));
    CHECK(name_ok("onclick"));
    CHECK(name_ok("x\x7f"));
    CHECK(name_ok("\xC3\xA9t\xC3\xA9"));
    CHECK(!name_ok(""));
    CHECK(!name_ok("a b"));
    CHECK(!name_ok("a\tb"));
    CHECK(!name_ok("a=b"));
    CHECK(!name_ok("a>"));
    CHECK(!name_ok("a/"));
    CHECK(!name_ok("\"a"));
    CHECK(!name_ok("'a"));
    CHECK(!name_ok("<a"));
    CHECK(!name_ok("`a"));
    CHECK(!nw_is_valid_attr_name("a\0", 2));
    CHECK(!name_ok("a\x1f"));
    CHECK(!name_ok("\xEF\xB7\x90"));      /* U+FDD0 */
    CHECK(!name_ok("\xEF\xBF\xBE"));      /* U+FFFE */
    CHECK(!name_ok("\xF0\x9F\xBF\xBF"));  /* U+1FFFF */
    CHECK(!name_ok("\xED\xA0\x80"));      /* a surrogate is not UTF-8 */
    CHECK(!name_ok("\xC3"));
}

int main(void) {
    nw_buf_init(&out);
    nw_buf_reserve(&out, 16);   /* CHECK_MEM compares with memcmp: never NULL */
    RUN(specials);
    RUN(utf8_and_nul);
    RUN(ascii_flag);
    RUN(long_input);
    RUN(url_schemes);
    RUN(url_streaming);
    RUN(url_attrs);
    RUN(attr_names);
    nw_buf_free(&out);
    return check_summary("escape");
}
