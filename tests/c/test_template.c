/* test_template.c - the template engine (src/template.h) natively under
 * ASan/UBSan: every construct over NVAL data built here, compile errors
 * with line/column, HTML contexts, limits, and allocation failure at every
 * step of compile + render. */
#include "check.h"
#include "template.h"
#include "nval.h"
#include "alloc.h"
#include <stdlib.h>
#include <math.h>

/* ---- NVAL data from a compact JSON-like literal ------------------------------------
 * JSON plus: single-quoted strings (no escapes needed for "), @<ms> for a
 * date, and \0 in strings. Enough to write test data readably. */
static const char *jp;

static void j_ws(void) { while (*jp == ' ' || *jp == '\n') jp++; }

static void j_value(nw_buf *b);

static void j_string(nw_buf *b) {
    char q = *jp++;
    nw_buf tmp;
    nw_buf_init(&tmp);
    while (*jp && *jp != q) {
        if (*jp == '\\') {
            jp++;
            char c = *jp++;
            nw_buf_byte(&tmp, (uint8_t)(c == 'n' ? '\n' : c == 't' ? '\t' : c == '0' ? 0 : c));
        } else {
            nw_buf_byte(&tmp, (uint8_t)*jp++);
        }
    }
    jp++;
    nw_buf_u32(b, (uint32_t)tmp.len);
    nw_buf_append(b, tmp.p, tmp.len);
    nw_buf_free(&tmp);
}

static void j_value(nw_buf *b) {
    j_ws();
    if (*jp == '{' || *jp == '[') {
        bool obj = *jp == '{';
        char end = obj ? '}' : ']';
        jp++;
        nw_buf_byte(b, obj ? NVAL_OBJ : NVAL_ARR);
        size_t at = b->len;
        nw_buf_u32(b, 0);
        uint32_t n = 0;
        j_ws();
        while (*jp != end) {
            if (obj) { j_ws(); j_string(b); j_ws(); jp++; /* : */ }
            j_value(b);
            n++;
            j_ws();
            if (*jp == ',') jp++;
            j_ws();
        }
        jp++;
        nw_buf_patch_u32(b, at, n);
    } else if (*jp == '"' || *jp == '\'') {
        nw_buf_byte(b, NVAL_STR);
        j_string(b);
    } else if (*jp == '@') {
        jp++;
        char *e;
        double v = strtod(jp, &e);
        jp = e;
        nw_buf_byte(b, NVAL_DATE);
        nw_buf_f64(b, v);
    } else if (!strncmp(jp, "true", 4)) { jp += 4; nw_buf_byte(b, NVAL_TRUE); }
    else if (!strncmp(jp, "false", 5)) { jp += 5; nw_buf_byte(b, NVAL_FALSE); }
    else if (!strncmp(jp, "null", 4)) { jp += 4; nw_buf_byte(b, NVAL_NULL); }
    else if (!strncmp(jp, "NaN", 3)) { jp += 3; nw_buf_byte(b, NVAL_NUM); nw_buf_f64(b, NAN); }
    else {
        char *e;
        double v = strtod(jp, &e);
        jp = e;
        nw_buf_byte(b, NVAL_NUM);
        nw_buf_f64(b, v);
    }
}

static nw_buf data_buf;
static nv data_of(const char *json) {
    nw_buf_reset(&data_buf);
    jp = json;
    j_value(&data_buf);
    if (nval_check(data_buf.p, data_buf.len) != data_buf.len) fprintf(stderr, "  bad test data: %s\n", json);
    nv v;
    nval_view(&v, data_buf.p, NULL);
    return v;
}

/* ---- helpers ---------------------------------------------------------------------------- */

static nw_buf out;
static nw_error err;
static bool last_ascii;

/* Compiles src with partials (name, source pairs ending with NULL) and
 * renders json; returns the code; output in `out`. */
static nw_code render_p(const char *src, const char *json, bool strict, const char *const *pp) {
    nw_tpl_partial parts[16];
    size_t n = 0;
    for (; pp && pp[2 * n]; n++) {
        parts[n].name = pp[2 * n]; parts[n].name_len = strlen(pp[2 * n]);
        parts[n].src = pp[2 * n + 1]; parts[n].src_len = strlen(pp[2 * n + 1]);
    }
    nw_tpl *t;
    nw_error_clear(&err);
    nw_buf_reset(&out);
    nw_code rc = nw_tpl_compile(src, strlen(src), parts, n, strict, &t, &err);
    if (rc) return rc;
    nv d = data_of(json ? json : "{}");
    rc = nw_tpl_render(t, &d, &out, &last_ascii, &err);
    nw_tpl_free(t);
    return rc;
}

