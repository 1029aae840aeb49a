/* fts.c - full-text index: tokenizer, token dictionary, posting lists and
 * ranked AND/prefix queries (see fts.h for the contract). */
#include "fts.h"
#include "alloc.h"
#include <math.h>
#include <stdbool.h>
#include <string.h>

/* ==== tokenizer ================================================================== */

#define BAD 0xFFFFFFFFu

/* Decodes one code point at s[*i]; an invalid sequence yields BAD and
 * consumes only its first byte, so valid text after it is still read. */
static uint32_t utf8_next(const uint8_t *s, size_t len, size_t *i) {
    uint8_t c = s[*i];
    if (c < 0x80) { (*i)++; return c; }
    size_t need;
    uint32_t cp;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) { need = 1; cp = c & 0x1Fu; }
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2; cp = c & 0x0Fu;
        if (c == 0xE0) lo = 0xA0;           /* overlong */
        if (c == 0xED) hi = 0x9F;           /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3; cp = c & 0x07u;
        if (c == 0xF0) lo = 0x90;           /* overlong */
        if (c == 0xF4) hi = 0x8F;           /* > U+10FFFF */
    } else { (*i)++; return BAD; }
    if (len - *i <= need) { (*i)++; return BAD; }
    uint8_t c1 = s[*i + 1];
    if (c1 < lo || c1 > hi) { (*i)++; return BAD; }
    cp = (cp << 6) | (c1 & 0x3Fu);
    for (size_t k = 2; k <= need; k++) {
        uint8_t ck = s[*i + k];
        if ((ck & 0xC0) != 0x80) { (*i)++; return BAD; }
        cp = (cp << 6) | (ck & 0x3Fu);
    }
    *i += need + 1;
    return cp;
}

