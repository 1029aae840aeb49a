/* store.c - the memory repository (see store.h). */
#include "store.h"
#include "alloc.h"
#include "nval.h"
#include "oindex.h"
#include "fts.h"
#include "trigram.h"
#include "changelog.h"
#include <string.h>
#include <stdlib.h>
#include <math.h>

/* ---- structures ------------------------------------------------------------ */

/* Open-addressing set of slots keyed by some bytes of the row (the primary
 * key, or a unique constraint's fields). Entries hold slot+1; 0 is empty and
 * TOMB a deleted entry. */
#define TOMB 0xFFFFFFFFu

typedef struct slotset {
    uint32_t *e;
    uint32_t cap;       /* power of two, or 0 */
    uint32_t used;      /* live + tombstones */
    uint32_t live;
} slotset;

/* An ordered index over the table: derived data. When maintaining it fails
 * for lack of memory it is marked stale and rebuilt at its next use (the
 * planner scans the table meanwhile), so index upkeep never fails a write
 * and rollback never needs memory. */
typedef struct sindex {
    nw_keydef key;          /* index 0 is the primary key order */
    nw_oindex *ix;
    bool stale;
    struct nw_table *t;
    /* The row being inserted or removed (index_add/index_remove): its key
     * fields found once, for the log n comparisons that place it. */
    bool probe_on;
    uint32_t probe_slot;
    const uint8_t *probe_f[NW_MAX_KEY_FIELDS];
    /* Abbreviated keys (secondary indexes): ab[2 * slot], ab[2 * slot + 1]
     * are the first 16 bytes of an order-preserving encoding of the slot's
     * key and primary key (abbreviate()), so most comparisons read 16 bytes
     * instead of two rows. Either NULL or valid for every slot in ix. */
    uint64_t *ab;
    uint32_t abcap;         /* slots ab has room for */
} sindex;

struct nw_table {
    nw_entity_def def;
    sindex *idx;            /* [0] primary key order, then def.indexes */
    uint32_t nidx;
    nw_fts *fts;            /* NULL unless the entity has search fields */
    bool fts_stale;
    nw_buf ftsbuf;          /* scratch for a record's search text */
    nw_trigram **tri;       /* per search field: NULL until a query needs it, or dropped (owned) */
    uint32_t index;
    uint8_t **rows;         /* rows[slot]: owned row or NULL */
    uint32_t *hashes;       /* primary key hash per slot */
    double *expires;        /* per slot expiry (0 = never); NULL until a TTL is used */
    uint32_t nslots, cap;
    uint32_t *free_slots;   /* capacity == cap, so pushing never allocates */
    uint32_t nfree;
    slotset pk;
    slotset *uniq;          /* one per unique constraint */
    uint8_t *schema;        /* NVAL bytes it was defined from (owned) */
    uint32_t schema_len;
    uint32_t live;
    size_t row_bytes;
    void *reader_cache;     /* nw_table_reader_cache (owned) */
};

/* U_LOG: an outbox entry appended by the write (changelog.h); `mark` is
 * where the change log truncates back to. */
typedef enum { U_INSERT = 1, U_UPDATE, U_DELETE, U_LOG } undo_op;

typedef struct undo {
    uint8_t op;
    uint32_t table;
    uint32_t slot;
    uint8_t *old_row;       /* U_UPDATE / U_DELETE: the previous row (owned by the log) */
    double old_expires;
    size_t mark;            /* U_LOG */
} undo;

struct nw_store {
    nw_table **tables;
    uint32_t ntables;
    undo *log;
    size_t nlog, logcap;
    int tx_depth;
    nw_buf events;
    uint32_t nevents;
    bool capture, capture_before;
    double now;
    double last_ms;
    uint32_t seq;
    char client[5];
    nw_buf scratch;         /* row being built */
    nw_changelog *cl;       /* the outbox and sync state */
    nw_buf logbuf;          /* changed fields of an update being logged */
    bool applying;          /* writing server state: no ref checks, not logged */
    nw_commit_hook hook;    /* live results: called at each outermost commit */
    nw_commit_hook jhook;   /* the storage journal (journal.h): likewise */
    void *jhook_ud;
    void *hook_ud;
};

/* ---- small helpers --------------------------------------------------------- */

static const uint8_t *row_id(const uint8_t *row, uint32_t *len) {
    const uint8_t *f = row + 4;     /* the id is field 0, always a string */
    *len = nw_rd_u32(f + 1);
    return f + 5;
}

static size_t row_size(const uint8_t *row) { return 4 + (size_t)nw_row_len(row); }

const nw_entity_def *nw_table_def(const nw_table *t) { return &t->def; }
uint32_t nw_table_number(const nw_table *t) { return t->index; }
uint32_t nw_table_live(const nw_table *t) { return t->live; }
uint32_t nw_table_nslots(const nw_table *t) { return t->nslots; }
bool nw_table_has_ttl(const nw_table *t) { return t->expires != NULL; }
uint32_t nw_table_count_visible(const nw_store *s, const nw_table *t) {
    if (!t->expires) return t->live;
    uint32_t n = 0;
    for (uint32_t slot = 0; slot < t->nslots; slot++) n += nw_table_visible(s, t, slot);
    return n;
}
uint32_t nw_store_ntables(const nw_store *s) { return s->ntables; }
nw_table *nw_store_table(const nw_store *s, uint32_t i) { return i < s->ntables ? s->tables[i] : NULL; }
void nw_store_set_now(nw_store *s, double now) { s->now = now; }

void nw_store_set_client(nw_store *s, const char *tag, size_t len) {
    static const char b32[] = "0123456789abcdefghjkmnpqrstvwxyz";
    for (size_t i = 0; i < sizeof s->client; i++)
        s->client[i] = i < len ? b32[(uint8_t)tag[i] & 31] : '0';
}

const uint8_t *nw_table_row(const nw_table *t, uint32_t slot) {
    return slot < t->nslots ? t->rows[slot] : NULL;
}

void nw_table_warm(const nw_table *t, const uint32_t *slots, uint32_t n) {
    uint32_t acc = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *row = slots[i] < t->nslots ? t->rows[slots[i]] : NULL;
        if (row) acc += row[0] + row[nw_row_len(row) > 60 ? 64 : 0];   /* the first two cache lines */
    }
    volatile uint32_t sink = acc;   /* keeps the loads */
    (void)sink;
}

bool nw_table_visible(const nw_store *s, const nw_table *t, uint32_t slot) {
    if (slot >= t->nslots || !t->rows[slot]) return false;
    if (t->expires && t->expires[slot] != 0 && t->expires[slot] <= s->now) return false;
    return true;
}

/* ---- slot sets ---------------------------------------------------------------- */

typedef uint32_t (*key_hash_fn)(const nw_table *t, uint32_t slot, const void *aux);
typedef bool (*key_eq_fn)(const nw_table *t, uint32_t a, uint32_t b, const void *aux);

static bool slotset_reserve(slotset *ss, uint32_t extra, const nw_table *t, key_hash_fn hash, const void *aux) {
    if ((uint64_t)(ss->used + extra) * 4 < (uint64_t)ss->cap * 3) return true;
    uint32_t cap = ss->cap ? ss->cap : 16;
    while ((uint64_t)(ss->live + extra) * 2 >= cap) cap *= 2;
    uint32_t *e = nw_calloc(cap, sizeof *e);
    if (!e) return false;
    for (uint32_t i = 0; i < ss->cap; i++) {
        uint32_t v = ss->e[i];
        if (!v || v == TOMB) continue;
        uint32_t h = hash(t, v - 1, aux) & (cap - 1);
        while (e[h]) h = (h + 1) & (cap - 1);
        e[h] = v;
    }
    nw_free(ss->e);
    ss->e = e;
    ss->cap = cap;
    ss->used = ss->live;
    return true;
}

/* Needs a prior successful slotset_reserve (so never fails). */
static void slotset_add(slotset *ss, uint32_t slot, uint32_t h) {
    uint32_t mask = ss->cap - 1, i = h & mask;
    while (ss->e[i] && ss->e[i] != TOMB) i = (i + 1) & mask;
    if (!ss->e[i]) ss->used++;
    ss->e[i] = slot + 1;
    ss->live++;
}

static void slotset_remove(slotset *ss, uint32_t slot, uint32_t h) {
    if (!ss->cap) return;
    uint32_t mask = ss->cap - 1, i = h & mask;
    while (ss->e[i]) {
        if (ss->e[i] == slot + 1) { ss->e[i] = TOMB; ss->live--; return; }
        i = (i + 1) & mask;
    }
}

/* ---- primary key ---------------------------------------------------------------- */

static uint32_t pk_hash(const nw_table *t, uint32_t slot, const void *aux) {
    (void)aux;
    return t->hashes[slot];
}

uint32_t nw_table_find(const nw_table *t, const char *id, size_t len) {
    if (!t->pk.cap) return NW_NO_SLOT;
    uint32_t h = nw_hash_bytes((const uint8_t *)id, len);
    uint32_t mask = t->pk.cap - 1, i = h & mask;
    for (;;) {
        uint32_t v = t->pk.e[i];
        if (!v) return NW_NO_SLOT;
        if (v != TOMB && t->hashes[v - 1] == h) {
            uint32_t il;
            const uint8_t *rid = row_id(t->rows[v - 1], &il);
            if (il == len && memcmp(rid, id, len) == 0) return v - 1;
        }
        i = (i + 1) & mask;
    }
}

/* ---- unique constraints ------------------------------------------------------------ */

static bool key_has_null(const nw_table *t, const uint8_t *row, const nw_keydef *k) {
    for (uint32_t i = 0; i < k->nfields; i++)
        if (nw_field_is_null(nw_row_field(row, k->fields[i]))) return true;
    return false;
}

static uint32_t key_hash_row(const uint8_t *row, const nw_keydef *k) {
    uint32_t h = 0x9e3779b9u;
    for (uint32_t i = 0; i < k->nfields; i++) {
        const uint8_t *f = nw_row_field(row, k->fields[i]);
        h = (h ^ nw_hash_bytes(f, nw_field_span(f))) * 0x85ebca6bu;
    }
    return h;
}