static nw_code render(const char *src, const char *json) { return render_p(src, json, false, NULL); }

#define R(src, json, want) do { nw_code _rc = render((src), (json)); \
    if (_rc) fprintf(stderr, "  %s:%d: error %s: %s\n", __FILE__, __LINE__, nw_code_name(_rc), err.message); \
    CHECK_EQ(_rc, NW_OK); CHECK_MEM(out.p, out.len, (want)); } while (0)
#define RP(src, json, parts, want) do { const char *const _pp[] = parts; \
    nw_code _rc = render_p((src), (json), false, _pp); \
    if (_rc) fprintf(stderr, "  %s:%d: error %s: %s\n", __FILE__, __LINE__, nw_code_name(_rc), err.message); \
    CHECK_EQ(_rc, NW_OK); CHECK_MEM(out.p, out.len, (want)); } while (0)
#define LIST(...) { __VA_ARGS__, NULL }
/* A compile or render failure with code, line and column. */
#define ERR(src, code, l, c) do { nw_code _rc = render((src), "{}"); CHECK_EQ(_rc, (code)); \
    CHECK_EQ(err.line, (l)); CHECK_EQ(err.column, (c)); \
    if (_rc != (code) || err.line != (l) || err.column != (c)) fprintf(stderr, "  got: %s\n", err.message); } while (0)

/* ---- constructs ------------------------------------------------------------------------ */

static void variables(void) {
    R("Hello, {{name}}!", "{'name':'World'}", "Hello, World!");
    R("{{a}}|{{{a}}}|{{&a}}", "{'a':'<b>&\"'}", "&lt;b&gt;&amp;&quot;|<b>&\"|<b>&\"");
    R("{{ a }}|{{{ a }}}|{{& a }}", "{'a':'x'}", "x|x|x");
    R("[{{missing}}][{{{missing}}}]", "{}", "[][]");
    R("{{n}} {{f}} {{big}} {{small}} {{neg}} {{z}} {{nan}}",
      "{'n':42,'f':1.5,'big':1e21,'small':1e-7,'neg':-0.25,'z':-0,'nan':NaN}",
      "42 1.5 1e+21 1e-7 -0.25 0 NaN");
    R("{{t}} {{f}} {{nul}}", "{'t':true,'f':false,'nul':null}", "true false ");
    R("{{d}}", "{'d':@1700000000123}", "2023-11-14T22:13:20.123Z");
    R("{{list}} {{obj}}", "{'list':[1,'a<',true],'obj':{}}", "1,a&lt;,true [object Object]");
    R("{{a.b.c}}", "{'a':{'b':{'c':'deep'}}}", "deep");
    R("{{a.b.c}}", "{'a':{'b':{}}}", "");
    R("{{items.1}} {{items.length}} {{items.9}} {{items.x}}", "{'items':['a','b','c']}", "b 3  ");
    R("{{.}}", "'root'", "root");
    R("caf\xC3\xA9 {{x}}", "{'x':'\xF0\x9F\x9A\x80 n\xCC\x83'}", "caf\xC3\xA9 \xF0\x9F\x9A\x80 n\xCC\x83");
    R("{{x}}", "{'x':'a\\0b'}", "a\xEF\xBF\xBD" "b");
}

static void raw_nul(void) {
    CHECK_EQ(render("{{{x}}}", "{'x':'a\\0b'}"), NW_OK);
    CHECK_EQ(out.len, 3);
    CHECK(out.len == 3 && out.p[1] == 0);
}

