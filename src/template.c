/* template.c - Mustache: tokenizer, standalone rules, HTML context,
 * compiler to a flat op array, and the renderer over nv views.
 *
 * Compiling one source (the template or a partial) runs these passes:
 *   1. tokenize     text and tags, following set-delimiter tags;
 *   2. standalone   lines holding only whitespace and non-interpolation tags
 *                   are removed (their indentation kept for partials, parents
 *                   and blocks);
 *   3. structure    sections, parents and blocks are matched with their
 *                   closing tags;
 *   4. dedent       standalone blocks lose their common indentation (the
 *                   inheritance spec re-indents them where they are used);
 *   5. html         the literal text is followed as HTML to learn each tag's
 *                   context (refusals, URL attribute values);
 *   6. codegen      ops appended to the template's one op array.
 * Partials are compiled the same way into the same array, one "program"
 * each, so rendering never parses.
 */
#include "template.h"
#include "escape.h"
#include "alloc.h"
#include <string.h>
#include <stdarg.h>
#include <stddef.h>

#include "tpl_impl.h"

void nw_tpl_free(nw_tpl *t) {
    if (!t) return;
    nw_free(t->ops);
    nw_free(t->pool);
    nw_free(t->names);
    nw_free(t->parts);
    nw_free(t->progs);
    nw_free(t);
}

size_t nw_tpl_size(const nw_tpl *t) {
    return sizeof *t + (size_t)t->cops * sizeof(tpl_op) + t->pcap + (size_t)t->cnames * sizeof(tpl_name) +
           (size_t)t->cparts * sizeof(tpl_part) + (size_t)t->cprogs * sizeof(tpl_prog);
}

/* ---- compile state ------------------------------------------------------------------ */

enum {
    TT_TEXT, TT_VAR, TT_RAW, TT_SECTION, TT_INVERTED, TT_CLOSE, TT_PARTIAL, TT_PARENT,
    TT_BLOCK, TT_COMMENT, TT_DELIM
};
enum { TF_STANDALONE = 1, TF_JS = 2 /* {{x}} inside a JS string of a Datastar expression */ };

typedef struct tok {
    uint8_t type, flags;
    uint32_t s, e;        /* text: [s,e) after trimming; tag: whole tag */
    uint32_t ns, ne;      /* tag name */
    uint32_t is, ie;      /* indentation of a standalone line (tags) */
    uint32_t ge;          /* standalone tags: end of their line (after the newline) */
    uint32_t gs;          /* standalone tags: start of their line */
    uint32_t match;       /* open <-> close */
    uint32_t dd;          /* dedent applying to this token's lines */
    uint32_t ms, mlen;    /* standalone blocks: margin of their content */
    uint32_t prog;        /* partials and parents: program chosen by the html pass, or NONE */
    uint8_t jss;          /* sections in a Datastar value: JS lexer state at the open + 1 */
} tok;

typedef struct mark { uint32_t tok, off; uint8_t kind; } mark;

/* HTML tokenizer states (a subset of the HTML5 tokenizer, enough to know
 * where a tag sits). */
enum {
    H_DATA, H_TAG_OPEN, H_END_TAG_OPEN, H_TAG_NAME, H_BEFORE_ATTR, H_ATTR_NAME, H_AFTER_ATTR,
    H_BEFORE_VAL, H_VAL_DQ, H_VAL_SQ, H_VAL_UQ, H_AFTER_VAL, H_SELF_CLOSE, H_MD, H_MD_DASH,
    H_COMMENT, H_BOGUS, H_RAW
};

/* JS lexer states inside a Datastar expression attribute value: code, a
 * '...' / "..." / `...` literal, or lost (after a '/', which may start a
 * regex or a comment, after a character reference, or where sections or
 * partials may leave it in more than one state): nothing is allowed then. */
enum { JS_CODE, JS_SQ, JS_DQ, JS_BT, JS_LOST };

typedef struct hstate {
    uint8_t st, end_tag, tlen, alen, along, url, refuse, rtlen, rtm, dashes, in_url, committed;
    uint8_t sk;              /* nw_attr_script_kind of the attribute being named */
    uint8_t vk;              /* ... of the attribute whose value is being read */
    uint8_t js, jesc, jamp, jd;  /* JS lexer (vk DATASTAR or JSURL): state, after '\\', '&', '$' */
    uint8_t umatch;          /* URL values: bytes of "javascript:" matched by literal text; 255: not one */
    char tag[16], attr[32], rt[16];
    uint32_t pend_tok, pend_off;
} hstate;

/* Program variants: a partial compiled to start in text, or (V_AT) in the
 * context where it is included (inside a tag, <script>, an attribute
 * value...), so that its tags are checked as if written there. */
enum { V_DATA, V_AT };

typedef struct cc {
    nw_tpl *t;
    hstate *pstart; uint32_t cpstart;   /* per program compiled at V_AT: its start state */
    nw_error *err;
    const nw_tpl_partial *partials;
    size_t npartials;
    bool strict;
    uint32_t *pmap;              /* program of (partial, V_DATA), NONE if not yet */
    uint32_t *pwork;             /* per program: partial index * 2 + variant */
    uint32_t cwork;
    uint32_t *htab; uint32_t hcap; /* name interning: indexes into t->names, NONE = empty */
    /* the source being compiled */
    const char *src; uint32_t len;
    const char *pname; size_t pname_len;   /* NULL for the main template */
    tok *toks; uint32_t ntoks, ctoks;
    mark *marks; uint32_t nmarks, cmarks, mcur;
    int merge;                   /* op index text may be appended to, or -1 */
    bool sol_pending;            /* the last text ended at a line start */
} cc;

static bool is_ws(char c) { return c == ' ' || c == '\t'; }
static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* Formats an error with the position of source offset `pos`. */
static nw_code cerr(cc *c, nw_code code, const char *rule, uint32_t pos, const char *fmt, ...) {
    char msg[NW_ERR_MSG];
    va_list ap;
    va_start(ap, fmt);
    nw_vformat(msg, sizeof msg, fmt, ap);
    va_end(ap);
    uint32_t line = 1, col = 1;
    for (uint32_t i = 0; i < pos && i < c->len; i++) {
        unsigned char ch = (unsigned char)c->src[i];
        if (ch == '\n') { line++; col = 1; }
        else if ((ch & 0xC0) != 0x80) col++;
    }
    if (c->pname)
        nw_error_set(c->err, code, NULL, NULL, rule, "partial \"%.*s\": %s at line %u, column %u",
                     (int)c->pname_len, c->pname, msg, line, col);
    else
        nw_error_set(c->err, code, NULL, NULL, rule, "%s at line %u, column %u", msg, line, col);
    if (c->err) { c->err->line = line; c->err->column = col; }
    return code;
}

static nw_code nomem(cc *c) { return nw_error_nomem(c->err); }

/* ---- 1. tokenizer ------------------------------------------------------------------ */

static tok *new_tok(cc *c) {
    if (!nw_grow((void **)&c->toks, &c->ctoks, sizeof(tok), c->ntoks + 1)) return NULL;
    tok *t = &c->toks[c->ntoks++];
    memset(t, 0, sizeof *t);
    t->match = NONE;
    t->prog = NONE;
    return t;
}

/* First occurrence of needle (with an optional leading byte) at or after pos. */
static uint32_t find(const cc *c, uint32_t pos, char lead, const char *nd, uint32_t nl) {
    uint32_t total = nl + (lead ? 1 : 0);
    if (total > c->len) return NONE;
    for (uint32_t i = pos; i + total <= c->len; i++) {
        const char *p = c->src + i;
        if (lead) {
            if (p[0] != lead) continue;
            p++;
        }
        if (memcmp(p, nd, nl) == 0) return i;
    }
    return NONE;
}

static uint32_t find_open(const cc *c, uint32_t pos, const char *o, uint32_t ol) {
    while (pos + ol <= c->len) {
        const char *p = memchr(c->src + pos, o[0], c->len - pos);
        if (!p) return NONE;
        uint32_t i = (uint32_t)(p - c->src);
        if (i + ol > c->len) return NONE;
        if (memcmp(p, o, ol) == 0) return i;
        pos = i + 1;
    }
    return NONE;
}

static void trim(const char *s, uint32_t *a, uint32_t *b) {
    while (*a < *b && is_space(s[*a])) (*a)++;
    while (*b > *a && is_space(s[*b - 1])) (*b)--;
}