static uint32_t uniq_hash(const nw_table *t, uint32_t slot, const void *aux) {
    return key_hash_row(t->rows[slot], aux);
}

static bool key_eq_rows(const uint8_t *a, const uint8_t *b, const nw_keydef *k) {
    for (uint32_t i = 0; i < k->nfields; i++) {
        const uint8_t *fa = nw_row_field(a, k->fields[i]), *fb = nw_row_field(b, k->fields[i]);
        size_t n = nw_field_span(fa);
        if (n != nw_field_span(fb) || memcmp(fa, fb, n) != 0) return false;
    }
    return true;
}

/* Slot of another visible-or-not record with the same key as row, or NO_SLOT. */
static uint32_t uniq_find(const nw_table *t, uint32_t u, const uint8_t *row, uint32_t self) {
    const slotset *ss = &t->uniq[u];
    const nw_keydef *k = &t->def.uniques[u];
    if (!ss->cap || key_has_null(t, row, k)) return NW_NO_SLOT;
    uint32_t h = key_hash_row(row, k), mask = ss->cap - 1, i = h & mask;
    for (;;) {
        uint32_t v = ss->e[i];
        if (!v) return NW_NO_SLOT;
        if (v != TOMB && v - 1 != self && key_eq_rows(t->rows[v - 1], row, k)) return v - 1;
        i = (i + 1) & mask;
    }
}

/* ---- ordered indexes ------------------------------------------------------------ */

static int pk_cmp_rows(const uint8_t *ra, const uint8_t *rb) {
    uint32_t al, bl;
    const uint8_t *ia = row_id(ra, &al), *ib = row_id(rb, &bl);
    int r = memcmp(ia, ib, al < bl ? al : bl);
    return r ? r : (al < bl ? -1 : al > bl);
}

/* The key's fields of a row, found in one walk over the fields (an index
 * comparison runs log n times per write: walking from the start once per
 * key field and row was most of an indexed write). */
static void key_fields(const nw_keydef *key, const uint8_t *row, const uint8_t **out) {
    uint32_t last = 0;
    for (uint32_t i = 0; i < key->nfields; i++) if (key->fields[i] > last) last = key->fields[i];
    const uint8_t *at[NW_MAX_FIELDS];
    const uint8_t *f = row + 4;
    for (uint32_t fi = 0; fi <= last; fi++) { at[fi] = f; if (fi < last) f += nw_field_span(f); }
    for (uint32_t i = 0; i < key->nfields; i++) out[i] = at[key->fields[i]];
}

/* The first 16 bytes of the index order as bytes, big endian in two words:
 * per key field its type's key (types.h), after a null tag (0 null, 1 not)
 * for fields that may be null, complemented for a descending field; then
 * the primary key. It stops after a key that is not prefix-free (text) or
 * a type with none; the rest is padding that sorts such a prefix first (or
 * last, descending). Where two slots' bytes differ they order as idx_cmp
 * does; where they are equal idx_cmp compares the rows. */
static void abbreviate(const sindex *x, const uint8_t *row, const uint8_t *const *kf, uint64_t out[2]) {
    uint8_t b[16];
    size_t at = 0;
    uint8_t pad = 0;
    bool more = true;
    for (uint32_t i = 0; more && i < x->key.nfields && at < sizeof b; i++) {
        uint32_t fi = x->key.fields[i];
        const nw_field *f = &x->t->def.fields[fi];
        const nw_type_ops *ops = nw_type_of(f->type);
        bool desc = (x->key.desc >> i) & 1, closed = true;
        size_t start = at;
        if (!ops->key) { more = false; break; }
        if (!f->required && fi != 0) b[at++] = kf[i][0] != NVAL_NULL;
        if (kf[i][0] != NVAL_NULL && at < sizeof b) at += ops->key(f, kf[i], b + at, sizeof b - at, &closed);
        if (desc) for (size_t k = start; k < at; k++) b[k] = (uint8_t)~b[k];
        if (!closed) { more = false; pad = desc ? 0xFF : 0; }
    }
    if (more && at < sizeof b) {
        uint32_t il;
        const uint8_t *id = row_id(row, &il);
        size_t n = il < sizeof b - at ? il : sizeof b - at;
        memcpy(b + at, id, n);
        at += n;
    }
    memset(b + at, pad, sizeof b - at);
    for (int w = 0; w < 2; w++) {
        uint64_t v = 0;
        for (int k = 0; k < 8; k++) v = v << 8 | b[w * 8 + k];
        out[w] = v;
    }
}

/* The abbreviation of stored slot `slot`, its key fields found in its row. */
static void abbreviate_slot(const sindex *x, uint32_t slot, uint64_t out[2]) {
    const uint8_t *f[NW_MAX_KEY_FIELDS];
    key_fields(&x->key, x->t->rows[slot], f);
    abbreviate(x, x->t->rows[slot], f, out);
}

/* Makes room in x->ab for `slot`; on failure the abbreviations are dropped
 * (comparisons then read rows). Only an empty index or rebuild_index
 * starts them, so that every slot in the index has one. */
static void abbrev_room(sindex *x, uint32_t slot) {
    if (slot < x->abcap) return;
    uint32_t cap = x->t->cap > slot ? x->t->cap : slot + 1;
    uint64_t *ab = nw_realloc(x->ab, (size_t)cap * 2 * sizeof *ab);
    if (!ab) {
        nw_free(x->ab);
        x->ab = NULL;
        x->abcap = 0;
        nw_oindex_set_key(x->ix, NULL);   /* the directory keys were abbreviations */
        return;
    }
    x->ab = ab;
    x->abcap = cap;
}

/* The index's directory key (oindex.h): the first half of the slot's
 * abbreviation, whose order is the index order wherever two differ. */
static uint64_t idx_key(const void *ctx, uint32_t slot) {
    const sindex *x = ctx;
    return x->ab[2 * (size_t)slot];
}

static bool abbreviated(const sindex *x) { return !(x->key.nfields == 1 && x->key.fields[0] == 0 && !x->key.desc); }

/* The order of two slots by their rows (what the abbreviations stand for). */
static int idx_cmp_rows(const sindex *x, uint32_t a, uint32_t b) {
    const nw_table *t = x->t;
    const uint8_t *ra = t->rows[a], *rb = t->rows[b];
    const uint8_t *own[NW_MAX_KEY_FIELDS], *fb[NW_MAX_KEY_FIELDS];
    const uint8_t *const *fa = own;
    if (x->probe_on && a == x->probe_slot) fa = x->probe_f;
    else key_fields(&x->key, ra, own);
    key_fields(&x->key, rb, fb);
    for (uint32_t i = 0; i < x->key.nfields; i++) {
        int r = nw_field_cmp(&t->def.fields[x->key.fields[i]], fa[i], fb[i]);
        if (r) return (x->key.desc >> i) & 1 ? -r : r;
    }
    return pk_cmp_rows(ra, rb);
}

static int idx_cmp(const void *ctx, uint32_t a, uint32_t b) {
    const sindex *x = ctx;
    if (!abbreviated(x)) return pk_cmp_rows(x->t->rows[a], x->t->rows[b]);
    if (x->ab) {
        const uint64_t *ka = x->ab + 2 * (size_t)a, *kb = x->ab + 2 * (size_t)b;
        if (ka[0] != kb[0]) return ka[0] < kb[0] ? -1 : 1;
        if (ka[1] != kb[1]) return ka[1] < kb[1] ? -1 : 1;
    }
    return idx_cmp_rows(x, a, b);
}

static int idx_keycmp(const void *ctx, const void *keyp, uint32_t slot) {
    const sindex *x = ctx;
    const nw_ikey *key = keyp;
    const nw_table *t = x->t;
    const uint8_t *f[NW_MAX_KEY_FIELDS];
    key_fields(&x->key, t->rows[slot], f);
    for (uint32_t i = 0; i < key->n; i++) {
        int r = nw_field_cmp(&t->def.fields[x->key.fields[i]], key->vals[i], f[i]);
        if (r) return (x->key.desc >> i) & 1 ? -r : r;
    }
    return 0;
}

/* Search text of a row: its search fields joined by newlines. */
static bool fts_text(nw_table *t, const uint8_t *row, const char **p, size_t *len) {
    nw_buf *b = &t->ftsbuf;
    nw_buf_reset(b);
    for (uint32_t i = 0; i < t->def.nsearch; i++) {
        const uint8_t *f = nw_row_field(row, t->def.search[i]);
        if (f[0] == NVAL_STR) {
            nw_buf_append(b, f + 5, nw_rd_u32(f + 1));
            nw_buf_byte(b, '\n');
        } else if (f[0] == NVAL_ARR) {
            uint32_t n = nw_rd_u32(f + 1);
            const uint8_t *it = f + 5;
            for (uint32_t k = 0; k < n; k++, it += nval_span(it)) {
                if (it[0] == NVAL_STR) nw_buf_append(b, it + 5, nw_rd_u32(it + 1));
                nw_buf_byte(b, '\n');
            }
        }
    }
    if (b->oom) return false;
    *p = (const char *)b->p;
    *len = b->len;
    return true;
}

/* Bit i set for field i of key k. */
static uint64_t key_mask(const nw_keydef *k) {
    uint64_t m = 0;
    for (uint32_t i = 0; i < k->nfields; i++) m |= (uint64_t)1 << k->fields[i];
    return m;
}

static uint64_t search_mask(const nw_table *t) {
    uint64_t m = 0;
    for (uint32_t i = 0; i < t->def.nsearch; i++) m |= (uint64_t)1 << t->def.search[i];
    return m;
}

/* `changed` limits the work to the indexes whose key fields it names (an
 * update that leaves an index's fields alone leaves its position alone:
 * ties break by the primary key, which never changes). ~0 = all. */
/* Trigram upkeep of the search fields whose index exists: one that cannot
 * keep up (out of memory) or wore out is dropped and rebuilt when a query
 * next needs it. */