static void dates_match_nv(void) {
    /* the renderer's own date formatter agrees with nv_write_iso_date */
    double vals[] = { 0, -1, 1, 86399999, -86400001, 951782400000.0, 1700000000123.0, -62198755200000.0,
                      253402300799999.0, 253402300800000.0, -62167219200001.0, 8.64e15, -8.64e15,
                      8.64e15 + 1, NAN, 1.5, -0.5, 1e13 + 0.999 };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        nw_buf want;
        nw_buf_init(&want);
        nv_write_iso_date(&want, vals[i]);
        nw_buf_reset(&data_buf);
        nw_buf_byte(&data_buf, NVAL_DATE);
        nw_buf_f64(&data_buf, vals[i]);
        nv d;
        nval_view(&d, data_buf.p, NULL);
        nw_tpl *t;
        CHECK_EQ(nw_tpl_compile("{{.}}", 5, NULL, 0, false, &t, &err), NW_OK);
        nw_buf_reset(&out);
        CHECK_EQ(nw_tpl_render(t, &d, &out, NULL, &err), NW_OK);
        nw_tpl_free(t);
        if (out.len != want.len || memcmp(out.p, want.p, want.len))
            fprintf(stderr, "  date %g: got %.*s want %.*s\n", vals[i], (int)out.len, out.p, (int)want.len, want.p);
        CHECK(out.len == want.len && !memcmp(out.p, want.p, want.len));
        nw_buf_free(&want);
    }
}

static void sections(void) {
    R("{{#list}}({{.}}){{/list}}", "{'list':[1,2,3]}", "(1)(2)(3)");
    R("{{#list}}{{name}},{{/list}}", "{'list':[{'name':'a'},{'name':'b'}]}", "a,b,");
    R("{{#obj}}{{x}}{{y}}{{/obj}}", "{'obj':{'x':1},'y':2}", "12");
    R("{{#t}}yes{{/t}}{{#f}}no{{/f}}", "{'t':true,'f':false}", "yes");
    R("{{#a}}A{{/a}}{{#b}}B{{/b}}{{#c}}C{{/c}}{{#d}}D{{/d}}{{#e}}E{{/e}}", "{'a':0,'b':'','c':[],'d':null}", "");
    R("{{#s}}[{{.}}]{{/s}}", "{'s':'str'}", "[str]");
    R("{{^a}}none{{/a}}{{^b}}no{{/b}}", "{'a':[],'b':[1]}", "none");
    R("{{^missing}}m{{/missing}}", "{}", "m");
    R("{{#a}}{{#b}}{{c}}{{/b}}{{/a}}", "{'a':{'b':{}},'c':'outer'}", "outer");
    R("{{#a.b}}{{.}}{{/a.b}}", "{'a':{'b':[1,2]}}", "12");
    R("{{#list}}({{#.}}{{.}}{{/.}}){{/list}}", "{'list':[[1,2],[3]]}", "(12)(3)");
    /* a key that holds null is found: lookup does not go further out */
    R("{{#a}}[{{b}}]{{/a}}", "{'a':{'b':null},'b':'outer'}", "[]");
}

static void comments_delims(void) {
    R("a{{! comment }}b", "{}", "ab");
    R("a{{!\nmulti\nline\n}}b", "{}", "ab");
    R("{{=<% %>=}}<% x %>{{x}}", "{'x':1}", "1{{x}}");
    R("{{=| |=}}|x| |={{ }}=| {{x}}", "{'x':2}", "2  2");
    R("{{= [[ ]] =}}[[#a]][[.]][[/a]]", "{'a':[1]}", "1");
}

static void standalone(void) {
    R("a\n{{#t}}\nb\n{{/t}}\nc\n", "{'t':true}", "a\nb\nc\n");
    R("a\r\n  {{#t}}  \r\nb\r\n{{/t}}\r\n", "{'t':true}", "a\r\nb\r\n");
    R("  {{! c }}\nx", "{}", "x");
    R("x\n  {{#t}}{{/t}}\ny", "{'t':true}", "x\ny");        /* several tags on one line */
    R("  {{x}}\n", "{'x':1}", "  1\n");                      /* interpolation is never standalone */
    R("a {{#t}}\nb{{/t}}", "{'t':true}", "a \nb");
    R("{{#t}}\nlast\n  {{/t}}", "{'t':true}", "last\n");
}

