/* tpl_dom.c - compiles a template's ops into blocks of skeleton HTML and
 * slots (tpl_dom.h). The ops are walked in render order with the
 * renderer's indentation rules while the literal text is followed as HTML
 * (a small tokenizer: tags, attributes, comments, raw text elements) to know
 * where each value lands and which child index every node gets.
 */
#include "tpl_dom.h"
#include "alloc.h"
#include <string.h>
#include <stdarg.h>

#define MAX_ELEMS 128
#define MAX_WALK 64

void nw_tpl_dom_free(nw_tpl_dom *d) {
    if (!d) return;
    nw_free(d->ops); nw_free(d->pool); nw_free(d->paths); nw_free(d->slots); nw_free(d->blocks);
    nw_free(d);
}

size_t nw_tpl_dom_size(const nw_tpl_dom *d) {
    return sizeof *d + (size_t)d->cops * sizeof(tpl_op) + d->pcap + (size_t)d->cpaths * 4 +
           (size_t)d->cslots * sizeof(nw_dom_slot) + (size_t)d->cblocks * sizeof(nw_dom_block);
}

/* ---- compile state -------------------------------------------------------------------- */

enum {
    S_DATA, S_TAG_OPEN, S_END_OPEN, S_END_NAME, S_END_AFTER, S_TAG_NAME, S_BEFORE_ATTR, S_ATTR_NAME,
    S_AFTER_ATTR_NAME, S_BEFORE_VAL, S_VAL_Q, S_VAL_UQ, S_AFTER_VAL, S_SELF, S_MD, S_MD_DASH,
    S_COMMENT, S_BOGUS, S_RAW
};

typedef struct elem {
    char name[24]; uint8_t nlen;
    bool foreign;
    uint32_t child;          /* children so far */
    int32_t only_list;       /* slot of a list that is child 0, -1 if none */
} elem;

typedef struct bs {          /* one block being compiled */
    nw_buf html;
    elem st[MAX_ELEMS]; uint32_t path[MAX_ELEMS]; uint32_t depth;   /* st[0]: the block's root */
    uint8_t state;
    char tag[24]; uint8_t tlen; bool tag_long;
    char hold[32]; uint8_t hlen;    /* "<", "</name" not yet written */
    uint32_t cur;                   /* child index of the tag being read */
    uint32_t nattr;
    char quote;
    uint8_t raw;                    /* 0, 1 raw text (script/style), 2 escapable (textarea/title) */
    char rawtag[16]; uint8_t rawlen;
    uint8_t md;                     /* dashes seen after "<!" */
    uint8_t cdash;                  /* comment end detection */
    /* the text run being collected */
    nw_buf run; bool run_dyn; uint32_t run_begin;
    /* the attribute value being collected */
    nw_buf val; bool val_dyn, val_url, url_pending; uint32_t val_begin;
    bool lead;                      /* the first top-level node is a list's or raw value's marker */
} bs;

typedef struct dc {
    nw_tpl_dom *d;
    const nw_tpl *t;
    nw_error *err;
    nw_code rc;
    char ind[NW_TPL_MAX_INDENT]; uint32_t istart, ilen;
    bool pending_sol;
    uint32_t walk;
    /* slots of the blocks being compiled, kept apart until each block ends */
    nw_dom_slot *pend; uint32_t npend, cpend;
} dc;

static nw_code fail(dc *c, const char *fmt, ...) {
    if (c->rc) return c->rc;
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    nw_vformat(msg, sizeof msg, fmt, ap);
    va_end(ap);
    nw_error_set(c->err, NW_E_TEMPLATE, NULL, NULL, "mount", "cannot mount this template: %s (render() supports it)", msg);
    c->rc = NW_E_TEMPLATE;
    return c->rc;
}

static nw_code nomem(dc *c) {
    if (!c->rc) c->rc = nw_error_nomem(c->err);
    return c->rc;
}

static uint32_t pool_add(dc *c, const char *p, uint32_t n) {
    nw_tpl_dom *d = c->d;
    if (!nw_grow((void **)&d->pool, &d->pcap, 1, d->plen + n + 1)) { nomem(c); return 0; }
    uint32_t off = d->plen;
    if (n) memcpy(d->pool + off, p, n);
    d->plen += n;
    return off;
}

static tpl_op *op_new(dc *c, uint8_t kind) {
    nw_tpl_dom *d = c->d;
    if (!nw_grow((void **)&d->ops, &d->cops, sizeof(tpl_op), d->nops + 1)) { nomem(c); return NULL; }
    tpl_op *o = &d->ops[d->nops++];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    return o;
}

