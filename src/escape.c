/* escape.c - HTML escaping, URL scheme checks and attribute-name checks. */
#include "escape.h"
#include <string.h>

/* ---- UTF-8 ------------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid; then
 * *bad is the length of the maximal invalid subpart to replace by one U+FFFD
 * (the WHATWG decoder's rule, so C and TextDecoder agree). */
size_t nw_utf8_seq(const uint8_t *p, size_t avail, size_t *bad) {
    uint8_t c = p[0];
    if (c < 0x80) return 1;
    uint8_t lo = 0x80, hi = 0xBF;
    size_t need;
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c >= 0xE0 && c <= 0xEF) { need = 2; if (c == 0xE0) lo = 0xA0; else if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { need = 3; if (c == 0xF0) lo = 0x90; else if (c == 0xF4) hi = 0x8F; }
    else { *bad = 1; return 0; }
    if (avail < 2 || p[1] < lo || p[1] > hi) { *bad = 1; return 0; }
    for (size_t i = 2; i <= need; i++) {
        if (i >= avail || (p[i] & 0xC0) != 0x80) { *bad = i; return 0; }
    }
    return need + 1;
}

static uint32_t utf8_cp(const uint8_t *p, size_t len) {
    switch (len) {
    case 1: return p[0];
    case 2: return ((uint32_t)(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
    case 3: return ((uint32_t)(p[0] & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    default: return ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) |
                    ((uint32_t)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
    }
}

/* ---- text / attribute escaping ---------------------------------------------- */

/* 0: copy; 1-6: the six specials; 7: NUL; 8: byte >= 0x80 (validate UTF-8). */
enum { E_COPY, E_AMP, E_LT, E_GT, E_QUOT, E_APOS, E_GRAVE, E_NUL, E_HIGH };

#define R16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
static const uint8_t esc_class[256] = {
    E_NUL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x20 */ 0, 0, E_QUOT, 0, 0, 0, E_AMP, E_APOS, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x30 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, E_LT, 0, E_GT, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x60 */ E_GRAVE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    R16(E_HIGH), R16(E_HIGH), R16(E_HIGH), R16(E_HIGH),
    R16(E_HIGH), R16(E_HIGH), R16(E_HIGH), R16(E_HIGH),
};
#undef R16

#define PUT(lit) do { memcpy(o, lit, sizeof lit - 1); o += sizeof lit - 1; } while (0)

bool nw_escape_html(nw_buf *b, const char *s, size_t n) {
    const uint8_t *p = (const uint8_t *)s, *end = p + n;
    bool hi = false;
    while (p < end) {
        /* Reserve for the worst case of one chunk (every byte -> 6 bytes, and
         * a multi-byte sequence may run 3 bytes past the chunk), then write
         * without per-byte bounds checks. */
        size_t chunk = (size_t)(end - p);
        if (chunk > 4096) chunk = 4096;
        if (!nw_buf_reserve(b, chunk * 6 + 16)) return hi;
        uint8_t *o = b->p + b->len;
        const uint8_t *ce = p + chunk;
        while (p < ce) {
            /* copy the run of bytes that need nothing, then one special */
            const uint8_t *r = p;
            while (r < ce && !esc_class[*r]) r++;
            if (r > p) { memcpy(o, p, (size_t)(r - p)); o += r - p; p = r; }
            if (p >= ce) break;
            uint8_t c = *p;
            switch (esc_class[c]) {
            case E_AMP: PUT("&amp;"); break;
            case E_LT: PUT("&lt;"); break;
            case E_GT: PUT("&gt;"); break;
            case E_QUOT: PUT("&quot;"); break;
            case E_APOS: PUT("&#39;"); break;
            case E_GRAVE: PUT("&#96;"); break;
            case E_NUL: PUT("\xEF\xBF\xBD"); hi = true; break;
            default: {
                size_t bad = 1, k = nw_utf8_seq(p, (size_t)(end - p), &bad);
                hi = true;
                if (k) { memcpy(o, p, k); o += k; p += k; }
                else { PUT("\xEF\xBF\xBD"); p += bad; }
                continue;
            }
            }
            p++;
        }
        b->len = (size_t)(o - b->p);
    }
    return hi;
}

/* ---- URL attributes ----------------------------------------------------------- */

static const char *const url_attrs[] = {
    "href", "src", "action", "formaction", "xlink:href", "poster", "cite", "background",
    "codebase", "data", "manifest", "longdesc", "usemap", "profile", "classid", "icon",
};

static uint8_t lower(uint8_t c) { return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c; }

bool nw_is_url_attr(const char *name, size_t len) {
    for (size_t i = 0; i < sizeof url_attrs / sizeof url_attrs[0]; i++) {
        const char *a = url_attrs[i];
        if (strlen(a) != len) continue;
        size_t j = 0;
        while (j < len && lower((uint8_t)name[j]) == (uint8_t)a[j]) j++;
        if (j == len) return true;
    }
    return false;
}

/* ---- script-valued attributes ------------------------------------------------- */

static const char *const ds_plugins[] = {
    "attr", "bind", "class", "computed", "effect", "indicator", "init", "json-signals", "on",
    "on-intersect", "on-interval", "on-signal-patch", "ref", "show", "signals", "style", "text",
    "persist", "query-string", "replace-url", "scroll-into-view", "view-transition", "custom-validity",
};
/* plugins whose key older releases wrote after a hyphen (data-on-click) */
static const char *const ds_keyed[] = {
    "on", "signals", "class", "attr", "style", "computed", "bind", "indicator", "ref",
};

static bool ieq_prefix(const char *s, size_t n, const char *lit) {
    size_t k = strlen(lit);
    if (n < k) return false;
    for (size_t i = 0; i < k; i++) if (lower((uint8_t)s[i]) != (uint8_t)lit[i]) return false;
    return true;
}

int nw_attr_script_kind(const char *name, size_t len) {
    if (ieq_prefix(name, len, "on")) return NW_ATTR_EVENT;
    if (len == 6 && ieq_prefix(name, len, "srcdoc")) return NW_ATTR_SRCDOC;
    if (!ieq_prefix(name, len, "data-")) return NW_ATTR_PLAIN;
    const char *p = name + 5;
    size_t n = 0, rest = len - 5;
    while (n < rest && p[n] != ':' && !(p[n] == '_' && n + 1 < rest && p[n + 1] == '_')) n++;
    for (size_t i = 0; i < sizeof ds_plugins / sizeof ds_plugins[0]; i++)
        if (strlen(ds_plugins[i]) == n && ieq_prefix(p, n, ds_plugins[i])) return NW_ATTR_DATASTAR;
    for (size_t i = 0; i < sizeof ds_keyed / sizeof ds_keyed[0]; i++) {
        size_t k = strlen(ds_keyed[i]);
        if (n > k + 1 && ieq_prefix(p, n, ds_keyed[i]) && p[k] == '-') return NW_ATTR_DATASTAR;
    }
    return NW_ATTR_PLAIN;
}

static bool js_plain(uint8_t c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' ||
           c == ',' || c == '.' || c == '_' || c == '/' || c == ':' || c == '-';
}

static void put_u(uint8_t *o, const char *pre, uint32_t v, int digits) {
    static const char hex[] = "0123456789abcdef";
    o[0] = (uint8_t)pre[0]; o[1] = (uint8_t)pre[1];
    for (int i = 0; i < digits; i++) o[2 + i] = (uint8_t)hex[(v >> (4 * (digits - 1 - i))) & 15];
}

void nw_escape_js_string(nw_buf *b, const char *s, size_t n) {
    const uint8_t *p = (const uint8_t *)s, *end = p + n;
    while (p < end) {
        size_t chunk = (size_t)(end - p);
        if (chunk > 4096) chunk = 4096;
        /* worst case: every byte an ASCII special (4 bytes each), or a
         * 4-byte sequence becoming two \uNNNN (12 bytes) */
        if (!nw_buf_reserve(b, chunk * 4 + 16)) return;
        uint8_t *o = b->p + b->len;
        const uint8_t *ce = p + chunk;
        while (p < ce) {
            uint8_t c = *p;
            if (js_plain(c)) { *o++ = c; p++; continue; }
            if (c < 0x80) { put_u(o, "\\x", c, 2); o += 4; p++; continue; }
            size_t bad = 1, k = nw_utf8_seq(p, (size_t)(end - p), &bad);
            uint32_t cp = k ? utf8_cp(p, k) : 0xFFFD;
            p += k ? k : bad;
            if (cp >= 0x10000) {
                cp -= 0x10000;
                put_u(o, "\\u", 0xD800 + (cp >> 10), 4); o += 6;
                put_u(o, "\\u", 0xDC00 + (cp & 0x3FF), 4); o += 6;
            } else {
                put_u(o, "\\u", cp, 4); o += 6;
            }
        }
        b->len = (size_t)(o - b->p);
    }
}

/* The streaming effective-scheme check. It mirrors js/escape.js
 * (effectivePrefix + decodeRef + isDangerous) character for character; a
 * reference that fails to decode emits '&' and replays what it consumed,
 * exactly like the JS version rescanning from after the '&'. */
enum { V_UNDECIDED, V_SAFE, V_DANGER };
enum { S_NORMAL, S_AMP, S_HASH, S_HEXX, S_DIGITS, S_NAME, S_NAMEDONE };

static const char *const ref_names[] = { "colon", "tab", "newline" };
static const uint8_t ref_cps[] = { 58, 9, 10 };
static const char *const image_types[] = { "png", "gif", "jpeg", "jpg", "webp", "bmp", "avif" };

static bool prefix_eq(const uint8_t *o, int n, const char *pat, int plen) {
    int k = n < plen ? n : plen;
    return k <= 0 || memcmp(o, pat, (size_t)k) == 0;
}

static uint8_t classify(const uint8_t *o, int n, bool final) {
    bool js = prefix_eq(o, n, "javascript:", 11);
    if (js && n >= 11) return V_DANGER;
    bool vb = prefix_eq(o, n, "vbscript:", 9);
    if (vb && n >= 9) return V_DANGER;
    bool da = prefix_eq(o, n, "data:", 5);
    if (da && n >= 5) {
        if (!prefix_eq(o + 5, n - 5, "image/", 6)) return V_DANGER;
        if (n < 11) return final ? V_DANGER : V_UNDECIDED;
        int k = n - 11;
        bool alive = false;
        for (size_t i = 0; i < sizeof image_types / sizeof image_types[0]; i++) {
            int tl = (int)strlen(image_types[i]);
            if (!prefix_eq(o + 11, k, image_types[i], tl)) continue;
            if (k > tl) {
                if (o[11 + tl] == ';' || o[11 + tl] == ',') return V_SAFE;
                continue;
            }
            alive = true;
        }
        if (!alive) return V_DANGER;
        return final ? V_DANGER : V_UNDECIDED;
    }
    if (!js && !vb && !da) return V_SAFE;
    return final ? V_SAFE : V_UNDECIDED;
}

static bool is_tab_nl(uint32_t c) { return c == 9 || c == 10 || c == 13; }

static void push_char(nw_url_check *c, uint32_t ch) {
    if (c->verdict) return;
    if (c->n == 0 && ch <= 0x20) return;           /* leading C0 and space */
    if (ch >= 'A' && ch <= 'Z') ch += 32;
    c->out[c->n++] = ch < 0x80 ? (uint8_t)ch : 0x80; /* non-ASCII never matches */
    c->verdict = classify(c->out, c->n, false);
}

static void normal_char(nw_url_check *c, uint8_t ch) {
    if (is_tab_nl(ch)) return;
    if (ch == '&') { c->st = S_AMP; return; }
    push_char(c, ch);
}

static void finish_ref(nw_url_check *c, uint32_t cp) {
    c->st = S_NORMAL;
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    if (is_tab_nl(cp)) return;
    push_char(c, cp);
}

/* A reference that did not decode: '&' is literal; replay what followed. */
static void fail_ref(nw_url_check *c) {
    uint8_t st = c->st;
    c->st = S_NORMAL;
    push_char(c, '&');
    if (st == S_HASH || st == S_HEXX) normal_char(c, '#');
    if (st == S_HEXX) normal_char(c, 'x');
    if (st == S_NAME)
        for (uint8_t k = 0; k < c->m; k++) normal_char(c, (uint8_t)ref_names[c->name][k]);
}

static int hex_val(uint8_t ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    uint8_t l = ch | 32;
    if (l >= 'a' && l <= 'f') return l - 'a' + 10;
    return -1;
}

static void step(nw_url_check *c, uint8_t ch) {
    switch (c->st) {
    case S_NORMAL: normal_char(c, ch); return;
    case S_AMP:
        if (is_tab_nl(ch)) return;
        if (ch == '#') { c->st = S_HASH; return; }
        for (uint8_t i = 0; i < 3; i++) {
            if ((ch | 32) == (uint8_t)ref_names[i][0]) { c->st = S_NAME; c->name = i; c->m = 1; return; }
        }
        fail_ref(c);
        normal_char(c, ch);
        return;
    case S_HASH:
        if (is_tab_nl(ch)) return;
        if ((ch | 32) == 'x') { c->hex = 1; c->st = S_HEXX; return; }
        if (ch >= '0' && ch <= '9') { c->hex = 0; c->cp = ch - '0'; c->st = S_DIGITS; return; }
        fail_ref(c);
        normal_char(c, ch);
        return;
    case S_HEXX: {
        if (is_tab_nl(ch)) return;
        int d = hex_val(ch);
        if (d >= 0) { c->cp = (uint32_t)d; c->st = S_DIGITS; return; }
        fail_ref(c);
        normal_char(c, ch);
        return;
    }
    case S_DIGITS: {
        if (is_tab_nl(ch)) return;
        int d = c->hex ? hex_val(ch) : (ch >= '0' && ch <= '9' ? ch - '0' : -1);
        if (d >= 0) {
            /* clamp: anything above 0x10FFFF is U+FFFD anyway */
            uint32_t v = c->cp * (c->hex ? 16u : 10u) + (uint32_t)d;
            c->cp = v > 0x110000 ? 0x110000 : v;
            return;
        }
        finish_ref(c, c->cp);
        if (ch != ';') normal_char(c, ch);
        return;
    }
    case S_NAME: {
        if (is_tab_nl(ch)) return;
        const char *nm = ref_names[c->name];
        if ((ch | 32) == (uint8_t)nm[c->m]) {
            c->m++;
            if (nm[c->m] == 0) c->st = S_NAMEDONE;
            return;
        }
        fail_ref(c);
        normal_char(c, ch);
        return;
    }
    case S_NAMEDONE:
        if (is_tab_nl(ch)) return;
        finish_ref(c, ref_cps[c->name]);
        if (ch != ';') normal_char(c, ch);
        return;
    }
}

void nw_url_check_init(nw_url_check *c) { memset(c, 0, sizeof *c); }

void nw_url_check_feed(nw_url_check *c, const char *p, size_t n) {
    for (size_t i = 0; i < n && !c->verdict; i++) step(c, (uint8_t)p[i]);
}

bool nw_url_check_dangerous(nw_url_check *c) {
    if (!c->verdict) {
        switch (c->st) {
        case S_DIGITS: finish_ref(c, c->cp); break;
        case S_NAMEDONE: finish_ref(c, ref_cps[c->name]); break;
        case S_NORMAL: break;
        default: fail_ref(c); break;
        }
    }
    if (!c->verdict) c->verdict = classify(c->out, c->n, true);
    return c->verdict == V_DANGER;
}

bool nw_url_is_safe(const char *value, size_t len) {
    nw_url_check c;
    nw_url_check_init(&c);
    nw_url_check_feed(&c, value, len);
    return !nw_url_check_dangerous(&c);
}

/* ---- attribute names ---------------------------------------------------------- */

bool nw_is_valid_attr_name(const char *name, size_t len) {
    const uint8_t *p = (const uint8_t *)name;
    if (!len) return false;
    size_t i = 0;
    while (i < len) {
        uint8_t c = p[i];
        if (c < 0x80) {
            if (c <= 0x20 || c == '"' || c == '\'' || c == '>' || c == '/' || c == '=' ||
                c == '<' || c == '`')
                return false;
            i++;
            continue;
        }
        size_t bad, k = nw_utf8_seq(p + i, len - i, &bad);
        if (!k) return false;
        uint32_t cp = utf8_cp(p + i, k);
        if ((cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE) return false;
        i += k;
    }
    return true;
}