static void partials(void) {
    RP("[{{>p}}]", "{'x':1}", LIST("p", "<b>{{x}}</b>"), "[<b>1</b>]");
    RP("[{{>nope}}]", "{}", LIST("p", "x"), "[]");
    RP("a\n  {{>p}}\nb", "{'v':'1\\n2'}", LIST("p", "x\n{{v}}\ny\n"), "a\n  x\n  1\n2\n  y\nb");
    RP("  {{>p}}\n", "{}", LIST("p", "x\n\ny\n"), "  x\n\n  y\n");          /* empty lines stay empty */
    RP("  {{>outer}}\n", "{}", LIST("outer", "o\n  {{>inner}}\n", "inner", "i1\ni2\n"), "  o\n    i1\n    i2\n");
    RP("{{#list}}{{>item}}{{/list}}", "{'list':[{'n':'a'},{'n':'b'}]}", LIST("item", "<li>{{n}}</li>"),
       "<li>a</li><li>b</li>");
    /* a tree rendered by a partial that includes itself */
    RP("{{>node}}", "{'name':'r','kids':[{'name':'a','kids':[{'name':'b','kids':[]}]}]}",
       LIST("node", "{{name}}({{#kids}}{{>node}}{{/kids}})"), "r(a(b()))");
    /* delimiters set in a partial stay there */
    RP("{{>p}}{{x}}", "{'x':1}", LIST("p", "{{=<% %>=}}<%x%>"), "11");
}

static void strict_partials(void) {
    const char *const pp[] = { "known", "k", NULL };
    CHECK_EQ(render_p("ok {{>known}}\n  {{>unknown}}", "{}", true, pp), NW_E_TEMPLATE);
    CHECK_EQ(err.line, 2);
    CHECK_EQ(err.column, 3);
    CHECK(strstr(err.message, "unknown") != NULL);
    CHECK_EQ(render_p("{{<unknown}}{{/unknown}}", "{}", true, pp), NW_E_TEMPLATE);
    CHECK_EQ(render_p("{{>known}}", "{}", true, pp), NW_OK);
    CHECK_MEM(out.p, out.len, "k");
}

static void inheritance(void) {
    RP("{{<base}}{{$title}}Mine{{/title}}{{/base}}", "{}", LIST("base", "<h1>{{$title}}Default{{/title}}</h1>"),
       "<h1>Mine</h1>");
    RP("{{<base}}{{/base}}", "{}", LIST("base", "<h1>{{$title}}Default{{/title}}</h1>"), "<h1>Default</h1>");
    R("{{$b}}default {{x}}{{/b}}", "{'x':1}", "default 1");
    RP("{{<page}}{{$body}}\n  <p>{{msg}}</p>\n{{/body}}{{/page}}\n", "{'msg':'hi'}",
       LIST("page", "<main>\n    {{$body}}\n    {{/body}}\n</main>\n"), "<main>\n    <p>hi</p>\n</main>\n");
    /* an empty block alone on its line keeps the line's newline (spec) */
    RP("{{<page}}{{$body}}<p>{{msg}}</p>{{/body}}{{/page}}", "{'msg':'hi'}",
       LIST("page", "<main>\n  {{$body}}{{/body}}\n</main>"), "<main>\n  <p>hi</p>\n</main>");
    /* the outermost override wins through several levels */
    RP("{{<a}}{{$x}}top{{/x}}{{/a}}", "{}", LIST("a", "{{<b}}{{$x}}mid{{/x}}{{/b}}", "b", "[{{$x}}base{{/x}}]"), "[top]");
    /* a block is rendered in the context of the site */
    RP("{{<p}}{{$b}}{{v}}{{/b}}{{/p}}", "{'v':'outer','s':{'v':'inner'}}", LIST("p", "{{#s}}{{$b}}{{/b}}{{/s}}"), "inner");
}