static int utf8_put(uint32_t cp, uint8_t *out) {
    if (cp < 0x80) { out[0] = (uint8_t)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* Fold tables, one character per code point: a lowercase ASCII letter is
 * the base letter, an uppercase one a digraph (see digraph()), '.' keeps
 * the code point as it is, '-' makes it a separator. */
static const char latin1[] =            /* U+00C0..U+00FF */
    "aaaaaaAceeeeiiiidnooooo-ouuuuyTS"
    "aaaaaaAceeeeiiiidnooooo-ouuuuyTy";
static const char latin_a[] =           /* U+0100..U+017F */
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiIIjjkkk"
    "llllllllllnnnnnnnnnooooooOOrrrrrrssssssssttttttuuuuuuuuuuuu"
    "wwyyyzzzzzzs";
static const char latin_b[] =           /* U+0180..U+024F */
    "bbbb..occdddd.e." "effg..iikkl.mnno" "oo..ppr....ttttu" "u.vyyzz........."
    "....DDDLLLNNNaai" "ioouuuuuuuuuueaa" "aaAAggggkkoooo.." "jDDDgg..nnaaAAoo"
    "aaaaeeeeiiiioooo" "rrrruuuusstt..hh" "nd..zzaaeeoooooo" "ooyylntj..acclts"
    "z..bu.eejjqqrryy";
static const char latin_add[] =         /* U+1E00..U+1EFF */
    "aabbbbbbccddddddddddeeeeeeeeeeffgghhhhhhhhhhiiiikkkkkkllllllll"
    "mmmmmmnnnnnnnnoooooooopppprrrrrrrrsssssssssstttttttt"
    "uuuuuuuuuuvvvvwwwwwwwwwwxxxxyyzzzzzz" "htwyasssS."
    "aaaaaaaaaaaaaaaaaaaaaaaa" "eeeeeeeeeeeeeeee" "iiii"
    "oooooooooooooooooooooooo" "uuuuuuuuuuuuuu" "yyyyyyyy" "WWvvyy";

_Static_assert(sizeof latin1 == 0x40 + 1, "latin1 table");
_Static_assert(sizeof latin_a == 0x80 + 1, "latin_a table");
_Static_assert(sizeof latin_b == 0xD0 + 1, "latin_b table");
_Static_assert(sizeof latin_add == 0x100 + 1, "latin_add table");

static const char *digraph(char c) {
    switch (c) {
    case 'A': return "ae"; case 'O': return "oe"; case 'T': return "th";
    case 'S': return "ss"; case 'I': return "ij"; case 'D': return "dz";
    case 'L': return "lj"; case 'N': return "nj"; default: return "ll";  /* 'W' */
    }
}

static bool is_mark(uint32_t cp) {
    return (cp >= 0x300 && cp <= 0x36F) || (cp >= 0x483 && cp <= 0x489) ||
           (cp >= 0x1AB0 && cp <= 0x1AFF) || (cp >= 0x1DC0 && cp <= 0x1DFF) ||
           (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0xFE20 && cp <= 0xFE2F);
}

static bool is_separator(uint32_t cp) {   /* non-ASCII above U+00FF */
    return cp == 0x37E || cp == 0x387 || (cp >= 0x2000 && cp <= 0x206F) ||
           (cp >= 0x3000 && cp <= 0x303F) || cp == 0xFEFF ||
           /* fullwidth and halfwidth forms of ASCII and CJK punctuation */
           (cp >= 0xFF01 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) ||
           (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65);
}

/* Lowercase by the fixed offsets of the case pairs in Greek, Cyrillic,
 * Armenian and the fullwidth ASCII forms. */
static uint32_t lower_offsets(uint32_t cp) {
    if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) return cp + 0x20;
    if (cp >= 0x3D8 && cp <= 0x3EF) return cp | 1;
    if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;
    if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20;
    if ((cp >= 0x460 && cp <= 0x481) || (cp >= 0x48A && cp <= 0x4BF) || (cp >= 0x4D0 && cp <= 0x52F)) return cp | 1;
    if (cp == 0x4C0) return 0x4CF;
    if (cp >= 0x4C1 && cp <= 0x4CE) return cp + (cp & 1);
    if (cp >= 0x531 && cp <= 0x556) return cp + 0x30;
    if (cp >= 0xFF21 && cp <= 0xFF3A) return cp - 0xFF21 + 'a';
    if (cp >= 0xFF41 && cp <= 0xFF5A) return cp - 0xFF41 + 'a';
    if (cp >= 0xFF10 && cp <= 0xFF19) return cp - 0xFF10 + '0';
    return cp;
}

/* Single mappings applied after lower_offsets, sorted by code point:
 * capitals without a base letter to their lowercase, the IPA lowercase of
 * capitals the tables fold to a base letter, and accented Greek and
 * Cyrillic letters to the letter their decomposed spelling leaves once the
 * marks are dropped (ά->α, ς->σ, ё->е, й->и, ӧ->о). */
static const uint16_t fold_pairs[][2] = {
    {0x184, 0x185}, {0x18F, 0x259}, {0x194, 0x263}, {0x1A2, 0x1A3}, {0x1A7, 0x1A8},
    {0x1A9, 0x283}, {0x1B1, 0x28A}, {0x1B7, 0x292}, {0x1B8, 0x1B9}, {0x1BC, 0x1BD},
    {0x1EE, 0x292}, {0x1EF, 0x292}, {0x1F6, 0x195}, {0x1F7, 0x1BF}, {0x21C, 0x21D},
    {0x222, 0x223}, {0x241, 0x242}, {0x245, 0x28C},
    {0x253, 'b'}, {0x254, 'o'}, {0x256, 'd'}, {0x257, 'd'}, {0x25B, 'e'}, {0x260, 'g'},
    {0x268, 'i'}, {0x269, 'i'}, {0x26F, 'm'}, {0x272, 'n'}, {0x275, 'o'}, {0x280, 'r'},
    {0x288, 't'}, {0x289, 'u'}, {0x28B, 'v'},
    {0x370, 0x371}, {0x372, 0x373}, {0x376, 0x377}, {0x37F, 0x3F3}, {0x386, 0x3B1},
    {0x388, 0x3B5}, {0x389, 0x3B7}, {0x38A, 0x3B9}, {0x38C, 0x3BF}, {0x38E, 0x3C5},
    {0x38F, 0x3C9}, {0x390, 0x3B9}, {0x3AC, 0x3B1}, {0x3AD, 0x3B5}, {0x3AE, 0x3B7},
    {0x3AF, 0x3B9}, {0x3B0, 0x3C5}, {0x3C2, 0x3C3}, {0x3CA, 0x3B9}, {0x3CB, 0x3C5},
    {0x3CC, 0x3BF}, {0x3CD, 0x3C5}, {0x3CE, 0x3C9}, {0x3CF, 0x3D7}, {0x3F4, 0x3B8},
    {0x3F7, 0x3F8}, {0x3F9, 0x3F2}, {0x3FA, 0x3FB}, {0x3FD, 0x37B}, {0x3FE, 0x37C},
    {0x3FF, 0x37D},
    {0x439, 0x438}, {0x450, 0x435}, {0x451, 0x435}, {0x453, 0x433}, {0x457, 0x456},
    {0x45C, 0x43A}, {0x45D, 0x438}, {0x45E, 0x443}, {0x477, 0x475}, {0x4C2, 0x436},
    {0x4D1, 0x430}, {0x4D3, 0x430}, {0x4D7, 0x435}, {0x4DB, 0x4D9}, {0x4DD, 0x436},
    {0x4DF, 0x437}, {0x4E3, 0x438}, {0x4E5, 0x438}, {0x4E7, 0x43E}, {0x4EB, 0x4E9},
    {0x4ED, 0x44D}, {0x4EF, 0x443}, {0x4F1, 0x443}, {0x4F3, 0x443}, {0x4F5, 0x447},
    {0x4F9, 0x44B},
    {0x2C65, 'a'}, {0x2C66, 't'},
};

static uint32_t fold_pair(uint32_t cp) {
    size_t lo = 0, hi = sizeof fold_pairs / sizeof fold_pairs[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (fold_pairs[mid][0] < cp) lo = mid + 1; else hi = mid;
    }
    return lo < sizeof fold_pairs / sizeof fold_pairs[0] && fold_pairs[lo][0] == cp ? fold_pairs[lo][1] : cp;
}

/* Normalised bytes of one code point into out: the count, 0 for a mark
 * (dropped, the token goes on), -1 for a separator. */
static int fold_cp(uint32_t cp, uint8_t *out) {
    if (cp < 0x80) {
        if (cp >= 'A' && cp <= 'Z') { out[0] = (uint8_t)(cp + 32); return 1; }
        if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) { out[0] = (uint8_t)cp; return 1; }
        return -1;
    }
    if (cp < 0xC0) return -1;
    char code = 0;
    if (cp < 0x100) code = latin1[cp - 0xC0];
    else if (cp < 0x180) code = latin_a[cp - 0x100];
    else if (cp < 0x250) code = latin_b[cp - 0x180];
    else if (cp >= 0x1E00 && cp < 0x1F00) code = latin_add[cp - 0x1E00];
    if (code == '-') return -1;
    if (code >= 'a' && code <= 'z') { out[0] = (uint8_t)code; return 1; }
    if (code >= 'A' && code <= 'Z') { memcpy(out, digraph(code), 2); return 2; }
    if (is_mark(cp)) return 0;
    if (is_separator(cp)) return -1;
    return utf8_put(fold_pair(lower_offsets(cp)), out);
}

