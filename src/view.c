/* view.c - the diffing walk of live views (view.h). */
#include "view.h"
#include "escape.h"
#include "record_view.h"
#include "nval.h"
#include "lis.h"
#include "alloc.h"
#include <string.h>

/* ---- state ----------------------------------------------------------------------------- */

typedef struct vinst vinst;
typedef struct vitem { char *key; uint32_t klen, hash; vinst *inst; } vitem;
typedef struct vval { char *p; uint32_t n; } vval;
typedef struct vlist { vitem *it; uint32_t n, cap; } vlist;
typedef union vstate { vval val; vlist list; } vstate;

struct vinst {
    uint32_t id, block;
    uint32_t epoch;          /* live epoch when last rendered */
    uint32_t slot;           /* record slot it rendered (NONE: not a record) */
    const nw_table *table;
    bool selfc;              /* read nothing outside its own context */
    vstate s[];
};

struct nw_view {
    uint32_t id;
    const nw_tpl_dom *dom;
    nw_live *L;
    uint8_t *data; size_t dlen;
    nw_sub **subs; uint32_t *vers; uint32_t nsubs;
    uint32_t epoch;
    vinst *root;
    uint32_t next_id;
    uint32_t *free_ids; uint32_t nfree, cfree;
    size_t bytes;
};

void nw_edits_init(nw_edits *e) { nw_buf_init(&e->ops); nw_buf_init(&e->strs); e->u16 = 0; }
void nw_edits_reset(nw_edits *e) { nw_buf_reset(&e->ops); nw_buf_reset(&e->strs); e->u16 = 0; }
void nw_edits_free(nw_edits *e) { nw_buf_free(&e->ops); nw_buf_free(&e->strs); e->u16 = 0; }

/* An edit of 2 or 5 words (view.h). */
static void emit2(nw_edits *e, uint32_t op, uint32_t a) { nw_buf_u32(&e->ops, op); nw_buf_u32(&e->ops, a); }

static void emit5(nw_edits *e, uint32_t op, uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
    emit2(e, op, a); nw_buf_u32(&e->ops, b); nw_buf_u32(&e->ops, c); nw_buf_u32(&e->ops, d);
}


uint32_t nw_view_id(const nw_view *v) { return v->id; }
const nw_tpl_dom *nw_view_dom(const nw_view *v) { return v->dom; }
size_t nw_view_bytes(const nw_view *v) { return v->bytes + sizeof *v + v->dlen; }

static uint32_t hash_bytes(const char *p, uint32_t n) {
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < n; i++) { h ^= (uint8_t)p[i]; h *= 16777619u; }
    return h;
}

/* ---- instance ids ---------------------------------------------------------------------- */

/* Every id ever taken has a place in the free list (reserved here), so an
 * id given back is always reused and ids stay below the most instances the
 * view ever held at once. */
static bool id_take(nw_view *v, uint32_t *id) {
    if (v->nfree) { *id = v->free_ids[--v->nfree]; return true; }
    if (!nw_grow((void **)&v->free_ids, &v->cfree, sizeof *v->free_ids, v->next_id)) return false;
    *id = v->next_id++;
    return true;
}

static void id_give(nw_view *v, uint32_t id) {
    if (v->nfree < v->cfree) v->free_ids[v->nfree++] = id;
}

static const nw_dom_block *block_of(const nw_view *v, const vinst *in) { return &v->dom->blocks[in->block]; }
static const nw_dom_slot *slot_of(const nw_view *v, const vinst *in, uint32_t j) {
    return &v->dom->slots[block_of(v, in)->slot0 + j];
}

static vinst *inst_new(nw_view *v, uint32_t block) {
    uint32_t n = v->dom->blocks[block].nslots;
    size_t size = sizeof(vinst) + (size_t)n * sizeof(vstate);
    vinst *in = nw_calloc(1, size);
    if (!in) return NULL;
    if (!id_take(v, &in->id)) { nw_free(in); return NULL; }
    in->block = block;
    in->slot = NONE;
    v->bytes += size;
    return in;
}