static nw_code tokenize(cc *c) {
    const char *otag = "{{", *ctag = "}}";
    uint32_t ol = 2, cl = 2, pos = 0;
    while (pos < c->len) {
        uint32_t at = find_open(c, pos, otag, ol);
        uint32_t text_end = at == NONE ? c->len : at;
        if (text_end > pos) {
            tok *t = new_tok(c);
            if (!t) return nomem(c);
            t->type = TT_TEXT; t->s = pos; t->e = text_end;
        }
        if (at == NONE) break;
        uint32_t q = at + ol;
        if (q >= c->len) return cerr(c, NW_E_TEMPLATE, "syntax", at, "unclosed tag");
        char k = c->src[q];
        uint8_t type;
        uint32_t ns, ne, end;
        switch (k) {
        case '{': {
            uint32_t r = find(c, q + 1, '}', ctag, cl);
            if (r == NONE) return cerr(c, NW_E_TEMPLATE, "syntax", at, "unclosed tag (expected }%.*s)", (int)cl, ctag);
            type = TT_RAW; ns = q + 1; ne = r; end = r + 1 + cl;
            break;
        }
        case '=': {
            uint32_t r = find(c, q + 1, '=', ctag, cl);
            if (r == NONE) return cerr(c, NW_E_TEMPLATE, "syntax", at, "unclosed set-delimiter tag (expected =%.*s)", (int)cl, ctag);
            type = TT_DELIM; ns = q + 1; ne = r; end = r + 1 + cl;
            break;
        }
        default: {
            uint32_t r = find(c, q, 0, ctag, cl);
            if (r == NONE) return cerr(c, NW_E_TEMPLATE, "syntax", at, "unclosed tag (expected %.*s)", (int)cl, ctag);
            end = r + cl; ne = r; ns = q + 1;
            switch (k) {
            case '&': type = TT_RAW; break;
            case '#': type = TT_SECTION; break;
            case '^': type = TT_INVERTED; break;
            case '/': type = TT_CLOSE; break;
            case '!': type = TT_COMMENT; break;
            case '>': type = TT_PARTIAL; break;
            case '<': type = TT_PARENT; break;
            case '$': type = TT_BLOCK; break;
            default: type = TT_VAR; ns = q; break;
            }
        }
        }
        if (type != TT_COMMENT) {
            trim(c->src, &ns, &ne);
            if (ns == ne) return cerr(c, NW_E_TEMPLATE, "syntax", at, "empty tag");
        }
        tok *t = new_tok(c);
        if (!t) return nomem(c);
        t->type = type; t->s = at; t->e = end; t->ns = ns; t->ne = ne;
        if (type == TT_DELIM) {
            /* two delimiters separated by whitespace; neither holds
             * whitespace or '=' */
            uint32_t a = ns, b = a;
            while (b < ne && !is_space(c->src[b])) b++;
            uint32_t d = b;
            while (d < ne && is_space(c->src[d])) d++;
            uint32_t e2 = d;
            while (e2 < ne && !is_space(c->src[e2])) e2++;
            bool ok = b > a && e2 > d && e2 == ne && memchr(c->src + ns, '=', ne - ns) == NULL;
            if (!ok) return cerr(c, NW_E_TEMPLATE, "syntax", at, "bad delimiters (expected {{=open close=}})");
            otag = c->src + a; ol = b - a;
            ctag = c->src + d; cl = e2 - d;
        }
        pos = end;
    }
    return NW_OK;
}

/* ---- 2. standalone lines --------------------------------------------------------------- */

static bool is_line_tag(uint8_t type) { return type != TT_TEXT && type != TT_VAR && type != TT_RAW; }

/* A group is one source line (newlines inside tags do not split it): tokens
 * gi..last, starting at gstart (inside token gi when it is text) and ending
 * at gend (inside token `last`, after its newline) or at the end. */
static void eval_group(cc *c, uint32_t gi, uint32_t gstart, uint32_t last, uint32_t gend, bool eof) {
    bool has_tag = false;
    for (uint32_t k = gi; k <= last; k++) {
        tok *t = &c->toks[k];
        if (t->type == TT_TEXT) {
            uint32_t a = k == gi && gstart > t->s ? gstart : t->s;
            uint32_t b = k == last && !eof ? gend : t->e;
            for (uint32_t i = a; i < b; i++) {
                char ch = c->src[i];
                if (is_ws(ch)) continue;
                if (k == last && !eof && (i == b - 1 || (ch == '\r' && i == b - 2 && c->src[b - 1] == '\n'))) break;
                return;
            }
        } else if (!is_line_tag(t->type)) {
            return;
        } else {
            has_tag = true;
        }
    }
    if (!has_tag) return;
    /* leading whitespace: the indentation of partials, parents and blocks */
    uint32_t first = c->toks[gi].type == TT_TEXT ? gi + 1 : gi;
    uint32_t ie = c->toks[first].s;
    uint32_t is = c->toks[gi].type == TT_TEXT ? (gstart > c->toks[gi].s ? gstart : c->toks[gi].s) : ie;
    if (is > ie) is = ie;
    bool keep_nl = false, had_partial = false;
    for (uint32_t k = gi; k <= last; k++) {
        tok *t = &c->toks[k];
        if (t->type == TT_TEXT) continue;
        t->flags |= TF_STANDALONE;
        t->is = is; t->ie = ie; t->gs = is; t->ge = eof ? c->len : gend;
        if (t->type == TT_PARTIAL || t->type == TT_PARENT) {
            if (had_partial) t->flags &= (uint8_t)~TF_STANDALONE;
            had_partial = true;
        }
        /* {{$b}}{{/b}} on its own line: the block stands alone but keeps the
         * line's newline (the inheritance spec's "standalone block") */
        if (t->type == TT_BLOCK && k + 1 <= last && c->toks[k + 1].type == TT_CLOSE &&
            t->ne - t->ns == c->toks[k + 1].ne - c->toks[k + 1].ns &&
            memcmp(c->src + t->ns, c->src + c->toks[k + 1].ns, t->ne - t->ns) == 0)
            keep_nl = true;
    }
    for (uint32_t k = gi; k <= last; k++) {
        tok *t = &c->toks[k];
        if (t->type != TT_TEXT) continue;
        if (k == gi) {
            t->e = gstart > t->s ? gstart : t->s;
        } else if (k == last && !eof) {
            uint32_t s = gend;
            if (keep_nl) {
                s = gend - 1;
                if (s > t->s && c->src[s - 1] == '\r') s--;
            }
            t->s = s;
        } else {
            t->e = t->s;
        }
    }
}

static void standalone_pass(cc *c) {
    if (!c->ntoks) return;
    uint32_t gi = 0, gstart = 0;
    for (uint32_t i = 0; i < c->ntoks; i++) {
        tok *t = &c->toks[i];
        if (t->type != TT_TEXT) continue;
        uint32_t pos = t->s;
        for (;;) {
            const char *nl = pos < t->e ? memchr(c->src + pos, '\n', t->e - pos) : NULL;
            if (!nl) break;
            uint32_t end = (uint32_t)(nl - c->src) + 1;
            eval_group(c, gi, gstart, i, end, false);
            gi = i; gstart = end; pos = end;
        }
    }
    eval_group(c, gi, gstart, c->ntoks - 1, c->len, true);
}

/* ---- 3. structure --------------------------------------------------------------------- */

static char sigil(uint8_t type) {
    switch (type) {
    case TT_SECTION: return '#';
    case TT_INVERTED: return '^';
    case TT_PARENT: return '<';
    case TT_BLOCK: return '$';
    case TT_PARTIAL: return '>';
    default: return '/';
    }
}

static bool same_name(const cc *c, const tok *a, const tok *b) {
    return a->ne - a->ns == b->ne - b->ns && memcmp(c->src + a->ns, c->src + b->ns, a->ne - a->ns) == 0;
}

static nw_code structure_pass(cc *c) {
    uint32_t stack[NW_TPL_MAX_DEPTH];
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->ntoks; i++) {
        tok *t = &c->toks[i];
        switch (t->type) {
        case TT_SECTION: case TT_INVERTED: case TT_PARENT: case TT_BLOCK:
            if (n == NW_TPL_MAX_DEPTH)
                return cerr(c, NW_E_LIMIT, "depth", t->s, "sections nested deeper than %d", NW_TPL_MAX_DEPTH);
            stack[n++] = i;
            break;
        case TT_CLOSE: {
            if (!n)
                return cerr(c, NW_E_TEMPLATE, "syntax", t->s, "unexpected closing tag {{/%.*s}}", (int)(t->ne - t->ns), c->src + t->ns);
            tok *o = &c->toks[stack[n - 1]];
            if (!same_name(c, o, t))
                return cerr(c, NW_E_TEMPLATE, "syntax", t->s, "closing tag {{/%.*s}} does not match the open {{%c%.*s}}",
                            (int)(t->ne - t->ns), c->src + t->ns, sigil(o->type),
                            (int)(o->ne - o->ns), c->src + o->ns);
            o->match = i;
            t->match = stack[n - 1];
            n--;
            break;
        }
        default: break;
        }
    }
    if (n) {
        tok *o = &c->toks[stack[n - 1]];
        return cerr(c, NW_E_TEMPLATE, "syntax", o->s, "unclosed section {{%c%.*s}}", sigil(o->type),
                    (int)(o->ne - o->ns), c->src + o->ns);
    }
    return NW_OK;
}

/* ---- 4. dedent of standalone blocks --------------------------------------------------- */

/* Common leading whitespace of the non-blank lines in [a, b). */
static void margin_of(const cc *c, uint32_t a, uint32_t b, uint32_t *ms, uint32_t *mlen) {
    bool have = false;
    uint32_t best = 0, best_at = a;
    uint32_t p = a;
    while (p < b) {
        uint32_t q = p;
        while (q < b && is_ws(c->src[q])) q++;
        bool blank = q == b || c->src[q] == '\n' || (c->src[q] == '\r' && q + 1 < b && c->src[q + 1] == '\n');
        if (!blank) {
            uint32_t w = q - p;
            if (!have) { best = w; best_at = p; have = true; }
            else {
                uint32_t k = 0;
                while (k < best && k < w && c->src[p + k] == c->src[best_at + k]) k++;
                best = k;
            }
        }
        const char *nl = memchr(c->src + q, '\n', b - q);
        if (!nl) break;
        p = (uint32_t)(nl - c->src) + 1;
    }
    *ms = best_at;
    *mlen = have ? best : 0;
}

static void dedent_pass(cc *c) {
    /* stack of (close index, margin) of the enclosing standalone blocks */
    uint32_t st_close[NW_TPL_MAX_DEPTH], st_m[NW_TPL_MAX_DEPTH];
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->ntoks; i++) {
        while (n && i > st_close[n - 1]) n--;
        tok *t = &c->toks[i];
        uint32_t dd = n ? st_m[n - 1] : 0;
        t->dd = dd;
        if (t->type == TT_BLOCK && (t->flags & TF_STANDALONE) && t->match != NONE) {
            tok *cl = &c->toks[t->match];
            uint32_t a = t->ge, b = (cl->flags & TF_STANDALONE) ? cl->gs : cl->s;
            if (b < a) b = a;
            margin_of(c, a, b, &t->ms, &t->mlen);
            uint32_t m = t->mlen > dd ? t->mlen : dd;
            if (n < NW_TPL_MAX_DEPTH) { st_close[n] = t->match; st_m[n] = m; n++; }
        }
    }
}