size_t nw_fts_token(const char *s, size_t len, size_t *pos, char out[NW_FTS_MAXTOK]) {
    const uint8_t *u = (const uint8_t *)s;
    size_t i = *pos, n = 0;
    bool full = false;      /* once a character did not fit, keep a clean prefix */
    while (i < len) {
        uint32_t cp = utf8_next(u, len, &i);
        uint8_t buf[4];
        int k = cp == BAD ? -1 : fold_cp(cp, buf);
        if (k < 0) {
            if (n) break;
            continue;
        }
        if (k == 0 || full) continue;
        if (n + (size_t)k > NW_FTS_MAXTOK) { full = true; continue; }
        memcpy(out + n, buf, (size_t)k);
        n += (size_t)k;
    }
    *pos = i;
    return n;
}

/* ==== dictionary and postings ====================================================== */

/* A token and its postings: slots ascending, each with a term frequency
 * (saturating at 255). Removing a posting from the middle leaves a
 * tombstone (tf 0) that a later add of the same slot revives; tombstones
 * are squeezed out once they are half the list. */
typedef struct fterm {
    uint8_t *post;      /* cap slots (u32) then cap tfs (u8); NULL while cap == 0 */
    uint32_t n;         /* entries in use, tombstones included; the last is live */
    uint32_t df;        /* live entries: documents containing the token */
    uint32_t cap;       /* 0: at most one entry, kept inline below */
    uint32_t hash;
    uint32_t one_slot;
    uint8_t one_tf;
    uint8_t len;
    char s[];
} fterm;

struct nw_fts {
    fterm **tab;        /* open addressing, linear probing; power-of-two size */
    uint32_t tabcap;
    fterm **view;       /* every token: [0, nsorted) sorted by bytes, the rest newest last */
    uint32_t nterms, nsorted, viewcap;
    uint32_t ndead;     /* tokens with df 0, purged in bulk by remove */
    uint32_t maxslot;
    size_t ndocs, npost;
    size_t bytes;
};

#define POST_BYTES 5u

static inline uint32_t *t_slots(fterm *t) { return t->cap ? (uint32_t *)(void *)t->post : &t->one_slot; }
static inline uint8_t *t_tfs(fterm *t) { return t->cap ? t->post + 4u * t->cap : &t->one_tf; }
static inline uint32_t t_cap(const fterm *t) { return t->cap ? t->cap : 1; }

static uint32_t hash_bytes(const char *s, size_t n) {
    uint32_t h = 2166136261u;  /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

nw_fts *nw_fts_new(void) {
    nw_fts *f = nw_calloc(1, sizeof *f);
    if (f) f->bytes = sizeof *f;
    return f;
}

static void term_release(nw_fts *f, fterm *t) {
    f->bytes -= sizeof *t + t->len + (size_t)t->cap * POST_BYTES;
    nw_free(t->post);
    nw_free(t);
}

void nw_fts_free(nw_fts *f) {
    if (!f) return;
    for (uint32_t i = 0; i < f->nterms; i++) term_release(f, f->view[i]);
    nw_free(f->tab);
    nw_free(f->view);
    nw_free(f);
}

static fterm *tab_find(const nw_fts *f, const char *s, size_t len, uint32_t h) {
    if (!f->tabcap) return NULL;
    uint32_t m = f->tabcap - 1;
    for (uint32_t i = h & m;; i = (i + 1) & m) {
        fterm *t = f->tab[i];
        if (!t) return NULL;
        if (t->hash == h && t->len == len && memcmp(t->s, s, len) == 0) return t;
    }
}

static void tab_put(fterm **tab, uint32_t cap, fterm *t) {
    uint32_t m = cap - 1, i = t->hash & m;
    while (tab[i]) i = (i + 1) & m;
    tab[i] = t;
}

/* Deletes t by shifting later members of its probe run back (no
 * tombstones, so lookups never slow down with churn). */
static void tab_del(nw_fts *f, const fterm *t) {
    uint32_t m = f->tabcap - 1, i = t->hash & m;
    while (f->tab[i] != t) i = (i + 1) & m;
    f->tab[i] = NULL;
    for (uint32_t j = (i + 1) & m; f->tab[j]; j = (j + 1) & m) {
        uint32_t k = f->tab[j]->hash & m;   /* where it wants to be */
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays) continue;
        f->tab[i] = f->tab[j];
        f->tab[j] = NULL;
        i = j;
    }
}