/* Frees an instance and everything under it; emits DROP for the nested
 * instances when `e` is given (the caller removes the instance itself). */
static void inst_free(nw_view *v, vinst *in, nw_edits *e, bool drop_self) {
    const nw_dom_block *b = block_of(v, in);
    for (uint32_t j = 0; j < b->nslots; j++) {
        const nw_dom_slot *s = slot_of(v, in, j);
        if (s->kind == DS_LIST) {
            vlist *l = &in->s[j].list;
            for (uint32_t k = 0; k < l->n; k++) {
                inst_free(v, l->it[k].inst, e, true);
                v->bytes -= l->it[k].klen;
                nw_free(l->it[k].key);
            }
            v->bytes -= (size_t)l->cap * sizeof(vitem);
            nw_free(l->it);
        } else {
            v->bytes -= in->s[j].val.n;
            nw_free(in->s[j].val.p);
        }
    }
    if (drop_self && e) emit2(e, NW_ED_DROP, in->id);
    id_give(v, in->id);
    v->bytes -= sizeof(vinst) + (size_t)b->nslots * sizeof(vstate);
    nw_free(in);
}

/* ---- views ------------------------------------------------------------------------------ */

nw_code nw_view_create(uint32_t id, const nw_tpl_dom *dom, nw_live *L, nw_view **out, nw_error *err) {
    nw_view *v = nw_calloc(1, sizeof *v);
    if (!v) return nw_error_nomem(err);
    v->id = id;
    v->dom = dom;
    v->L = L;
    v->next_id = 1;
    *out = v;
    return NW_OK;
}

static void drop_subs(nw_view *v) {
    for (uint32_t i = 0; i < v->nsubs; i++) nw_live_unsubscribe(v->L, v->subs[i]);
    nw_free(v->subs);
    nw_free(v->vers);
    v->subs = NULL;
    v->vers = NULL;
    v->nsubs = 0;
}

void nw_view_destroy(nw_view *v) {
    if (!v) return;
    if (v->root) inst_free(v, v->root, NULL, false);
    drop_subs(v);
    nw_free(v->data);
    nw_free(v->free_ids);
    nw_free(v);
}

nw_code nw_view_set_data(nw_view *v, const uint8_t *data, size_t len, nw_sub **subs, uint32_t n, nw_error *err) {
    uint8_t *copy = nw_malloc(len ? len : 1);
    nw_sub **s = nw_malloc((n ? n : 1) * sizeof *s);
    uint32_t *vers = nw_calloc(n ? n : 1, sizeof *vers);
    if (!copy || !s || !vers) {
        nw_free(copy); nw_free(s); nw_free(vers);
        for (uint32_t i = 0; i < n; i++) nw_live_unsubscribe(v->L, subs[i]);
        return nw_error_nomem(err);
    }
    memcpy(copy, data, len);
    if (n) memcpy(s, subs, n * sizeof *s);
    drop_subs(v);
    nw_free(v->data);
    v->data = copy;
    v->dlen = len;
    v->subs = s;
    v->vers = vers;
    v->nsubs = n;
    for (uint32_t i = 0; i < n; i++) vers[i] = nw_sub_version(s[i]) - 1;   /* stale until rendered */
    return NW_OK;
}

bool nw_view_stale(const nw_view *v) {
    if (!v->root) return true;
    for (uint32_t i = 0; i < v->nsubs; i++) {
        if (nw_sub_version(v->subs[i]) != v->vers[i]) return true;
        if (nw_live_table_epoch(v->L, nw_sub_table(v->subs[i])) > v->epoch) return true;
    }
    return false;
}

/* ---- the walk --------------------------------------------------------------------------- */

typedef struct walker {
    nw_view *v;
    nw_store *st;
    nw_tpl_run *run;
    nw_edits *e;
    nw_buf tmp, dec;
    bool full;
    uint32_t epoch, lost;
    nw_error *err;
    nw_code rc;
} walker;