/* ---- 5. HTML context ------------------------------------------------------------------ */

static char lower_c(char ch) { return ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch; }
static bool is_alpha(char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'); }
static bool is_hws(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f'; }

static bool tag_is(const hstate *h, const char *name) {
    size_t n = strlen(name);
    return h->tlen == n && memcmp(h->tag, name, n) == 0;
}

static bool add_mark(cc *c, uint32_t tokn, uint32_t off, uint8_t kind) {
    if (!nw_grow((void **)&c->marks, &c->cmarks, sizeof(mark), c->nmarks + 1)) return false;
    c->marks[c->nmarks++] = (mark){ tokn, off, kind };
    return true;
}

static void tag_done(hstate *h) {
    h->st = H_DATA;
    if (h->end_tag || h->tlen > 15) return;
    if (tag_is(h, "script") || tag_is(h, "style")) { h->refuse = 1; }
    else if (tag_is(h, "textarea") || tag_is(h, "title") || tag_is(h, "xmp") || tag_is(h, "iframe") ||
             tag_is(h, "noembed") || tag_is(h, "noframes")) { h->refuse = 0; }
    else if (tag_is(h, "plaintext")) { h->st = H_RAW; h->rtlen = 0; h->refuse = 0; return; }
    else return;
    h->st = H_RAW;
    memcpy(h->rt, h->tag, h->tlen);
    h->rtlen = h->tlen;
    h->rtm = 0;
}

static void attr_named(hstate *h) {
    h->st = H_BEFORE_VAL;
    h->url = !h->along && nw_is_url_attr(h->attr, h->alen);
    h->sk = (uint8_t)nw_attr_script_kind(h->attr, h->alen);
}

/* One byte of a Datastar expression's literal text, as the browser hands it
 * to Datastar (character references aside: '&' then '#' or a letter loses
 * the lexer, since the reference may decode to a quote). */
static void js_step(hstate *h, char ch) {
    if (h->js == JS_LOST) return;
    if (h->jamp) {
        h->jamp = 0;
        if (ch == '#' || is_alpha(ch)) { h->js = JS_LOST; return; }
    }
    if (ch == '&') h->jamp = 1;
    /* a javascript: URL is percent-decoded before it runs */
    if (ch == '%' && h->vk == NW_ATTR_JSURL) { h->js = JS_LOST; return; }
    bool dollar = h->jd;
    h->jd = ch == '$';
    switch (h->js) {
    case JS_CODE:
        if (ch == '\'') h->js = JS_SQ;
        else if (ch == '"') h->js = JS_DQ;
        else if (ch == '`') h->js = JS_BT;
        else if (ch == '/') h->js = JS_LOST;
        break;
    default:
        if (h->jesc) { h->jesc = 0; break; }
        if (ch == '\\') { h->jesc = 1; break; }
        if (ch == (h->js == JS_SQ ? '\'' : h->js == JS_DQ ? '"' : '`')) { h->js = JS_CODE; break; }
        if (h->js == JS_BT && ch == '{' && dollar) h->js = JS_LOST;   /* ${ opens code again */
        if (h->js != JS_BT && (ch == '\n' || ch == '\r')) h->js = JS_LOST;
        break;
    }
}

/* A URL value whose literal text starts "javascript:" (as a browser reads a
 * scheme: leading spaces and controls, TAB/LF/CR anywhere, any case) is a
 * script from the colon on. A tag before the colon ends the match: the
 * render-time URL check then decides. */
static void url_scheme_step(hstate *h, char ch) {
    static const char js_scheme[] = "javascript:";
    if (h->umatch == 0 && (unsigned char)ch <= 0x20) return;
    if (ch == '\t' || ch == '\n' || ch == '\r') return;
    if (lower_c(ch) != js_scheme[h->umatch]) { h->umatch = 255; return; }
    if (++h->umatch == 11) { h->vk = NW_ATTR_JSURL; h->js = JS_CODE; h->jesc = 0; h->jamp = 0; h->jd = 0; }
}

/* The next byte of a tag or attribute name (a name past its buffer is marked
 * too long: 255 for a tag, `along` for an attribute). */
static void h_tag_char(hstate *h, char ch) {
    if (h->tlen < 15) h->tag[h->tlen++] = lower_c(ch);
    else h->tlen = 255;
}

static void h_attr_start(hstate *h, char ch) {
    h->st = H_ATTR_NAME; h->attr[0] = lower_c(ch); h->alen = 1; h->along = 0;
}

static void h_attr_char(hstate *h, char ch) {
    if (h->alen < 31) h->attr[h->alen++] = lower_c(ch);
    else h->along = 1;
}

/* After '=': a quoted value opens (a URL value may start a URL mark at the
 * byte after the quote), an unquoted one, or the tag ends. */
static void h_before_val(hstate *h, char ch, uint32_t tn, uint32_t off) {
    if (is_hws(ch)) return;
    if (ch == '"' || ch == '\'') {
        h->st = ch == '"' ? H_VAL_DQ : H_VAL_SQ;
        h->vk = h->sk; h->js = JS_CODE; h->jesc = 0; h->jamp = 0; h->jd = 0; h->umatch = h->url ? 0 : 255;
        if (h->url) { h->in_url = 1; h->committed = 0; h->pend_tok = tn; h->pend_off = off + 1; }
        return;
    }
    if (ch == '>') { tag_done(h); return; }
    h->st = H_VAL_UQ;
    h->vk = h->sk; h->js = JS_LOST;
}

/* A byte of a quoted value: the closing quote ends a committed URL mark;
 * script values step the JS lexer, URL values the javascript: match. */
static bool h_quoted_val(cc *c, hstate *h, char ch, uint32_t tn, uint32_t off) {
    if (ch == (h->st == H_VAL_DQ ? '"' : '\'')) {
        if (h->in_url && h->committed && !add_mark(c, tn, off, OP_URL_END)) return false;
        h->in_url = 0;
        h->vk = 0;
        h->st = H_AFTER_VAL;
    } else if (h->vk == NW_ATTR_DATASTAR || h->vk == NW_ATTR_JSURL) {
        js_step(h, ch);
    } else if (h->umatch < 11) {
        url_scheme_step(h, ch);
    }
    return true;
}

/* "<!", comments and bogus comments; true when `ch` is to be read again in
 * the new state. */
static bool h_markup(hstate *h, char ch) {
    switch (h->st) {
    case H_MD:
        h->st = ch == '-' ? H_MD_DASH : H_BOGUS;
        if (ch == '>') h->st = H_DATA;
        return false;
    case H_MD_DASH:
        if (ch == '-') { h->st = H_COMMENT; h->dashes = 2; return false; }
        h->st = H_BOGUS;
        return true;
    case H_COMMENT:
        if (ch == '-') { if (h->dashes < 2) h->dashes++; return false; }
        if (ch == '>' && h->dashes >= 2) { h->st = H_DATA; return false; }
        h->dashes = 0;
        return false;
    default:   /* H_BOGUS */
        if (ch == '>') h->st = H_DATA;
        return false;
    }
}

/* Raw text: matches "</rawtag" then whitespace, '/' or '>', which becomes the
 * end tag's name (true: `ch` is read again as part of that tag). */
static bool h_raw(hstate *h, char ch) {
    if (!h->rtlen) return false; /* plaintext never ends */
    if (h->rtm == 0) { if (ch == '<') h->rtm = 1; return false; }
    if (h->rtm == 1) { h->rtm = ch == '/' ? 2 : (ch == '<' ? 1 : 0); return false; }
    if (h->rtm - 2 < h->rtlen) {
        if (lower_c(ch) == h->rt[h->rtm - 2]) { h->rtm++; return false; }
        h->rtm = ch == '<' ? 1 : 0;
        return false;
    }
    if (is_hws(ch) || ch == '/' || ch == '>') {
        h->st = H_TAG_NAME; h->end_tag = 1; h->refuse = 0;
        memcpy(h->tag, h->rt, h->rtlen); h->tlen = h->rtlen;
        return true;
    }
    h->rtm = ch == '<' ? 1 : 0;
    return false;
}

/* One byte of literal text at source offset `off` of token `tn`. */
static bool h_step(cc *c, hstate *h, char ch, uint32_t tn, uint32_t off) {
again:
    switch (h->st) {
    case H_DATA:
        if (ch == '<') h->st = H_TAG_OPEN;
        return true;
    case H_TAG_OPEN:
        if (ch == '!') { h->st = H_MD; return true; }
        if (ch == '/') { h->st = H_END_TAG_OPEN; return true; }
        if (ch == '?') { h->st = H_BOGUS; return true; }
        if (is_alpha(ch)) { h->st = H_TAG_NAME; h->end_tag = 0; h->tag[0] = lower_c(ch); h->tlen = 1; return true; }
        h->st = H_DATA;
        goto again;
    case H_END_TAG_OPEN:
        if (is_alpha(ch)) { h->st = H_TAG_NAME; h->end_tag = 1; h->tag[0] = lower_c(ch); h->tlen = 1; return true; }
        h->st = ch == '>' ? H_DATA : H_BOGUS;
        return true;
    case H_TAG_NAME:
        if (is_hws(ch)) { h->st = H_BEFORE_ATTR; return true; }
        if (ch == '/') { h->st = H_SELF_CLOSE; return true; }
        if (ch == '>') { tag_done(h); return true; }
        h_tag_char(h, ch);
        return true;
    case H_BEFORE_ATTR:
        if (is_hws(ch)) return true;
        if (ch == '/') { h->st = H_SELF_CLOSE; return true; }
        if (ch == '>') { tag_done(h); return true; }
        h_attr_start(h, ch);
        return true;
    case H_ATTR_NAME:
        if (is_hws(ch)) { h->st = H_AFTER_ATTR; return true; }
        if (ch == '/') { h->st = H_SELF_CLOSE; return true; }
        if (ch == '>') { tag_done(h); return true; }
        if (ch == '=') { attr_named(h); return true; }
        h_attr_char(h, ch);
        return true;
    case H_AFTER_ATTR:
        if (is_hws(ch)) return true;
        if (ch == '/') { h->st = H_SELF_CLOSE; return true; }
        if (ch == '=') { attr_named(h); return true; }
        if (ch == '>') { tag_done(h); return true; }
        h_attr_start(h, ch);
        return true;
    case H_BEFORE_VAL:
        h_before_val(h, ch, tn, off);
        return true;
    case H_VAL_DQ: case H_VAL_SQ:
        return h_quoted_val(c, h, ch, tn, off);
    case H_VAL_UQ:
        if (is_hws(ch)) { h->st = H_BEFORE_ATTR; h->vk = 0; return true; }
        if (ch == '>') { h->vk = 0; tag_done(h); return true; }
        return true;
    case H_AFTER_VAL:
        if (is_hws(ch)) { h->st = H_BEFORE_ATTR; return true; }
        if (ch == '/') { h->st = H_SELF_CLOSE; return true; }
        if (ch == '>') { tag_done(h); return true; }
        h->st = H_BEFORE_ATTR;
        goto again;
    case H_SELF_CLOSE:
        if (ch == '>') { tag_done(h); return true; }
        h->st = H_BEFORE_ATTR;
        goto again;
    case H_MD: case H_MD_DASH: case H_COMMENT: case H_BOGUS:
        if (h_markup(h, ch)) goto again;
        return true;
    case H_RAW:
        if (h_raw(h, ch)) goto again;
        return true;
    }
    return true;
}

static bool in_tag(uint8_t st) {
    return st == H_TAG_OPEN || st == H_END_TAG_OPEN || st == H_TAG_NAME || st == H_BEFORE_ATTR ||
           st == H_ATTR_NAME || st == H_AFTER_ATTR || st == H_AFTER_VAL || st == H_SELF_CLOSE;
}

static bool commit_url(cc *c, hstate *h) {
    if (!h->in_url || h->committed) return true;
    h->committed = 1;
    return add_mark(c, h->pend_tok, h->pend_off, OP_URL_BEGIN);
}

static nw_code html_range(cc *c, hstate *h, uint32_t from, uint32_t to, int depth);
static bool request_prog(cc *c, uint32_t pk, uint32_t variant, const hstate *at, uint32_t *out);
static uint32_t find_partial(const cc *c, const char *name, uint32_t n);

static bool in_value(const hstate *h) { return h->st == H_VAL_DQ || h->st == H_VAL_SQ || h->st == H_VAL_UQ; }

/* The script kind of the attribute value a tag sits in (0: none). */
static uint8_t value_kind(const hstate *h) {
    if (in_value(h)) return h->vk;
    if (h->st == H_BEFORE_VAL) return h->sk;
    return 0;
}

/* A tag refused where its value would run as script (or, in srcdoc, as a
 * document); `open`/`close` spell the tag the way the author wrote it. */
static nw_code script_refusal(cc *c, const hstate *h, const tok *t, const char *open, const char *close) {
    int nl = (int)(t->ne - t->ns);
    const char *nm = c->src + t->ns;
    int al = (int)h->alen;
    const char *more = h->along ? "..." : "";
    switch (value_kind(h)) {
    case NW_ATTR_EVENT:
        return cerr(c, NW_E_TEMPLATE, "context", t->s,
                    "%s%.*s%s in the event handler %.*s%s= would run as script: pass the value in a data-* attribute and read el.dataset (or use a Datastar signal)",
                    open, nl, nm, close, al, h->attr, more);
    case NW_ATTR_SRCDOC:
        return cerr(c, NW_E_TEMPLATE, "context", t->s,
                    "%s%.*s%s in srcdoc= would be parsed as live HTML: load the document with src= (or build it with the HTML builders)",
                    open, nl, nm, close);
    default: {
        const char *what = value_kind(h) == NW_ATTR_JSURL ? "javascript: URL of" : "Datastar expression";
        if (t->type == TT_VAR)
            return cerr(c, NW_E_TEMPLATE, "context", t->s,
                        "%s%.*s%s in the %s %.*s%s= is not inside a '...' string: quote it ('%s%.*s%s'), or pass the value as a signal or a data-* attribute read with el.dataset",
                        open, nl, nm, close, what, al, h->attr, more, open, nl, nm, close);
        return cerr(c, NW_E_TEMPLATE, "context", t->s,
                    "%s%.*s%s in the %s %.*s%s= would run as script: use {{%.*s}} inside a '...' string, or pass the value as a signal or a data-* attribute read with el.dataset",
                    open, nl, nm, close, what, al, h->attr, more, nl, nm);
    }
    }
}

/* {{x}}: refused inside a tag, an unquoted value, <script>/<style>, or a
 * script value outside a JS string; a JS-string value is marked TF_JS. */
static nw_code html_var(cc *c, hstate *h, tok *t, uint8_t vk) {
    int nl = (int)(t->ne - t->ns);
    const char *nm = c->src + t->ns;
    if (in_tag(h->st) || h->st == H_BEFORE_VAL || h->st == H_VAL_UQ)
        return cerr(c, NW_E_TEMPLATE, "context", t->s,
                    "{{%.*s}} inside a tag must be in a quoted attribute value (or use {{{%.*s}}} for trusted markup)",
                    nl, nm, nl, nm);
    if (h->st == H_RAW && h->refuse)
        return cerr(c, NW_E_TEMPLATE, "context", t->s,
                    "{{%.*s}} inside <%.*s> cannot be escaped safely (use {{{%.*s}}} for trusted content)",
                    nl, nm, (int)h->rtlen, h->rt, nl, nm);
    if (vk) {
        if ((vk != NW_ATTR_DATASTAR && vk != NW_ATTR_JSURL) || (h->js != JS_SQ && h->js != JS_DQ) || h->jesc || h->jamp)
            return script_refusal(c, h, t, "{{", "}}");
        t->flags |= TF_JS;
    }
    if (!commit_url(c, h)) return nomem(c);
    return NW_OK;
}

/* The next {{$block}} a {{<parent}} passes, from tok k on (inside the
 * parent's body, before `end`): sections in between are skipped whole,
 * the parent's own text is ignored. `end` when there is none. */
static uint32_t next_parent_block(const cc *c, uint32_t k, uint32_t end) {
    while (k < end) {
        const tok *b = &c->toks[k];
        if (b->type == TT_BLOCK && b->match != NONE) return k;
        k = b->match != NONE && b->type != TT_CLOSE ? b->match + 1 : k + 1;
    }
    return end;
}

/* The blocks a {{<parent}} passes, each from the context of the parent tag;
 * `h` is left as it was. */
static nw_code parent_blocks(cc *c, hstate *h, uint32_t i, uint32_t end, int depth) {
    hstate saved = *h;
    for (uint32_t k = next_parent_block(c, i + 1, end); k < end; k = next_parent_block(c, c->toks[k].match + 1, end)) {
        *h = saved;
        nw_code rc = html_range(c, h, k + 1, c->toks[k].match, depth + 1);
        if (rc) return rc;
    }
    *h = saved;
    return NW_OK;
}

/* {{>partial}}, {{<parent}} and {{$block}}: refused where their content
 * could not be checked; a partial is compiled to start where it is included. */
static nw_code html_include(cc *c, hstate *h, uint32_t *pi, int depth, uint8_t vk) {
    uint32_t i = *pi;
    tok *t = &c->toks[i];
    int nl = (int)(t->ne - t->ns);
    const char *nm = c->src + t->ns;
    if (h->st == H_BEFORE_VAL || h->st == H_VAL_UQ)
        return cerr(c, NW_E_TEMPLATE, "context", t->s,
                    "{{%c%.*s}} in an unquoted attribute value: quote the value", sigil(t->type), nl, nm);
    if (t->type == TT_BLOCK && (vk || (h->st == H_RAW && h->refuse)))
        /* a block's content may come from another template, where this
         * context is not known */
        return cerr(c, NW_E_TEMPLATE, "context", t->s,
                    "{{$%.*s}} inside %s%.*s%s: a block there could hold values that run as script",
                    nl, nm, vk ? "the attribute " : "<", vk ? (int)h->alen : (int)h->rtlen, vk ? h->attr : h->rt, vk ? "=" : ">");
    if (t->type != TT_BLOCK) {
        uint32_t pk = find_partial(c, nm, (uint32_t)nl);
        if (pk != NONE && !request_prog(c, pk, V_AT, h, &t->prog)) return nomem(c);
    }
    if (!commit_url(c, h)) return nomem(c);
    if (t->type == TT_PARENT && t->match != NONE) {
        uint32_t end = t->match;
        nw_code rc = parent_blocks(c, h, i, end, depth);
        if (rc) return rc;
        *pi = end;
    }
    /* what the partial leaves the expression as is not known here */
    if (t->type != TT_BLOCK && (vk == NW_ATTR_DATASTAR || vk == NW_ATTR_JSURL)) h->js = JS_LOST;
    return NW_OK;
}

static nw_code html_tok(cc *c, hstate *h, uint32_t *pi, int depth) {
    uint32_t i = *pi;
    tok *t = &c->toks[i];
    if (t->type != TT_TEXT && h->umatch < 11 && in_value(h)) h->umatch = 255;
    uint8_t vk = value_kind(h);
    switch (t->type) {
    case TT_TEXT:
        for (uint32_t p = t->s; p < t->e; p++)
            if (!h_step(c, h, c->src[p], i, p)) return nomem(c);
        return NW_OK;
    case TT_VAR:
        return html_var(c, h, t, vk);
    case TT_RAW:
        if (vk) {
            /* {{{x}}} or {{&x}}: the sigil is the first non-space byte before the name */
            uint32_t q = t->ns;
            while (q > t->s && is_space(c->src[q - 1])) q--;
            bool brace = q > t->s && c->src[q - 1] == '{';
            return script_refusal(c, h, t, brace ? "{{{" : "{{&", brace ? "}}}" : "}}");
        }
        return NW_OK;
    case TT_SECTION: case TT_INVERTED:
        if ((vk == NW_ATTR_DATASTAR || vk == NW_ATTR_JSURL) && h->st != H_BEFORE_VAL) t->jss = (uint8_t)(h->js + 1);
        return NW_OK;
    case TT_CLOSE:
        /* a section that may leave the expression in another state than it
         * found it (its body opens or closes a string) loses the lexer */
        if (t->match != NONE && c->toks[t->match].jss && (vk == NW_ATTR_DATASTAR || vk == NW_ATTR_JSURL) &&
            c->toks[t->match].jss != h->js + 1)
            h->js = JS_LOST;
        return NW_OK;
    case TT_PARTIAL: case TT_PARENT: case TT_BLOCK:
        return html_include(c, h, pi, depth, vk);
    default:
        return NW_OK;
    }
}

static nw_code html_range(cc *c, hstate *h, uint32_t from, uint32_t to, int depth) {
    if (depth > NW_TPL_MAX_DEPTH) return NW_OK;
    for (uint32_t i = from; i < to; i++) {
        nw_code rc = html_tok(c, h, &i, depth);
        if (rc) return rc;
    }
    return NW_OK;
}

/* ---- 6. code generation --------------------------------------------------------------- */

static uint32_t hash_bytes(const char *p, uint32_t n) {
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < n; i++) { h ^= (uint8_t)p[i]; h *= 16777619u; }
    return h;
}

static bool pool_add(cc *c, const char *p, uint32_t n, uint32_t *off) {
    nw_tpl *t = c->t;
    if (n > 0x7FFFFFFFu - t->plen) return false;
    if (!nw_grow((void **)&t->pool, &t->pcap, 1, t->plen + n + 1)) return false;
    memcpy(t->pool + t->plen, p, n);
    *off = t->plen;
    t->plen += n;
    return true;
}

/* Interns a tag name; dotted names are split into parts once. "." is the
 * implicit iterator (no parts). */
static bool intern(cc *c, const char *p, uint32_t n, uint32_t *out) {
    nw_tpl *t = c->t;
    if (t->nnames * 2 + 2 > c->hcap) {
        uint32_t cap = c->hcap ? c->hcap * 2 : 64;
        uint32_t *h = nw_malloc((size_t)cap * sizeof *h);
        if (!h) return false;
        for (uint32_t i = 0; i < cap; i++) h[i] = NONE;
        for (uint32_t i = 0; i < t->nnames; i++) {
            uint32_t k = hash_bytes(t->pool + t->names[i].off, t->names[i].len) & (cap - 1);
            while (h[k] != NONE) k = (k + 1) & (cap - 1);
            h[k] = i;
        }
        nw_free(c->htab);
        c->htab = h;
        c->hcap = cap;
    }
    uint32_t k = hash_bytes(p, n) & (c->hcap - 1);
    while (c->htab[k] != NONE) {
        tpl_name *nm = &t->names[c->htab[k]];
        if (nm->len == n && memcmp(t->pool + nm->off, p, n) == 0) { *out = c->htab[k]; return true; }
        k = (k + 1) & (c->hcap - 1);
    }
    if (!nw_grow((void **)&t->names, &t->cnames, sizeof(tpl_name), t->nnames + 1)) return false;
    uint32_t off;
    if (!pool_add(c, p, n, &off)) return false;
    tpl_name nm = { off, n, t->nparts, 0 };
    if (!(n == 1 && p[0] == '.')) {
        uint32_t a = 0;
        for (uint32_t i = 0; i <= n; i++) {
            if (i < n && p[i] != '.') continue;
            if (!nw_grow((void **)&t->parts, &t->cparts, sizeof(tpl_part), t->nparts + 1)) return false;
            t->parts[t->nparts++] = (tpl_part){ off + a, i - a };
            nm.nparts++;
            a = i + 1;
        }
    }
    t->names[t->nnames] = nm;
    c->htab[k] = t->nnames;
    *out = t->nnames++;
    return true;
}

static tpl_op *emit(cc *c, uint8_t kind) {
    nw_tpl *t = c->t;
    if (!nw_grow((void **)&t->ops, &t->cops, sizeof(tpl_op), t->nops + 1)) return NULL;
    tpl_op *o = &t->ops[t->nops++];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    c->merge = -1;
    return o;
}

static bool line_start(const cc *c, uint32_t p) { return p == 0 || c->src[p - 1] == '\n'; }

/* Appends literal bytes to the pool, dropping `dd` bytes of indentation at
 * each source line start and replacing invalid UTF-8 by U+FFFD. Sets *hi if
 * any byte >= 0x80 was written; returns false on OOM. *ends_ls: the copy
 * ended at a line start of the output. */
static bool copy_text(cc *c, uint32_t a, uint32_t b, uint32_t dd, bool *hi, bool *ends_ls) {
    nw_tpl *t = c->t;
    uint32_t p = a;
    bool ls = line_start(c, p);
    *ends_ls = false;
    /* worst case: every byte becomes 3 */
    if ((uint64_t)(b - a) * 3 > 0x7FFFFFFFu - t->plen) return false;
    if (!nw_grow((void **)&t->pool, &t->pcap, 1, t->plen + (b - a) * 3 + 1)) return false;
    while (p < b) {
        if (ls) {
            for (uint32_t k = 0; k < dd && p < b && is_ws(c->src[p]); k++) p++;
            ls = false;
            if (p == b) { *ends_ls = true; break; }
        }
        unsigned char ch = (unsigned char)c->src[p];
        if (ch < 0x80) {
            t->pool[t->plen++] = (char)ch;
            p++;
            if (ch == '\n') { ls = true; if (p == b) *ends_ls = true; }
            continue;
        }
        *hi = true;
        /* validate one sequence */
        uint32_t need = ch >= 0xF0 ? 3 : ch >= 0xE0 ? 2 : 1;
        uint8_t lo = 0x80, hb = 0xBF;
        bool ok = ch >= 0xC2 && ch <= 0xF4;
        if (ch == 0xE0) lo = 0xA0; else if (ch == 0xED) hb = 0x9F;
        else if (ch == 0xF0) lo = 0x90; else if (ch == 0xF4) hb = 0x8F;
        uint32_t k = 1;
        if (ok) {
            for (; k <= need; k++) {
                if (p + k >= b) { ok = false; break; }
                unsigned char x = (unsigned char)c->src[p + k];
                if (k == 1 ? (x < lo || x > hb) : (x & 0xC0) != 0x80) { ok = false; break; }
            }
        }
        if (ok) {
            memcpy(t->pool + t->plen, c->src + p, need + 1);
            t->plen += need + 1;
            p += need + 1;
        } else {
            memcpy(t->pool + t->plen, "\xEF\xBF\xBD", 3);
            t->plen += 3;
            p += k ? k : 1;
        }
    }
    return true;
}

static nw_code emit_text_range(cc *c, uint32_t a, uint32_t b, uint32_t dd) {
    if (a >= b) return NW_OK;
    nw_tpl *t = c->t;
    bool sol = line_start(c, a) || c->sol_pending;
    uint32_t start = t->plen;
    bool hi = false, ends_ls = false;
    if (!copy_text(c, a, b, dd, &hi, &ends_ls)) return nomem(c);
    uint32_t n = t->plen - start;
    if (n == 0) {
        /* everything was indentation: what follows starts the line */
        if (sol) c->sol_pending = true;
        return NW_OK;
    }
    c->sol_pending = ends_ls;
    const char *p = t->pool + start;
    bool empty_line = p[0] == '\n' || (n > 1 && p[0] == '\r' && p[1] == '\n');
    if (c->merge >= 0) {
        tpl_op *o = &t->ops[c->merge];
        o->b += n;
        if (hi) o->flags |= OF_HI;
        return NW_OK;
    }
    tpl_op *o = emit(c, OP_TEXT);
    if (!o) return nomem(c);
    o->a = start; o->b = n;
    o->flags = (uint8_t)((sol && !empty_line ? OF_SOL : 0) | (hi ? OF_HI : 0));
    c->merge = (int)(o - t->ops);
    return NW_OK;
}

static nw_code emit_text(cc *c, uint32_t i) {
    tok *t = &c->toks[i];
    uint32_t a = t->s;
    while (c->mcur < c->nmarks && c->marks[c->mcur].tok < i) c->mcur++;
    while (c->mcur < c->nmarks && c->marks[c->mcur].tok == i) {
        mark *m = &c->marks[c->mcur++];
        uint32_t off = m->off < a ? a : m->off > t->e ? t->e : m->off;
        nw_code rc = emit_text_range(c, a, off, t->dd);
        if (rc) return rc;
        if (!emit(c, m->kind)) return nomem(c);
        a = off;
    }
    return emit_text_range(c, a, t->e, t->dd);
}

/* Flags of a tag op: standalone tags neither take nor leave a line start
 * (their whole line is gone); others start a line if they sit at one. */
static uint8_t tag_sol(cc *c, const tok *t) {
    if (t->flags & TF_STANDALONE) { c->sol_pending = false; return 0; }
    bool sol = line_start(c, t->s) || c->sol_pending;
    c->sol_pending = false;
    return sol ? OF_SOL : 0;
}

static uint32_t find_partial(const cc *c, const char *name, uint32_t n) {
    for (size_t i = 0; i < c->npartials; i++)
        if (c->partials[i].name_len == n && memcmp(c->partials[i].name, name, n) == 0) return (uint32_t)i;
    return NONE;
}

/* The start state of a partial included in state h: what its own tags'
 * context depends on, the rest cleared (URL checks of a value the partial
 * is part of are the includer's). */
static void norm_state(const hstate *h, hstate *n) {
    memset(n, 0, sizeof *n);
    if (in_tag(h->st)) {
        /* a partial between attributes (<div {{>attrs}}>) starts as attributes;
         * after a bare '<' its output decides what it is: text */
        if (h->st == H_TAG_OPEN || h->st == H_END_TAG_OPEN) return;
        n->st = H_BEFORE_ATTR;
        n->end_tag = h->end_tag; n->tlen = h->tlen;
        memcpy(n->tag, h->tag, sizeof n->tag);
        return;
    }
    n->st = h->st;
    switch (h->st) {
    case H_COMMENT: n->dashes = h->dashes; break;
    case H_RAW:
        n->refuse = h->refuse; n->rtlen = h->rtlen; n->rtm = h->rtm;
        memcpy(n->rt, h->rt, sizeof n->rt);
        break;
    case H_VAL_DQ: case H_VAL_SQ: case H_VAL_UQ: case H_BEFORE_VAL:
        n->end_tag = h->end_tag; n->tlen = h->tlen;
        memcpy(n->tag, h->tag, sizeof n->tag);
        n->alen = h->alen; n->along = h->along; n->url = h->url;
        memcpy(n->attr, h->attr, sizeof n->attr);
        n->sk = h->sk; n->vk = h->vk;
        n->js = h->js; n->jesc = h->jesc; n->jamp = h->jamp; n->jd = h->jd;
        n->umatch = h->umatch;
        break;
    default: break;
    }
}

static bool state_eq(const hstate *a, const hstate *b) {
    return a->st == b->st && a->end_tag == b->end_tag && a->tlen == b->tlen && a->alen == b->alen &&
           a->along == b->along && a->url == b->url && a->refuse == b->refuse && a->rtlen == b->rtlen &&
           a->rtm == b->rtm && a->dashes == b->dashes && a->sk == b->sk && a->vk == b->vk && a->js == b->js &&
           a->jesc == b->jesc && a->jamp == b->jamp && a->jd == b->jd && a->umatch == b->umatch &&
           memcmp(a->tag, b->tag, sizeof a->tag) == 0 && memcmp(a->attr, b->attr, sizeof a->attr) == 0 &&
           memcmp(a->rt, b->rt, sizeof a->rt) == 0;
}

static bool new_prog(cc *c, uint32_t key, uint32_t *out) {
    nw_tpl *t = c->t;
    if (!nw_grow((void **)&t->progs, &t->cprogs, sizeof(tpl_prog), t->nprogs + 1)) return false;
    if (!nw_grow((void **)&c->pwork, &c->cwork, sizeof(uint32_t), t->nprogs + 1)) return false;
    if (!nw_grow((void **)&c->pstart, &c->cpstart, sizeof(hstate), t->nprogs + 1)) return false;
    t->progs[t->nprogs] = (tpl_prog){ 0, 0 };
    c->pwork[t->nprogs] = key;
    memset(&c->pstart[t->nprogs], 0, sizeof(hstate));
    *out = t->nprogs++;
    return true;
}

/* Program index for (partial, variant; the state `at` it is included in
 * for V_AT), queued for compilation if new. */
static bool request_prog(cc *c, uint32_t pk, uint32_t variant, const hstate *at, uint32_t *out) {
    if (variant == V_AT) {
        hstate n;
        norm_state(at, &n);
        if (n.st != H_DATA) {
            uint32_t key = pk * 2 + V_AT;
            for (uint32_t p = 1; p < c->t->nprogs; p++)
                if (c->pwork[p] == key && state_eq(&c->pstart[p], &n)) { *out = p; return true; }
            if (!new_prog(c, key, out)) return false;
            c->pstart[*out] = n;
            return true;
        }
    }
    if (c->pmap[pk] != NONE) { *out = c->pmap[pk]; return true; }
    if (!new_prog(c, pk * 2 + V_DATA, out)) return false;
    c->pmap[pk] = *out;
    return true;
}

/* Stores the indentation src[is, ie) of a standalone tag with op `at`. */
static nw_code set_indent(cc *c, uint32_t at, uint32_t is, uint32_t ie) {
    if (is > ie) is = ie;
    uint32_t off;
    if (!pool_add(c, c->src + is, ie - is, &off)) return nomem(c);
    c->t->ops[at].c = off;
    c->t->ops[at].d = ie - is;
    return NW_OK;
}

static nw_code gen_range(cc *c, uint32_t from, uint32_t to, int depth);

static nw_code gen_tok(cc *c, uint32_t *pi, int depth);

/* {{x}} and {{{x}}}: one VAR or RAW op. */
static nw_code gen_value(cc *c, const tok *t) {
    uint32_t name;
    if (!intern(c, c->src + t->ns, t->ne - t->ns, &name)) return nomem(c);
    uint8_t f = tag_sol(c, t);
    tpl_op *o = emit(c, t->type == TT_VAR ? OP_VAR : OP_RAW);
    if (!o) return nomem(c);
    o->a = name; o->flags = (uint8_t)(f | ((t->flags & TF_JS) ? OF_JS : 0));
    return NW_OK;
}

/* A section, inverted section or block: its op, then its body, then the
 * op's end (`b`). */
static nw_code gen_section(cc *c, uint32_t *pi, int depth) {
    uint32_t i = *pi;
    tok *t = &c->toks[i];
    nw_tpl *T = c->t;
    uint32_t name;
    if (!intern(c, c->src + t->ns, t->ne - t->ns, &name)) return nomem(c);
    uint8_t f = tag_sol(c, t);
    tpl_op *o = emit(c, t->type == TT_SECTION ? OP_SECTION : t->type == TT_INVERTED ? OP_INVERTED : OP_BLOCK);
    if (!o) return nomem(c);
    uint32_t at = (uint32_t)(o - T->ops);
    o->a = name; o->flags = f;
    if (t->type == TT_BLOCK && (t->flags & TF_STANDALONE)) {
        /* re-indent where used: by the block's own margin, else by the
         * indentation of its line, both net of the enclosing dedent */
        uint32_t is, ie;
        if (t->mlen > t->dd) { is = t->ms + t->dd; ie = t->ms + t->mlen; }
        else { is = t->is + t->dd; ie = t->ie; }
        o->flags |= OF_STANDALONE;
        nw_code rc = set_indent(c, at, is, ie);
        if (rc) return rc;
    }
    nw_code rc = gen_range(c, i + 1, t->match, depth + 1);
    if (rc) return rc;
    T->ops[at].b = T->nops;
    c->merge = -1;
    *pi = t->match;
    return NW_OK;
}

/* The body of {{<parent}} toks (i, end): only the blocks it passes. */
static nw_code gen_parent_blocks(cc *c, uint32_t i, uint32_t end, int depth) {
    for (uint32_t k = next_parent_block(c, i + 1, end); k < end; k = next_parent_block(c, c->toks[k].match + 1, end)) {
        uint32_t kk = k;
        nw_code rc = gen_tok(c, &kk, depth + 1);
        if (rc) return rc;
    }
    return NW_OK;
}

/* {{>partial}} and {{<parent}}: the op naming the program to run (unknown
 * partials are an error in strict mode), then a parent's blocks. */
static nw_code gen_include(cc *c, uint32_t *pi, int depth) {
    uint32_t i = *pi;
    tok *t = &c->toks[i];
    nw_tpl *T = c->t;
    uint32_t pk = find_partial(c, c->src + t->ns, t->ne - t->ns);
    if (pk == NONE && c->strict)
        return cerr(c, NW_E_TEMPLATE, "partial", t->s, "unknown partial \"%.*s\"", (int)(t->ne - t->ns), c->src + t->ns);
    uint32_t prog = t->prog;
    if (pk != NONE && prog == NONE && !request_prog(c, pk, V_DATA, NULL, &prog)) return nomem(c);
    uint8_t f = tag_sol(c, t);
    tpl_op *o = emit(c, t->type == TT_PARTIAL ? OP_PARTIAL : OP_PARENT);
    if (!o) return nomem(c);
    uint32_t at = (uint32_t)(o - T->ops);
    o->a = prog; o->flags = f;
    if (t->flags & TF_STANDALONE) {
        T->ops[at].flags |= OF_STANDALONE;
        uint32_t is = t->is + t->dd;
        nw_code rc = set_indent(c, at, is, t->ie);
        if (rc) return rc;
    }
    if (t->type == TT_PARENT) {
        uint32_t end = t->match;
        nw_code rc = gen_parent_blocks(c, i, end, depth);
        if (rc) return rc;
        T->ops[at].b = T->nops;
        c->merge = -1;
        c->sol_pending = false;
        *pi = end;
    }
    return NW_OK;
}

static nw_code gen_tok(cc *c, uint32_t *pi, int depth) {
    const tok *t = &c->toks[*pi];
    switch (t->type) {
    case TT_TEXT:
        return emit_text(c, *pi);
    case TT_VAR: case TT_RAW:
        return gen_value(c, t);
    case TT_SECTION: case TT_INVERTED: case TT_BLOCK:
        return gen_section(c, pi, depth);
    case TT_PARTIAL: case TT_PARENT:
        return gen_include(c, pi, depth);
    default:
        return NW_OK;
    }
}

static nw_code gen_range(cc *c, uint32_t from, uint32_t to, int depth) {
    if (depth > NW_TPL_MAX_DEPTH + 2) return cerr(c, NW_E_LIMIT, "depth", 0, "template nested too deeply");
    for (uint32_t i = from; i < to; i++) {
        nw_code rc = gen_tok(c, &i, depth);
        if (rc) return rc;
    }
    return NW_OK;
}

/* Compiles one source into program `prog`. */
static nw_code compile_one(cc *c, uint32_t prog, const char *src, size_t len, const hstate *start) {
    if (len > 0x7FFFFFF0u) return nw_error_set(c->err, NW_E_LIMIT, NULL, NULL, "size", "template too large");
    c->src = src; c->len = (uint32_t)len;
    c->ntoks = 0; c->nmarks = 0; c->mcur = 0;
    c->merge = -1; c->sol_pending = false;
    nw_code rc = tokenize(c);
    if (rc) return rc;
    standalone_pass(c);
    rc = structure_pass(c);
    if (rc) return rc;
    dedent_pass(c);
    hstate h;
    if (start) h = *start;
    else memset(&h, 0, sizeof h);
    rc = html_range(c, &h, 0, c->ntoks, 0);
    if (rc) return rc;
    c->t->progs[prog].begin = c->t->nops;
    rc = gen_range(c, 0, c->ntoks, 0);
    if (rc) return rc;
    c->t->progs[prog].end = c->t->nops;
    return NW_OK;
}

nw_code nw_tpl_compile(const char *src, size_t len, const nw_tpl_partial *partials,
                       size_t npartials, bool strict, nw_tpl **out, nw_error *err) {
    *out = NULL;
    cc c;
    memset(&c, 0, sizeof c);
    c.err = err; c.partials = partials; c.npartials = npartials; c.strict = strict;
    nw_code rc = NW_OK;
    if ((!src && len) || (npartials && !partials) || npartials > 0x3FFFFFFF)
        return nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "bad template arguments");
    c.t = nw_calloc(1, sizeof *c.t);
    c.pmap = nw_malloc((npartials + 1) * sizeof *c.pmap);
    if (!c.t || !c.pmap) { rc = nw_error_nomem(err); goto done; }
    for (size_t i = 0; i < npartials; i++) c.pmap[i] = NONE;
    if (!nw_grow((void **)&c.t->progs, &c.t->cprogs, sizeof(tpl_prog), 1) ||
        !nw_grow((void **)&c.pwork, &c.cwork, sizeof(uint32_t), 1) ||
        !nw_grow((void **)&c.pstart, &c.cpstart, sizeof(hstate), 1)) { rc = nw_error_nomem(err); goto done; }
    c.t->nprogs = 1;
    c.pwork[0] = NONE;
    /* every partial is checked, used or not */
    for (size_t i = 0; i < npartials; i++) {
        uint32_t p;
        if (!request_prog(&c, (uint32_t)i, V_DATA, NULL, &p)) { rc = nw_error_nomem(err); goto done; }
    }
    rc = compile_one(&c, 0, src ? src : "", len, NULL);
    for (uint32_t p = 1; !rc && p < c.t->nprogs; p++) {
        uint32_t key = c.pwork[p];
        const nw_tpl_partial *pp = &partials[key / 2];
        c.pname = pp->name; c.pname_len = pp->name_len;
        hstate start = c.pstart[p];   /* copied: compiling may grow pstart */
        rc = compile_one(&c, p, pp->src ? pp->src : "", pp->src ? pp->src_len : 0, key % 2 == V_AT ? &start : NULL);
    }
done:
    nw_free(c.toks);
    nw_free(c.marks);
    nw_free(c.htab);
    nw_free(c.pmap);
    nw_free(c.pwork);
    nw_free(c.pstart);
    if (rc) { nw_tpl_free(c.t); return rc; }
    *out = c.t;
    return NW_OK;
}