/* Room for one more token in the hash table (load <= 1/2) and the view. */
static int dict_reserve(nw_fts *f) {
    if (((size_t)f->nterms + 1) * 2 > f->tabcap) {
        if (f->tabcap > UINT32_MAX / 4) return -1;
        uint32_t cap = f->tabcap ? f->tabcap * 2 : 64;
        fterm **tab = nw_calloc(cap, sizeof *tab);
        if (!tab) return -1;
        for (uint32_t i = 0; i < f->tabcap; i++) if (f->tab[i]) tab_put(tab, cap, f->tab[i]);
        nw_free(f->tab);
        f->bytes += ((size_t)cap - f->tabcap) * sizeof *tab;
        f->tab = tab;
        f->tabcap = cap;
    }
    if (f->nterms == f->viewcap) {
        if (f->viewcap > UINT32_MAX / 4) return -1;
        uint32_t cap = f->viewcap ? f->viewcap * 2 : 64;
        fterm **v = nw_realloc(f->view, (size_t)cap * sizeof *v);
        if (!v) return -1;
        f->bytes += ((size_t)cap - f->viewcap) * sizeof *v;
        f->view = v;
        f->viewcap = cap;
    }
    return 0;
}

/* A new token with no postings (so counted dead until one is added). */
static fterm *term_new(nw_fts *f, const char *s, size_t len, uint32_t h) {
    if (dict_reserve(f) < 0) return NULL;
    fterm *t = nw_malloc(sizeof *t + len);
    if (!t) return NULL;
    memset(t, 0, sizeof *t);
    t->hash = h;
    t->len = (uint8_t)len;
    memcpy(t->s, s, len);
    tab_put(f->tab, f->tabcap, t);
    f->view[f->nterms++] = t;
    f->ndead++;
    f->bytes += sizeof *t + len;
    return t;
}

/* First entry with slot >= s. */
static uint32_t post_lower(const uint32_t *sl, uint32_t lo, uint32_t hi, uint32_t s) {
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (sl[mid] < s) lo = mid + 1; else hi = mid;
    }
    return lo;
}

/* Squeezes tombstones out in place. */
static void post_compact(fterm *t) {
    uint32_t *sl = t_slots(t);
    uint8_t *tf = t_tfs(t);
    uint32_t w = 0;
    for (uint32_t r = 0; r < t->n; r++) {
        if (!tf[r]) continue;
        sl[w] = sl[r];
        tf[w] = tf[r];
        w++;
    }
    t->n = w;
}

/* Frees the posting array (the token keeps at most one inline entry). */
static void post_drop_array(nw_fts *f, fterm *t) {
    if (!t->cap) return;
    if (t->n == 1) {
        memcpy(&t->one_slot, t->post, 4);
        t->one_tf = t->post[4u * t->cap];
    }
    nw_free(t->post);
    t->post = NULL;
    f->bytes -= (size_t)t->cap * POST_BYTES;
    t->cap = 0;
}

/* Room for one more entry; -1 on OOM (postings unchanged). */
static int post_grow(nw_fts *f, fterm *t) {
    uint32_t cap = t_cap(t);
    if (t->n < cap) return 0;
    if (cap > (UINT32_MAX / POST_BYTES) / 2) return -1;
    uint32_t nc = cap < 4 ? 4 : cap + cap / 2;
    uint8_t *p = t->cap ? nw_realloc(t->post, (size_t)nc * POST_BYTES) : nw_malloc((size_t)nc * POST_BYTES);
    if (!p) return -1;
    if (t->cap) {
        memmove(p + 4u * nc, p + 4u * t->cap, t->n);    /* the tfs follow the slots */
    } else if (t->n == 1) {
        memcpy(p, &t->one_slot, 4);
        p[4u * nc] = t->one_tf;
    }
    f->bytes += ((size_t)nc - t->cap) * POST_BYTES;
    t->post = p;
    t->cap = nc;
    return 0;
}

static void went_live(nw_fts *f, fterm *t) {
    if (t->df++ == 0) f->ndead--;
    f->npost++;
}

/* One more occurrence of t in slot's document. -1 on OOM (unchanged). */
static int posting_inc(nw_fts *f, fterm *t, uint32_t slot) {
    uint32_t *sl = t_slots(t);
    uint8_t *tf = t_tfs(t);
    uint32_t n = t->n, i;
    if (n == 0 || sl[n - 1] < slot) {
        i = n;                          /* documents usually arrive in slot order */
    } else {
        i = sl[n - 1] == slot ? n - 1 : post_lower(sl, 0, n, slot);
        if (sl[i] == slot) {
            if (tf[i] == 0) { tf[i] = 1; went_live(f, t); }
            else if (tf[i] < 255) tf[i]++;
            return 0;
        }
    }
    if (n == t_cap(t)) {
        if (t->df < n) {                /* reuse tombstones before growing */
            post_compact(t);
            n = t->n;
            i = post_lower(t_slots(t), 0, n, slot);
        }
        if (post_grow(f, t) < 0) return -1;
        sl = t_slots(t);
        tf = t_tfs(t);
    }
    memmove(sl + i + 1, sl + i, (size_t)(n - i) * sizeof *sl);
    memmove(tf + i + 1, tf + i, n - i);
    sl[i] = slot;
    tf[i] = 1;
    t->n = n + 1;
    went_live(f, t);
    return 0;
}