static bool resolve(void *ud, uint32_t handle, nv *out) {
    walker *w = ud;
    nw_view *v = w->v;
    if (handle >= v->nsubs) return false;
    uint32_t n;
    const uint32_t *slots = nw_sub_slots(v->subs[handle], &n);
    nw_slots_view(out, nw_store_table(w->st, nw_sub_table(v->subs[handle])), slots, n);
    return true;
}

/* Appends s[0..n) to the string blob (invalid UTF-8 becomes U+FFFD, as
 * TextDecoder would make it) and its offset/length in UTF-16 units to ops. */
static void put_str(nw_edits *e, const char *s, size_t n) {
    uint32_t start = e->u16;
    const uint8_t *p = (const uint8_t *)s, *end = p + n;
    while (p < end) {
        if (*p < 0x80) {
            const uint8_t *q = p;
            while (q < end && *q < 0x80) q++;
            nw_buf_append(&e->strs, p, (size_t)(q - p));
            e->u16 += (uint32_t)(q - p);
            p = q;
            continue;
        }
        size_t bad = 1, k = nw_utf8_seq(p, (size_t)(end - p), &bad);
        if (k) { nw_buf_append(&e->strs, p, k); e->u16 += k == 4 ? 2 : 1; p += k; }
        else { nw_buf_append(&e->strs, (const uint8_t *)"\xEF\xBF\xBD", 3); e->u16++; p += bad; }
    }
    nw_buf_u32(&e->ops, start);
    nw_buf_u32(&e->ops, e->u16 - start);
}

static void put_utf8(nw_buf *o, uint32_t cp) {
    if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = 0xFFFD;
    if (cp < 0x80) nw_buf_byte(o, (uint8_t)cp);
    else if (cp < 0x800) { nw_buf_byte(o, (uint8_t)(0xC0 | cp >> 6)); nw_buf_byte(o, (uint8_t)(0x80 | (cp & 0x3F))); }
    else if (cp < 0x10000) {
        nw_buf_byte(o, (uint8_t)(0xE0 | cp >> 12)); nw_buf_byte(o, (uint8_t)(0x80 | ((cp >> 6) & 0x3F)));
        nw_buf_byte(o, (uint8_t)(0x80 | (cp & 0x3F)));
    } else {
        nw_buf_byte(o, (uint8_t)(0xF0 | cp >> 18)); nw_buf_byte(o, (uint8_t)(0x80 | ((cp >> 12) & 0x3F)));
        nw_buf_byte(o, (uint8_t)(0x80 | ((cp >> 6) & 0x3F))); nw_buf_byte(o, (uint8_t)(0x80 | (cp & 0x3F)));
    }
}