/* ---- rendering ------------------------------------------------------------------------ */

#define MAX_CTX (NW_TPL_MAX_DEPTH + 2)

typedef struct rs {
    const nw_tpl *t;
    const tpl_op *ops;                   /* the op array being run (t->ops unless a DOM program's) */
    const char *tpool;                   /* the pool its TEXT ops point into */
    uint32_t low;                        /* lowest context index a lookup read */
    nw_buf *out;
    nw_error *err;
    nv ctx[MAX_CTX];
    uint32_t nctx, depth;
    uint32_t frames[NW_TPL_MAX_DEPTH];   /* PARENT ops whose blocks override */
    uint32_t nframes;
    char ind[NW_TPL_MAX_INDENT];
    uint32_t istart, ilen;               /* current indentation: ind[istart, ilen) */
    bool pending_sol;                    /* the next op starts a line (block content) */
    bool hi;
    bool guard, gdyn;                    /* a URL attribute value is being checked */
    size_t gstart;
    nw_url_check chk;
    nw_buf scratch;
} rs;

static void lookup(rs *r, uint32_t name, nv *out) {
    const tpl_name *nm = &r->t->names[name];
    if (!nm->nparts) {
        if (r->nctx - 1 < r->low) r->low = r->nctx - 1;
        *out = r->ctx[r->nctx - 1];
        return;
    }
    const tpl_part *pt = &r->t->parts[nm->parts];
    const char *pool = r->t->pool;
    nv cur;
    uint32_t k = r->nctx;
    for (;;) {
        if (!k) { r->low = 0; out->kind = NV_MISSING; return; }
        const nv *c = &r->ctx[--k];
        if (c->kind == NV_MAP && c->ops->get(c, pool + pt[0].off, pt[0].len, &cur)) break;
    }
    if (k < r->low) r->low = k;
    for (uint32_t j = 1; j < nm->nparts; j++) {
        const char *p = pool + pt[j].off;
        uint32_t n = pt[j].len;
        nv next;
        if (cur.kind == NV_MAP) {
            if (!cur.ops->get(&cur, p, n, &next)) { out->kind = NV_MISSING; return; }
        } else if (cur.kind == NV_LIST) {
            uint32_t len = cur.ops->len(&cur);
            if (n == 6 && memcmp(p, "length", 6) == 0) {
                memset(&next, 0, sizeof next);
                next.kind = NV_NUM;
                next.u.num = len;
            } else {
                uint32_t idx = 0, q = 0;
                for (; q < n && q < 10 && p[q] >= '0' && p[q] <= '9'; q++) idx = idx * 10 + (uint32_t)(p[q] - '0');
                if (!n || q != n || (n > 1 && p[0] == '0') || idx >= len) { out->kind = NV_MISSING; return; }
                nv_iter it = { 0, 0 };
                for (uint32_t x = 0; x <= idx; x++)
                    if (!cur.ops->next(&cur, &it, &next)) { out->kind = NV_MISSING; return; }
            }
        } else {
            out->kind = NV_MISSING;
            return;
        }
        cur = next;
    }
    *out = cur;
}