static void tri_update(nw_table *t, uint32_t slot, uint64_t changed, bool add) {
    for (uint32_t i = 0; t->tri && i < t->def.nsearch; i++) {
        nw_trigram *g = t->tri[i];
        uint32_t fi = t->def.search[i];
        if (!g || !((changed >> fi) & 1)) continue;
        const uint8_t *f = nw_row_field(t->rows[slot], fi);
        if (f[0] != NVAL_STR) continue;
        if (!add) nw_trigram_remove(g, slot, f + 5, nw_rd_u32(f + 1));
        if (add ? nw_trigram_add(g, slot, f + 5, nw_rd_u32(f + 1)) != 0 : nw_trigram_worn(g)) {
            nw_trigram_free(g);
            t->tri[i] = NULL;
        }
    }
}

/* Inserts or removes `slot` in index x, its key fields found once. */
static int probe_update(sindex *x, uint32_t slot, bool add) {
    key_fields(&x->key, x->t->rows[slot], x->probe_f);
    if (add && abbreviated(x) && (x->ab || nw_oindex_size(x->ix) == 0)) {
        abbrev_room(x, slot);
        if (x->ab) abbreviate(x, x->t->rows[slot], x->probe_f, x->ab + 2 * (size_t)slot);
        if (x->ab && nw_oindex_size(x->ix) == 0) nw_oindex_set_key(x->ix, idx_key);   /* abbreviations start */
    }
    x->probe_slot = slot;
    x->probe_on = true;
    int rc = add ? nw_oindex_insert(x->ix, slot) : nw_oindex_remove(x->ix, slot);
    x->probe_on = false;
    return rc;
}

static void index_add(nw_table *t, uint32_t slot, uint64_t changed) {
    tri_update(t, slot, changed, true);
    for (uint32_t i = 0; i < t->nidx; i++) {
        sindex *x = &t->idx[i];
        if (!(key_mask(&x->key) & changed)) continue;
        if (!x->stale && probe_update(x, slot, true) != 0) x->stale = true;
    }
    if (t->fts && !t->fts_stale && (search_mask(t) & changed)) {
        const char *p;
        size_t n;
        if (!fts_text(t, t->rows[slot], &p, &n) || nw_fts_add(t->fts, slot, p, n) != 0) t->fts_stale = true;
    }
}

static void index_remove(nw_table *t, uint32_t slot, uint64_t changed) {
    tri_update(t, slot, changed, false);
    for (uint32_t i = 0; i < t->nidx; i++) {
        sindex *x = &t->idx[i];
        if (!(key_mask(&x->key) & changed)) continue;
        if (!x->stale && probe_update(x, slot, false) != 0) x->stale = true;
    }
    if (t->fts && !t->fts_stale && (search_mask(t) & changed)) {
        const char *p;
        size_t n;
        if (!fts_text(t, t->rows[slot], &p, &n) || nw_fts_remove(t->fts, slot, p, n) != 0) t->fts_stale = true;
    }
}

static bool rebuild_index(nw_table *t, sindex *x) {
    uint32_t n = t->live;
    uint32_t *v = nw_malloc(((size_t)n * 2 + 1) * sizeof *v);
    if (!v) return false;
    uint32_t k = 0;
    for (uint32_t slot = 0; slot < t->nslots; slot++) if (t->rows[slot]) v[k++] = slot;
    if (abbreviated(x) && k) abbrev_room(x, v[k - 1]);
    for (uint32_t i = 0; x->ab && i < k; i++) abbreviate_slot(x, v[i], x->ab + 2 * (size_t)v[i]);
    nw_oindex_sort(v, v + n, k, idx_cmp, x);
    bool ok = nw_oindex_build(x->ix, v, k) == 0;
    nw_free(v);
    if (ok) x->stale = false;
    if (ok && x->ab) nw_oindex_set_key(x->ix, idx_key);
    return ok;
}

static bool rebuild_fts(nw_table *t) {
    nw_fts *f = nw_fts_new();
    if (!f) return false;
    for (uint32_t slot = 0; slot < t->nslots; slot++) {
        if (!t->rows[slot]) continue;
        const char *p;
        size_t n;
        if (!fts_text(t, t->rows[slot], &p, &n) || nw_fts_add(f, slot, p, n) != 0) { nw_fts_free(f); return false; }
    }
    nw_fts_free(t->fts);
    t->fts = f;
    t->fts_stale = false;
    return true;
}

uint32_t nw_table_nindexes(const nw_table *t) { return t->nidx; }
const nw_keydef *nw_table_index_key(const nw_table *t, uint32_t i) { return i < t->nidx ? &t->idx[i].key : NULL; }

nw_oindex *nw_table_index(nw_table *t, uint32_t i) {
    if (i >= t->nidx) return NULL;
    sindex *x = &t->idx[i];
    if (x->stale && !rebuild_index(t, x)) return NULL;
    return x->ix;
}

nw_okeycmp nw_table_index_keycmp(void) { return idx_keycmp; }

nw_trigram *nw_table_trigram(nw_table *t, uint32_t field) {
    uint32_t i = 0;
    while (i < t->def.nsearch && t->def.search[i] != field) i++;
    if (i == t->def.nsearch || t->def.fields[field].type != NW_T_STRING) return NULL;
    if (!t->tri && !(t->tri = nw_calloc(t->def.nsearch, sizeof *t->tri))) return NULL;
    if (t->tri[i]) return t->tri[i];
    nw_trigram *g = nw_trigram_new();
    for (uint32_t slot = 0; g && slot < t->nslots; slot++) {
        if (!t->rows[slot]) continue;
        const uint8_t *f = nw_row_field(t->rows[slot], field);
        if (f[0] == NVAL_STR && nw_trigram_add(g, slot, f + 5, nw_rd_u32(f + 1)) != 0) { nw_trigram_free(g); g = NULL; }
    }
    return t->tri[i] = g;
}

nw_fts *nw_table_fts(nw_table *t) {
    if (!t->fts && !t->def.nsearch) return NULL;
    if ((t->fts_stale || !t->fts) && !rebuild_fts(t)) return NULL;
    return t->fts;
}

/* ---- table lifecycle ------------------------------------------------------------------ */

static void table_free(nw_table *t) {
    if (!t) return;
    for (uint32_t i = 0; i < t->nslots; i++) nw_free(t->rows[i]);
    nw_free(t->rows);
    nw_free(t->hashes);
    nw_free(t->expires);
    nw_free(t->free_slots);
    nw_free(t->pk.e);
    for (uint32_t i = 0; t->uniq && i < t->def.nuniques; i++) nw_free(t->uniq[i].e);
    nw_free(t->uniq);
    for (uint32_t i = 0; t->idx && i < t->nidx; i++) { nw_oindex_free(t->idx[i].ix); nw_free(t->idx[i].ab); }
    nw_free(t->idx);
    nw_fts_free(t->fts);
    for (uint32_t i = 0; t->tri && i < t->def.nsearch; i++) nw_trigram_free(t->tri[i]);
    nw_free(t->tri);
    nw_buf_free(&t->ftsbuf);
    nw_schema_free(&t->def);
    nw_free(t->schema);
    nw_free(t->reader_cache);
    nw_free(t);
}

/* The outbox's view of stored rows (nw_changelog_set_rows). */
static const uint8_t *stored_row(void *ud, uint32_t table, const uint8_t *id, uint32_t idlen) {
    nw_table *t = nw_store_table(ud, table);
    uint32_t slot = t ? nw_table_find(t, (const char *)id, idlen) : NW_NO_SLOT;
    return slot == NW_NO_SLOT ? NULL : t->rows[slot];
}

nw_store *nw_store_new(void) {
    nw_store *s = nw_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->cl = nw_changelog_new();
    if (!s->cl) { nw_free(s); return NULL; }
    nw_changelog_set_rows(s->cl, stored_row, s);
    nw_buf_init(&s->events);
    nw_buf_init(&s->scratch);
    nw_buf_init(&s->logbuf);
    memcpy(s->client, "00000", 5);
    return s;
}

void nw_store_free(nw_store *s) {
    if (!s) return;
    nw_store_rollback(s, 0);
    for (uint32_t i = 0; i < s->ntables; i++) table_free(s->tables[i]);
    nw_free(s->tables);
    nw_free(s->log);
    nw_buf_free(&s->events);
    nw_buf_free(&s->scratch);
    nw_buf_free(&s->logbuf);
    nw_changelog_free(s->cl);
    nw_free(s);
}

nw_changelog *nw_store_changelog(nw_store *s) { return s->cl; }

void nw_store_compact_log(nw_store *s) {
    if (s->nlog == 0) nw_changelog_compact(s->cl);
}

static void set_coalesce_rules(nw_store *s);

nw_code nw_store_define(nw_store *s, const uint8_t *schema, uint32_t *index, nw_error *err) {
    nw_entity_def def;
    nw_code rc = nw_schema_parse(schema, &def, err);
    if (rc) return rc;
    for (uint32_t i = 0; i < s->ntables; i++) {
        if (strcmp(s->tables[i]->def.name, def.name) == 0) {
            rc = nw_error_set(err, NW_E_SCHEMA, def.name, NULL, "schema", "entity %s is already defined", def.name);
            nw_schema_free(&def);
            return rc;
        }
    }
    nw_table *t = nw_calloc(1, sizeof *t);
    nw_table **tables = t ? nw_realloc(s->tables, (s->ntables + 1) * sizeof *tables) : NULL;
    if (tables) s->tables = tables;
    if (t && def.nuniques) t->uniq = nw_calloc(def.nuniques, sizeof *t->uniq);
    if (!t || !tables || (def.nuniques && !t->uniq)) {
        if (t) nw_free(t->uniq);
        nw_free(t);
        nw_schema_free(&def);
        return nw_error_nomem(err);
    }
    size_t slen = nval_span(schema);
    t->schema = nw_malloc(slen);
    if (!t->schema) { nw_free(t->uniq); nw_free(t); nw_schema_free(&def); return nw_error_nomem(err); }
    memcpy(t->schema, schema, slen);
    t->schema_len = (uint32_t)slen;
    t->def = def;
    t->index = s->ntables;
    nw_buf_init(&t->ftsbuf);
    t->nidx = 1 + def.nindexes;
    t->idx = nw_calloc(t->nidx, sizeof *t->idx);
    bool ok = t->idx != NULL;
    for (uint32_t i = 0; ok && i < t->nidx; i++) {
        sindex *x = &t->idx[i];
        x->t = t;
        if (i == 0) { x->key.nfields = 1; x->key.fields[0] = 0; }
        else x->key = def.indexes[i - 1];
        x->ix = nw_oindex_new(idx_cmp, x);
        ok = x->ix != NULL;
    }
    if (ok && def.nsearch) ok = (t->fts = nw_fts_new()) != NULL;
    if (ok) ok = nw_changelog_set_rules(s->cl, t->index, 0, false, err) == NW_OK;   /* room for every table's rules */
    if (!ok) {
        table_free(t);
        return nw_error_nomem(err);
    }
    s->tables[s->ntables++] = t;
    *index = t->index;
    set_coalesce_rules(s);
    return NW_OK;
}

