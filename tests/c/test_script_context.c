/* test_script_context.c - values where the browser or Datastar runs the
 * text as script (docs/templates-security.md), natively under ASan/UBSan:
 * on* handlers, srcdoc, Datastar expression attributes (values allowed only
 * inside a JS string literal, encoded by nw_escape_js_string), partials and
 * blocks included in those places and in <script>/<style>. */
#include "check.h"
#include "template.h"
#include "escape.h"
#include "nval.h"
#include "alloc.h"

static nw_buf out, data;
static nw_error err;

/* {"x": x, "id": x} */
static nv data_x(const char *x) {
    nw_buf_reset(&data);
    nw_buf_byte(&data, NVAL_OBJ);
    nw_buf_u32(&data, 2);
    const char *keys[] = { "x", "id" };
    for (int i = 0; i < 2; i++) {
        nw_buf_u32(&data, (uint32_t)strlen(keys[i]));
        nw_buf_str(&data, keys[i]);
        nw_buf_byte(&data, NVAL_STR);
        nw_buf_u32(&data, (uint32_t)strlen(x));
        nw_buf_str(&data, x);
    }
    nv v;
    nval_view(&v, data.p, NULL);
    return v;
}

/* Compiles src (partials: name, source pairs ending with NULL) and renders it with x. */
static nw_code run(const char *src, const char *const *pp, const char *x) {
    nw_tpl_partial parts[8];
    size_t n = 0;
    for (; pp && pp[2 * n]; n++) {
        parts[n].name = pp[2 * n]; parts[n].name_len = strlen(pp[2 * n]);
        parts[n].src = pp[2 * n + 1]; parts[n].src_len = strlen(pp[2 * n + 1]);
    }
    nw_tpl *t;
    nw_error_clear(&err);
    nw_buf_reset(&out);
    nw_code rc = nw_tpl_compile(src, strlen(src), parts, n, false, &t, &err);
    if (rc) return rc;
    nv d = data_x(x);
    rc = nw_tpl_render(t, &d, &out, NULL, &err);
    nw_tpl_free(t);
    return rc;
}

#define ATTACK "x');alert(1);('"
#define ATTACK2 "\"><img src=x onerror=alert(1)>"

/* Rendered as `want` with x = value. */
#define OK(src, x, want) do { nw_code _rc = run((src), NULL, (x)); \
    if (_rc) fprintf(stderr, "  %s:%d: %s\n", __FILE__, __LINE__, err.message); \
    CHECK_EQ(_rc, NW_OK); CHECK_MEM(out.p, out.len, (want)); } while (0)
/* Refused at compile time with TEMPLATE / "context", at line l column c,
 * the message holding `has`. */
#define NO_P(src, pp, l, c, has) do { nw_code _rc = run((src), (pp), ATTACK); CHECK_EQ(_rc, NW_E_TEMPLATE); \
    CHECK(!strcmp(err.rule, "context")); CHECK_EQ(err.line, (l)); CHECK_EQ(err.column, (c)); \
    CHECK(strstr(err.message, (has)) != NULL); \
    if (_rc != NW_E_TEMPLATE || !strstr(err.message, (has)) || err.line != (l) || err.column != (c)) \
        fprintf(stderr, "  %s:%d: rc %d (%u:%u) %s\n", __FILE__, __LINE__, (int)_rc, err.line, err.column, err.message); \
    } while (0)
#define NO(src, l, c, has) NO_P((src), NULL, (l), (c), (has))
#define PARTS(...) (const char *const[]){ __VA_ARGS__, NULL }