static void write_indent(rs *r) {
    if (r->ilen > r->istart) nw_buf_append(r->out, r->ind + r->istart, r->ilen - r->istart);
}

static bool empty_line_at(const char *p, const char *e) {
    return *p == '\n' || (*p == '\r' && p + 1 < e && p[1] == '\n');
}

static void guard_end(rs *r) {
    if (!r->guard) return;
    r->guard = false;
    if (r->gdyn && nw_url_check_dangerous(&r->chk) && !r->out->oom) {
        r->out->len = r->gstart;
        nw_buf_str(r->out, "about:invalid");
    }
}


static void write_value(rs *r, const nv *v, bool esc, bool js) {
    char num[40];
    const char *p;
    size_t n;
    bool plain = false;   /* known to hold no byte that escaping changes */
    switch (v->kind) {
    case NV_MISSING: case NV_NULL: return;
    case NV_STR: p = v->u.str.p; n = v->u.str.len; break;
    case NV_NUM: n = (size_t)nw_fmt_num(num, v->u.num); p = num; plain = true; break;
    case NV_DATE: n = nw_fmt_iso(num, v->u.num); p = num; plain = true; break;
    case NV_BOOL: p = v->u.b ? "true" : "false"; n = v->u.b ? 4 : 5; plain = true; break;
    default:
        nw_buf_reset(&r->scratch);
        nv_write_text(&r->scratch, v);
        if (r->scratch.oom) { r->out->oom = true; return; }
        p = (const char *)r->scratch.p; n = r->scratch.len;
        break;
    }
    if (r->guard && n && !nw_url_check_decided(&r->chk)) {
        nw_url_check_feed(&r->chk, p, n);
        if (esc) r->gdyn = true;
    }
    if (js) {
        nw_escape_js_string(r->out, p, n);   /* ASCII without HTML specials: nothing left to HTML-escape */
    } else if (esc && !plain) {
        if (nw_escape_html(r->out, p, n)) r->hi = true;
    } else {
        nw_buf_append(r->out, p, n);
        if (!r->hi && !plain)
            for (size_t i = 0; i < n; i++)
                if ((unsigned char)p[i] >= 0x80) { r->hi = true; break; }
    }
}

