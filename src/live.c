/* live.c - live queries maintained from committed write batches (live.h). */
#include "live.h"
#include "lis.h"
#include "alloc.h"
#include <string.h>

/* ---- a set of slots (open addressing, linear probing, backward-shift delete) ---- */

typedef struct slotset32 { uint32_t *k; uint32_t cap, n; } slotset32;   /* keys are slot + 1 */

static uint32_t mix(uint32_t x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }

static bool set_has(const slotset32 *s, uint32_t slot) {
    if (!s->cap) return false;
    uint32_t m = s->cap - 1, key = slot + 1;
    for (uint32_t i = mix(key) & m;; i = (i + 1) & m) {
        if (s->k[i] == key) return true;
        if (!s->k[i]) return false;
    }
}

static bool set_grow(slotset32 *s, uint32_t need) {
    if ((need + 1) * 2 <= s->cap) return true;
    uint32_t cap = s->cap ? s->cap : 16;
    while ((need + 1) * 2 > cap) cap *= 2;
    uint32_t *k = nw_calloc(cap, sizeof *k);
    if (!k) return false;
    for (uint32_t i = 0; i < s->cap; i++) {
        uint32_t key = s->k[i];
        if (!key) continue;
        uint32_t j = mix(key) & (cap - 1);
        while (k[j]) j = (j + 1) & (cap - 1);
        k[j] = key;
    }
    nw_free(s->k);
    s->k = k;
    s->cap = cap;
    return true;
}

/* Capacity was reserved with set_grow. */
static void set_add(slotset32 *s, uint32_t slot) {
    uint32_t m = s->cap - 1, key = slot + 1, i = mix(key) & m;
    while (s->k[i]) { if (s->k[i] == key) return; i = (i + 1) & m; }
    s->k[i] = key;
    s->n++;
}

static void set_remove(slotset32 *s, uint32_t slot) {
    if (!s->cap) return;
    uint32_t m = s->cap - 1, key = slot + 1, i = mix(key) & m;
    while (s->k[i] != key) { if (!s->k[i]) return; i = (i + 1) & m; }
    s->k[i] = 0;
    s->n--;
    for (uint32_t j = (i + 1) & m; s->k[j]; j = (j + 1) & m) {
        uint32_t h = mix(s->k[j]) & m;
        /* move k[j] into the hole when its home is not in (i, j] */
        bool stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
        if (!stays) { s->k[i] = s->k[j]; s->k[j] = 0; i = j; }
    }
}

/* ---- state ------------------------------------------------------------------------- */

struct nw_sub {
    uint32_t id, table;
    bool report;
    uint8_t *spec;            /* owned copy of the query spec (for nw_live_reset) */
    size_t spec_len;
    nw_query *q;
    uint32_t *slots, n, cap;
    slotset32 set;
    uint32_t version;
};

typedef struct tabep { uint32_t *ep; uint32_t n; uint32_t last; } tabep;
typedef struct change {
    uint32_t table, slot;
    const uint8_t *old_row;
    bool visible;                           /* the slot holds a visible row now */
    const uint8_t **fields;                 /* its field pointers, made once for every query (NULL: per query) */
} change;

/* Field pointers are kept for the first FIELD_ROWS changes of a batch (the
 * common single writes and small transactions); bigger batches test rows
 * one query at a time. */
#define FIELD_ROWS 64

struct nw_live {
    nw_sub **subs; uint32_t nsubs, csubs, next_id;
    uint32_t epoch, lost;
    tabep *tabs; uint32_t ntabs;
    change *ch; uint32_t nch, cch;     /* the batch being committed, one entry per slot */
    const uint8_t *fbuf[FIELD_ROWS][NW_MAX_FIELDS];
    nw_buf reports; uint32_t nreports;
    nw_live_stats st;
};

nw_live *nw_live_new(void) {
    nw_live *L = nw_calloc(1, sizeof *L);
    if (!L) return NULL;
    L->next_id = 1;
    nw_buf_init(&L->reports);
    return L;
}

static void sub_free(nw_sub *s) {
    nw_query_free(s->q);
    nw_free(s->spec);
    nw_free(s->slots);
    nw_free(s->set.k);
    nw_free(s);
}