static void event_handlers(void) {
    NO("<button onclick=\"go('{{x}}')\">", 1, 22, "onclick=");
    NO("<button onclick=\"go('{{x}}')\">", 1, 22, "data-* attribute and read el.dataset");
    NO("<body onload='{{x}}'>", 1, 15, "onload=");
    NO("<a ONMouseOver=\"{{{x}}}\">", 1, 17, "onmouseover=");
    NO("<a onclick=\"{{&x}}\">", 1, 13, "{{&x}}");
    NO("<a onclick={{{x}}}>", 1, 12, "onclick=");
    NO("<a onclick=\"{{#x}}{{x}}{{/x}}\">", 1, 19, "onclick=");
    NO("<a onfocus=\"x\"\n   onblur=\"a({{x}})\">", 2, 14, "onblur=");
    /* the attribute after a handler is an ordinary one again */
    OK("<a onclick=\"go()\" title=\"{{x}}\">", ATTACK2, "<a onclick=\"go()\" title=\"&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\">");
    /* sections without values are the author's text */
    OK("<a onclick=\"{{#x}}go(){{/x}}\">", "1", "<a onclick=\"go()\">");
}

static void srcdoc(void) {
    NO("<iframe srcdoc=\"{{x}}\"></iframe>", 1, 17, "srcdoc=");
    NO("<iframe SRCDOC='<p>{{{x}}}</p>'></iframe>", 1, 20, "live HTML");
    OK("<iframe title=\"{{x}}\" srcdoc=\"<p>hi</p>\"></iframe>", "t", "<iframe title=\"t\" srcdoc=\"<p>hi</p>\"></iframe>");
}

static void datastar_strings(void) {
    /* the bench's row: a value inside a JS string stays one string */
    OK("<tr data-on:click=\"@post('/tasks/{{id}}/toggle')\">", ATTACK,
       "<tr data-on:click=\"@post('/tasks/x\\x27\\x29\\x3balert\\x281\\x29\\x3b\\x28\\x27/toggle')\">");
    OK("<tr data-on:click=\"@post('/tasks/{{id}}/toggle')\">", "abc-9", "<tr data-on:click=\"@post('/tasks/abc-9/toggle')\">");
    OK("<p data-text='\"{{x}}\"'>", ATTACK2,
       "<p data-text='\"\\x22\\x3e\\x3cimg src\\x3dx onerror\\x3dalert\\x281\\x29\\x3e\"'>");
    OK("<p data-signals:q=\"'{{x}}'\">", "\\ ` \n \xE2\x80\xA8 \xF0\x9F\x9A\x80 \xC3",
       "<p data-signals:q=\"'\\x5c \\x60 \\x0a \\u2028 \\ud83d\\ude80 \\ufffd'\">");
    OK("<p data-on-click=\"@get('{{x}}')\" data-class:done=\"$d == 'a{{x}}'\">", "1",
       "<p data-on-click=\"@get('1')\" data-class:done=\"$d == 'a1'\">");
    /* an escaped quote does not end the string; the string after a closed one is a string too */
    OK("<p data-show=\"'it\\'s {{x}}' + 'b' + '{{x}}'\">", "&", "<p data-show=\"'it\\'s \\x26' + 'b' + '\\x26'\">");
    /* a long attribute name is judged by its start */
    OK("<p data-on:click__debounce.500ms__prevent__window=\"@post('/{{x}}')\">", "<",
       "<p data-on:click__debounce.500ms__prevent__window=\"@post('/\\x3c')\">");
    /* plain data-* attributes are HTML-escaped as before */
    OK("<p data-id=\"{{x}}\" data-texts=\"{{x}}\" data-online=\"{{x}}\">", "'",
       "<p data-id=\"&#39;\" data-texts=\"&#39;\" data-online=\"&#39;\">");
}