static void write_text(rs *r, const tpl_op *o, bool sol) {
    const char *p = r->tpool + o->a, *e = p + o->b;
    if (o->flags & OF_HI) r->hi = true;
    if (r->guard && !nw_url_check_decided(&r->chk)) nw_url_check_feed(&r->chk, p, o->b);
    if (r->ilen == r->istart) { nw_buf_append(r->out, p, o->b); return; }
    /* indented: every non-empty source line starts with the indentation */
    if (sol && !empty_line_at(p, e)) write_indent(r);
    for (;;) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        if (!nl) { nw_buf_append(r->out, p, (size_t)(e - p)); return; }
        nw_buf_append(r->out, p, (size_t)(nl + 1 - p));
        p = nl + 1;
        if (p == e) return;
        if (!empty_line_at(p, e)) write_indent(r);
    }
}

static nw_code render_range(rs *r, uint32_t begin, uint32_t end);

static nw_code too_deep(rs *r) {
    return nw_error_set(r->err, NW_E_LIMIT, NULL, NULL, "depth",
                        "template nesting deeper than %d (recursive partial?)", NW_TPL_MAX_DEPTH);
}

/* Renders ops [begin, end) one level deeper, with indentation `ind[0..n)`
 * added (standalone) or reset (inline partial: its lines are not indented). */