/* What outbox coalescing may not move earlier (changelog.h): per table the
 * fields of unique keys and references, and whether any entity refers to it. */
static void set_coalesce_rules(nw_store *s) {
    for (uint32_t i = 0; i < s->ntables; i++) {
        const nw_entity_def *d = &s->tables[i]->def;
        uint64_t pinned = 0;
        for (uint32_t u = 0; u < d->nuniques; u++) pinned |= key_mask(&d->uniques[u]);
        for (uint32_t f = 0; f < d->nfields; f++) if (d->fields[f].type == NW_T_REF) pinned |= (uint64_t)1 << f;
        bool referenced = false;
        for (uint32_t k = 0; k < s->ntables && !referenced; k++) {
            const nw_entity_def *o = &s->tables[k]->def;
            for (uint32_t f = 0; f < o->nfields && !referenced; f++)
                referenced = o->fields[f].type == NW_T_REF && strcmp(o->fields[f].ref_name, d->name) == 0;
        }
        nw_changelog_set_rules(s->cl, i, pinned, referenced, NULL);   /* room reserved at define */
    }
}

/* Makes room for one more slot; false on OOM (nothing changed). */
/* Room for `extra` more slots: the capacity doubles, or grows to exactly
 * what a bulk insert needs when that is more (no doubling's slack, no copy
 * per doubling). */
static bool table_reserve_slots(nw_table *t, uint32_t extra) {
    if (t->nfree >= extra || (uint64_t)t->nslots + extra - t->nfree <= t->cap) return true;
    uint64_t need = (uint64_t)t->nslots + extra - t->nfree, dbl = t->cap ? (uint64_t)t->cap * 2 : 64;
    if (need > 0x7FFFFFFFu) return false;
    uint32_t cap = (uint32_t)(need > dbl ? need : dbl);
    uint8_t **rows = nw_realloc(t->rows, cap * sizeof *rows);
    if (!rows) return false;
    t->rows = rows;
    uint32_t *hashes = nw_realloc(t->hashes, cap * sizeof *hashes);
    if (!hashes) return false;
    t->hashes = hashes;
    uint32_t *fs = nw_realloc(t->free_slots, cap * sizeof *fs);
    if (!fs) return false;
    t->free_slots = fs;
    if (t->expires) {
        double *ex = nw_realloc(t->expires, cap * sizeof *ex);
        if (!ex) return false;
        t->expires = ex;
    }
    t->cap = cap;
    return true;
}

static bool table_reserve_slot(nw_table *t) { return table_reserve_slots(t, 1); }

static bool table_need_expires(nw_table *t) {
    if (t->expires) return true;
    if (!t->cap) return true;   /* allocated with the first slot */
    t->expires = nw_calloc(t->cap, sizeof *t->expires);
    return t->expires != NULL;
}

/* ---- undo log ------------------------------------------------------------------------ */

/* Undo entries whose room a commit keeps for the next writes. */
#define LOG_KEEP 4096
/* Bytes of captured events whose room clearing keeps. */
#define EVENTS_KEEP (1u << 20)

static bool log_reserve_n(nw_store *s, size_t extra) {
    if (s->nlog + extra <= s->logcap) return true;
    size_t need = s->nlog + extra, dbl = s->logcap ? s->logcap * 2 : 64;
    if (need > SIZE_MAX / sizeof(undo)) return false;
    size_t cap = need > dbl ? need : dbl;
    undo *l = nw_realloc(s->log, cap * sizeof *l);
    if (!l) return false;
    s->log = l;
    s->logcap = cap;
    return true;
}

static bool log_reserve(nw_store *s) { return log_reserve_n(s, 1); }

/* An empty log that a big batch grew goes back rather than idling at its
 * peak size (two entries a record: 6 MB after 100,000 inserts). Frees
 * only, so rollback stays allocation-free. */
static void log_shrink(nw_store *s) {
    if (s->nlog || s->logcap <= LOG_KEEP) return;
    nw_free(s->log);
    s->log = NULL;
    s->logcap = 0;
}

size_t nw_store_mark(nw_store *s) { return s->nlog; }
bool nw_store_in_tx(const nw_store *s) { return s->tx_depth > 0; }
void nw_store_tx_begin(nw_store *s) { s->tx_depth++; }

void nw_store_set_commit_hook(nw_store *s, nw_commit_hook fn, void *ud) { s->hook = fn; s->hook_ud = ud; }
void nw_store_set_journal_hook(nw_store *s, nw_commit_hook fn, void *ud) { s->jhook = fn; s->jhook_ud = ud; }
uint32_t nw_store_batch_len(const nw_store *s) { return (uint32_t)s->nlog; }
bool nw_store_batch_entry(const nw_store *s, uint32_t i, uint32_t *table, uint32_t *slot, const uint8_t **old_row) {
    if (i >= s->nlog || s->log[i].op == U_LOG) return false;
    *table = s->log[i].table;
    *slot = s->log[i].slot;
    *old_row = s->log[i].op == U_INSERT ? NULL : s->log[i].old_row;
    return true;
}

static void commit_log(nw_store *s) {
    if (s->hook && s->nlog) s->hook(s->hook_ud, s);
    if (s->jhook && s->nlog) s->jhook(s->jhook_ud, s);   /* sees the outbox entries before they coalesce */
    nw_changelog_commit(s->cl);     /* coalesces the outbox (changelog.h) */
    for (size_t i = 0; i < s->nlog; i++) {
        undo *u = &s->log[i];
        if (u->op == U_LOG) continue;
        if (u->op == U_DELETE) {
            nw_table *t = s->tables[u->table];
            t->free_slots[t->nfree++] = u->slot;
        }
        nw_free(u->old_row);
    }
    s->nlog = 0;
    log_shrink(s);
}

void nw_store_release(nw_store *s, size_t mark) {
    (void)mark;
    if (s->tx_depth == 0) commit_log(s);
}

void nw_store_tx_end(nw_store *s) {
    if (s->tx_depth > 0 && --s->tx_depth == 0) commit_log(s);
}

/* Index maintenance shared by writes and rollback. Adding needs reserved
 * capacity (done before the write); removing never allocates. */
/* `changed`: the fields whose structures need the work (~0 = all; an
 * update passes the fields it changed). */
static void unlink_fields(nw_table *t, uint32_t slot, uint64_t changed) {
    index_remove(t, slot, changed);
    const uint8_t *row = t->rows[slot];
    if (changed & 1) slotset_remove(&t->pk, slot, t->hashes[slot]);
    for (uint32_t u = 0; u < t->def.nuniques; u++)
        if ((key_mask(&t->def.uniques[u]) & changed) && !key_has_null(t, row, &t->def.uniques[u]))
            slotset_remove(&t->uniq[u], slot, key_hash_row(row, &t->def.uniques[u]));
}

static void link_fields(nw_table *t, uint32_t slot, uint64_t changed) {
    const uint8_t *row = t->rows[slot];
    if (changed & 1) slotset_add(&t->pk, slot, t->hashes[slot]);
    for (uint32_t u = 0; u < t->def.nuniques; u++)
        if ((key_mask(&t->def.uniques[u]) & changed) && !key_has_null(t, row, &t->def.uniques[u]))
            slotset_add(&t->uniq[u], slot, key_hash_row(row, &t->def.uniques[u]));
    index_add(t, slot, changed);
}

static void unlink_slot(nw_table *t, uint32_t slot) { unlink_fields(t, slot, ~(uint64_t)0); }
static void link_slot(nw_table *t, uint32_t slot) { link_fields(t, slot, ~(uint64_t)0); }

static uint64_t changed_mask(const nw_table *t, const uint8_t *a, const uint8_t *b);

/* Capacity for linking one more slot into every set of the table. */
static bool reserve_links(nw_table *t) {
    if (!slotset_reserve(&t->pk, 1, t, pk_hash, NULL)) return false;
    for (uint32_t u = 0; u < t->def.nuniques; u++)
        if (!slotset_reserve(&t->uniq[u], 1, t, uniq_hash, &t->def.uniques[u])) return false;
    return true;
}

void nw_store_rollback(nw_store *s, size_t mark) {
    while (s->nlog > mark) {
        undo *u = &s->log[--s->nlog];
        nw_table *t = s->tables[u->table];
        switch (u->op) {
        case U_INSERT:
            unlink_slot(t, u->slot);
            t->row_bytes -= row_size(t->rows[u->slot]);
            nw_free(t->rows[u->slot]);
            t->rows[u->slot] = NULL;
            t->free_slots[t->nfree++] = u->slot;
            t->live--;
            break;
        case U_UPDATE: {
            uint64_t changed = changed_mask(t, t->rows[u->slot], u->old_row);
            if (changed & 1) changed = ~(uint64_t)0;   /* a new id moves it everywhere (ties break by id) */
            unlink_fields(t, u->slot, changed);
            t->row_bytes -= row_size(t->rows[u->slot]);
            nw_free(t->rows[u->slot]);
            t->rows[u->slot] = u->old_row;
            t->row_bytes += row_size(u->old_row);
            if (t->expires) t->expires[u->slot] = u->old_expires;
            link_fields(t, u->slot, changed);
            break;
        }
        case U_DELETE:
            t->rows[u->slot] = u->old_row;
            t->row_bytes += row_size(u->old_row);
            if (t->expires) t->expires[u->slot] = u->old_expires;
            link_slot(t, u->slot);
            t->live++;
            break;
        case U_LOG:
            nw_changelog_truncate(s->cl, u->mark);
            break;
        }
        u->old_row = NULL;
    }
    log_shrink(s);
}