static void errors(void) {
    ERR("abc {{x", NW_E_TEMPLATE, 1, 5);
    ERR("a\nb {{{x}}", NW_E_TEMPLATE, 2, 3);
    ERR("line1\n  {{#items}}\n{{x}}\n", NW_E_TEMPLATE, 2, 3);
    ERR("{{#a}}\n{{/b}}", NW_E_TEMPLATE, 2, 1);
    ERR("x {{/a}}", NW_E_TEMPLATE, 1, 3);
    ERR("{{=<% %>}}", NW_E_TEMPLATE, 1, 1);
    ERR("{{= a b c =}}", NW_E_TEMPLATE, 1, 1);
    ERR("\xC3\xA9\xC3\xA9 {{}}", NW_E_TEMPLATE, 1, 4);           /* columns count characters */
    ERR("{{#a}}{{/a}}{{^b}}", NW_E_TEMPLATE, 1, 13);
    CHECK(strstr(err.message, "line 1, column 13") != NULL);
    /* an error in a partial names it; line/column refer to its source */
    const char *const pp[] = { "row", "ok\n  {{#x}}", NULL };
    CHECK_EQ(render_p("{{>row}}", "{}", false, pp), NW_E_TEMPLATE);
    CHECK_EQ(err.line, 2);
    CHECK_EQ(err.column, 3);
    CHECK(strstr(err.message, "row") != NULL);
    /* an unused broken partial is still reported */
    CHECK_EQ(render_p("fine", "{}", false, pp), NW_E_TEMPLATE);
}

/* ---- HTML contexts ------------------------------------------------------------------- */

static void html_refusals(void) {
    ERR("<a class={{c}}>", NW_E_TEMPLATE, 1, 10);
    CHECK(!strcmp(err.rule, "context"));
    ERR("<a {{attrs}}>", NW_E_TEMPLATE, 1, 4);
    ERR("<{{tag}}>", NW_E_TEMPLATE, 1, 2);
    ERR("<a b=\"1\"{{c}}>", NW_E_TEMPLATE, 1, 9);
    ERR("<script>var x = {{x}};</script>", NW_E_TEMPLATE, 1, 17);
    ERR("<STYLE>\np { color: {{c}} }</style>", NW_E_TEMPLATE, 2, 12);
    ERR("<a href={{>p}}>", NW_E_TEMPLATE, 1, 9);
    /* raw and sections are the author's: allowed anywhere */
    R("<a {{{attrs}}} {{#on}}checked{{/on}}>", "{'attrs':'id=\"x\"','on':true}", "<a id=\"x\" checked>");
    R("<script>var x = {{{x}}};</script>{{y}}", "{'x':'1','y':'<'}", "<script>var x = 1;</script>&lt;");
    /* contexts where escaping is right */
    R("<textarea>{{x}}</textarea><title>{{x}}</title>", "{'x':'</textarea>'}",
      "<textarea>&lt;/textarea&gt;</textarea><title>&lt;/textarea&gt;</title>");
    R("<!-- {{x}} --><p title='{{x}}'>", "{'x':\"-->'\"}", "<!-- --&gt;&#39; --><p title='--&gt;&#39;'>");
    R("a < {{x}}", "{'x':1}", "a < 1");
    R("<p>{{x}}</p><script src=\"a.js\"></script>{{x}}", "{'x':'&'}", "<p>&amp;</p><script src=\"a.js\"></script>&amp;");
}