static nw_code render_nested(rs *r, uint32_t begin, uint32_t end, int mode, const char *ind, uint32_t n, bool sol) {
    if (r->depth >= NW_TPL_MAX_DEPTH) return too_deep(r);
    uint32_t s0 = r->istart, l0 = r->ilen;
    if (mode == 1) {
        if (n > NW_TPL_MAX_INDENT - r->ilen)
            return nw_error_set(r->err, NW_E_LIMIT, NULL, NULL, "depth", "indentation of nested partials too long");
        if (n) memcpy(r->ind + r->ilen, ind, n);
        r->ilen += n;
    } else if (mode == 2) {
        r->istart = r->ilen;
    }
    r->depth++;
    r->pending_sol = sol;
    nw_code rc = render_range(r, begin, end);
    r->pending_sol = false;
    r->depth--;
    r->istart = s0; r->ilen = l0;
    return rc;
}

/* The body that a block site renders: the outermost override, else its own. */
static void block_body(rs *r, uint32_t at, uint32_t *b, uint32_t *e) {
    const tpl_op *ops = r->ops;
    uint32_t name = ops[at].a;
    for (uint32_t f = 0; f < r->nframes; f++) {
        uint32_t p = r->frames[f], k = p + 1, end = ops[p].b;
        while (k < end) {
            if (ops[k].kind == OP_BLOCK && ops[k].a == name) { *b = k + 1; *e = ops[k].b; return; }
            k = ops[k].kind == OP_BLOCK ? ops[k].b : k + 1;
        }
    }
    *b = at + 1;
    *e = ops[at].b;
}