/* ---- events --------------------------------------------------------------------------- */
/* Event record layout in the event buffer (wire.h NW_WIRE_EVLAYOUT):
 *   u8 type, u8 flags, u16 table, u32 record length, record field bytes,
 *   u32 previous length (0 = none), previous field bytes,
 *   u32 changed-fields mask low, u32 high (bit i = field i changed);
 * or, with flag NW_EVF_SAME (the rows of the event just before it):
 *   u8 type, u8 flags, u16 table, u32 back (bytes to that event's start),
 *   u32 mask low, u32 high. */

void nw_store_capture_events(nw_store *s, bool on, bool before) { s->capture = on; s->capture_before = before; }
nw_buf *nw_store_events(nw_store *s) { return &s->events; }
uint32_t nw_store_event_count(const nw_store *s) { return s->nevents; }
void nw_store_clear_events(nw_store *s) {
    if (s->events.cap > EVENTS_KEEP) nw_buf_free(&s->events);   /* a big batch's events go back */
    nw_buf_reset(&s->events);
    s->nevents = 0;
}
void nw_store_truncate_events(nw_store *s, size_t len, uint32_t count) {
    if (len <= s->events.len) s->events.len = len;
    s->nevents = count;
}

/* An event's bytes besides its rows; an event with flag NW_EVF_SAME. */
#define EVENT_BYTES 20
#define EVENT_SAME_BYTES 16
#define NO_EVENT SIZE_MAX

static void event_header(nw_buf *b, nw_event_type type, uint8_t flags, const nw_table *t) {
    nw_buf_byte(b, (uint8_t)type);
    nw_buf_byte(b, flags);
    nw_buf_byte(b, (uint8_t)t->index);
    nw_buf_byte(b, (uint8_t)(t->index >> 8));
}

static void event_mask(nw_buf *b, uint64_t mask) {
    nw_buf_u32(b, (uint32_t)mask);
    nw_buf_u32(b, (uint32_t)(mask >> 32));
}

/* Captures an event with its rows; returns where it starts in the event
 * buffer, NO_EVENT when it was not captured. */
static size_t emit(nw_store *s, nw_event_type type, const nw_table *t, const uint8_t *row, const uint8_t *prev, uint64_t mask) {
    if (!s->capture) return NO_EVENT;
    if ((type == NW_EV_BEFORE_SAVE || type == NW_EV_BEFORE_DELETE) && !s->capture_before) return NO_EVENT;
    nw_buf *b = &s->events;
    size_t at = b->len;
    event_header(b, type, 0, t);
    uint32_t rl = row ? nw_row_len(row) : 0, pl = prev ? nw_row_len(prev) : 0;
    nw_buf_u32(b, rl);
    if (rl) nw_buf_append(b, row + 4, rl);
    nw_buf_u32(b, pl);
    if (pl) nw_buf_append(b, prev + 4, pl);
    event_mask(b, mask);
    s->nevents++;
    return b->oom ? NO_EVENT : at;
}

/* Captures the event that follows a write's before* event (emitted at
 * `before`, with the same rows): when that event is still the buffer's
 * last, as a reference back to its rows (flag NW_EVF_SAME) instead of a
 * second copy of them; otherwise in full. */
static void emit_after(nw_store *s, nw_event_type type, const nw_table *t, const uint8_t *row, const uint8_t *prev, uint64_t mask, size_t before) {
    nw_buf *b = &s->events;
    if (!s->capture) return;
    if (before == NO_EVENT || b->len - before != EVENT_BYTES + (row ? nw_row_len(row) : 0) + (prev ? nw_row_len(prev) : 0)) {
        emit(s, type, t, row, prev, mask);
        return;
    }
    event_header(b, type, NW_EVF_SAME, t);
    nw_buf_u32(b, (uint32_t)(b->len - 4 - before));
    event_mask(b, mask);
    s->nevents++;
}

static uint64_t changed_mask(const nw_table *t, const uint8_t *a, const uint8_t *b) {
    uint64_t m = 0;
    const uint8_t *fa = a + 4, *fb = b + 4;
    for (uint32_t i = 0; i < t->def.nfields; i++) {
        size_t na = nw_field_span(fa), nb = nw_field_span(fb);
        if (na != nb || memcmp(fa, fb, na) != 0) m |= (uint64_t)1 << i;
        fa += na;
        fb += nb;
    }
    return m;
}

/* ---- the outbox ------------------------------------------------------------------------ */

/* Records a write in the change log, undone with it. A create logs the
 * whole row, an update the fields in `mask`, a delete only the id. */
static nw_code log_write(nw_store *s, nw_table *t, nw_cl_op op, const uint8_t *row, uint64_t mask, nw_error *err) {
    if (s->applying || !nw_changelog_logs(s->cl, t->index)) return NW_OK;
    if (!log_reserve(s)) return nw_error_nomem(err);
    size_t mark;
    nw_code rc;
    if (op == NW_CL_CREATE) {   /* shares the stored row, which is never changed in place */
        mask = t->def.nfields == 64 ? ~(uint64_t)0 : ((uint64_t)1 << t->def.nfields) - 1;
        rc = nw_changelog_append_row(s->cl, t->index, row, mask, &mark, err);
    } else {
        nw_buf *b = &s->logbuf;
        nw_buf_reset(b);
        const uint8_t *f = row + 4;
        for (uint32_t i = 0; op == NW_CL_UPDATE && i < t->def.nfields; i++) {
            size_t n = nw_field_span(f);
            if (mask >> i & 1) nw_buf_append(b, f, n);
            f += n;
        }
        if (b->oom) return nw_error_nomem(err);
        uint32_t il;
        const uint8_t *id = row_id(row, &il);
        rc = nw_changelog_append(s->cl, op, t->index, id, il, mask, b->p, (uint32_t)b->len, &mark, err);
    }
    if (rc) return rc;
    s->log[s->nlog++] = (undo){ U_LOG, t->index, 0, NULL, 0, mark };
    return NW_OK;
}

/* ---- building rows ----------------------------------------------------------------------- */

static void gen_id(nw_store *s, nw_buf *out) {
    static const char b32[] = "0123456789abcdefghjkmnpqrstvwxyz";
    double ms = floor(s->now);
    if (ms <= s->last_ms) { ms = s->last_ms; s->seq++; }
    else { s->last_ms = ms; s->seq = 0; }
    if (s->seq >= 32u * 32 * 32 * 32) { s->last_ms = ++ms; s->seq = 0; }
    char id[18];
    uint64_t t = ms < 0 ? 0 : (uint64_t)ms;
    for (int i = 8; i >= 0; i--) { id[i] = b32[t & 31]; t >>= 5; }
    uint32_t q = s->seq;
    for (int i = 12; i >= 9; i--) { id[i] = b32[q & 31]; q >>= 5; }
    memcpy(id + 13, s->client, 5);
    nw_buf_byte(out, NVAL_STR);
    nw_buf_u32(out, 18);
    nw_buf_append(out, id, 18);
}

static nw_table *ref_target(nw_store *s, nw_field *f) {
    if (f->ref_entity < 0) {
        for (uint32_t i = 0; i < s->ntables; i++)
            if (strcmp(s->tables[i]->def.name, f->ref_name) == 0) f->ref_entity = (int)i;
    }
    return f->ref_entity >= 0 ? s->tables[f->ref_entity] : NULL;
}

/* Collects the input values per field. Input is an NVAL object (keys by
 * name) or a FIELDS map (keys by index, unknown names spelled out). */
static nw_code gather(const nw_table *t, const uint8_t *data, const uint8_t **vals, nw_error *err) {
    memset(vals, 0, t->def.nfields * sizeof *vals);
    if (data[0] != NVAL_OBJ && data[0] != NVAL_FIELDS)
        return nw_error_set(err, NW_E_VALIDATION, t->def.name, NULL, "type", "record data must be an object");
    uint32_t n = nw_rd_u32(data + 1);
    size_t off = 5;
    for (uint32_t i = 0; i < n; i++) {
        const char *name = NULL;
        uint32_t nl = 0;
        int fi;
        if (data[0] == NVAL_OBJ) {
            nl = nw_rd_u32(data + off);
            name = (const char *)data + off + 4;
            off += 4 + nl;
            fi = nw_schema_field(&t->def, name, nl);
        } else if (data[off] == NVAL_FIELD) {
            fi = (int)nw_rd_u32(data + off + 1);
            off += 5;
            if (fi >= (int)t->def.nfields) fi = -1;
        } else {
            nl = nw_rd_u32(data + off + 1);
            name = (const char *)data + off + 5;
            off += 5 + nl;
            fi = -1;
        }
        if (fi < 0) {
            char fname[NW_ERR_NAME];
            uint32_t k = nl < NW_ERR_NAME - 1 ? nl : NW_ERR_NAME - 1;
            if (name) memcpy(fname, name, k);
            fname[name ? k : 0] = 0;
            if (name && nw_reserved_key(name, nl))
                return nw_error_set(err, NW_E_VALIDATION, t->def.name, fname, "reserved-key", "is reserved (__proto__, constructor and prototype cannot be keys)");
            return nw_error_set(err, NW_E_VALIDATION, t->def.name, fname, "unknown", "is not a field of %s", t->def.name);
        }
        vals[fi] = data + off;
        off += nval_span(data + off);
    }
    return NW_OK;
}

/* Builds the full row for a create (base == NULL) or an update (base = the
 * current row) into s->scratch, validating every rule but uniqueness. */