static void url_attributes(void) {
    R("<a href=\"{{u}}\">", "{'u':'javascript:alert(1)'}", "<a href=\"about:invalid\">");
    R("<a href='{{u}}'>", "{'u':' JaVa\\tScRiPt:x'}", "<a href='about:invalid'>");
    R("<a HREF=\"{{u}}\">", "{'u':'&#106;avascript:x'}", "<a HREF=\"about:invalid\">");
    R("<img src=\"{{u}}\">", "{'u':'data:image/png;base64,AA'}", "<img src=\"data:image/png;base64,AA\">");
    R("<a href=\"{{u}}\">", "{'u':'https://x/?a=1&b=<2>'}", "<a href=\"https://x/?a=1&amp;b=&lt;2&gt;\">");
    /* the whole value is checked, however it is assembled */
    R("<a href=\"{{a}}{{b}}\">", "{'a':'java','b':'script:x'}", "<a href=\"about:invalid\">");
    R("<a href=\"java{{b}}\">", "{'b':'script:x'}", "<a href=\"about:invalid\">");
    R("<a href=\"{{#s}}x{{/s}}{{u}}\">", "{'s':false,'u':'javascript:x'}", "<a href=\"about:invalid\">");
    R("<a href=\"{{#l}}{{.}}{{/l}}\">", "{'l':['javas','cript:1']}", "<a href=\"about:invalid\">");
    R("<form><button formaction=\"{{u}}\"><svg><a xlink:href=\"{{u}}\"></a></svg>", "{'u':'vbscript:x'}",
      "<form><button formaction=\"about:invalid\"><svg><a xlink:href=\"about:invalid\"></a></svg>");
    /* values whose scheme the literal text decides are left alone */
    R("<a href=\"/tasks/{{id}}\">", "{'id':'javascript:x'}", "<a href=\"/tasks/javascript:x\">");
    /* a literal javascript: URL is script: a value only inside its strings, JS-encoded (test_script_context.c) */
    R("<a href=\"javascript:go('{{id}}')\">", "{'id':'1\\''}", "<a href=\"javascript:go('1\\x27')\">");
    /* raw values are trusted, alone */
    R("<a href=\"{{{u}}}\">", "{'u':'javascript:ok()'}", "<a href=\"javascript:ok()\">");
    /* not URL attributes */
    R("<a title=\"{{u}}\" srcset=\"{{u}}\" data-href=\"{{u}}\">", "{'u':'javascript:x'}",
      "<a title=\"javascript:x\" srcset=\"javascript:x\" data-href=\"javascript:x\">");
    /* a partial included as attributes is compiled as such */
    RP("<a {{>attrs}}>x</a>", "{'u':'javascript:x'}", LIST("attrs", "href=\"{{u}}\""), "<a href=\"about:invalid\">x</a>");
    RP("<a href=\"{{>url}}\">", "{'u':'javascript:x'}", LIST("url", "{{u}}"), "<a href=\"about:invalid\">");
    /* the replacement is only the value: the rest of the page renders */
    R("<a href=\"{{u}}\">{{t}}</a>", "{'u':'javascript:x','t':'<b>'}", "<a href=\"about:invalid\">&lt;b&gt;</a>");
}

static void ascii_flag(void) {
    R("plain {{x}}", "{'x':'<ascii>'}", "plain &lt;ascii&gt;");
    CHECK(last_ascii);
    R("{{x}}", "{'x':'\xC3\xA9'}", "\xC3\xA9");
    CHECK(!last_ascii);
    R("\xC3\xA9{{x}}", "{'x':'a'}", "\xC3\xA9" "a");
    CHECK(!last_ascii);
    R("{{{x}}}", "{'x':'\xC3\xA9'}", "\xC3\xA9");
    CHECK(!last_ascii);
    R("{{x}}", "{'x':'a\\0'}", "a\xEF\xBF\xBD");
    CHECK(!last_ascii);
    /* invalid UTF-8 in the template text itself is replaced once, at compile */
    R("a\xFF" "b", "{}", "a\xEF\xBF\xBD" "b");
}

/* ---- limits ------------------------------------------------------------------------------ */

static void recursion_limit(void) {
    const char *const pp[] = { "me", "x{{>me}}", NULL };
    CHECK_EQ(render_p("{{>me}}", "{}", false, pp), NW_E_LIMIT);
    CHECK(!strcmp(err.rule, "depth"));
    CHECK_EQ(out.len, 0);   /* output restored */
    /* a truthy scalar pushes itself: endless nesting ends cleanly too */
    const char *const pp2[] = { "p", "{{#a}}{{>p}}{{/a}}", NULL };
    CHECK_EQ(render_p("{{>p}}", "{'a':true}", false, pp2), NW_E_LIMIT);
    /* parents that include themselves */
    const char *const pp3[] = { "p", "{{<p}}{{/p}}", NULL };
    CHECK_EQ(render_p("{{<p}}{{/p}}", "{}", false, pp3), NW_E_LIMIT);
}

static void nesting_limit(void) {
    nw_buf src;
    nw_buf_init(&src);
    for (int i = 0; i < NW_TPL_MAX_DEPTH + 1; i++) nw_buf_str(&src, "{{#a}}");
    for (int i = 0; i < NW_TPL_MAX_DEPTH + 1; i++) nw_buf_str(&src, "{{/a}}");
    nw_buf_byte(&src, 0);
    CHECK_EQ(render((const char *)src.p, "{}"), NW_E_LIMIT);
    nw_buf_reset(&src);
    /* just inside the limit compiles, and renders deep data */
    for (int i = 0; i < 60; i++) nw_buf_str(&src, "{{#a}}");
    nw_buf_str(&src, "{{v}}");
    for (int i = 0; i < 60; i++) nw_buf_str(&src, "{{/a}}");
    nw_buf_byte(&src, 0);
    nw_buf deep;
    nw_buf_init(&deep);
    for (int i = 0; i < 60; i++) nw_buf_str(&deep, "{'a':");
    nw_buf_str(&deep, "{'v':'bottom'}");
    for (int i = 0; i < 60; i++) nw_buf_str(&deep, "}");
    nw_buf_byte(&deep, 0);
    R((const char *)src.p, (const char *)deep.p, "bottom");
    nw_buf_free(&src);
    nw_buf_free(&deep);
}