static void datastar_code(void) {
    NO("<p data-show=\"{{x}}\">", 1, 15, "data-show=");
    NO("<p data-show=\"{{x}}\">", 1, 15, "not inside a '...' string");
    NO("<p data-on:click=\"$n = {{x}}\">", 1, 24, "data-on:click=");
    NO("<p data-text=\"`${{{x}}}`\">", 1, 17, "data-text=");
    NO("<p data-text=\"`a {{x}}`\">", 1, 18, "data-text=");
    NO("<p data-effect=\"x('a') + {{x}}\">", 1, 26, "data-effect=");
    NO("<p data-signals=\"{a: {{x}}}\">", 1, 22, "data-signals=");
    NO("<p data-attr:title=\"'{{{x}}}'\">", 1, 22, "{{{x}}}");
    NO("<p data-on:click=\"@post('/a/{{&x}}')\">", 1, 29, "{{&x}}");
    NO("<p data-computed:n=\"{{x}} + 1\" >", 1, 21, "data-computed:n=");
    NO("<p data-init=\"{{x}}\" data-style:color=\"'{{x}}'\">", 1, 15, "data-init=");
    NO("<p data-on-intersect=\"{{x}}\">", 1, 23, "data-on-intersect=");
    NO("<p data-bind=\"{{x}}\">", 1, 15, "data-bind=");
    NO("<p data-ref=\"{{x}}\">", 1, 14, "data-ref=");
    NO("<p data-json-signals=\"{{x}}\">", 1, 23, "data-json-signals=");
    NO("<p data-indicator:busy=\"{{x}}\">", 1, 25, "data-indicator:busy=");
    /* what the lexer cannot follow: a '/' in code (regex or comment), a character reference */
    NO("<p data-show=\"/'/.test($a) && '{{x}}'\">", 1, 32, "data-show=");
    NO("<p data-show=\"$a // '{{x}}'\">", 1, 22, "data-show=");
    NO("<p data-show=\"&#39;{{x}}&#39;\">", 1, 20, "data-show=");
    NO("<p data-show=\"'&quot;{{x}}'\">", 1, 22, "data-show=");
    NO("<p data-show=\"'&{{x}}'\">", 1, 17, "data-show=");
    /* a string left open by a newline is a syntax error: nothing after it counts as a string */
    NO("<p data-show=\"'a\n{{x}}'\">", 2, 1, "data-show=");
    /* a section that opens or closes a string may leave either state */
    NO("<p data-show=\"{{#q}}'{{/q}}{{x}}\">", 1, 28, "data-show=");
    OK("<p data-show=\"'{{#x}}{{x}}{{/x}}{{^x}}none{{/x}}'\">", ATTACK, "<p data-show=\"'x\\x27\\x29\\x3balert\\x281\\x29\\x3b\\x28\\x27'\">");
    /* && outside a reference is an operator */
    OK("<p data-show=\"$a && '{{x}}'\">", "b", "<p data-show=\"$a && 'b'\">");
}

static void javascript_urls(void) {
    /* a literal javascript: URL runs its text: values only inside its strings, encoded */
    OK("<a href=\"javascript:go('{{x}}')\">", ATTACK, "<a href=\"javascript:go('x\\x27\\x29\\x3balert\\x281\\x29\\x3b\\x28\\x27')\">");
    OK("<a HREF=' JavaScript:go(\"{{x}}\")'>", "%27", "<a HREF=' JavaScript:go(\"\\x2527\")'>");
    NO("<a href=\"javascript:go({{x}})\">", 1, 24, "javascript: URL of href=");
    NO("<a href=\"java\nscript:{{x}}\">", 2, 8, "javascript: URL of href=");
    NO("<form action=\"javascript:{{{x}}}\">", 1, 26, "javascript: URL of action=");
    /* a literal % may decode to a quote before the code runs */
    NO("<a href=\"javascript:go('%27{{x}}')\">", 1, 28, "href=");
    /* a scheme a value helps decide is the render-time URL check's: about:invalid */
    OK("<a href=\"java{{x}}\">", "script:alert(1)", "<a href=\"about:invalid\">");
    OK("<a href=\"/go?q={{x}}\">", ATTACK, "<a href=\"/go?q=x&#39;);alert(1);(&#39;\">");
}