static nw_code build_row(nw_store *s, nw_table *t, const uint8_t *data, const uint8_t *base, nw_error *err) {
    const uint8_t *vals[NW_MAX_FIELDS];
    nw_code rc = gather(t, data, vals, err);
    if (rc) return rc;
    nw_buf *b = &s->scratch;
    nw_buf_reset(b);
    nw_buf_u32(b, 0);
    const uint8_t *bf = base ? base + 4 : NULL;
    for (uint32_t i = 0; i < t->def.nfields; i++) {
        nw_field *f = &t->def.fields[i];
        size_t start = b->len;
        size_t bspan = bf ? nw_field_span(bf) : 0;
        if (vals[i]) {
            if (i == 0 && base) {
                /* the id of a stored record cannot change */
                uint32_t il;
                const uint8_t *id = row_id(base, &il);
                if (vals[0][0] != NVAL_STR || nw_rd_u32(vals[0] + 1) != il || memcmp(vals[0] + 5, id, il) != 0)
                    return nw_error_set(err, NW_E_VALIDATION, t->def.name, f->name, "type", "the id of a stored record cannot change");
            }
            if (i == 0 && vals[0][0] == NVAL_NULL && !base) {
                gen_id(s, b);
            } else if ((rc = nw_field_convert(&t->def, i, vals[i], b, err))) {
                return rc;
            }
        } else if (bf) {
            nw_buf_append(b, bf, bspan);
        } else if (i == 0) {
            gen_id(s, b);
        } else if (f->def) {
            nw_buf_append(b, f->def, f->def_len);
        } else {
            nw_buf_byte(b, NVAL_NULL);
        }
        if (bf) bf += bspan;
        if (b->oom) return nw_error_nomem(err);
        const uint8_t *fv = b->p + start;
        if (fv[0] == NVAL_NULL && (f->required || i == 0))
            return nw_error_set(err, NW_E_VALIDATION, t->def.name, f->name, "required", "is required");
        if (f->type == NW_T_REF && fv[0] == NVAL_STR && (vals[i] || !base) && !s->applying) {
            nw_table *target = ref_target(s, f);
            /* refs may name entities defined later; writing one before then is a schema mistake */
            if (!target)
                return nw_error_set(err, NW_E_SCHEMA, t->def.name, f->name, "ref", "refers to entity %s, which is not defined", f->ref_name);
            uint32_t slot = nw_table_find(target, (const char *)fv + 5, nw_rd_u32(fv + 1));
            if (slot == NW_NO_SLOT || !nw_table_visible(s, target, slot)) {
                char got[64];
                nw_describe_value(fv, got, sizeof got);
                return nw_error_set(err, NW_E_VALIDATION, t->def.name, f->name, "ref", "no %s with id %s", target->def.name, got);
            }
        }
    }
    nw_buf_patch_u32(b, 0, (uint32_t)(b->len - 4));
    return b->oom ? nw_error_nomem(err) : NW_OK;
}

static nw_code check_unique(nw_table *t, const uint8_t *row, uint32_t self, nw_error *err) {
    for (uint32_t u = 0; u < t->def.nuniques; u++) {
        if (uniq_find(t, u, row, self) == NW_NO_SLOT) continue;
        const nw_keydef *k = &t->def.uniques[u];
        char names[NW_ERR_NAME];
        size_t n = 0;
        for (uint32_t i = 0; i < k->nfields; i++) {
            const char *fn = t->def.fields[k->fields[i]].name;
            size_t l = strlen(fn);
            if (n + l + 2 >= sizeof names) break;
            if (i) names[n++] = ',';
            memcpy(names + n, fn, l);
            n += l;
        }
        names[n] = 0;
        return nw_error_set(err, NW_E_DUPLICATE, t->def.name, names, "unique",
                            "another record has the same %s", names);
    }
    return NW_OK;
}

/* Evaluated validity-wise: a hidden (expired) record still holds its slot
 * until reclaimed; writes reclaim it first so ids and unique keys free up. */
static nw_code delete_slot(nw_store *s, nw_table *t, uint32_t slot, nw_event_type type, nw_error *err, int depth);

static nw_code reclaim_if_expired(nw_store *s, nw_table *t, uint32_t slot, nw_error *err) {
    if (slot == NW_NO_SLOT || nw_table_visible(s, t, slot)) return NW_OK;
    return delete_slot(s, t, slot, NW_EV_EXPIRED, err, 0);
}

static double expiry_for(nw_store *s, nw_table *t, double ttl_ms, double current) {
    if (ttl_ms > 0) return s->now + ttl_ms;
    if (ttl_ms == 0) return 0;
    if (current != 0 || t->def.ttl > 0) return t->def.ttl > 0 ? s->now + t->def.ttl : current;
    return 0;
}

static nw_code insert_row(nw_store *s, nw_table *t, double ttl_ms, uint32_t *out_slot, nw_error *err) {
    const uint8_t *row = s->scratch.p;
    uint32_t il;
    const uint8_t *id = row_id(row, &il);
    uint32_t existing = nw_table_find(t, (const char *)id, il);
    nw_code rc = reclaim_if_expired(s, t, existing, err);
    if (rc) return rc;
    if (existing != NW_NO_SLOT && t->rows[existing]) {
        char got[64];
        nw_describe_value(row + 4, got, sizeof got);
        return nw_error_set(err, NW_E_DUPLICATE, t->def.name, t->def.fields[0].name, "unique", "a record with id %s already exists", got);
    }
    if (t->def.nuniques) {
        /* expired holders of the same unique key are reclaimed first */
        for (uint32_t u = 0; u < t->def.nuniques; u++) {
            uint32_t other = uniq_find(t, u, row, NW_NO_SLOT);
            if ((rc = reclaim_if_expired(s, t, other, err))) return rc;
        }
        row = s->scratch.p;
        if ((rc = check_unique(t, row, NW_NO_SLOT, err))) return rc;
    }
    double exp = expiry_for(s, t, ttl_ms, 0);
    if (!table_reserve_slot(t) || !log_reserve(s) || !reserve_links(t) || (exp != 0 && !table_need_expires(t)))
        return nw_error_nomem(err);
    size_t size = s->scratch.len;
    uint8_t *copy = nw_malloc(size);
    if (!copy) return nw_error_nomem(err);
    memcpy(copy, s->scratch.p, size);
    uint32_t slot;
    if (t->nfree) {
        slot = t->free_slots[--t->nfree];
    } else {
        slot = t->nslots++;
        if (t->expires) t->expires[slot] = 0;
    }
    if (!t->expires && exp != 0) {
        /* first TTL of a table created before any slot existed */
        if (!table_need_expires(t)) { t->free_slots[t->nfree++] = slot; nw_free(copy); return nw_error_nomem(err); }
    }
    t->rows[slot] = copy;
    uint32_t cl;
    const uint8_t *cid = row_id(copy, &cl);
    t->hashes[slot] = nw_hash_bytes(cid, cl);
    if (t->expires) t->expires[slot] = exp;
    link_slot(t, slot);
    t->live++;
    t->row_bytes += size;
    s->log[s->nlog++] = (undo){ U_INSERT, t->index, slot, NULL, 0, 0 };
    if ((rc = log_write(s, t, NW_CL_CREATE, copy, 0, err))) return rc;
    size_t before = emit(s, NW_EV_BEFORE_SAVE, t, copy, NULL, 0);
    emit_after(s, NW_EV_CREATED, t, copy, NULL, ~(uint64_t)0 >> (64 - t->def.nfields), before);
    *out_slot = slot;
    return NW_OK;
}

/* Replaces the row in slot with s->scratch (validated). */
static nw_code replace_row(nw_store *s, nw_table *t, uint32_t slot, double ttl_ms, nw_error *err) {
    const uint8_t *old = t->rows[slot];
    uint64_t mask = changed_mask(t, old, s->scratch.p);
    double old_exp = t->expires ? t->expires[slot] : 0;
    double exp = expiry_for(s, t, ttl_ms, old_exp);
    if (!mask && exp == old_exp) return NW_OK;   /* nothing changes: no write, no event */
    nw_code rc;
    if (t->def.nuniques && (rc = check_unique(t, s->scratch.p, slot, err))) return rc;
    if (!log_reserve(s) || (exp != 0 && !table_need_expires(t))) return nw_error_nomem(err);
    size_t size = s->scratch.len;
    uint8_t *copy = nw_malloc(size);
    if (!copy) return nw_error_nomem(err);
    memcpy(copy, s->scratch.p, size);
    /* only the structures over changed fields move (all of them if the id
     * changed: ties break by id); frees set entries, so relinking fits */
    uint64_t relink = (mask & 1) ? ~(uint64_t)0 : mask;
    unlink_fields(t, slot, relink);
    t->rows[slot] = copy;
    t->row_bytes += size;
    t->row_bytes -= row_size(old);
    if (t->expires) t->expires[slot] = exp;
    link_fields(t, slot, relink);
    s->log[s->nlog++] = (undo){ U_UPDATE, t->index, slot, (uint8_t *)old, old_exp, 0 };
    if (mask && (rc = log_write(s, t, NW_CL_UPDATE, copy, mask, err))) return rc;
    if (mask) {
        size_t before = emit(s, NW_EV_BEFORE_SAVE, t, copy, old, mask);
        emit_after(s, NW_EV_UPDATED, t, copy, old, mask, before);
    }
    return NW_OK;
}

nw_code nw_store_create(nw_store *s, uint32_t table, const uint8_t *data, double ttl_ms, bool upsert, uint32_t *slot, nw_error *err) {
    nw_table *t = nw_store_table(s, table);
    if (!t) return nw_error_set(err, NW_E_SCHEMA, NULL, NULL, "schema", "no such entity");
    if (upsert) {
        const uint8_t *vals[NW_MAX_FIELDS];
        nw_code rc = gather(t, data, vals, err);
        if (rc) return rc;
        if (vals[0] && vals[0][0] == NVAL_STR) {
            uint32_t found = nw_table_find(t, (const char *)vals[0] + 5, nw_rd_u32(vals[0] + 1));
            if ((rc = reclaim_if_expired(s, t, found, err))) return rc;
            if (found != NW_NO_SLOT && t->rows[found]) {
                if ((rc = build_row(s, t, data, t->rows[found], err))) return rc;
                if ((rc = replace_row(s, t, found, ttl_ms, err))) return rc;
                *slot = found;
                return NW_OK;
            }
        }
    }
    nw_code rc = build_row(s, t, data, NULL, err);
    if (rc) return rc;
    return insert_row(s, t, ttl_ms, slot, err);
}

static nw_code not_found(nw_table *t, const char *id, size_t idlen, nw_error *err) {
    return nw_error_set(err, NW_E_NOT_FOUND, t->def.name, t->def.fields[0].name, NULL,
                        "no record with id \"%.*s\"", (int)(idlen > 60 ? 60 : idlen), id);
}

