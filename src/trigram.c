/* trigram.c - append-only trigram postings (see trigram.h). */
#include "trigram.h"
#include "alloc.h"
#include <string.h>

typedef struct term {
    uint32_t key;           /* the three bytes, big-endian */
    uint32_t n, cap;
    uint32_t *v;            /* slots (owned) */
} term;

struct nw_trigram {
    term *terms;            /* owned, nterms used of tcap */
    uint32_t nterms, tcap;
    uint32_t *tab;          /* open addressing: term index + 1, 0 = empty (owned) */
    uint32_t tabcap;        /* power of two, > 2 * nterms */
    size_t entries, stale, post_cap;
};

static uint32_t key_at(const uint8_t *s) { return (uint32_t)s[0] << 16 | (uint32_t)s[1] << 8 | s[2]; }

static uint32_t hash_key(uint32_t k) {
    k ^= k >> 15; k *= 0x2c1b3c6dU; k ^= k >> 12; k *= 0x297a2d39U; k ^= k >> 15;
    return k;
}

nw_trigram *nw_trigram_new(void) {
    return nw_calloc(1, sizeof(nw_trigram));
}

void nw_trigram_free(nw_trigram *g) {
    if (!g) return;
    for (uint32_t i = 0; i < g->nterms; i++) nw_free(g->terms[i].v);
    nw_free(g->terms);
    nw_free(g->tab);
    nw_free(g);
}

static term *find(const nw_trigram *g, uint32_t key) {
    if (!g->tabcap) return NULL;
    uint32_t mask = g->tabcap - 1;
    for (uint32_t i = hash_key(key) & mask;; i = (i + 1) & mask) {
        uint32_t v = g->tab[i];
        if (!v) return NULL;
        if (g->terms[v - 1].key == key) return &g->terms[v - 1];
    }
}

static void tab_put(uint32_t *tab, uint32_t cap, uint32_t key, uint32_t ti) {
    uint32_t mask = cap - 1;
    uint32_t i = hash_key(key) & mask;
    while (tab[i]) i = (i + 1) & mask;
    tab[i] = ti + 1;
}

/* Room for one more term in the array and the hash table. */
static int reserve_term(nw_trigram *g) {
    if (g->nterms == g->tcap) {
        uint32_t nc = g->tcap ? g->tcap + g->tcap / 2 : 64;
        term *t = nw_realloc(g->terms, (size_t)nc * sizeof *t);
        if (!t) return -1;
        g->terms = t;
        g->tcap = nc;
    }
    if ((g->nterms + 1) * 2 >= g->tabcap) {
        uint32_t nc = g->tabcap ? g->tabcap * 2 : 128;
        uint32_t *tab = nw_calloc(nc, sizeof *tab);
        if (!tab) return -1;
        for (uint32_t i = 0; i < g->nterms; i++) tab_put(tab, nc, g->terms[i].key, i);
        nw_free(g->tab);
        g->tab = tab;
        g->tabcap = nc;
    }
    return 0;
}

static term *find_or_add(nw_trigram *g, uint32_t key) {
    term *t = find(g, key);
    if (t) return t;
    if (reserve_term(g)) return NULL;
    t = &g->terms[g->nterms];
    memset(t, 0, sizeof *t);
    t->key = key;
    tab_put(g->tab, g->tabcap, key, g->nterms);
    g->nterms++;
    return t;
}

static int append(nw_trigram *g, term *t, uint32_t slot) {
    if (t->n && t->v[t->n - 1] == slot) return 0;   /* the same trigram twice in one value */
    if (t->n == t->cap) {
        uint32_t nc = t->cap ? t->cap + t->cap / 2 + 1 : 2;
        uint32_t *v = nw_realloc(t->v, (size_t)nc * sizeof *v);
        if (!v) return -1;
        g->post_cap += nc - t->cap;
        t->v = v;
        t->cap = nc;
    }
    t->v[t->n++] = slot;
    g->entries++;
    return 0;
}

int nw_trigram_add(nw_trigram *g, uint32_t slot, const uint8_t *s, size_t len) {
    for (size_t i = 0; i + 3 <= len; i++) {
        term *t = find_or_add(g, key_at(s + i));
        if (!t || append(g, t, slot)) return -1;
    }
    return 0;
}

void nw_trigram_remove(nw_trigram *g, uint32_t slot, const uint8_t *s, size_t len) {
    (void)slot;
    size_t n = len >= 3 ? len - 2 : 0;
    g->stale += n;
    if (g->stale > g->entries) g->stale = g->entries;
    (void)s;
}

bool nw_trigram_worn(const nw_trigram *g) {
    return g->entries >= 4096 && g->stale * 2 > g->entries;
}

size_t nw_trigram_lists(const nw_trigram *g, const uint8_t *pat, size_t len, nw_tlist *out, size_t cap) {
    if (len < 3) return (size_t)-1;
    size_t n = 0;
    for (size_t i = 0; i + 3 <= len; i++) {
        const term *t = find(g, key_at(pat + i));
        if (!t || !t->n) return 0;
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++) seen = out[k].v == t->v;
        if (seen || !cap) continue;
        /* insertion into out[0..n), ascending by length, the longest dropped past cap */
        size_t at = n < cap ? n++ : cap;
        while (at > 0 && out[at - 1].n > t->n) {
            if (at < cap) out[at] = out[at - 1];
            at--;
        }
        if (at < cap) out[at] = (nw_tlist){ t->v, t->n };
    }
    return n;
}

size_t nw_trigram_candidates(const nw_trigram *g, const uint8_t *pat, size_t len, const uint32_t **list) {
    nw_tlist rarest;
    size_t k = nw_trigram_lists(g, pat, len, &rarest, 1);
    *list = k == 1 ? rarest.v : NULL;
    return k == 1 ? rarest.n : k;
}

size_t nw_trigram_bytes(const nw_trigram *g) {
    return sizeof *g + (size_t)g->tcap * sizeof(term) + (size_t)g->tabcap * sizeof(uint32_t) + g->post_cap * sizeof(uint32_t);
}

size_t nw_trigram_entries(const nw_trigram *g) { return g->entries; }
size_t nw_trigram_terms(const nw_trigram *g) { return g->nterms; }

int nw_trigram_check(const nw_trigram *g) {
    size_t entries = 0, cap = 0;
    if (g->nterms && g->tabcap <= g->nterms * 2) return 1;
    for (uint32_t i = 0; i < g->nterms; i++) {
        const term *t = &g->terms[i];
        if (t->n > t->cap) return 2;
        if (find(g, t->key) != t) return 3;
        entries += t->n;
        cap += t->cap;
    }
    if (entries != g->entries || cap != g->post_cap) return 4;
    if (g->stale > g->entries) return 5;
    uint32_t used = 0;
    for (uint32_t i = 0; i < g->tabcap; i++) if (g->tab[i]) used++;
    return used == g->nterms ? 0 : 6;
}