void nw_live_free(nw_live *L) {
    if (!L) return;
    for (uint32_t i = 0; i < L->nsubs; i++) sub_free(L->subs[i]);
    nw_free(L->subs);
    for (uint32_t i = 0; i < L->ntabs; i++) nw_free(L->tabs[i].ep);
    nw_free(L->tabs);
    nw_free(L->ch);
    nw_buf_free(&L->reports);
    nw_free(L);
}

static void hook(void *ud, nw_store *s) { nw_live_on_commit(ud, s); }
void nw_live_attach(nw_live *L, nw_store *s) { nw_store_set_commit_hook(s, hook, L); }

uint32_t nw_sub_id(const nw_sub *s) { return s->id; }
uint32_t nw_sub_table(const nw_sub *s) { return s->table; }
const uint32_t *nw_sub_slots(const nw_sub *s, uint32_t *n) { *n = s->n; return s->slots; }
uint32_t nw_sub_version(const nw_sub *s) { return s->version; }
bool nw_sub_has_slot(const nw_sub *s, uint32_t slot) { return set_has(&s->set, slot); }
uint32_t nw_live_epoch(const nw_live *L) { return L->epoch; }
uint32_t nw_live_lost(const nw_live *L) { return L->lost; }
nw_buf *nw_live_reports(nw_live *L) { return &L->reports; }
uint32_t nw_live_report_count(const nw_live *L) { return L->nreports; }
void nw_live_clear_reports(nw_live *L) { nw_buf_reset(&L->reports); L->nreports = 0; }
nw_live_stats nw_live_get_stats(const nw_live *L) { nw_live_stats s = L->st; s.subs = L->nsubs; return s; }

uint32_t nw_live_slot_epoch(const nw_live *L, uint32_t table, uint32_t slot) {
    if (table >= L->ntabs || slot >= L->tabs[table].n) return 0;
    return L->tabs[table].ep[slot];
}

uint32_t nw_live_table_epoch(const nw_live *L, uint32_t table) {
    return table < L->ntabs ? L->tabs[table].last : 0;
}

nw_sub *nw_live_find(const nw_live *L, uint32_t id) {
    for (uint32_t i = 0; i < L->nsubs; i++) if (L->subs[i]->id == id) return L->subs[i];
    return NULL;
}

/* ---- running a query in full -------------------------------------------------------- */

static nw_code rerun(nw_store *st, nw_sub *s, nw_error *err) {
    uint32_t *slots = NULL, n = 0;
    nw_code rc = nw_query_run(st, s->q, false, &slots, &n, err);
    if (rc) return rc;
    slotset32 fresh = { 0 };
    if (!set_grow(&fresh, n)) { nw_free(slots); return nw_error_nomem(err); }
    for (uint32_t i = 0; i < n; i++) set_add(&fresh, slots[i]);
    nw_free(s->slots);
    nw_free(s->set.k);
    s->slots = slots;
    s->n = s->cap = n;
    s->set = fresh;
    return NW_OK;
}

nw_code nw_live_subscribe(nw_live *L, nw_store *st, uint32_t table, const uint8_t *spec, bool report,
                          nw_sub **out, nw_error *err) {
    *out = NULL;
    if (!nw_grow((void **)&L->subs, &L->csubs, sizeof *L->subs, L->nsubs + 1)) return nw_error_nomem(err);
    nw_sub *s = nw_calloc(1, sizeof *s);
    if (!s) return nw_error_nomem(err);
    size_t len = nval_span(spec);
    s->spec = nw_malloc(len);
    if (!s->spec) { nw_free(s); return nw_error_nomem(err); }
    memcpy(s->spec, spec, len);
    s->spec_len = len;
    s->table = table;
    s->report = report;
    nw_code rc = nw_query_parse(st, table, spec, &s->q, err);
    if (!rc) rc = rerun(st, s, err);
    if (rc) { sub_free(s); return rc; }
    s->id = L->next_id++;
    L->subs[L->nsubs++] = s;
    *out = s;
    return NW_OK;
}

void nw_live_unsubscribe(nw_live *L, nw_sub *s) {
    for (uint32_t i = 0; i < L->nsubs; i++) {
        if (L->subs[i] != s) continue;
        L->subs[i] = L->subs[--L->nsubs];
        sub_free(s);
        return;
    }
}