nw_code nw_store_update(nw_store *s, uint32_t table, const char *id, size_t idlen, const uint8_t *patch, double ttl_ms, uint32_t *slot, nw_error *err) {
    nw_table *t = nw_store_table(s, table);
    if (!t) return nw_error_set(err, NW_E_SCHEMA, NULL, NULL, "schema", "no such entity");
    uint32_t found = nw_table_find(t, id, idlen);
    if (found == NW_NO_SLOT || !nw_table_visible(s, t, found)) return not_found(t, id, idlen, err);
    nw_code rc = build_row(s, t, patch, t->rows[found], err);
    if (rc) return rc;
    if ((rc = replace_row(s, t, found, ttl_ms, err))) return rc;
    *slot = found;
    return NW_OK;
}

/* ---- server state ------------------------------------------------------------------------------ */

static nw_code delete_slot(nw_store *s, nw_table *t, uint32_t slot, nw_event_type type, nw_error *err, int depth);

static nw_code put_row(nw_store *s, nw_table *t, const char *id, size_t idlen, const uint8_t *data, nw_error *err) {
    uint32_t found = nw_table_find(t, id, idlen);
    nw_code rc = reclaim_if_expired(s, t, found, err);
    if (rc) return rc;
    if (found != NW_NO_SLOT && !t->rows[found]) found = NW_NO_SLOT;
    if (!data) return found == NW_NO_SLOT ? NW_OK : delete_slot(s, t, found, NW_EV_DELETED, err, 0);
    if ((rc = build_row(s, t, data, NULL, err))) return rc;
    uint32_t il;
    const uint8_t *rid = row_id(s->scratch.p, &il);
    if (il != idlen || memcmp(rid, id, idlen) != 0)
        return nw_error_set(err, NW_E_VALIDATION, t->def.name, t->def.fields[0].name, "type", "record id does not match the change's id");
    /* The server's records satisfy its unique constraints; a local record in
     * the way holds a change the server has not accepted, so it gives way. */
    for (uint32_t u = 0; u < t->def.nuniques; u++) {
        uint32_t other;
        while ((other = uniq_find(t, u, s->scratch.p, found)) != NW_NO_SLOT) {
            nw_event_type why = nw_table_visible(s, t, other) ? NW_EV_DELETED : NW_EV_EXPIRED;
            if ((rc = delete_slot(s, t, other, why, err, 0))) return rc;
        }
    }
    if (found != NW_NO_SLOT) return replace_row(s, t, found, -1, err);
    uint32_t slot;
    return insert_row(s, t, -1, &slot, err);
}

nw_code nw_store_put(nw_store *s, uint32_t table, const char *id, size_t idlen, const uint8_t *data, nw_error *err) {
    nw_table *t = nw_store_table(s, table);
    if (!t) return nw_error_set(err, NW_E_SCHEMA, NULL, NULL, "schema", "no such entity");
    if (!idlen) return nw_error_set(err, NW_E_VALIDATION, t->def.name, t->def.fields[0].name, "required", "is required");
    if (data && nw_reserved_key(id, idlen))
        return nw_error_set(err, NW_E_VALIDATION, t->def.name, t->def.fields[0].name, "reserved-key", "\"%.*s\" is reserved (__proto__, constructor and prototype cannot be ids)", (int)idlen, id);
    bool saved = s->applying;
    s->applying = true;
    nw_code rc = put_row(s, t, id, idlen, data, err);
    s->applying = saved;
    return rc;
}

/* ---- deletes and references ----------------------------------------------------------------- */

#define MAX_CASCADE_DEPTH 64

/* Applies onDelete rules of every ref field pointing at (t, id). */
static nw_code apply_refs(nw_store *s, nw_table *t, const uint8_t *id, uint32_t il, nw_error *err, int depth) {
    for (uint32_t ti = 0; ti < s->ntables; ti++) {
        nw_table *rt = s->tables[ti];
        for (uint32_t fi = 0; fi < rt->def.nfields; fi++) {
            nw_field *f = &rt->def.fields[fi];
            if (f->type != NW_T_REF || ref_target(s, f) != t) continue;
            for (uint32_t slot = 0; slot < rt->nslots; slot++) {
                const uint8_t *row = rt->rows[slot];
                if (!row) continue;
                const uint8_t *fv = nw_row_field(row, fi);
                if (fv[0] != NVAL_STR || nw_rd_u32(fv + 1) != il || memcmp(fv + 5, id, il) != 0) continue;
                nw_code rc;
                if (!nw_table_visible(s, rt, slot)) {
                    rc = delete_slot(s, rt, slot, NW_EV_EXPIRED, err, depth + 1);
                } else if (f->on_delete == NW_ONDEL_RESTRICT) {
                    uint32_t rl;
                    const uint8_t *rid = row_id(row, &rl);
                    return nw_error_set(err, NW_E_CONFLICT, rt->def.name, f->name, "restrict",
                                        "%s \"%.*s\" still refers to this %s \"%.*s\" (onDelete: restrict)",
                                        rt->def.name, (int)(rl > 40 ? 40 : rl), rid, t->def.name, (int)(il > 40 ? 40 : il), id);
                } else if (f->on_delete == NW_ONDEL_CASCADE) {
                    rc = delete_slot(s, rt, slot, NW_EV_DELETED, err, depth + 1);
                } else {
                    /* nullify: rebuild the row with the field set to null */
                    nw_buf *b = &s->scratch;
                    nw_buf_reset(b);
                    nw_buf_u32(b, 0);
                    const uint8_t *src = row + 4;
                    for (uint32_t k = 0; k < rt->def.nfields; k++) {
                        size_t n = nw_field_span(src);
                        if (k == fi) nw_buf_byte(b, NVAL_NULL);
                        else nw_buf_append(b, src, n);
                        src += n;
                    }
                    nw_buf_patch_u32(b, 0, (uint32_t)(b->len - 4));
                    if (b->oom) return nw_error_nomem(err);
                    if (f->required)
                        return nw_error_set(err, NW_E_VALIDATION, rt->def.name, f->name, "required",
                                            "is required, so it cannot be nullified when the %s is deleted", t->def.name);
                    rc = replace_row(s, rt, slot, -1, err);
                }
                if (rc) return rc;
            }
        }
    }
    return NW_OK;
}

static nw_code delete_slot(nw_store *s, nw_table *t, uint32_t slot, nw_event_type type, nw_error *err, int depth) {
    if (depth > MAX_CASCADE_DEPTH)
        return nw_error_set(err, NW_E_LIMIT, t->def.name, NULL, "depth", "cascading deletes nest deeper than %d", MAX_CASCADE_DEPTH);
    if (!log_reserve(s)) return nw_error_nomem(err);
    uint8_t *row = t->rows[slot];
    size_t before = type == NW_EV_DELETED ? emit(s, NW_EV_BEFORE_DELETE, t, row, NULL, 0) : NO_EVENT;
    unlink_slot(t, slot);
    t->rows[slot] = NULL;
    t->live--;
    t->row_bytes -= row_size(row);
    s->log[s->nlog++] = (undo){ U_DELETE, t->index, slot, row, t->expires ? t->expires[slot] : 0, 0 };
    /* expiry is each store's own business: only real deletes are logged */
    nw_code rc = type == NW_EV_DELETED ? log_write(s, t, NW_CL_DELETE, row, 0, err) : NW_OK;
    if (rc) return rc;
    emit_after(s, type, t, row, NULL, 0, before);
    /* server state arrives with the effects of its deletes already applied */
    if (s->applying) return NW_OK;
    uint32_t il;
    const uint8_t *id = row_id(row, &il);
    return apply_refs(s, t, id, il, err, depth);
}

nw_code nw_store_delete(nw_store *s, uint32_t table, const char *id, size_t idlen, bool *existed, nw_error *err) {
    nw_table *t = nw_store_table(s, table);
    if (!t) return nw_error_set(err, NW_E_SCHEMA, NULL, NULL, "schema", "no such entity");
    uint32_t found = nw_table_find(t, id, idlen);
    *existed = false;
    if (found == NW_NO_SLOT) return NW_OK;
    if (!nw_table_visible(s, t, found)) return reclaim_if_expired(s, t, found, err);
    *existed = true;
    return delete_slot(s, t, found, NW_EV_DELETED, err, 0);
}

/* ---- bulk writes ------------------------------------------------------------------------------- */

nw_code nw_store_insert_many(nw_store *s, uint32_t table, const uint8_t *arr, double ttl_ms, bool upsert,
                             nw_slot_fn each, void *ud, nw_error *err) {
    nw_table *t = nw_store_table(s, table);
    if (!t) return nw_error_set(err, NW_E_SCHEMA, NULL, NULL, "schema", "no such entity");
    if (arr[0] != NVAL_ARR) return nw_error_set(err, NW_E_ARG, NULL, NULL, NULL, "expected an array");
    const uint8_t *it;
    uint32_t n = nval_arr(arr, &it);
    /* Room for the whole batch at once (an undo entry and an outbox entry
     * per record); when it cannot be had, each write reserves its own. */
    (void)(table_reserve_slots(t, n) && log_reserve_n(s, 2 * (size_t)n) &&
           slotset_reserve(&t->pk, n, t, pk_hash, NULL));
    /* and for the batch's events, sized from its input (a row is about its
     * input less the keys): one buffer instead of doubling and copying it */
    if (s->capture) nw_buf_hint(&s->events, nval_span(arr) + (EVENT_BYTES + (s->capture_before ? EVENT_SAME_BYTES : 0)) * (size_t)n);
    for (uint32_t i = 0; i < n; i++, it += nval_span(it)) {
        uint32_t slot;
        nw_code rc = nw_store_create(s, table, it, ttl_ms, upsert, &slot, err);
        if (rc) { err->index = (int32_t)i; return rc; }
        if (each) each(ud, t, slot);
    }
    return NW_OK;
}

/* The ids of the rows in `slots`, each as u32 length + bytes (writes may
 * free or move the rows, so bulk writes find each record again by id). */
static nw_code collect_ids(const nw_table *t, const uint32_t *slots, uint32_t n, nw_buf *ids, nw_error *err) {
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *f = nw_table_row(t, slots[i]) + 4;
        nw_buf_append(ids, f + 1, 4 + (size_t)nw_rd_u32(f + 1));
    }
    return ids->oom ? nw_error_nomem(err) : NW_OK;
}