/* One occurrence fewer; a slot that is not (or no longer) there is
 * ignored. Never allocates. */
static void posting_dec(nw_fts *f, fterm *t, uint32_t slot) {
    uint32_t *sl = t_slots(t);
    uint8_t *tf = t_tfs(t);
    uint32_t n = t->n;
    if (n == 0 || sl[n - 1] < slot) return;
    uint32_t i = sl[n - 1] == slot ? n - 1 : post_lower(sl, 0, n, slot);
    if (sl[i] != slot || tf[i] == 0) return;
    if (--tf[i]) return;
    t->df--;
    f->npost--;
    if (i == n - 1) {
        while (n > 0 && tf[n - 1] == 0) n--;
        t->n = n;
    }
    if (t->df == 0) {
        t->n = 0;
        post_drop_array(f, t);
        f->ndead++;
        return;
    }
    if (t->n - t->df > t->n / 2) post_compact(t);
    if (t->df == 1) {
        post_compact(t);
        post_drop_array(f, t);
    }
}

/* Drops every token without postings: from the view (keeping its sorted
 * part sorted) and from the hash table (rebuilt in place). Never allocates. */
static void purge(nw_fts *f) {
    uint32_t w = 0, ws = 0;
    for (uint32_t i = 0; i < f->nterms; i++) {
        fterm *t = f->view[i];
        if (t->df) {
            f->view[w++] = t;
            if (i < f->nsorted) ws++;
        } else {
            term_release(f, t);
        }
    }
    f->nterms = w;
    f->nsorted = ws;
    f->ndead = 0;
    memset(f->tab, 0, (size_t)f->tabcap * sizeof *f->tab);
    for (uint32_t i = 0; i < w; i++) tab_put(f->tab, f->tabcap, f->view[i]);
}

int nw_fts_add(nw_fts *f, uint32_t slot, const char *utf8, size_t len) {
    char tok[NW_FTS_MAXTOK];
    size_t pos = 0, tl, applied = 0;
    uint32_t created = 0;
    while ((tl = nw_fts_token(utf8, len, &pos, tok)) > 0) {
        uint32_t h = hash_bytes(tok, tl);
        fterm *t = tab_find(f, tok, tl, h);
        if (!t) {
            t = term_new(f, tok, tl, h);
            if (!t) goto fail;
            created++;
        }
        if (posting_inc(f, t, slot) < 0) goto fail;
        applied++;
    }
    f->ndocs++;
    if (slot > f->maxslot) f->maxslot = slot;
    return 0;
fail:
    /* Undo the occurrences applied so far (the tokenizer is deterministic),
     * then drop the tokens this call created: they are the newest in the
     * view and have no postings left. */
    pos = 0;
    for (size_t k = 0; k < applied; k++) {
        tl = nw_fts_token(utf8, len, &pos, tok);
        posting_dec(f, tab_find(f, tok, tl, hash_bytes(tok, tl)), slot);
    }
    while (created--) {
        fterm *t = f->view[--f->nterms];
        tab_del(f, t);
        f->ndead--;
        term_release(f, t);
    }
    return -1;
}

int nw_fts_remove(nw_fts *f, uint32_t slot, const char *utf8, size_t len) {
    char tok[NW_FTS_MAXTOK];
    size_t pos = 0, tl;
    while ((tl = nw_fts_token(utf8, len, &pos, tok)) > 0) {
        fterm *t = tab_find(f, tok, tl, hash_bytes(tok, tl));
        if (t) posting_dec(f, t, slot);
    }
    if (f->ndocs) f->ndocs--;
    /* Dead tokens cost memory and view space; drop them in bulk once they
     * are half the dictionary, so churn stays O(1) amortised. */
    if (f->ndead > 64 && f->ndead * 2u > f->nterms) purge(f);
    return 0;
}

size_t nw_fts_bytes(const nw_fts *f) { return f->bytes; }
size_t nw_fts_docs(const nw_fts *f) { return f->ndocs; }
size_t nw_fts_terms(const nw_fts *f) { return f->nterms - f->ndead; }
size_t nw_fts_postings(const nw_fts *f) { return f->npost; }

/* ==== sorted view ================================================================ */

static int term_cmp(const fterm *a, const fterm *b) {
    size_t m = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->s, b->s, m);
    return c ? c : (int)a->len - (int)b->len;
}

/* Merges sorted a[0..h) and a[h..n) in place, with tmp (>= h) as scratch. */
static void merge_runs(fterm **a, size_t h, size_t n, fterm **tmp) {
    memcpy(tmp, a, h * sizeof *a);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) a[k++] = term_cmp(a[j], tmp[i]) < 0 ? a[j++] : tmp[i++];
    while (i < h) a[k++] = tmp[i++];
}