nw_code nw_live_reset(nw_live *L, nw_store *st, nw_error *err) {
    nw_code first = NW_OK;
    for (uint32_t i = 0; i < L->ntabs; i++) { nw_free(L->tabs[i].ep); L->tabs[i].ep = NULL; L->tabs[i].n = 0; }
    L->epoch++;
    L->lost = L->epoch;   /* every slot may hold another record now */
    for (uint32_t i = 0; i < L->ntabs; i++) L->tabs[i].last = L->epoch;
    for (uint32_t i = 0; i < L->nsubs; i++) {
        nw_sub *s = L->subs[i];
        nw_query_free(s->q);
        s->q = NULL;
        s->n = 0;
        nw_free(s->set.k);
        s->set = (slotset32){ 0 };
        nw_code rc = nw_query_parse(st, s->table, s->spec, &s->q, err);
        if (!rc) rc = rerun(st, s, err);
        if (rc && !first) first = rc;
        s->version++;
    }
    return first;
}

/* ---- the batch -------------------------------------------------------------------- */

static bool track_slot(nw_live *L, uint32_t table, uint32_t slot) {
    if (table >= L->ntabs) {
        tabep *t = nw_realloc(L->tabs, (table + 1) * sizeof *t);
        if (!t) return false;
        memset(t + L->ntabs, 0, (table + 1 - L->ntabs) * sizeof *t);
        L->tabs = t;
        L->ntabs = table + 1;
    }
    tabep *t = &L->tabs[table];
    t->last = L->epoch;
    if (slot >= t->n) {
        uint32_t n = t->n ? t->n : 64;
        while (n <= slot) n *= 2;
        uint32_t *ep = nw_realloc(t->ep, n * sizeof *ep);
        if (!ep) return false;
        memset(ep + t->n, 0, (n - t->n) * sizeof *ep);
        t->ep = ep;
        t->n = n;
    }
    return true;
}

/* Collects the batch's written slots once each (with the row before the
 * batch). False when out of memory. */
static bool collect(nw_live *L, nw_store *s) {
    L->nch = 0;
    uint32_t n = nw_store_batch_len(s);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t table, slot;
        const uint8_t *old;
        if (!nw_store_batch_entry(s, i, &table, &slot, &old)) continue;
        if (!track_slot(L, table, slot)) return false;
        uint32_t *ep = &L->tabs[table].ep[slot];
        if (*ep == L->epoch) continue;
        *ep = L->epoch;
        if (!nw_grow((void **)&L->ch, &L->cch, sizeof *L->ch, L->nch + 1)) return false;
        change *c = &L->ch[L->nch++];
        c->table = table;
        c->slot = slot;
        c->old_row = old;
    }
    /* after the batch: the rows as they stand */
    for (uint32_t i = 0; i < L->nch; i++) {
        change *c = &L->ch[i];
        const nw_table *t = nw_store_table(s, c->table);
        c->visible = nw_table_visible(s, t, c->slot);
        c->fields = NULL;
        if (c->visible && i < FIELD_ROWS) {
            c->fields = L->fbuf[i];
            nw_query_row_fields(t, nw_table_row(t, c->slot), c->fields);
        }
    }
    return true;
}

static bool written_now(const nw_live *L, uint32_t table, uint32_t slot) {
    if (table >= L->ntabs || slot >= L->tabs[table].n) return L->lost == L->epoch;
    return L->tabs[table].ep[slot] == L->epoch;
}

static bool matches(const nw_sub *s, const nw_table *t, const change *c) {
    return c->fields ? nw_query_matches_fields(s->q, c->fields) : nw_query_matches(s->q, nw_table_row(t, c->slot));
}

/* ---- reports ---------------------------------------------------------------------- */

static void put_id(nw_buf *b, const uint8_t *row) {
    const uint8_t *f = row + 4;
    uint32_t n = nw_rd_u32(f + 1);
    nw_buf_u32(b, n);
    nw_buf_append(b, f + 5, n);
}

/* old[i] -> index in old, looked up by slot (open addressing). */
typedef struct posmap { uint32_t *k, *v, cap; } posmap;

static bool posmap_build(posmap *m, const uint32_t *slots, uint32_t n) {
    uint32_t cap = 16;
    while (cap < n * 2 + 2) cap *= 2;
    m->k = nw_calloc((size_t)cap * 2, sizeof *m->k);
    if (!m->k) return false;
    m->v = m->k + cap;
    m->cap = cap;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t j = mix(slots[i] + 1) & (cap - 1);
        while (m->k[j]) j = (j + 1) & (cap - 1);
        m->k[j] = slots[i] + 1;
        m->v[j] = i;
    }
    return true;
}