nw_code nw_store_write_slots(nw_store *s, uint32_t table, const uint32_t *slots, uint32_t n, const uint8_t *patch,
                             uint32_t *affected, nw_error *err) {
    nw_table *t = nw_store_table(s, table);
    if (!t) return nw_error_set(err, NW_E_SCHEMA, NULL, NULL, "schema", "no such entity");
    nw_buf ids;
    nw_buf_init(&ids);
    nw_code rc = collect_ids(t, slots, n, &ids, err);
    *affected = 0;
    size_t at = 0;
    for (uint32_t i = 0; i < n && !rc; i++) {
        uint32_t il = nw_rd_u32(ids.p + at);
        const char *id = (const char *)ids.p + at + 4;
        at += 4 + il;
        if (patch) {
            uint32_t slot;
            rc = nw_store_update(s, table, id, il, patch, -1, &slot, err);
            if (!rc) (*affected)++;
        } else {
            bool existed = false;
            rc = nw_store_delete(s, table, id, il, &existed, err);
            if (!rc && existed) (*affected)++;
        }
        if (rc) err->index = (int32_t)i;
    }
    nw_buf_free(&ids);
    return rc;
}

nw_code nw_store_expire(nw_store *s, int table, double now_ms, uint32_t *count, nw_error *err) {
    double saved = s->now;
    s->now = now_ms;
    *count = 0;
    nw_code rc = NW_OK;
    for (uint32_t ti = 0; ti < s->ntables && !rc; ti++) {
        if (table >= 0 && (uint32_t)table != ti) continue;
        nw_table *t = s->tables[ti];
        if (!t->expires) continue;
        for (uint32_t slot = 0; slot < t->nslots && !rc; slot++) {
            if (!t->rows[slot] || nw_table_visible(s, t, slot)) continue;
            rc = delete_slot(s, t, slot, NW_EV_EXPIRED, err, 0);
            if (!rc) (*count)++;
        }
    }
    s->now = saved;
    return rc;
}

/* ---- raw access for snapshots ------------------------------------------------------------- */

const uint8_t *nw_table_schema(const nw_table *t, uint32_t *len) { *len = t->schema_len; return t->schema; }
double nw_table_expires(const nw_table *t, uint32_t slot) { return t->expires && slot < t->nslots ? t->expires[slot] : 0; }

/* Checks one stored field of type f at p (at most len bytes); returns its
 * span or 0 if malformed. */
static size_t check_field(const nw_field *f, const uint8_t *p, size_t len, bool is_id) {
    if (!len) return 0;
    if (p[0] == NVAL_NULL) return is_id ? 0 : 1;
    return nw_type_of(f->type)->span(f, p, len);
}

bool nw_table_check_fields(const nw_table *t, uint64_t mask, const uint8_t *fields, uint32_t len) {
    size_t off = 0;
    for (uint32_t i = 0; i < t->def.nfields; i++) {
        if (!(mask >> i & 1)) continue;
        size_t n = check_field(&t->def.fields[i], fields + off, len - off, i == 0);
        if (!n) return false;
        off += n;
    }
    return off == len && (t->def.nfields == 64 || mask >> t->def.nfields == 0);
}

nw_code nw_store_insert_raw(nw_store *s, uint32_t table, const uint8_t *fields, uint32_t len, double expires, nw_error *err) {
    nw_table *t = nw_store_table(s, table);
    if (!t) return nw_error_set(err, NW_E_CORRUPT, NULL, NULL, NULL, "snapshot names a table that does not exist");
    size_t off = 0;
    for (uint32_t i = 0; i < t->def.nfields; i++) {
        size_t n = check_field(&t->def.fields[i], fields + off, len - off, i == 0);
        if (!n) return nw_error_set(err, NW_E_CORRUPT, t->def.name, t->def.fields[i].name, NULL, "malformed record in snapshot");
        off += n;
    }
    if (off != len) return nw_error_set(err, NW_E_CORRUPT, t->def.name, NULL, NULL, "malformed record in snapshot");
    nw_buf *b = &s->scratch;
    nw_buf_reset(b);
    nw_buf_u32(b, len);
    nw_buf_append(b, fields, len);
    if (b->oom) return nw_error_nomem(err);
    bool saved = s->capture, saved_applying = s->applying;
    s->capture = false;
    s->applying = true;     /* restored rows are not new writes */
    uint32_t slot;
    double save_now = s->now;
    s->now = 0; /* expiry is given, not computed */
    nw_code rc = insert_row(s, t, 0, &slot, err);
    s->now = save_now;
    s->capture = saved;
    s->applying = saved_applying;
    if (rc == NW_E_DUPLICATE) { if (err) err->code = NW_E_CORRUPT; return NW_E_CORRUPT; }   /* keeps field and rule */
    if (rc) return rc;
    if (expires != 0) {
        if (!table_need_expires(t)) return nw_error_nomem(err);
        t->expires[slot] = expires;
    }
    return NW_OK;
}

/* ---- scans ----------------------------------------------------------------------------------- */

static const nw_table *sort_table;

static int cmp_pk(const void *a, const void *b) {
    uint32_t al, bl;
    const uint8_t *ia = row_id(sort_table->rows[*(const uint32_t *)a], &al);
    const uint8_t *ib = row_id(sort_table->rows[*(const uint32_t *)b], &bl);
    int c = memcmp(ia, ib, al < bl ? al : bl);
    return c ? c : (al < bl ? -1 : al > bl);
}

nw_code nw_table_scan(const nw_store *s, const nw_table *t, uint32_t **out, uint32_t *n, nw_error *err) {
    uint32_t *v = nw_malloc((size_t)(t->live ? t->live : 1) * sizeof *v);
    if (!v) return nw_error_nomem(err);
    uint32_t k = 0;
    nw_oindex *pk = nw_table_index((nw_table *)t, 0);
    if (pk) {
        nw_ocursor c;
        uint32_t slot;
        nw_ocursor_seek(&c, pk, 0);
        while (nw_ocursor_next(&c, &slot)) if (nw_table_visible(s, t, slot)) v[k++] = slot;
        *out = v;
        *n = k;
        return NW_OK;
    }
    for (uint32_t slot = 0; slot < t->nslots; slot++)
        if (nw_table_visible(s, t, slot)) v[k++] = slot;
    sort_table = t;
    qsort(v, k, sizeof *v, cmp_pk);
    *out = v;
    *n = k;
    return NW_OK;
}

nw_code nw_table_search(const nw_store *s, nw_table *t, const char *text, size_t len, double limit,
                        nw_row_filter keep, void *ud, uint32_t **out, uint32_t *count, nw_error *err) {
    *out = NULL;
    *count = 0;
    nw_fts *f = nw_table_fts(t);
    if (!f) return nw_error_nomem(err);
    nw_fts_hit *hits = NULL;
    size_t n = 0;
    if (nw_fts_query(f, text, len, &hits, &n) != 0) return nw_error_nomem(err);
    uint32_t *slots = nw_malloc((n ? n : 1) * sizeof *slots);
    if (!slots) { nw_free(hits); return nw_error_nomem(err); }
    uint32_t k = 0;
    for (size_t i = 0; i < n && (limit < 0 || k < limit); i++) {
        uint32_t slot = hits[i].slot;
        if (!nw_table_visible(s, t, slot)) continue;
        if (keep && !keep(ud, t->rows[slot])) continue;
        slots[k++] = slot;
    }
    nw_free(hits);
    *out = slots;
    *count = k;
    return NW_OK;
}

void *nw_table_reader_cache(const nw_table *t, size_t size) {
    nw_table *w = (nw_table *)t;    /* a cache: not part of the table's value */
    if (!w->reader_cache && size) w->reader_cache = nw_calloc(1, size);
    return w->reader_cache;
}

size_t nw_table_bytes(const nw_table *t) {
    size_t b = t->row_bytes + (size_t)t->cap * (sizeof(uint8_t *) + 2 * sizeof(uint32_t)) + (size_t)t->pk.cap * 4;
    for (uint32_t i = 0; i < t->nidx; i++) b += nw_oindex_bytes(t->idx[i].ix) + (size_t)t->idx[i].abcap * 16;
    if (t->fts) b += nw_fts_bytes(t->fts);
    for (uint32_t i = 0; t->tri && i < t->def.nsearch; i++) if (t->tri[i]) b += nw_trigram_bytes(t->tri[i]);
    if (t->expires) b += (size_t)t->cap * sizeof(double);
    for (uint32_t u = 0; u < t->def.nuniques; u++) b += (size_t)t->uniq[u].cap * 4;
    return b;
}

/* Each slot's abbreviation is its row's, and the index is in row order. */
static int check_abbreviations(const sindex *x) {
    nw_ocursor c;
    nw_ocursor_seek(&c, x->ix, 0);
    uint32_t slot, prev = NW_NO_SLOT;
    while (nw_ocursor_next(&c, &slot)) {
        uint64_t k[2];
        abbreviate_slot(x, slot, k);
        if (slot >= x->abcap || k[0] != x->ab[2 * (size_t)slot] || k[1] != x->ab[2 * (size_t)slot + 1]) return 1;
        if (prev != NW_NO_SLOT && idx_cmp_rows(x, prev, slot) >= 0) return 1;
        prev = slot;
    }
    return 0;
}

int nw_store_check(const nw_store *s) {
    for (uint32_t ti = 0; ti < s->ntables; ti++) {
        const nw_table *t = s->tables[ti];
        uint32_t live = 0;
        for (uint32_t slot = 0; slot < t->nslots; slot++) {
            if (!t->rows[slot]) continue;
            live++;
            uint32_t il;
            const uint8_t *id = row_id(t->rows[slot], &il);
            if (nw_table_find(t, (const char *)id, il) != slot) return 1;
        }
        if (live != t->live || t->pk.live != live) return 2;
        for (uint32_t i = 0; i < t->nidx; i++) {
            if (t->idx[i].stale) continue;
            if (nw_oindex_size(t->idx[i].ix) != live) return 3;
            if (nw_oindex_check(t->idx[i].ix)) return 4;
            if (t->idx[i].ab && check_abbreviations(&t->idx[i])) return 5;
        }
    }
    return 0;
}