static void sort_terms(fterm **a, size_t n, fterm **tmp) {
    if (n < 16) {
        for (size_t i = 1; i < n; i++) {
            fterm *x = a[i];
            size_t j = i;
            for (; j > 0 && term_cmp(a[j - 1], x) > 0; j--) a[j] = a[j - 1];
            a[j] = x;
        }
        return;
    }
    size_t h = n / 2;
    sort_terms(a, h, tmp);
    sort_terms(a + h, n - h, tmp);
    if (term_cmp(a[h - 1], a[h]) > 0) merge_runs(a, h, n, tmp);
}

/* Sorts the tokens added since the last query into the view: the cost is
 * the new tokens' sort plus one merge, paid once per batch of adds. */
static int view_refresh(nw_fts *f) {
    uint32_t n = f->nterms, s = f->nsorted;
    if (s == n) return 0;
    fterm **tmp = nw_malloc((size_t)n * sizeof *tmp);
    if (!tmp) return -1;
    sort_terms(f->view + s, n - s, tmp);
    if (s > 0 && term_cmp(f->view[s - 1], f->view[s]) > 0) merge_runs(f->view, s, n, tmp);
    nw_free(tmp);
    f->nsorted = n;
    return 0;
}

/* Compares the first pl bytes of t with the prefix: 0 when t starts with it. */
static int prefix_cmp(const fterm *t, const char *p, size_t pl) {
    size_t m = t->len < pl ? t->len : pl;
    int c = memcmp(t->s, p, m);
    if (c) return c;
    return t->len < pl ? -1 : 0;
}

/* ==== queries ==================================================================== */

/* Term-frequency weight, saturating like BM25 (k1 = 1.2) without length
 * normalisation (the index keeps no document lengths). */
static double tfw(uint32_t tf) { return tf ? tf * 2.2 / (tf + 1.2) : 0.0; }

static double idf(size_t ndocs, size_t df) {
    if (df == 0) df = 1;
    if (ndocs < df) ndocs = df;
    return log(1.0 + (double)ndocs / (double)df);
}

/* tf of slot in t, searching from *from (candidates ascend, so each list is
 * walked once); 0 if absent. */
static uint32_t post_tf(fterm *t, uint32_t slot, uint32_t *from) {
    uint32_t *sl = t_slots(t);
    uint32_t i = post_lower(sl, *from, t->n, slot);
    *from = i;
    return i < t->n && sl[i] == slot ? t_tfs(t)[i] : 0;
}

/* Sorts u64 keys ascending: LSD radix by bytes, skipping bytes all keys
 * share (the top bytes of slot numbers usually). tmp holds n keys. */
static void sort_u64(uint64_t *a, size_t n, uint64_t *tmp) {
    if (n < 32) {
        for (size_t i = 1; i < n; i++) {
            uint64_t x = a[i];
            size_t j = i;
            for (; j > 0 && a[j - 1] > x; j--) a[j] = a[j - 1];
            a[j] = x;
        }
        return;
    }
    uint64_t *src = a, *dst = tmp;
    for (unsigned shift = 0; shift < 64; shift += 8) {
        size_t count[256] = { 0 };
        for (size_t i = 0; i < n; i++) count[(src[i] >> shift) & 0xFF]++;
        if (count[(src[0] >> shift) & 0xFF] == n) continue;
        size_t sum = 0;
        for (int d = 0; d < 256; d++) { size_t c = count[d]; count[d] = sum; sum += c; }
        for (size_t i = 0; i < n; i++) dst[count[(src[i] >> shift) & 0xFF]++] = src[i];
        uint64_t *t = src; src = dst; dst = t;
    }
    if (src != a) memcpy(a, src, n * sizeof *a);
}

/* Hits collected as sortable keys: ~score bits above, slot below, so an
 * ascending sort gives score descending then slot ascending (scores are
 * positive floats, whose bit patterns order like their values). */
typedef struct hitlist {
    uint64_t *keys;
    size_t n;
} hitlist;

static void hit_add(hitlist *h, uint32_t slot, double score) {
    float fs = (float)score;
    uint32_t bits;
    memcpy(&bits, &fs, 4);
    h->keys[h->n++] = ((uint64_t)~bits << 32) | slot;
}

static int hits_finish(hitlist *h, nw_fts_hit **out, size_t *nout) {
    if (h->n == 0) return 0;
    uint64_t *tmp = nw_malloc(h->n * sizeof *tmp);
    nw_fts_hit *hits = nw_malloc(h->n * sizeof *hits);
    if (!tmp || !hits) { nw_free(tmp); nw_free(hits); return -1; }
    sort_u64(h->keys, h->n, tmp);
    nw_free(tmp);
    for (size_t i = 0; i < h->n; i++) {
        uint32_t bits = ~(uint32_t)(h->keys[i] >> 32);
        hits[i].slot = (uint32_t)h->keys[i];
        memcpy(&hits[i].score, &bits, 4);
    }
    *out = hits;
    *nout = h->n;
    return 0;
}

/* The last word's tokens: view[lo, hi) (dead ones included, skipped by
 * callers), their summed df and the idf of the word. */