static uint32_t posmap_get(const posmap *m, uint32_t slot) {
    for (uint32_t j = mix(slot + 1) & (m->cap - 1);; j = (j + 1) & (m->cap - 1)) {
        if (m->k[j] == slot + 1) return m->v[j];
        if (!m->k[j]) return UINT32_MAX;
    }
}

/* The rows written this batch, found by slot: the row before the batch. */
typedef struct before_map { posmap m; uint32_t *idx; bool built, failed; } before_map;

static const uint8_t *row_before(const nw_live *L, const nw_table *t, uint32_t table, uint32_t slot, before_map *bm) {
    if (!written_now(L, table, slot)) return nw_table_row(t, slot);
    if (!bm->built) {
        bm->built = true;
        uint32_t *slots = nw_malloc(((size_t)L->nch + 1) * 2 * sizeof *slots), n = 0;
        if (slots) {
            bm->idx = slots + L->nch + 1;
            for (uint32_t i = 0; i < L->nch; i++)
                if (L->ch[i].table == table) { slots[n] = L->ch[i].slot; bm->idx[n++] = i; }
            if (!posmap_build(&bm->m, slots, n)) { nw_free(slots); slots = NULL; }
        }
        if (!slots) bm->failed = true;
        else { memmove(slots, bm->idx, n * sizeof *slots); bm->idx = slots; }   /* keep only idx */
    }
    if (!bm->failed) {
        uint32_t k = posmap_get(&bm->m, slot);
        if (k != UINT32_MAX) return L->ch[bm->idx[k]].old_row;
    }
    for (uint32_t i = 0; i < L->nch; i++)   /* out of memory: the slow way */
        if (L->ch[i].table == table && L->ch[i].slot == slot) return L->ch[i].old_row;
    return nw_table_row(t, slot);
}

/* Appends the report of one subscription: what turned `old` into its result. */
static bool report(nw_live *L, const nw_sub *s, const nw_table *t, const uint32_t *old, uint32_t nold) {
    posmap m;
    if (!posmap_build(&m, old, nold)) return false;
    uint32_t *seq = nw_malloc(((size_t)s->n + 1) * (sizeof *seq + sizeof(bool)));
    if (!seq) { nw_free(m.k); return false; }
    bool *keep = (bool *)(seq + s->n + 1);
    uint32_t ncommon = 0, nadded = 0, nremoved = 0, nupdated = 0, nmoved = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        uint32_t p = posmap_get(&m, s->slots[i]);
        if (p == UINT32_MAX) nadded++;
        else seq[ncommon++] = p;
    }
    bool ok = nw_lis(seq, ncommon, keep) == NW_OK;
    for (uint32_t i = 0; i < ncommon; i++) nmoved += !keep[i];
    for (uint32_t i = 0; i < nold; i++) nremoved += !set_has(&s->set, old[i]);
    for (uint32_t i = 0; i < s->n; i++)
        nupdated += posmap_get(&m, s->slots[i]) != UINT32_MAX && written_now(L, s->table, s->slots[i]);
    nw_buf *b = &L->reports;
    nw_buf_u32(b, s->id);
    nw_buf_u32(b, nadded); nw_buf_u32(b, nremoved); nw_buf_u32(b, nmoved); nw_buf_u32(b, nupdated);
    for (uint32_t i = 0; i < s->n; i++)
        if (posmap_get(&m, s->slots[i]) == UINT32_MAX) put_id(b, nw_table_row(t, s->slots[i]));
    before_map bm = { 0 };
    for (uint32_t i = 0; i < nold; i++)
        if (!set_has(&s->set, old[i])) put_id(b, row_before(L, t, s->table, old[i], &bm));
    if (bm.built && !bm.failed) { nw_free(bm.m.k); nw_free(bm.idx); }
    for (uint32_t i = 0, c = 0; i < s->n; i++) {
        if (posmap_get(&m, s->slots[i]) == UINT32_MAX) continue;
        if (!keep[c++]) put_id(b, nw_table_row(t, s->slots[i]));
    }
    for (uint32_t i = 0; i < s->n; i++)
        if (posmap_get(&m, s->slots[i]) != UINT32_MAX && written_now(L, s->table, s->slots[i]))
            put_id(b, nw_table_row(t, s->slots[i]));
    L->nreports++;
    nw_free(seq);
    nw_free(m.k);
    return ok && !b->oom;
}