static bool is_alnum(uint8_t c) { return (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z'); }

/* A character reference at p (after '&'): decoded into out, returns bytes
 * consumed, 0 when the browser must decide (a name we do not know, a
 * reference without ';', a C1 control). */
static size_t char_ref(const uint8_t *p, const uint8_t *e, nw_buf *out) {
    static const struct { const char *n; uint32_t cp; } names[] = {
        { "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' }, { "apos;", '\'' }, { "nbsp;", 0xA0 },
    };
    if (p < e && *p == '#') {
        const uint8_t *q = p + 1;
        bool hex = q < e && (*q | 32) == 'x';
        if (hex) q++;
        uint32_t cp = 0, digits = 0;
        for (; q < e; q++, digits++) {
            uint32_t d;
            if (*q >= '0' && *q <= '9') d = *q - '0';
            else if (hex && (*q | 32) >= 'a' && (*q | 32) <= 'f') d = (*q | 32) - 'a' + 10;
            else break;
            if (cp < 0x110000) cp = cp * (hex ? 16 : 10) + d;
        }
        if (!digits || q >= e || *q != ';' || (cp >= 0x80 && cp <= 0x9F)) return 0;
        put_utf8(out, cp);
        return (size_t)(q + 1 - p);
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(names[i].n);
        if ((size_t)(e - p) >= n && memcmp(p, names[i].n, n) == 0) { put_utf8(out, names[i].cp); return n; }
    }
    return 0;
}

/* HTML source of a value (as render() writes it) -> the DOM's value.
 * False when only the browser can decode it. */
static bool decode(const uint8_t *p, size_t n, nw_buf *out, bool attr) {
    const uint8_t *e = n ? p + n : p;   /* p may be NULL when n is 0 */
    nw_buf_reset(out);
    while (p < e) {
        const uint8_t *q = p;
        while (q < e && *q != '&' && *q != '\r' && *q != 0) q++;
        nw_buf_append(out, p, (size_t)(q - p));
        if (q == e) break;
        p = q + 1;
        if (*q == '\r') { if (p < e && *p == '\n') p++; nw_buf_byte(out, '\n'); continue; }
        if (*q == 0) { if (attr) nw_buf_str(out, "\xEF\xBF\xBD"); continue; }
        if (p < e && (*p == '#' || is_alnum(*p))) {
            size_t k = char_ref(p, e, out);
            if (!k) return false;
            p += k;
            continue;
        }
        nw_buf_byte(out, '&');
    }
    return true;
}

static void set_value(walker *w, vinst *in, uint32_t j, const nw_dom_slot *s) {
    nw_buf_reset(&w->tmp);
    nw_code rc = nw_tpl_run_range(w->run, s->begin, s->end, &w->tmp, w->err);
    if (rc) { w->rc = rc; return; }
    const uint8_t *val = w->tmp.p;
    size_t n = w->tmp.len;
    uint32_t op = s->kind == DS_ATTR ? NW_ED_ATTR : s->kind == DS_HTML ? NW_ED_HTML : NW_ED_TEXT;
    if (s->kind != DS_HTML) {
        if (decode(val, n, &w->dec, s->kind == DS_ATTR)) { val = w->dec.p; n = w->dec.len; }
        else op = NW_ED_DECODE;
    }
    vval *old = &in->s[j].val;
    if (old->n == n && (n == 0 || memcmp(old->p, val, n) == 0) && op != NW_ED_DECODE) return;
    if (op == NW_ED_DECODE && old->n == n && n && memcmp(old->p, val, n) == 0) return;
    char *copy = NULL;
    if (n) {
        copy = nw_malloc(n);
        if (!copy) { w->rc = nw_error_nomem(w->err); return; }
        memcpy(copy, val, n);
    }
    w->v->bytes += n;
    w->v->bytes -= old->n;
    nw_free(old->p);
    old->p = copy;
    old->n = (uint32_t)n;
    nw_buf_u32(&w->e->ops, op);
    nw_buf_u32(&w->e->ops, in->id);
    nw_buf_u32(&w->e->ops, j);
    put_str(w->e, (const char *)val, n);
}

static void fill(walker *w, vinst *in);

/* One item of a list, as the walk sees it. */
typedef struct item { nv ctx; bool push; char *key; uint32_t klen, hash; uint32_t slot; const nw_table *table; } item;

static bool item_key(walker *w, item *it, uint32_t index, nw_buf *keys) {
    size_t at = keys->len;
    const nw_table *t;
    const char *id;
    uint32_t slot, idl;
    nv idv;
    it->slot = NONE;
    it->table = NULL;
    if (it->push && nw_record_view_info(&it->ctx, &t, &slot, &id, &idl)) {
        nw_buf_byte(keys, '=');
        nw_buf_append(keys, id, idl);
        it->slot = slot;
        it->table = t;
    } else if (it->push && it->ctx.kind == NV_MAP && it->ctx.ops->get(&it->ctx, "id", 2, &idv) &&
               idv.kind != NV_NULL && idv.kind != NV_MISSING) {
        nw_buf_byte(keys, '=');
        nv_write_text(keys, &idv);
    } else {
        char num[16];
        int n = 0;
        uint32_t x = index;
        do { num[n++] = (char)('0' + x % 10); x /= 10; } while (x);
        nw_buf_byte(keys, '#');
        while (n) nw_buf_byte(keys, (uint8_t)num[--n]);
    }
    (void)w;
    it->key = (char *)(uintptr_t)at;   /* an offset until the buffer stops moving */
    it->klen = (uint32_t)(keys->len - at);
    return !keys->oom;
}

/* The items a section's value makes (Mustache: falsy = none, list = one
 * per element, anything else = one with that value pushed). */
static uint32_t collect_items(walker *w, const nw_dom_slot *s, item **out, nw_buf *keys) {
    nv v;
    nw_tpl_run_lookup(w->run, s->name, &v);
    bool truthy = nv_truthy(&v);
    uint32_t n = 0;
    if (s->flags & DSF_INVERTED) n = truthy ? 0 : 1;
    else if (truthy) n = v.kind == NV_LIST ? v.ops->len(&v) : 1;
    *out = NULL;
    if (!n) return 0;
    item *items = nw_calloc(n, sizeof *items);
    if (!items) { w->rc = nw_error_nomem(w->err); return 0; }
    if (s->flags & DSF_INVERTED) {
        items[0].push = false;
    } else if (v.kind == NV_LIST) {
        nv_iter it = { 0, 0 };
        uint32_t k = 0;
        while (k < n && v.ops->next(&v, &it, &items[k].ctx)) { items[k].push = true; k++; }
        n = k;
    } else {
        items[0].ctx = v;
        items[0].push = true;
    }
    for (uint32_t i = 0; i < n; i++) if (!item_key(w, &items[i], i, keys)) { w->rc = nw_error_nomem(w->err); }
    if (w->rc) { nw_free(items); return 0; }   /* out of memory: the keys are not there */
    for (uint32_t i = 0; i < n; i++) {
        items[i].key = (char *)keys->p + (uintptr_t)items[i].key;
        items[i].hash = hash_bytes(items[i].key, items[i].klen);
    }
    *out = items;
    return n;
}

static bool clean(const walker *w, const vinst *in, const item *it) {
    if (w->full || it->slot == NONE || in->slot != it->slot || in->table != it->table || !in->selfc) return false;
    if (w->lost >= in->epoch) return false;
    return nw_live_slot_epoch(w->v->L, nw_table_number(it->table), it->slot) <= in->epoch;
}

/* Renders item `it` into instance `in` (pushing its context). */
static void render_item(walker *w, vinst *in, const item *it) {
    uint32_t low0 = nw_tpl_run_low(w->run);
    uint32_t d = nw_tpl_run_depth(w->run);
    if (it->push && !nw_tpl_run_push(w->run, &it->ctx)) {
        w->rc = nw_error_set(w->err, NW_E_LIMIT, NULL, NULL, "depth", "template nesting deeper than %d", NW_TPL_MAX_DEPTH);
        return;
    }
    nw_tpl_run_set_low(w->run, UINT32_MAX);
    fill(w, in);
    uint32_t low = nw_tpl_run_low(w->run);
    if (it->push) nw_tpl_run_pop(w->run);
    in->selfc = it->push && low >= d;
    in->slot = it->slot;
    in->table = it->table;
    in->epoch = w->epoch;
    nw_tpl_run_set_low(w->run, low < low0 ? low : low0);
}

/* A new instance for an item, rendered; CREATE is emitted before its
 * content so that JS has the clone to fill. */
static vinst *create_item(walker *w, uint32_t block, const item *it) {
    vinst *in = inst_new(w->v, block);
    if (!in) { w->rc = nw_error_nomem(w->err); return NULL; }
    nw_buf_u32(&w->e->ops, NW_ED_CREATE);
    nw_buf_u32(&w->e->ops, in->id);
    nw_buf_u32(&w->e->ops, block);
    if (it->key[0] == '=') put_str(w->e, it->key + 1, it->klen - 1);
    else { nw_buf_u32(&w->e->ops, 0); nw_buf_u32(&w->e->ops, NONE); }
    render_item(w, in, it);
    return in;
}

static bool keep_key(walker *w, vitem *dst, const item *it) {
    char *k = nw_malloc(it->klen ? it->klen : 1);
    if (!k) { w->rc = nw_error_nomem(w->err); return false; }
    memcpy(k, it->key, it->klen);
    dst->key = k;
    dst->klen = it->klen;
    dst->hash = it->hash;
    w->v->bytes += it->klen;
    return true;
}

static void free_item(walker *w, vitem *x) {
    inst_free(w->v, x->inst, w->e, false);
    w->v->bytes -= x->klen;
    nw_free(x->key);
}

/* An item leaves the DOM (REMOVE) and the view. */
static void remove_item(walker *w, vitem *x) {
    emit2(w->e, NW_ED_REMOVE, x->inst->id);
    free_item(w, x);
}

/* old index of each new item (NONE: new), by key; an old item claims at most one. */
static bool match_keys(walker *w, const vlist *l, const item *items, uint32_t n, uint32_t *old_of) {
    uint32_t cap = 16;
    while (cap < l->n * 2 + 2) cap *= 2;
    uint32_t *tab = nw_malloc((size_t)cap * sizeof *tab);
    bool *taken = nw_calloc(l->n ? l->n : 1, sizeof *taken);
    if (!tab || !taken) { nw_free(tab); nw_free(taken); w->rc = nw_error_nomem(w->err); return false; }
    memset(tab, 0xFF, (size_t)cap * sizeof *tab);
    for (uint32_t i = 0; i < l->n; i++) {
        uint32_t h = l->it[i].hash & (cap - 1);
        while (tab[h] != NONE) h = (h + 1) & (cap - 1);
        tab[h] = i;
    }
    for (uint32_t i = 0; i < n; i++) {
        old_of[i] = NONE;
        for (uint32_t h = items[i].hash & (cap - 1); tab[h] != NONE; h = (h + 1) & (cap - 1)) {
            const vitem *o = &l->it[tab[h]];
            if (!taken[tab[h]] && o->hash == items[i].hash && o->klen == items[i].klen && memcmp(o->key, items[i].key, o->klen) == 0) {
                old_of[i] = tab[h];
                taken[tab[h]] = true;
                break;
            }
        }
    }
    nw_free(tab);
    nw_free(taken);
    return true;
}

static void update_item(walker *w, vinst *in, const item *it) {
    if (!clean(w, in, it)) render_item(w, in, it);
}

/* Items with the same keys in the same order: update in place. */
static bool same_keys(const vlist *l, const item *items, uint32_t n) {
    if (l->n != n) return false;
    for (uint32_t i = 0; i < n; i++)
        if (l->it[i].hash != items[i].hash || l->it[i].klen != items[i].klen ||
            memcmp(l->it[i].key, items[i].key, items[i].klen) != 0) return false;
    return true;
}

/* A list that is its element's whole content is cleared at once; any other
 * loses its items one by one. */
static void list_clear(walker *w, vinst *in, uint32_t j) {
    vlist *l = &in->s[j].list;
    if (!l->n) return;
    if (!(slot_of(w->v, in, j)->flags & DSF_ONLY)) {
        for (uint32_t k = 0; k < l->n; k++) {
            remove_item(w, &l->it[k]);
        }
        l->n = 0;
        return;
    }
    emit2(w->e, NW_ED_CLEAR, in->id);
    nw_buf_u32(&w->e->ops, j);
    for (uint32_t k = 0; k < l->n; k++) {
        emit2(w->e, NW_ED_DROP, l->it[k].inst->id);
        free_item(w, &l->it[k]);
    }
    l->n = 0;
}

/* All new items, in order, each at the list's end (JS batches such runs);
 * returns how many were made. */
static uint32_t list_append_all(walker *w, vinst *in, uint32_t j, const nw_dom_slot *s, const item *items, uint32_t n, vitem *next) {
    uint32_t made = 0;
    for (uint32_t i = 0; i < n && !w->rc; i++) {
        vitem *x = &next[made];
        x->inst = create_item(w, s->block, &items[i]);
        if (!x->inst) break;
        if (!keep_key(w, x, &items[i])) { inst_free(w->v, x->inst, NULL, false); break; }
        emit5(w->e, NW_ED_INSERT, x->inst->id, in->id, j, 0);
        made++;
    }
    return made;
}

/* Kept and new items from the end: each goes before the one after it; the
 * kept ones off the longest increasing run (keep[]) move. Returns how many
 * items of `next` hold a placed item; after a failure those are the last
 * ones and the rest are taken out of the DOM. */
static uint32_t list_place(walker *w, vinst *in, uint32_t j, const nw_dom_slot *s, const item *items, uint32_t n,
                           const uint32_t *old_of, const bool *keep, uint32_t nseq, vitem *next) {
    vlist *l = &in->s[j].list;
    uint32_t before = 0, q = nseq, made = 0;
    for (uint32_t i = n; i-- > 0 && !w->rc;) {
        vitem *x = &next[i];
        if (old_of[i] != NONE) {
            *x = l->it[old_of[i]];
            q--;
            update_item(w, x->inst, &items[i]);
            if (!keep[q]) emit5(w->e, NW_ED_MOVE, x->inst->id, in->id, j, before);
        } else {
            x->inst = create_item(w, s->block, &items[i]);
            if (!x->inst) break;
            if (!keep_key(w, x, &items[i])) { inst_free(w->v, x->inst, NULL, false); x->inst = NULL; break; }
            emit5(w->e, NW_ED_INSERT, x->inst->id, in->id, j, before);
        }
        made++;
        before = x->inst->id;
    }
    if (!w->rc) return n;
    /* keep what was placed: the items after the failure point (JS applies those edits) */
    uint32_t from = n - made;
    for (uint32_t i = 0; i < from; i++)   /* matched old items not reached are still in the DOM */
        if (old_of[i] != NONE) remove_item(w, &l->it[old_of[i]]);
    memmove(next, next + from, made * sizeof *next);
    return made;
}

/* The list becomes next[0..n). */
static void list_store(walker *w, vlist *l, vitem *next, uint32_t n) {
    if (n > l->cap) {
        vitem *p = nw_realloc(l->it, n * sizeof *p);
        if (!p) {   /* cannot keep them all: drop the new list from the DOM */
            for (uint32_t i = 0; i < n; i++) remove_item(w, &next[i]);
            l->n = 0;
            if (!w->rc) w->rc = nw_error_nomem(w->err);
            return;
        }
        w->v->bytes += (size_t)(n - l->cap) * sizeof *p;
        l->it = p;
        l->cap = n;
    }
    if (n) memcpy(l->it, next, n * sizeof *next);
    l->n = n;
}

/* Removes the old items no new item matched; seq[] gets the old positions
 * of the kept ones in new order. Returns their count, or UINT32_MAX when
 * out of memory. */
static uint32_t list_remove_gone(walker *w, vlist *l, const uint32_t *old_of, uint32_t n, uint32_t *seq) {
    bool *kept_old = nw_calloc(l->n ? l->n : 1, sizeof *kept_old);
    if (!kept_old) { w->rc = nw_error_nomem(w->err); return UINT32_MAX; }
    uint32_t nseq = 0;
    for (uint32_t i = 0; i < n; i++) if (old_of[i] != NONE) { kept_old[old_of[i]] = true; seq[nseq++] = old_of[i]; }
    for (uint32_t k = 0; k < l->n; k++) {
        if (!kept_old[k]) remove_item(w, &l->it[k]);
    }
    nw_free(kept_old);
    return nseq;
}

/* The general case: keyed, fewest moves. */
static void list_diff(walker *w, vinst *in, uint32_t j, const nw_dom_slot *s, const item *items, uint32_t n) {
    vlist *l = &in->s[j].list;
    size_t per = sizeof(uint32_t) * 2 + sizeof(bool);
    uint8_t *mem = nw_malloc((size_t)(n ? n : 1) * per + sizeof(vitem) * (n ? n : 1));
    if (!mem) { w->rc = nw_error_nomem(w->err); return; }
    vitem *next = (vitem *)mem;
    uint32_t *old_of = (uint32_t *)(mem + sizeof(vitem) * (n ? n : 1));
    uint32_t *seq = old_of + n;
    bool *keep = (bool *)(seq + n);
    if (!match_keys(w, l, items, n, old_of)) { nw_free(mem); return; }
    /* nothing kept (replace all): a list that is its element's whole content
     * is emptied at once, then filled in order */
    bool none = true;
    for (uint32_t i = 0; i < n && none; i++) none = old_of[i] == NONE;
    if (none && l->n && (s->flags & DSF_ONLY)) list_clear(w, in, j);
    uint32_t nseq = list_remove_gone(w, l, old_of, n, seq);
    if (nseq == UINT32_MAX) { nw_free(mem); return; }
    if (nw_lis(seq, nseq, keep)) { for (uint32_t i = 0; i < nseq; i++) keep[i] = false; }
    n = none ? list_append_all(w, in, j, s, items, n, next) : list_place(w, in, j, s, items, n, old_of, keep, nseq, next);
    list_store(w, l, next, n);
    nw_free(mem);
}

static void list_update(walker *w, vinst *in, uint32_t j, const nw_dom_slot *s) {
    nw_buf keys;
    nw_buf_init(&keys);
    item *items = NULL;
    uint32_t n = collect_items(w, s, &items, &keys);
    vlist *l = &in->s[j].list;
    if (w->rc) { nw_free(items); nw_buf_free(&keys); return; }
    if (!n) list_clear(w, in, j);
    else if (same_keys(l, items, n)) for (uint32_t i = 0; i < n && !w->rc; i++) update_item(w, l->it[i].inst, &items[i]);
    else list_diff(w, in, j, s, items, n);
    nw_free(items);
    nw_buf_free(&keys);
}

static void fill(walker *w, vinst *in) {
    const nw_dom_block *b = block_of(w->v, in);
    for (uint32_t j = 0; j < b->nslots && !w->rc; j++) {
        const nw_dom_slot *s = slot_of(w->v, in, j);
        if (s->kind == DS_LIST) list_update(w, in, j, s);
        else set_value(w, in, j, s);
    }
}

nw_code nw_view_render(nw_view *v, nw_store *st, bool full, nw_edits *e, nw_error *err) {
    walker w = { .v = v, .st = st, .e = e, .full = full, .err = err };
    w.epoch = nw_live_epoch(v->L);
    w.lost = nw_live_lost(v->L);
    w.run = nw_tpl_run_new(v->dom->t, v->dom->ops, v->dom->pool);
    if (!w.run) return nw_error_nomem(err);
    nw_buf_init(&w.tmp);
    nw_buf_init(&w.dec);
    emit2(e, NW_ED_VIEW, v->id);
    bool fresh = !v->root;
    if (fresh) {
        v->root = inst_new(v, 0);
        if (!v->root) w.rc = nw_error_nomem(err);
        else emit5(e, NW_ED_CREATE, v->root->id, 0, 0, NONE);
    }
    if (!w.rc) {
        nval_env env = { resolve, &w };
        nv data;
        nval_view(&data, v->data, &env);
        nw_tpl_run_push(w.run, &data);
        fill(&w, v->root);
    }
    if (fresh && v->root) emit2(e, NW_ED_ROOT, v->root->id);
    if (!w.rc && (e->ops.oom || e->strs.oom || w.tmp.oom || w.dec.oom)) w.rc = nw_error_nomem(err);
    v->epoch = w.epoch;
    for (uint32_t i = 0; i < v->nsubs; i++) v->vers[i] = nw_sub_version(v->subs[i]);
    nw_buf_free(&w.tmp);
    nw_buf_free(&w.dec);
    nw_tpl_run_free(w.run);
    return w.rc;
}