typedef struct prange {
    uint32_t lo, hi;
    size_t total;       /* entries in their lists, tombstones included */
    size_t lastlen;     /* a token of this length is the exact match */
    double idf;
} prange;

/* Single-word query: the union of the prefix range's lists. */
static int query_one(nw_fts *f, const prange *r, hitlist *h) {
    /* Dense per-slot counters when the lists cover a good part of the slot
     * space; otherwise sort the entries by slot and sum runs. */
    size_t nslots = (size_t)f->maxslot + 1;
    if (nslots <= 4 * r->total + 64) {
        uint32_t *ex = nw_calloc(nslots, sizeof *ex), *pre = nw_calloc(nslots, sizeof *pre);
        h->keys = nw_malloc(nslots * sizeof *h->keys);
        if (!ex || !pre || !h->keys) { nw_free(ex); nw_free(pre); return -1; }
        for (uint32_t v = r->lo; v < r->hi; v++) {
            fterm *t = f->view[v];
            uint32_t *acc = t->len == r->lastlen ? ex : pre;
            uint32_t *sl = t_slots(t);
            uint8_t *tf = t_tfs(t);
            for (uint32_t i = 0; i < t->n; i++) acc[sl[i]] += tf[i];
        }
        for (size_t s = 0; s < nslots; s++)
            if (ex[s] || pre[s]) hit_add(h, (uint32_t)s, r->idf * (2 * tfw(ex[s]) + tfw(pre[s])));
        nw_free(ex);
        nw_free(pre);
        return 0;
    }
    /* entry = slot << 32 | exact << 8 | tf */
    uint64_t *e = nw_malloc(r->total * sizeof *e), *tmp = nw_malloc(r->total * sizeof *tmp);
    h->keys = nw_malloc(r->total * sizeof *h->keys);
    if (!e || !tmp || !h->keys) { nw_free(e); nw_free(tmp); return -1; }
    size_t ne = 0;
    for (uint32_t v = r->lo; v < r->hi; v++) {
        fterm *t = f->view[v];
        uint64_t exact = t->len == r->lastlen ? 256 : 0;
        uint32_t *sl = t_slots(t);
        uint8_t *tf = t_tfs(t);
        for (uint32_t i = 0; i < t->n; i++)
            if (tf[i]) e[ne++] = ((uint64_t)sl[i] << 32) | exact | tf[i];
    }
    sort_u64(e, ne, tmp);
    nw_free(tmp);
    for (size_t i = 0; i < ne;) {
        uint32_t slot = (uint32_t)(e[i] >> 32), ex = 0, pre = 0;
        for (; i < ne && (uint32_t)(e[i] >> 32) == slot; i++) {
            if (e[i] & 256) ex += e[i] & 255; else pre += e[i] & 255;
        }
        hit_add(h, slot, r->idf * (2 * tfw(ex) + tfw(pre)));
    }
    nw_free(e);
    return 0;
}

/* Several words: candidates from the exact words (walking the rarest list),
 * then the prefix range's tfs for each candidate. */
static int query_many(nw_fts *f, fterm **ex, size_t nex, const prange *r, hitlist *h) {
    fterm *base = ex[0];
    for (size_t k = 1; k < nex; k++) if (ex[k]->df < base->df) base = ex[k];
    size_t nc = 0, cap = base->df;
    uint32_t *from = nw_calloc(nex, sizeof *from);
    uint32_t *cslot = nw_malloc(cap * sizeof *cslot);
    double *cscore = nw_malloc(cap * sizeof *cscore);
    uint32_t *ext = nw_calloc(cap, sizeof *ext), *pret = nw_calloc(cap, sizeof *pret);
    h->keys = nw_malloc(cap * sizeof *h->keys);
    int rc = -1;
    if (!from || !cslot || !cscore || !ext || !pret || !h->keys) goto done;
    {
        uint32_t *bs = t_slots(base);
        uint8_t *btf = t_tfs(base);
        for (uint32_t i = 0; i < base->n; i++) {
            if (!btf[i]) continue;
            double sc = 0;
            size_t k = 0;
            for (; k < nex; k++) {   /* query order, so sums round the same way */
                uint32_t tf = ex[k] == base ? btf[i] : post_tf(ex[k], bs[i], &from[k]);
                if (!tf) break;
                sc += 2 * tfw(tf) * idf(f->ndocs, ex[k]->df);
            }
            if (k < nex) continue;
            cslot[nc] = bs[i];
            cscore[nc++] = sc;
        }
    }
    for (uint32_t v = r->lo; v < r->hi && nc; v++) {
        fterm *t = f->view[v];
        if (!t->df) continue;
        uint32_t *acc = t->len == r->lastlen ? ext : pret;
        if (t->df <= nc) {      /* walk the shorter side, search the longer */
            uint32_t *sl = t_slots(t);
            uint8_t *tf = t_tfs(t);
            uint32_t at = 0;
            for (uint32_t i = 0; i < t->n; i++) {
                if (!tf[i]) continue;
                at = post_lower(cslot, at, (uint32_t)nc, sl[i]);
                if (at == nc) break;
                if (cslot[at] == sl[i]) acc[at] += tf[i];
            }
        } else {
            uint32_t at = 0;
            for (size_t j = 0; j < nc; j++) acc[j] += post_tf(t, cslot[j], &at);
        }
    }
    for (size_t j = 0; j < nc; j++)
        if (ext[j] || pret[j]) hit_add(h, cslot[j], cscore[j] + r->idf * (2 * tfw(ext[j]) + tfw(pret[j])));
    rc = 0;
done:
    nw_free(from);
    nw_free(cslot);
    nw_free(cscore);
    nw_free(ext);
    nw_free(pret);
    return rc;
}