static void big_values(void) {
    size_t n = 5u << 20;
    nw_buf d;
    nw_buf_init(&d);
    nw_buf_byte(&d, NVAL_OBJ);
    nw_buf_u32(&d, 1);
    nw_buf_u32(&d, 1);
    nw_buf_byte(&d, 'x');
    nw_buf_byte(&d, NVAL_STR);
    nw_buf_u32(&d, (uint32_t)n);
    nw_buf_reserve(&d, n);
    for (size_t i = 0; i < n; i++) d.p[d.len + i] = (uint8_t)(i % 64 == 63 ? '<' : 'a');
    d.len += n;
    nv v;
    nval_view(&v, d.p, NULL);
    nw_tpl *t;
    CHECK_EQ(nw_tpl_compile("<p>{{x}}</p>", 12, NULL, 0, false, &t, &err), NW_OK);
    nw_buf_reset(&out);
    CHECK_EQ(nw_tpl_render(t, &v, &out, NULL, &err), NW_OK);
    CHECK_EQ(out.len, 7 + n + n / 64 * 3);
    nw_tpl_free(t);
    nw_buf_free(&d);
}

/* Every allocation of compile + render failing in turn: an error or the
 * right output, never a crash or a leak. */
static void failing_allocator(void) {
    const char *src = "<ul>{{#items}}\n  {{>row}}\n{{/items}}</ul><a href=\"{{u}}\">{{<base}}{{$b}}x{{/b}}{{/base}}";
    const char *json = "{'items':[{'n':'a','t':['x','y']},{'n':'b<','t':[]}],'u':'javascript:1'}";
    nw_tpl_partial parts[2] = {
        { "row", 3, "<li>{{n}}{{#t}}[{{.}}]{{/t}}</li>", 33 },
        { "base", 4, "({{$b}}{{/b}})", 14 },
    };
    const char *want = "<ul>\n  <li>a[x][y]</li>\n  <li>b&lt;</li></ul><a href=\"about:invalid\">(x)";
    size_t base = nw_alloc_bytes();
    int ok = 0, failed = 0;
    for (long k = 0; k < 400; k++) {
        nw_buf o;
        nw_buf_init(&o);
        nv d = data_of(json);
        nw_alloc_fail_after(k);
        nw_tpl *t = NULL;
        nw_code rc = nw_tpl_compile(src, strlen(src), parts, 2, false, &t, &err);
        if (!rc) {
            rc = nw_tpl_render(t, &d, &o, NULL, &err);
            nw_tpl_free(t);
        }
        nw_alloc_fail_reset();
        if (rc) {
            CHECK_EQ(rc, NW_E_LIMIT);
            failed++;
        } else {
            CHECK_MEM(o.p, o.len, want);
            ok++;
        }
        nw_buf_free(&o);
        CHECK_EQ(nw_alloc_bytes(), base);
        if (ok > 3) break;   /* past the last allocation */
    }
    CHECK(failed > 10);
    CHECK(ok > 0);
}

int main(void) {
    nw_buf_init(&out);
    nw_buf_reserve(&out, 16);
    nw_buf_init(&data_buf);
    RUN(variables);
    RUN(raw_nul);
    RUN(dates_match_nv);
    RUN(sections);
    RUN(comments_delims);
    RUN(standalone);
    RUN(partials);
    RUN(strict_partials);
    RUN(inheritance);
    RUN(errors);
    RUN(html_refusals);
    RUN(url_attributes);
    RUN(ascii_flag);
    RUN(recursion_limit);
    RUN(nesting_limit);
    RUN(big_values);
    RUN(failing_allocator);
    nw_buf_free(&out);
    nw_buf_free(&data_buf);
    return check_summary("template");
}