/* A section (once per list item, or once with a truthy value as the
 * context) or an inverted section at op `i`. */
static nw_code render_section(rs *r, const tpl_op *o, uint32_t i) {
    nv v;
    lookup(r, o->a, &v);
    bool truthy = nv_truthy(&v);
    nw_code rc = NW_OK;
    if (o->kind == OP_INVERTED) {
        if (!truthy) rc = render_nested(r, i + 1, o->b, 0, NULL, 0, false);
        return rc;
    }
    if (!truthy) return NW_OK;
    if (r->nctx >= MAX_CTX) return too_deep(r);
    if (v.kind == NV_LIST) {
        uint32_t n = v.ops->len(&v);
        nv_iter it = { 0, 0 };
        for (uint32_t k = 0; k < n && !rc; k++) {
            if (!v.ops->next(&v, &it, &r->ctx[r->nctx])) break;
            r->nctx++;
            rc = render_nested(r, i + 1, o->b, 0, NULL, 0, false);
            r->nctx--;
        }
    } else {
        r->ctx[r->nctx++] = v;
        rc = render_nested(r, i + 1, o->b, 0, NULL, 0, false);
        r->nctx--;
    }
    return rc;
}

/* A partial or parent at op `i` (a parent is a frame its blocks look up). */
static nw_code render_include(rs *r, const tpl_op *o, uint32_t i) {
    if (o->a == NONE) return NW_OK;
    const nw_tpl *t = r->t;
    const tpl_prog *p = &t->progs[o->a];
    bool sa = o->flags & OF_STANDALONE;
    if (o->kind == OP_PARENT) {
        if (r->nframes >= NW_TPL_MAX_DEPTH) return too_deep(r);
        r->frames[r->nframes++] = i;
    }
    nw_code rc = render_nested(r, p->begin, p->end, sa ? 1 : 2, o->d ? t->pool + o->c : NULL, o->d, false);
    if (o->kind == OP_PARENT) r->nframes--;
    return rc;
}

static nw_code render_block(rs *r, const tpl_op *o, uint32_t i) {
    uint32_t b, e;
    block_body(r, i, &b, &e);
    bool sa = o->flags & OF_STANDALONE;
    return render_nested(r, b, e, sa ? 1 : 0, o->d ? r->t->pool + o->c : NULL, o->d, sa);
}

static void url_begin(rs *r) {
    guard_end(r);
    r->guard = true;
    r->gdyn = false;
    r->gstart = r->out->len;
    nw_url_check_init(&r->chk);
}

static nw_code render_range(rs *r, uint32_t begin, uint32_t end) {
    for (uint32_t i = begin; i < end;) {
        const tpl_op *o = &r->ops[i];
        bool sol = (o->flags & OF_SOL) || r->pending_sol;
        if (r->pending_sol) {
            r->pending_sol = false;
            if (o->kind == OP_URL_BEGIN || o->kind == OP_URL_END) r->pending_sol = true;
        }
        if (sol && o->kind != OP_TEXT && !(o->flags & OF_STANDALONE) && r->ilen > r->istart &&
            o->kind != OP_URL_BEGIN && o->kind != OP_URL_END)
            write_indent(r);
        nw_code rc = NW_OK;
        switch (o->kind) {
        case OP_TEXT:
            write_text(r, o, sol);
            i++;
            break;
        case OP_VAR: case OP_RAW: {
            nv v;
            lookup(r, o->a, &v);
            write_value(r, &v, o->kind == OP_VAR, o->kind == OP_VAR && (o->flags & OF_JS));
            i++;
            break;
        }
        case OP_SECTION: case OP_INVERTED:
            rc = render_section(r, o, i);
            i = o->b;
            break;
        case OP_PARTIAL: case OP_PARENT:
            rc = render_include(r, o, i);
            i = o->kind == OP_PARENT ? o->b : i + 1;
            break;
        case OP_BLOCK:
            rc = render_block(r, o, i);
            i = o->b;
            break;
        case OP_URL_BEGIN:
            url_begin(r);
            i++;
            break;
        case OP_URL_END:
            guard_end(r);
            i++;
            break;
        default:
            i++;
            break;
        }
        if (rc) return rc;
    }
    return NW_OK;
}

nw_code nw_tpl_render(const nw_tpl *t, const nv *data, nw_buf *out, bool *ascii, nw_error *err) {
    if (!t || !data || !out) return nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "bad render arguments");
    /* The render state is about 16 KB: a static one serves the common
     * non-nested case without an allocation per call (a render per row is
     * a normal use); a render started while another runs (from a query
     * hook, say) gets its own. */
    static rs shared;
    static bool shared_busy;
    rs *r = &shared;
    if (shared_busy) {
        r = nw_malloc(sizeof *r);
        if (!r) return nw_error_nomem(err);
    } else {
        shared_busy = true;
    }
    r->t = t; r->out = out; r->err = err;
    r->ops = t->ops; r->tpool = t->pool; r->low = 0;
    r->ctx[0] = *data;
    r->nctx = 1; r->depth = 0; r->nframes = 0;
    r->istart = r->ilen = 0;
    r->pending_sol = false; r->hi = false; r->guard = false; r->gdyn = false;
    nw_buf_init(&r->scratch);
    size_t len0 = out->len;
    nw_code rc = render_range(r, t->progs[0].begin, t->progs[0].end);
    guard_end(r);
    if (!rc && out->oom) rc = nw_error_nomem(err);
    if (rc && !out->oom) out->len = len0;
    if (ascii) *ascii = !r->hi;
    nw_buf_free(&r->scratch);
    if (r == &shared) shared_busy = false;
    else nw_free(r);
    return rc;
}

/* ---- runs for live views (tpl_impl.h) ------------------------------------------------ */

struct nw_tpl_run { rs r; };

nw_tpl_run *nw_tpl_run_new(const nw_tpl *t, const tpl_op *ops, const char *tpool) {
    nw_tpl_run *x = nw_malloc(sizeof *x);
    if (!x) return NULL;
    rs *r = &x->r;
    memset(r, 0, offsetof(rs, ind));
    r->t = t; r->ops = ops; r->tpool = tpool;
    nw_buf_init(&r->scratch);
    return x;
}

void nw_tpl_run_free(nw_tpl_run *x) {
    if (!x) return;
    nw_buf_free(&x->r.scratch);
    nw_free(x);
}

bool nw_tpl_run_push(nw_tpl_run *x, const nv *v) {
    if (x->r.nctx >= NW_TPL_MAX_DEPTH) return false;
    x->r.ctx[x->r.nctx++] = *v;
    return true;
}

void nw_tpl_run_pop(nw_tpl_run *x) { if (x->r.nctx) x->r.nctx--; }
uint32_t nw_tpl_run_depth(const nw_tpl_run *x) { return x->r.nctx; }
void nw_tpl_run_lookup(nw_tpl_run *x, uint32_t name, nv *out) { lookup(&x->r, name, out); }
uint32_t nw_tpl_run_low(const nw_tpl_run *x) { return x->r.low; }
void nw_tpl_run_set_low(nw_tpl_run *x, uint32_t low) { x->r.low = low; }

nw_code nw_tpl_run_range(nw_tpl_run *x, uint32_t begin, uint32_t end, nw_buf *out, nw_error *err) {
    rs *r = &x->r;
    r->out = out; r->err = err;
    r->depth = 0; r->nframes = 0; r->istart = r->ilen = 0;
    r->pending_sol = false; r->guard = false; r->gdyn = false;
    size_t len0 = out->len;
    nw_code rc = render_range(r, begin, end);
    guard_end(r);
    if (!rc && out->oom) rc = nw_error_nomem(err);
    if (rc && !out->oom) out->len = len0;
    return rc;
}