int nw_fts_query(const nw_fts *cf, const char *q, size_t qlen, nw_fts_hit **hits, size_t *n) {
    /* Queries read the index; the only write is re-sorting the token view,
     * a cache, which is why the handle is const to callers. */
    nw_fts *f = (nw_fts *)cf;
    *hits = NULL;
    *n = 0;
    char tok[NW_FTS_MAXTOK], last[NW_FTS_MAXTOK];
    size_t pos = 0, tl, nwords = 0, lastlen = 0;
    while ((tl = nw_fts_token(q, qlen, &pos, tok)) > 0) nwords++;
    if (nwords == 0) return 0;
    fterm **ex = nw_malloc(nwords * sizeof *ex);
    if (!ex) return -1;
    size_t nex = 0;
    pos = 0;
    for (size_t k = 0; k < nwords; k++) {
        tl = nw_fts_token(q, qlen, &pos, tok);
        if (k + 1 == nwords) {
            memcpy(last, tok, tl);
            lastlen = tl;
            break;
        }
        fterm *t = tab_find(f, tok, tl, hash_bytes(tok, tl));
        if (!t || !t->df) { nw_free(ex); return 0; }   /* AND: a missing word matches nothing */
        ex[nex++] = t;
    }
    if (view_refresh(f) < 0) { nw_free(ex); return -1; }
    prange r = { 0, 0, 0, lastlen, 0 };
    uint32_t lo = 0, hi = f->nterms;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (prefix_cmp(f->view[mid], last, lastlen) < 0) lo = mid + 1; else hi = mid;
    }
    r.lo = lo;
    hi = f->nterms;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (prefix_cmp(f->view[mid], last, lastlen) <= 0) lo = mid + 1; else hi = mid;
    }
    r.hi = lo;
    size_t dfsum = 0;
    for (uint32_t v = r.lo; v < r.hi; v++) {
        dfsum += f->view[v]->df;
        r.total += f->view[v]->n;
    }
    if (dfsum == 0) { nw_free(ex); return 0; }
    if (f->ndocs && dfsum > f->ndocs) dfsum = f->ndocs;
    r.idf = idf(f->ndocs, dfsum);
    hitlist h = { NULL, 0 };
    int rc = nex ? query_many(f, ex, nex, &r, &h) : query_one(f, &r, &h);
    nw_free(ex);
    if (rc == 0) rc = hits_finish(&h, hits, n);
    nw_free(h.keys);
    return rc;
}

/* ==== invariants ================================================================= */

int nw_fts_check(const nw_fts *f) {
    if (f->nterms > f->viewcap || f->nsorted > f->nterms) return 1;
    if (f->tabcap & (f->tabcap - 1)) return 2;
    if ((size_t)f->nterms * 2 > f->tabcap && f->nterms) return 2;
    uint32_t intab = 0;
    for (uint32_t i = 0; i < f->tabcap; i++) intab += f->tab[i] != NULL;
    if (intab != f->nterms) return 3;
    size_t bytes = sizeof *f + (size_t)f->tabcap * sizeof *f->tab + (size_t)f->viewcap * sizeof *f->view;
    size_t npost = 0;
    uint32_t ndead = 0;
    for (uint32_t v = 0; v < f->nterms; v++) {
        fterm *t = f->view[v];
        if (t->len == 0 || t->len > NW_FTS_MAXTOK) return 4;
        if (t->hash != hash_bytes(t->s, t->len) || tab_find(f, t->s, t->len, t->hash) != t) return 5;
        /* a stored token is its own normal form */
        char tok[NW_FTS_MAXTOK];
        size_t pos = 0;
        if (nw_fts_token(t->s, t->len, &pos, tok) != t->len || memcmp(tok, t->s, t->len) != 0) return 6;
        if (v > 0 && v < f->nsorted && term_cmp(f->view[v - 1], t) >= 0) return 7;
        if (t->n > t_cap(t)) return 8;
        uint32_t *sl = t_slots(t);
        uint8_t *tf = t_tfs(t);
        uint32_t live = 0;
        for (uint32_t i = 0; i < t->n; i++) {
            if (i > 0 && sl[i - 1] >= sl[i]) return 9;
            if (tf[i]) live++;
            if (sl[i] > f->maxslot) return 10;
        }
        if (live != t->df) return 11;
        if (t->n > 0 && tf[t->n - 1] == 0) return 12;
        if (t->df == 0 && (t->n != 0 || t->cap != 0)) return 13;
        ndead += t->df == 0;
        npost += live;
        bytes += sizeof *t + t->len + (size_t)t->cap * POST_BYTES;
    }
    if (ndead != f->ndead) return 14;
    if (npost != f->npost) return 15;
    if (bytes != f->bytes) return 16;
    return 0;
}