static void partials_take_their_context(void) {
    /* item 3: a partial inside <script> is compiled as script */
    NO_P("<script>{{>p}}</script>", PARTS("p", "var a = {{x}};"), 1, 9, "partial \"p\"");
    NO_P("<script>{{>p}}</script>", PARTS("p", "var a = {{x}};"), 1, 9, "inside <script>");
    NO_P("<style>{{>p}}</style>", PARTS("p", "p { color: {{x}} }"), 1, 12, "inside <style>");
    NO_P("<script>var s = '</scr' + '{{>p}}';</script>", PARTS("p", "{{x}}"), 1, 1, "inside <script>");
    /* ... and inside attribute values */
    NO_P("<a onclick=\"{{>p}}\">", PARTS("p", "go('{{x}}')"), 1, 5, "onclick=");
    NO_P("<a data-show=\"{{>p}}\">", PARTS("p", "{{x}}"), 1, 1, "data-show=");
    NO_P("<iframe srcdoc=\"{{>p}}\">", PARTS("p", "<b>{{x}}</b>"), 1, 4, "srcdoc=");
    NO_P("<a title=\"{{>p}}\">", PARTS("p", "x\" onclick=\"{{x}}"), 1, 13, "onclick=");
    NO_P("<a {{>p}}>", PARTS("p", "onclick=\"{{x}}\""), 1, 10, "onclick=");
    NO_P("<div>{{>outer}}</div>", PARTS("outer", "<script>{{>inner}}</script>", "inner", "{{x}}"), 1, 1, "partial \"inner\"");
    /* the same partial stays fine in text, and inside a JS string it is encoded */
    const char *const pp[] = { "p", "{{x}}", NULL };
    CHECK_EQ(run("<b>{{>p}}</b><a data-on:click=\"@post('/t/{{>p}}')\">", pp, ATTACK), NW_OK);
    CHECK_MEM(out.p, out.len, "<b>x&#39;);alert(1);(&#39;</b><a data-on:click=\"@post('/t/x\\x27\\x29\\x3balert\\x281\\x29\\x3b\\x28\\x27')\">");
    /* after a partial the lexer does not know where it is */
    NO_P("<a data-on:click=\"@post('{{>p}}', '{{x}}')\">", pp, 1, 36, "data-on:click=");
    /* a partial that includes itself in <script> ends (one program per context) */
    const char *const rec[] = { "p", "{{#n}}{{>p}}{{/n}}", NULL };
    CHECK_EQ(run("<script>{{>p}}</script>", rec, ""), NW_OK);
    /* raw values in <script> stay the author's, in a partial too */
    const char *const rawp[] = { "p", "{{{x}}}", NULL };
    CHECK_EQ(run("<script>{{>p}}</script>", rawp, "1"), NW_OK);
    CHECK_MEM(out.p, out.len, "<script>1</script>");
}

static void blocks(void) {
    /* a block's content may come from another template: refused where it would be script */
    NO_P("{{<layout}}{{$b}}{{x}}{{/b}}{{/layout}}", PARTS("layout", "<script>{{$b}}{{/b}}</script>"), 1, 9, "{{$b}}");
    NO_P("{{<layout}}{{$b}}{{x}}{{/b}}{{/layout}}", PARTS("layout", "<a onclick=\"{{$b}}{{/b}}\">"), 1, 13, "{{$b}}");
    NO("<p data-show=\"{{$b}}{{/b}}\">", 1, 15, "{{$b}}");
    const char *const lay[] = { "layout", "<a title=\"{{$b}}{{/b}}\">", NULL };
    CHECK_EQ(run("{{<layout}}{{$b}}{{x}}{{/b}}{{/layout}}", lay, "<"), NW_OK);
    CHECK_MEM(out.p, out.len, "<a title=\"&lt;\">");
}