static void op_text(dc *c, const char *p, uint32_t n) {
    if (!n) return;
    uint32_t off = pool_add(c, p, n);
    tpl_op *o = op_new(c, OP_TEXT);
    if (!o || c->rc) return;
    o->a = off;
    o->b = n;
    for (uint32_t i = 0; i < n; i++) if ((unsigned char)p[i] >= 0x80) { o->flags |= OF_HI; break; }
}

static char lower(char ch) { return ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch; }
static bool alpha(char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'); }
static bool ws(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f'; }

static bool name_is(const char *a, uint32_t n, const char *b) { return strlen(b) == n && memcmp(a, b, n) == 0; }

static bool is_void(const char *n, uint32_t l) {
    static const char *v[] = { "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                               "source", "track", "wbr", "param", "keygen", NULL };
    for (int i = 0; v[i]; i++) if (name_is(n, l, v[i])) return true;
    return false;
}

/* ---- slots ------------------------------------------------------------------------------ */

static nw_dom_slot *slot_new(dc *c, bs *b, uint8_t kind, bool element) {
    if (!nw_grow((void **)&c->pend, &c->cpend, sizeof(nw_dom_slot), c->npend + 1)) { nomem(c); return NULL; }
    nw_dom_slot *s = &c->pend[c->npend++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    nw_tpl_dom *d = c->d;
    /* path: the open elements below the root, then the node itself */
    uint32_t n = b->depth + 1;
    if (!nw_grow((void **)&d->paths, &d->cpaths, 4, d->npaths + n)) { nomem(c); return NULL; }
    s->path = d->npaths;
    for (uint32_t i = 1; i <= b->depth; i++) d->paths[d->npaths++] = b->path[i];
    if (element) {
        d->paths[d->npaths++] = b->cur;
        s->tag = pool_add(c, b->tag, b->tlen);
        s->ntag = b->tlen;
    }
    s->npath = d->npaths - s->path;
    return s;
}

/* The marker comment of a text run, list or raw value: child of the open element. */
static nw_dom_slot *marker_slot(dc *c, bs *b, uint8_t kind) {
    elem *e = &b->st[b->depth];
    b->cur = e->child;
    nw_dom_slot *s = slot_new(c, b, kind, false);
    if (!s) return NULL;
    c->d->paths[c->d->npaths++] = e->child;   /* reserved by slot_new's n */
    s->npath++;
    e->only_list = kind == DS_LIST && e->child == 0 ? (int32_t)(c->npend - 1) : -1;
    if (b->depth == 0 && e->child == 0 && kind != DS_TEXT) b->lead = true;
    e->child++;
    nw_buf_str(&b->html, "<!--nw-->");
    return s;
}

/* ---- text runs ------------------------------------------------------------------------- */

static void run_static_to_op(dc *c, bs *b) {
    op_text(c, (const char *)b->run.p, (uint32_t)b->run.len);
    nw_buf_reset(&b->run);
}

static void run_make_dyn(dc *c, bs *b) {
    if (b->run_dyn) { run_static_to_op(c, b); return; }
    b->run_dyn = true;
    b->run_begin = c->d->nops;
    run_static_to_op(c, b);
}

/* Ends the text run: static text goes to the skeleton; a run with values
 * becomes a slot (the element's content when `content`). */
static void run_end(dc *c, bs *b, bool content) {
    elem *e = &b->st[b->depth];
    if (!b->run_dyn) {
        if (b->run.len) {
            nw_buf_append(&b->html, b->run.p, b->run.len);
            e->child++;
            e->only_list = -1;
            nw_buf_reset(&b->run);
        }
        return;
    }
    run_static_to_op(c, b);
    nw_dom_slot *s;
    if (content) {
        memcpy(b->tag, e->name, e->nlen);
        b->tlen = e->nlen;
        b->depth--;
        b->cur = b->path[b->depth + 1];
        s = slot_new(c, b, DS_CONTENT, true);
        b->depth++;
    } else {
        s = marker_slot(c, b, DS_TEXT);
    }
    if (s) { s->begin = b->run_begin; s->end = c->d->nops; }
    b->run_dyn = false;
}

static void flush_hold(bs *b) {
    nw_buf_append(&b->html, b->hold, b->hlen);
    b->hlen = 0;
}

/* ---- the HTML tokenizer over literal text ---------------------------------------------- */

static void attr_done(bs *b) { b->nattr++; }

static void tag_done(dc *c, bs *b, bool self) {
    nw_buf_byte(&b->html, '>');
    elem *parent = &b->st[b->depth];
    bool foreign = parent->foreign || name_is(b->tag, b->tlen, "svg") || name_is(b->tag, b->tlen, "math");
    b->state = S_DATA;
    if (b->tag_long) { fail(c, "the tag name <%.*s...> is too long", (int)b->tlen, b->tag); return; }
    if (is_void(b->tag, b->tlen) || (self && foreign)) return;
    if (b->depth + 1 >= MAX_ELEMS) { fail(c, "elements nested deeper than %d", MAX_ELEMS - 2); return; }
    b->depth++;
    elem *e = &b->st[b->depth];
    memcpy(e->name, b->tag, b->tlen);
    e->nlen = b->tlen;
    e->foreign = foreign;
    e->child = 0;
    e->only_list = -1;
    b->path[b->depth] = b->cur;
    if (!foreign && (name_is(b->tag, b->tlen, "script") || name_is(b->tag, b->tlen, "style") ||
                     name_is(b->tag, b->tlen, "xmp") || name_is(b->tag, b->tlen, "iframe") ||
                     name_is(b->tag, b->tlen, "noembed") || name_is(b->tag, b->tlen, "noframes") ||
                     name_is(b->tag, b->tlen, "textarea") || name_is(b->tag, b->tlen, "title"))) {
        b->raw = name_is(b->tag, b->tlen, "textarea") || name_is(b->tag, b->tlen, "title") ? 2 : 1;
        memcpy(b->rawtag, b->tag, b->tlen);
        b->rawlen = b->tlen;
        b->state = S_RAW;
    }
}

static void end_tag_done(dc *c, bs *b) {
    elem *e = &b->st[b->depth];
    bool match = b->depth > 0 && e->nlen == b->tlen && memcmp(e->name, b->tag, b->tlen) == 0;
    run_end(c, b, match && e->child == 0);
    flush_hold(b);
    nw_buf_byte(&b->html, '>');
    b->state = S_DATA;
    b->raw = 0;
    if (!match) {
        if (b->depth == 0) { fail(c, "</%.*s> closes an element this part of the template did not open (a section must hold whole elements)", (int)b->tlen, b->tag); return; }
        fail(c, "</%.*s> does not close <%.*s> (close every element explicitly)", (int)b->tlen, b->tag, (int)e->nlen, e->name);
        return;
    }
    if (e->only_list >= 0 && e->child == 1) c->pend[e->only_list].flags |= DSF_ONLY;
    b->depth--;
}

static void tag_char(bs *b, char ch) {
    if (b->tlen < sizeof b->tag) b->tag[b->tlen++] = lower(ch);
    else b->tag_long = true;
}

static void feed(dc *c, bs *b, char ch);

/* After '<': a start tag, an end tag, markup ("<!", "<?") or plain text. */
static void feed_tag_open(dc *c, bs *b, char ch) {
    if (alpha(ch)) {
        run_end(c, b, false);
        flush_hold(b);
        nw_buf_byte(&b->html, (uint8_t)ch);
        elem *e = &b->st[b->depth];
        b->cur = e->child++;
        e->only_list = -1;
        b->tlen = 0; b->tag_long = false; b->nattr = 0;
        tag_char(b, ch);
        b->state = S_TAG_NAME;
    } else if (ch == '/') {
        b->hold[b->hlen++] = '/';
        b->tlen = 0; b->tag_long = false;
        b->state = S_END_OPEN;
    } else if (ch == '!' || ch == '?') {
        run_end(c, b, false);
        flush_hold(b);
        nw_buf_byte(&b->html, (uint8_t)ch);
        elem *e = &b->st[b->depth];
        e->child++;
        e->only_list = -1;
        b->md = 0;
        b->state = ch == '!' ? S_MD : S_BOGUS;
    } else {
        nw_buf_byte(&b->run, '<');
        b->hlen = 0;
        b->state = S_DATA;
        feed(c, b, ch);
    }
}

/* After "</": an end tag name, or a bogus comment ("</>" makes no node). */
static void feed_end_open(dc *c, bs *b, char ch) {
    if (alpha(ch)) { tag_char(b, ch); b->state = S_END_NAME; if (b->hlen < sizeof b->hold) b->hold[b->hlen++] = ch; }
    else {
        run_end(c, b, false);
        flush_hold(b);
        nw_buf_byte(&b->html, (uint8_t)ch);
        if (ch != '>') b->st[b->depth].child++;   /* "</>" makes no node; "</ x>" a comment */
        b->state = ch == '>' ? S_DATA : S_BOGUS;
    }
}

static void feed_end_name(dc *c, bs *b, char ch) {
    if (ch == '>') { end_tag_done(c, b); return; }
    if (ws(ch) || ch == '/') { b->state = S_END_AFTER; return; }
    tag_char(b, ch);
    if (b->hlen < sizeof b->hold) b->hold[b->hlen++] = ch;
}

/* Inside a start tag, between attributes (S_TAG_NAME also extends the name). */
static void feed_in_tag(dc *c, bs *b, char ch, bool name) {
    if (ws(ch)) { nw_buf_byte(&b->html, (uint8_t)ch); b->state = S_BEFORE_ATTR; }
    else if (ch == '/') { nw_buf_byte(&b->html, (uint8_t)ch); b->state = S_SELF; }
    else if (ch == '>') tag_done(c, b, false);
    else if (name) { nw_buf_byte(&b->html, (uint8_t)ch); tag_char(b, ch); }
    else { nw_buf_byte(&b->html, (uint8_t)ch); b->state = S_ATTR_NAME; }
}

static void feed_attr_name(dc *c, bs *b, char ch) {
    nw_buf_byte(&b->html, ch == '>' ? (uint8_t)' ' : (uint8_t)ch);
    if (ch == '>') { b->html.len--; attr_done(b); tag_done(c, b, false); }
    else if (ws(ch)) b->state = S_AFTER_ATTR_NAME;
    else if (ch == '=') b->state = S_BEFORE_VAL;
    else if (ch == '/') { attr_done(b); b->state = S_SELF; }
}

static void feed_after_attr_name(dc *c, bs *b, char ch) {
    if (ws(ch)) { nw_buf_byte(&b->html, (uint8_t)ch); return; }
    if (ch == '=') { nw_buf_byte(&b->html, (uint8_t)ch); b->state = S_BEFORE_VAL; return; }
    attr_done(b);
    b->state = S_BEFORE_ATTR;
    feed(c, b, ch);
}

static void feed_before_val(dc *c, bs *b, char ch) {
    if (ws(ch)) { nw_buf_byte(&b->html, (uint8_t)ch); return; }
    if (ch == '"' || ch == '\'') {
        b->quote = ch;
        b->state = S_VAL_Q;
        nw_buf_reset(&b->val);
        b->val_dyn = false;
        b->val_url = b->url_pending;
        b->url_pending = false;
        return;
    }
    if (ch == '>') { attr_done(b); tag_done(c, b, false); return; }
    nw_buf_byte(&b->html, (uint8_t)ch);
    b->state = S_VAL_UQ;
}

/* The closing quote of a quoted value: static text goes to the skeleton; a
 * value with values becomes an attribute slot. */
static void quoted_val_end(dc *c, bs *b) {
    nw_buf_byte(&b->html, (uint8_t)b->quote);
    if (b->val_dyn) {
        op_text(c, (const char *)b->val.p, (uint32_t)b->val.len);
        if (b->val_url) op_new(c, OP_URL_END);
        nw_dom_slot *s = slot_new(c, b, DS_ATTR, true);
        if (s) { s->attr = b->nattr; s->begin = b->val_begin; s->end = c->d->nops; }
    } else {
        nw_buf_append(&b->html, b->val.p, b->val.len);
    }
    nw_buf_byte(&b->html, (uint8_t)b->quote);
    attr_done(b);
    b->state = S_AFTER_VAL;
}

static void feed_val_uq(dc *c, bs *b, char ch) {
    if (ws(ch)) { nw_buf_byte(&b->html, (uint8_t)ch); attr_done(b); b->state = S_BEFORE_ATTR; }
    else if (ch == '>') { attr_done(b); tag_done(c, b, false); }
    else nw_buf_byte(&b->html, (uint8_t)ch);
}

/* "<!", "<!--" comments and bogus comments: copied to the skeleton as they are. */
static void feed_markup(bs *b, char ch) {
    nw_buf_byte(&b->html, (uint8_t)ch);
    switch (b->state) {
    case S_MD:
        if (ch == '-' && b->md == 0) { b->md = 1; return; }
        if (ch == '-' && b->md == 1) { b->state = S_COMMENT; b->cdash = 0; return; }
        b->state = ch == '>' ? S_DATA : S_BOGUS;
        return;
    case S_COMMENT:
        if (ch == '-') { if (b->cdash < 2) b->cdash++; }
        else if (ch == '>' && b->cdash >= 2) b->state = S_DATA;
        else b->cdash = 0;
        return;
    default:   /* S_BOGUS */
        if (ch == '>') b->state = S_DATA;
        return;
    }
}

/* Raw text (script, style, textarea, ...): "</rawtag" followed by whitespace,
 * '/' or '>' ends the element. */
static void feed_raw(dc *c, bs *b, char ch) {
    nw_buf_byte(&b->run, (uint8_t)ch);
    size_t n = b->run.len, k = (size_t)b->rawlen + 3;
    if (!((ws(ch) || ch == '/' || ch == '>') && n >= k)) return;
    const char *p = (const char *)b->run.p + n - k;
    bool hit = p[0] == '<' && p[1] == '/';
    for (uint32_t i = 0; hit && i < b->rawlen; i++) hit = lower(p[2 + i]) == b->rawtag[i];
    if (!hit) return;
    b->run.len -= k;
    b->hold[0] = '<'; b->hold[1] = '/';
    memcpy(b->hold + 2, p + 2, b->rawlen);
    b->hlen = (uint8_t)(b->rawlen + 2);
    memcpy(b->tag, b->rawtag, b->rawlen);
    b->tlen = b->rawlen;
    if (ch == '>') end_tag_done(c, b);
    else b->state = S_END_AFTER;
}

static void feed(dc *c, bs *b, char ch) {
    switch (b->state) {
    case S_DATA:
        if (ch == '<') { b->hold[0] = '<'; b->hlen = 1; b->state = S_TAG_OPEN; }
        else nw_buf_byte(&b->run, (uint8_t)ch);
        return;
    case S_TAG_OPEN: feed_tag_open(c, b, ch); return;
    case S_END_OPEN: feed_end_open(c, b, ch); return;
    case S_END_NAME: feed_end_name(c, b, ch); return;
    case S_END_AFTER:
        if (ch == '>') end_tag_done(c, b);
        return;
    case S_TAG_NAME: feed_in_tag(c, b, ch, true); return;
    case S_BEFORE_ATTR: case S_AFTER_VAL: feed_in_tag(c, b, ch, false); return;
    case S_ATTR_NAME: feed_attr_name(c, b, ch); return;
    case S_AFTER_ATTR_NAME: feed_after_attr_name(c, b, ch); return;
    case S_BEFORE_VAL: feed_before_val(c, b, ch); return;
    case S_VAL_Q:
        if (ch != b->quote) nw_buf_byte(&b->val, (uint8_t)ch);
        else quoted_val_end(c, b);
        return;
    case S_VAL_UQ: feed_val_uq(c, b, ch); return;
    case S_SELF:
        if (ch == '>') { tag_done(c, b, true); return; }
        b->state = S_BEFORE_ATTR;
        feed(c, b, ch);
        return;
    case S_MD: case S_COMMENT: case S_BOGUS: feed_markup(b, ch); return;
    case S_RAW: feed_raw(c, b, ch); return;
    }
}

static void feed_text(dc *c, bs *b, const char *p, uint32_t n) {
    for (uint32_t i = 0; i < n && !c->rc; i++) feed(c, b, p[i]);
}

/* ---- what each op may do where it lands -------------------------------------------------- */

/* True when a section body renders text only (no '<'; no `quote` char). */
static bool text_only(const nw_tpl *t, uint32_t begin, uint32_t end, char quote, bool raw_ok) {
    for (uint32_t i = begin; i < end;) {
        const tpl_op *o = &t->ops[i];
        switch (o->kind) {
        case OP_TEXT: {
            const char *p = t->pool + o->a;
            for (uint32_t k = 0; k < o->b; k++) if (p[k] == '<' || (quote && p[k] == quote)) return false;
            i++;
            break;
        }
        case OP_VAR: case OP_URL_BEGIN: case OP_URL_END: i++; break;
        case OP_RAW: if (!raw_ok) return false; i++; break;
        case OP_SECTION: case OP_INVERTED:
            if (!text_only(t, i + 1, o->b, quote, raw_ok)) return false;
            i = o->b;
            break;
        default: return false;
        }
    }
    return true;
}

static void ind_text(dc *c) {
    if (c->ilen > c->istart) op_text(c, c->ind + c->istart, c->ilen - c->istart);
}

static bool empty_line_at(const char *p, const char *e) {
    return *p == '\n' || (*p == '\r' && p + 1 < e && p[1] == '\n');
}

/* Copies a text-only section body into the program's ops, indentation
 * applied as write_text would, sections rebased. */
static void copy_body(dc *c, uint32_t begin, uint32_t end) {
    const nw_tpl *t = c->t;
    for (uint32_t i = begin; i < end && !c->rc;) {
        const tpl_op *o = &t->ops[i];
        bool sol = o->flags & OF_SOL;
        if (o->kind == OP_TEXT) {
            const char *p = t->pool + o->a, *e = p + o->b;
            if (c->ilen == c->istart) { op_text(c, p, o->b); i++; continue; }
            if (sol && !empty_line_at(p, e)) ind_text(c);
            for (;;) {
                const char *nl = memchr(p, '\n', (size_t)(e - p));
                if (!nl) { op_text(c, p, (uint32_t)(e - p)); break; }
                op_text(c, p, (uint32_t)(nl + 1 - p));
                p = nl + 1;
                if (p == e) break;
                if (!empty_line_at(p, e)) ind_text(c);
            }
            i++;
            continue;
        }
        if (sol && o->kind != OP_URL_BEGIN && o->kind != OP_URL_END) ind_text(c);
        tpl_op *n = op_new(c, o->kind);
        if (!n) return;
        n->a = o->a;
        n->flags = o->flags & OF_JS;
        if (o->kind == OP_SECTION || o->kind == OP_INVERTED) {
            uint32_t at = c->d->nops - 1;
            copy_body(c, i + 1, o->b);
            c->d->ops[at].b = c->d->nops;
            i = o->b;
        } else {
            i++;
        }
    }
}

static uint32_t block_compile(dc *c, uint32_t begin, uint32_t end);

static void on_value(dc *c, bs *b, const tpl_op *o, uint32_t at) {
    bool raw = o->kind == OP_RAW;
    bool section = o->kind == OP_SECTION || o->kind == OP_INVERTED;
    if (b->state == S_TAG_OPEN) {   /* "<" then a value: the "<" was text */
        nw_buf_byte(&b->run, '<');
        b->hlen = 0;
        b->state = S_DATA;
    }
    switch (b->state) {
    case S_DATA:
        if (raw) {
            run_end(c, b, false);
            nw_dom_slot *s = marker_slot(c, b, DS_HTML);
            if (!s) return;
            s->begin = c->d->nops;
            tpl_op *n = op_new(c, OP_RAW);
            if (n) n->a = o->a;
            s->end = c->d->nops;
            return;
        }
        if (section && !text_only(c->t, at + 1, o->b, 0, false)) {
            run_end(c, b, false);
            nw_dom_slot *s = marker_slot(c, b, DS_LIST);
            if (!s) return;
            uint32_t si = c->npend - 1;
            uint32_t name = o->a;
            uint8_t flags = o->kind == OP_INVERTED ? DSF_INVERTED : 0;
            uint32_t child = block_compile(c, at + 1, o->b);
            nw_dom_slot *sl = &c->pend[si];   /* pend may have moved */
            sl->name = name;
            sl->flags |= flags;
            sl->block = child;
            return;
        }
        /* fallthrough: part of the text run */
    case S_RAW:
        if (b->state == S_RAW && (b->raw == 1 && !raw)) { fail(c, "a value inside <%.*s>", (int)b->rawlen, b->rawtag); return; }
        if (section && !text_only(c->t, at + 1, o->b, 0, b->state == S_RAW)) { fail(c, "a section holding tags inside <%.*s>", (int)b->rawlen, b->rawtag); return; }
        run_make_dyn(c, b);
        break;
    case S_VAL_Q:
        if (section && !text_only(c->t, at + 1, o->b, b->quote, true)) {
            fail(c, "a section inside an attribute value holds a tag or the value's quote");
            return;
        }
        if (!b->val_dyn) {
            b->val_dyn = true;
            b->val_begin = c->d->nops;
            if (b->val_url) op_new(c, OP_URL_BEGIN);
        }
        op_text(c, (const char *)b->val.p, (uint32_t)b->val.len);
        nw_buf_reset(&b->val);
        break;
    case S_COMMENT: case S_MD: case S_MD_DASH: case S_BOGUS:
        fail(c, "a value inside an HTML comment");
        return;
    default:
        fail(c, "a %s between the attributes of <%.*s> (put it inside a quoted attribute value)",
             section ? "section" : "value", (int)b->tlen, b->tag);
        return;
    }
    tpl_op *n = op_new(c, o->kind);
    if (!n) return;
    n->a = o->a;
    n->flags = o->flags & OF_JS;
    if (section) {
        uint32_t idx = c->d->nops - 1;
        copy_body(c, at + 1, o->b);
        c->d->ops[idx].b = c->d->nops;
    }
}

/* ---- walking ops in render order ------------------------------------------------------- */

static void walk(dc *c, bs *b, uint32_t begin, uint32_t end);

static void walk_partial(dc *c, bs *b, const tpl_op *o) {
    if (o->a == NONE) return;
    if (b->state != S_DATA && b->state != S_RAW) { fail(c, "a partial inside a tag or attribute value"); return; }
    if (c->walk >= MAX_WALK) { fail(c, "partials nested deeper than %d outside sections", MAX_WALK); return; }
    const tpl_prog *p = &c->t->progs[o->a];
    uint32_t s0 = c->istart, l0 = c->ilen;
    if (o->flags & OF_STANDALONE) {
        if (o->d > NW_TPL_MAX_INDENT - c->ilen) { fail(c, "indentation of nested partials too long"); return; }
        memcpy(c->ind + c->ilen, c->t->pool + o->c, o->d);
        c->ilen += o->d;
    } else {
        c->istart = c->ilen;
    }
    c->walk++;
    c->pending_sol = false;
    walk(c, b, p->begin, p->end);
    c->pending_sol = false;
    c->walk--;
    c->istart = s0; c->ilen = l0;
}

static void walk_text(dc *c, bs *b, const tpl_op *o, bool sol) {
    const char *p = c->t->pool + o->a, *e = p + o->b;
    if (c->ilen == c->istart) { feed_text(c, b, p, o->b); return; }
    if (sol && !empty_line_at(p, e)) feed_text(c, b, c->ind + c->istart, c->ilen - c->istart);
    for (;;) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        if (!nl) { feed_text(c, b, p, (uint32_t)(e - p)); return; }
        feed_text(c, b, p, (uint32_t)(nl + 1 - p));
        p = nl + 1;
        if (p == e) return;
        if (!empty_line_at(p, e)) feed_text(c, b, c->ind + c->istart, c->ilen - c->istart);
    }
}

static void walk(dc *c, bs *b, uint32_t begin, uint32_t end) {
    const nw_tpl *t = c->t;
    for (uint32_t i = begin; i < end && !c->rc;) {
        const tpl_op *o = &t->ops[i];
        bool url = o->kind == OP_URL_BEGIN || o->kind == OP_URL_END;
        bool sol = (o->flags & OF_SOL) || c->pending_sol;
        if (c->pending_sol) c->pending_sol = url;
        if (sol && o->kind != OP_TEXT && !(o->flags & OF_STANDALONE) && c->ilen > c->istart && !url)
            feed_text(c, b, c->ind + c->istart, c->ilen - c->istart);
        switch (o->kind) {
        case OP_TEXT: walk_text(c, b, o, sol); i++; break;
        case OP_VAR: case OP_RAW: on_value(c, b, o, i); i++; break;
        case OP_SECTION: case OP_INVERTED: on_value(c, b, o, i); i = o->b; break;
        case OP_PARTIAL: walk_partial(c, b, o); i++; break;
        case OP_URL_BEGIN:
            if (b->state == S_VAL_Q) {
                if (!b->val_dyn) b->val_url = true;
            } else {
                b->url_pending = true;
            }
            i++;
            break;
        case OP_URL_END: i++; break;
        default:
            fail(c, "template inheritance ({{<parent}} and {{$block}})");
            return;
        }
    }
}

/* ---- blocks ----------------------------------------------------------------------------- */

static bs *bs_new(void) {
    bs *b = nw_calloc(1, sizeof *b);
    if (!b) return NULL;
    nw_buf_init(&b->html);
    nw_buf_init(&b->run);
    nw_buf_init(&b->val);
    b->st[0].only_list = -1;
    return b;
}

static void bs_free(bs *b) {
    nw_buf_free(&b->html);
    nw_buf_free(&b->run);
    nw_buf_free(&b->val);
    nw_free(b);
}

/* Compiles ops [begin, end) under the current indentation into a block
 * (or finds the one compiled for the same body and indentation). */
static uint32_t block_compile(dc *c, uint32_t begin, uint32_t end) {
    nw_tpl_dom *d = c->d;
    uint32_t il = c->ilen - c->istart;
    for (uint32_t i = 0; i < d->nblocks; i++) {
        nw_dom_block *k = &d->blocks[i];
        if (k->key_begin == begin && k->key_end == end && k->key_nind == il &&
            memcmp(d->pool + k->key_ind, c->ind + c->istart, il) == 0) return i;
    }
    if (d->nblocks >= 4096) { fail(c, "more than 4096 sections"); return 0; }
    if (!nw_grow((void **)&d->blocks, &d->cblocks, sizeof(nw_dom_block), d->nblocks + 1)) { nomem(c); return 0; }
    uint32_t id = d->nblocks++;
    nw_dom_block *k = &d->blocks[id];
    memset(k, 0, sizeof *k);
    k->key_begin = begin; k->key_end = end; k->key_nind = il;
    k->key_ind = pool_add(c, c->ind + c->istart, il);
    bs *b = bs_new();
    if (!b) { nomem(c); return id; }
    uint32_t pend0 = c->npend;
    bool psol = c->pending_sol;
    uint32_t walk0 = c->walk;
    c->pending_sol = false;
    c->walk = 0;
    walk(c, b, begin, end);
    c->walk = walk0;
    c->pending_sol = psol;
    if (!c->rc) {
        if (b->state == S_TAG_OPEN) { nw_buf_byte(&b->run, '<'); b->hlen = 0; b->state = S_DATA; }
        if (b->state != S_DATA && b->state != S_COMMENT && b->state != S_BOGUS) fail(c, "a section or the template ends inside a tag");
        else if (b->state != S_DATA) fail(c, "a section or the template ends inside an HTML comment");
        else if (b->depth > 0) fail(c, "<%.*s> is not closed before the end of its section or template", (int)b->st[b->depth].nlen, b->st[b->depth].name);
        else run_end(c, b, false);
        /* the mount element's whole content is one list: clearing it can empty the element */
        if (!c->rc && id == 0 && b->st[0].only_list >= 0 && b->st[0].child == 1) c->pend[b->st[0].only_list].flags |= DSF_ONLY;
    }
    if (!c->rc && b->html.oom) nomem(c);
    if (!c->rc) {
        /* An item is moved and removed as the run of siblings from its first
         * top-level node to its last; a list or raw value at its start puts
         * nodes before its marker, so such a block starts with a marker of
         * its own (an empty text node in the DOM). */
        bool lead = b->lead && id != 0;
        k = &d->blocks[id];
        k->html = pool_add(c, lead ? "<!--nw-->" : "", lead ? 9 : 0);
        pool_add(c, (const char *)b->html.p, (uint32_t)b->html.len);
        k->nhtml = (uint32_t)b->html.len + (lead ? 9 : 0);
        k->ntop = b->st[0].child + lead;
        if (lead)
            for (uint32_t i = pend0; i < c->npend; i++) d->paths[c->pend[i].path]++;
        /* move this block's pending slots (nested blocks took theirs already) */
        uint32_t n = c->npend - pend0;
        if (!nw_grow((void **)&d->slots, &d->cslots, sizeof(nw_dom_slot), d->nslots + n)) nomem(c);
        else {
            memcpy(d->slots + d->nslots, c->pend + pend0, n * sizeof *d->slots);
            k->slot0 = d->nslots;
            k->nslots = n;
            d->nslots += n;
        }
    }
    c->npend = pend0;
    bs_free(b);
    return id;
}

nw_code nw_tpl_dom_build(const nw_tpl *t, nw_tpl_dom **out, nw_error *err) {
    *out = NULL;
    nw_tpl_dom *d = nw_calloc(1, sizeof *d);
    if (!d) return nw_error_nomem(err);
    d->t = t;
    dc *c = nw_calloc(1, sizeof *c);
    if (!c) { nw_free(d); return nw_error_nomem(err); }
    c->d = d; c->t = t; c->err = err;
    block_compile(c, t->progs[0].begin, t->progs[0].end);
    nw_code rc = c->rc;
    nw_free(c->pend);
    nw_free(c);
    if (rc) { nw_tpl_dom_free(d); return rc; }
    *out = d;
    return NW_OK;
}

void nw_tpl_dom_encode(const nw_tpl_dom *d, nw_buf *o) {
    nw_buf_u32(o, d->nblocks);
    for (uint32_t i = 0; i < d->nblocks; i++) {
        const nw_dom_block *k = &d->blocks[i];
        nw_buf_u32(o, k->ntop);
        nw_buf_u32(o, k->nhtml);
        nw_buf_append(o, d->pool + k->html, k->nhtml);
        nw_buf_u32(o, k->nslots);
        for (uint32_t j = 0; j < k->nslots; j++) {
            const nw_dom_slot *s = &d->slots[k->slot0 + j];
            nw_buf_byte(o, s->kind);
            nw_buf_byte(o, s->flags);
            nw_buf_byte(o, 0);
            nw_buf_byte(o, 0);
            nw_buf_u32(o, s->attr);
            nw_buf_u32(o, s->ntag);
            nw_buf_append(o, d->pool + s->tag, s->ntag);
            nw_buf_u32(o, s->npath);
            for (uint32_t p = 0; p < s->npath; p++) nw_buf_u32(o, d->paths[s->path + p]);
        }
    }
}