/* ---- incremental maintenance ---------------------------------------------------------- */

static uint32_t lower_bound(const nw_sub *s, uint32_t slot) {
    uint32_t lo = 0, hi = s->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (nw_query_cmp_slots(s->q, s->slots[mid], slot) < 0) lo = mid + 1; else hi = mid;
    }
    return lo;
}

/* Brings one subscription up to date; returns false when it must re-run. */
static bool apply(nw_live *L, nw_store *st, nw_sub *s, const nw_table *t, bool *changed) {
    double limit = nw_query_limit(s->q);
    uint32_t nold = s->n;
    bool members = false;
    for (uint32_t i = 0; i < L->nch; i++)
        if (L->ch[i].table == s->table && set_has(&s->set, L->ch[i].slot)) { members = true; break; }
    if (members) {
        uint32_t w = 0;
        for (uint32_t i = 0; i < s->n; i++) {
            uint32_t slot = s->slots[i];
            if (written_now(L, s->table, slot)) set_remove(&s->set, slot);
            else s->slots[w++] = slot;
        }
        s->n = w;
    }
    bool inserted = false;
    for (uint32_t i = 0; i < L->nch; i++) {
        const change *c = &L->ch[i];
        if (c->table != s->table || !c->visible) continue;
        if (!matches(s, t, c)) continue;
        uint32_t pos = lower_bound(s, c->slot);
        if (limit >= 0 && pos >= limit) continue;
        /* past the end of a result cut at its limit: what lies there is unknown */
        if (limit >= 0 && nold >= limit && pos >= s->n) return false;
        if (!nw_grow((void **)&s->slots, &s->cap, sizeof *s->slots, s->n + 1) || !set_grow(&s->set, s->n + 1)) return false;
        memmove(s->slots + pos + 1, s->slots + pos, (s->n - pos) * sizeof *s->slots);
        s->slots[pos] = c->slot;
        s->n++;
        set_add(&s->set, c->slot);
        inserted = true;
        if (limit >= 0 && s->n > limit) set_remove(&s->set, s->slots[--s->n]);
    }
    /* a full limited result that lost members must be refilled from the table */
    if (limit >= 0 && nold >= limit && s->n < limit) return false;
    *changed = members || inserted;
    return true;
}

/* True when the batch can change the result: it wrote a member, or a
 * record that matches now. Most subscriptions are not: they stop here,
 * before any copy. */
static bool relevant(const nw_live *L, nw_store *st, const nw_sub *s, const nw_table *t) {
    if (L->lost == L->epoch || nw_query_offset(s->q) > 0) return true;
    for (uint32_t i = 0; i < L->nch; i++) {
        const change *c = &L->ch[i];
        if (c->table != s->table) continue;
        if (set_has(&s->set, c->slot)) return true;
        if (c->visible && matches(s, t, c)) return true;
    }
    return false;
}

static void update_sub(nw_live *L, nw_store *st, nw_sub *s) {
    const nw_table *t = nw_store_table(st, s->table);
    if (!relevant(L, st, s, t)) return;
    uint32_t *old = NULL, nold = s->n;
    if (s->report) {
        old = nw_malloc(((size_t)nold + 1) * sizeof *old);
        if (!old) { L->lost = L->epoch; s->report = false; }   /* cannot report: views still render in full */
        else memcpy(old, s->slots, nold * sizeof *old);
    }
    bool changed = false;
    bool incremental = L->lost != L->epoch;
    if (incremental && nw_query_offset(s->q) > 0) incremental = false;
    if (incremental && apply(L, st, s, t, &changed)) {
        L->st.incremental++;
    } else {
        L->st.reruns++;
        nw_error e = { 0 };
        if (rerun(st, s, &e)) {   /* out of memory: an empty result, never a stale one */
            s->n = 0;
            nw_free(s->set.k);
            s->set = (slotset32){ 0 };
        }
        changed = true;
    }
    if (changed) {
        s->version++;
        if (old && !report(L, s, t, old, nold)) L->lost = L->epoch;
    }
    nw_free(old);
}

void nw_live_on_commit(nw_live *L, nw_store *st) {
    L->epoch++;
    if (!collect(L, st)) L->lost = L->epoch;
    if (!L->nsubs) return;
    for (uint32_t i = 0; i < L->nsubs; i++) update_sub(L, st, L->subs[i]);
}