static void js_string_escape(void) {
    nw_buf_reset(&out);
    nw_escape_js_string(&out, "Az09 ,._/:-", 11);
    CHECK_MEM(out.p, out.len, "Az09 ,._/:-");
    nw_buf_reset(&out);
    nw_escape_js_string(&out, "\\'\"<>&`\0\x1f\x7f=;()${}+", 18);
    CHECK_MEM(out.p, out.len, "\\x5c\\x27\\x22\\x3c\\x3e\\x26\\x60\\x00\\x1f\\x7f\\x3d\\x3b\\x28\\x29\\x24\\x7b\\x7d\\x2b");
    nw_buf_reset(&out);
    /* é, U+2028, U+2029, U+FFFF, U+10FFFF, a lone continuation byte, a truncated sequence */
    nw_escape_js_string(&out, "\xC3\xA9\xE2\x80\xA8\xE2\x80\xA9\xEF\xBF\xBF\xF4\x8F\xBF\xBF\x80\xE2\x82", 18);
    CHECK_MEM(out.p, out.len, "\\u00e9\\u2028\\u2029\\uffff\\udbff\\udfff\\ufffd\\ufffd");
    /* a long value crosses the chunk boundary */
    char big[10000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (i % 3) ? '\'' : (char)0xC3;
    nw_buf_reset(&out);
    nw_escape_js_string(&out, big, sizeof big);
    CHECK(!out.oom);
    for (size_t i = 0; i < out.len; i++) CHECK(out.p[i] >= 0x20 && out.p[i] < 0x7f && !strchr("&<>\"'`", out.p[i]));
}

static void attribute_kinds(void) {
    struct { const char *name; int kind; } cases[] = {
        { "onclick", NW_ATTR_EVENT }, { "ONLOAD", NW_ATTR_EVENT }, { "on", NW_ATTR_EVENT },
        { "srcdoc", NW_ATTR_SRCDOC }, { "srcdocs", NW_ATTR_PLAIN },
        { "data-on:click", NW_ATTR_DATASTAR }, { "data-on-click", NW_ATTR_DATASTAR },
        { "data-on:click__once", NW_ATTR_DATASTAR }, { "data-on__window", NW_ATTR_DATASTAR },
        { "data-text", NW_ATTR_DATASTAR }, { "data-show", NW_ATTR_DATASTAR }, { "data-class", NW_ATTR_DATASTAR },
        { "data-class:done", NW_ATTR_DATASTAR }, { "data-class-done", NW_ATTR_DATASTAR },
        { "data-attr:title", NW_ATTR_DATASTAR }, { "data-style:color", NW_ATTR_DATASTAR },
        { "data-signals", NW_ATTR_DATASTAR }, { "data-signals__ifmissing", NW_ATTR_DATASTAR },
        { "data-computed:n", NW_ATTR_DATASTAR }, { "data-effect", NW_ATTR_DATASTAR }, { "data-init", NW_ATTR_DATASTAR },
        { "data-on-intersect", NW_ATTR_DATASTAR }, { "data-on-interval", NW_ATTR_DATASTAR },
        { "data-on-signal-patch", NW_ATTR_DATASTAR }, { "data-indicator:x", NW_ATTR_DATASTAR },
        { "data-bind", NW_ATTR_DATASTAR }, { "data-ref", NW_ATTR_DATASTAR }, { "data-json-signals", NW_ATTR_DATASTAR },
        { "data-persist", NW_ATTR_DATASTAR }, { "data-query-string", NW_ATTR_DATASTAR },
        { "data-replace-url", NW_ATTR_DATASTAR }, { "data-scroll-into-view", NW_ATTR_DATASTAR },
        { "data-view-transition", NW_ATTR_DATASTAR }, { "DATA-SHOW", NW_ATTR_DATASTAR },
        { "data-id", NW_ATTR_PLAIN }, { "data-texts", NW_ATTR_PLAIN }, { "data-text-size", NW_ATTR_PLAIN },
        { "data-online", NW_ATTR_PLAIN }, { "data-", NW_ATTR_PLAIN }, { "data", NW_ATTR_PLAIN },
        { "title", NW_ATTR_PLAIN }, { "href", NW_ATTR_PLAIN }, { "data-ignore", NW_ATTR_PLAIN },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int k = nw_attr_script_kind(cases[i].name, strlen(cases[i].name));
        if (k != cases[i].kind) fprintf(stderr, "  %s: kind %d, want %d\n", cases[i].name, k, cases[i].kind);
        CHECK_EQ(k, cases[i].kind);
    }
}

int main(void) {
    nw_buf_init(&out);
    nw_buf_init(&data);
    RUN(event_handlers);
    RUN(srcdoc);
    RUN(datastar_strings);
    RUN(datastar_code);
    RUN(javascript_urls);
    RUN(partials_take_their_context);
    RUN(blocks);
    RUN(js_string_escape);
    RUN(attribute_kinds);
    nw_buf_free(&out);
    nw_buf_free(&data);
    return check_summary("script_context");
}
