/* oindex.c - ordered slot set: sorted blocks under a directory with a
 * Fenwick tree of block sizes (see oindex.h for the contract). */
#include "oindex.h"
#include "alloc.h"
#include <string.h>

#define BMAX NW_OINDEX_BLOCK
/* A block that falls below this many slots tries to merge with a
 * neighbour; a merged block stays below MERGE_MAX so that the next few
 * inserts do not split it again at once. */
#define MERGE_BELOW (BMAX / 4)
#define MERGE_MAX (BMAX * 3 / 4)

typedef struct oblock {
    uint32_t *s;        /* cap slots, the first n in order */
    uint16_t n, cap;
    uint32_t fen;       /* Fenwick node for this block (1-based index = position + 1) */
    uint64_t k0;        /* key of s[0] when the index has a key function */
} oblock;

struct nw_oindex {
    nw_ocmp cmp;
    nw_okey key;        /* NULL: no directory keys */
    const void *ctx;
    oblock *dir;
    size_t nb, dircap;
    size_t size;
};

/* Capacity for a block that must hold `need` slots: small blocks start at
 * 16, then grow by 64 so that slack stays a few percent of a full block. */
static uint16_t block_cap(size_t need) {
    if (need <= 16) return 16;
    size_t c = (need + 63) & ~(size_t)63;
    return (uint16_t)(c > BMAX ? BMAX : c);
}

/* --- Fenwick tree over block sizes ------------------------------------------- */

static void fen_build(nw_oindex *ix) {
    size_t nb = ix->nb;
    for (size_t i = 1; i <= nb; i++) ix->dir[i - 1].fen = ix->dir[i - 1].n;
    for (size_t i = 1; i <= nb; i++) {
        size_t j = i + (i & (0 - i));
        if (j <= nb) ix->dir[j - 1].fen += ix->dir[i - 1].fen;
    }
}

/* Adds delta to block b's size. For the last block this touches one node,
 * which keeps appends O(1). */
static void fen_add(nw_oindex *ix, size_t b, int delta) {
    for (size_t i = b + 1; i <= ix->nb; i += i & (0 - i))
        ix->dir[i - 1].fen = (uint32_t)((int64_t)ix->dir[i - 1].fen + delta);
}

/* Number of slots in blocks [0, b). */
static size_t fen_prefix(const nw_oindex *ix, size_t b) {
    size_t s = 0;
    for (size_t i = b; i > 0; i -= i & (0 - i)) s += ix->dir[i - 1].fen;
    return s;
}

/* Block and offset holding rank (rank < size; blocks are never empty). */
static void fen_find(const nw_oindex *ix, size_t rank, size_t *block, size_t *off) {
    size_t pos = 0, rem = rank, step = 1;
    while (step * 2 <= ix->nb) step *= 2;
    for (; step; step >>= 1) {
        if (pos + step <= ix->nb && ix->dir[pos + step - 1].fen <= rem) {
            pos += step;
            rem -= ix->dir[pos - 1].fen;
        }
    }
    *block = pos;
    *off = rem;
}

/* --- searching ----------------------------------------------------------------- */

/* One predicate for every search: "slot sorts before the probe". It is true
 * for a prefix of the sequence, so each search finds where it turns false. */
typedef struct probe {
    nw_ocmp cmp;
    nw_okeycmp kcmp;
    const void *ctx;
    const void *key;
    uint32_t slot;
    bool strict;    /* before = probe > s (lower bound) rather than >= (upper) */
    bool keyed;     /* pk is the probe slot's key (nw_okey) */
    uint64_t pk;
} probe;

/* A probe for a slot in the index's order, with its key when it has one. */
static probe slot_probe(const nw_oindex *ix, uint32_t slot) {
    probe p = { ix->cmp, NULL, ix->ctx, NULL, slot, true, ix->key != NULL, 0 };
    if (p.keyed) p.pk = ix->key(ix->ctx, slot);
    return p;
}

/* Keeps block b's directory key current after its first slot changed. */
static void set_k0(const nw_oindex *ix, oblock *b) {
    if (ix->key && b->n) b->k0 = ix->key(ix->ctx, b->s[0]);
}

static inline bool before(const probe *p, uint32_t s) {
    int c = p->kcmp ? p->kcmp(p->ctx, p->key, s) : p->cmp(p->ctx, p->slot, s);
    return p->strict ? c > 0 : c >= 0;
}

/* The first block whose first slot is not `before` (nb when none). */
static size_t locate_block(const nw_oindex *ix, const probe *p) {
    size_t lo = 0, hi = ix->nb;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const oblock *b = &ix->dir[mid];
        /* differing keys decide as cmp would; equal ones ask it */
        bool bef = p->keyed && b->k0 != p->pk ? b->k0 < p->pk : before(p, b->s[0]);
        if (bef) lo = mid + 1; else hi = mid;
    }
    return lo;
}

/* First position where `before` is false, as (block, pos); pos may equal
 * the block's n (the position is then the start of the next block). Binary
 * search over the first slots of the blocks, then inside one block whose
 * first slot is already known to be before: ceil(log2(nb+1)) +
 * ceil(log2(n)) comparisons. */
static void locate(const nw_oindex *ix, const probe *p, size_t *block, size_t *pos) {
    size_t lo = locate_block(ix, p);
    if (lo == 0) { *block = 0; *pos = 0; return; }
    const oblock *b = &ix->dir[lo - 1];
    size_t l = 1, h = b->n;
    while (l < h) {
        size_t mid = l + (h - l) / 2;
        if (before(p, b->s[mid])) l = mid + 1; else h = mid;
    }
    *block = lo - 1;
    *pos = l;
}

static size_t rank_of(const nw_oindex *ix, const probe *p) {
    if (ix->nb == 0) return 0;
    size_t b, pos;
    locate(ix, p, &b, &pos);
    return fen_prefix(ix, b) + pos;
}

/* Location of a present slot; false if not found. The directory search
 * compares rows (about log2 of the block count); inside the block the slot
 * is found by its number, without comparing rows: a removal costs half the
 * row comparisons of an insertion. */
static bool find_slot(const nw_oindex *ix, uint32_t slot, size_t *block, size_t *pos) {
    if (ix->nb == 0) return false;
    probe p = slot_probe(ix, slot);
    size_t lo = locate_block(ix, &p);
    if (lo < ix->nb && ix->dir[lo].s[0] == slot) { *block = lo; *pos = 0; return true; }
    if (lo == 0) return false;
    const oblock *blk = &ix->dir[lo - 1];
    for (size_t i = 1; i < blk->n; i++) {
        if (blk->s[i] == slot) { *block = lo - 1; *pos = i; return true; }
    }
    return false;
}

/* --- lifecycle ----------------------------------------------------------------- */

nw_oindex *nw_oindex_new(nw_ocmp cmp, const void *ctx) {
    nw_oindex *ix = nw_calloc(1, sizeof *ix);
    if (!ix) return NULL;
    ix->cmp = cmp;
    ix->ctx = ctx;
    return ix;
}

static void free_blocks(oblock *dir, size_t nb) {
    for (size_t i = 0; i < nb; i++) nw_free(dir[i].s);
}

void nw_oindex_free(nw_oindex *ix) {
    if (!ix) return;
    free_blocks(ix->dir, ix->nb);
    nw_free(ix->dir);
    nw_free(ix);
}

size_t nw_oindex_size(const nw_oindex *ix) { return ix->size; }

void nw_oindex_set_key(nw_oindex *ix, nw_okey key) {
    ix->key = key;
    for (size_t i = 0; i < ix->nb; i++) set_k0(ix, &ix->dir[i]);
}

/* --- insert -------------------------------------------------------------------- */

/* Room for one more directory entry; -1 on OOM (directory unchanged). */
static int dir_reserve(nw_oindex *ix) {
    if (ix->nb < ix->dircap) return 0;
    size_t cap = ix->dircap ? ix->dircap * 2 : 4;
    oblock *d = nw_realloc(ix->dir, cap * sizeof *d);
    if (!d) return -1;
    ix->dir = d;
    ix->dircap = cap;
    return 0;
}

static void dir_insert_at(nw_oindex *ix, size_t at, oblock b) {
    memmove(ix->dir + at + 1, ix->dir + at, (ix->nb - at) * sizeof *ix->dir);
    ix->dir[at] = b;
    ix->nb++;
}

static void dir_delete_at(nw_oindex *ix, size_t at) {
    memmove(ix->dir + at, ix->dir + at + 1, (ix->nb - at - 1) * sizeof *ix->dir);
    ix->nb--;
}

static void block_put(oblock *b, size_t pos, uint32_t slot) {
    memmove(b->s + pos + 1, b->s + pos, (b->n - pos) * sizeof *b->s);
    b->s[pos] = slot;
    b->n++;
}

/* A new block holding just `slot`, entered into the directory at `at`. */
static int new_single_block(nw_oindex *ix, size_t at, uint32_t slot, uint16_t cap) {
    if (dir_reserve(ix) < 0) return -1;
    uint32_t *s = nw_malloc((size_t)cap * sizeof *s);
    if (!s) return -1;
    s[0] = slot;
    dir_insert_at(ix, at, (oblock){ s, 1, cap, 0, 0 });
    set_k0(ix, &ix->dir[at]);
    fen_build(ix);
    return 0;
}

/* Splits the full block b at its middle and puts slot at pos. */
static int split_insert(nw_oindex *ix, size_t b, size_t pos, uint32_t slot) {
    if (dir_reserve(ix) < 0) return -1;
    oblock *L = &ix->dir[b];
    size_t mid = L->n / 2, rn = L->n - mid;
    bool right = pos >= mid;
    uint16_t rcap = block_cap(rn + right);
    uint32_t *rs = nw_malloc((size_t)rcap * sizeof *rs);
    if (!rs) return -1;
    /* nothing can fail from here on */
    memcpy(rs, L->s + mid, rn * sizeof *rs);
    oblock R = { rs, (uint16_t)rn, rcap, 0, 0 };
    L->n = (uint16_t)mid;
    if (right) block_put(&R, pos - mid, slot); else block_put(L, pos, slot);
    set_k0(ix, L);
    set_k0(ix, &R);
    /* Give back the left half's unused tail; if the allocator cannot, the
     * block simply keeps its capacity. */
    uint16_t lcap = block_cap(L->n);
    if (lcap < L->cap) {
        uint32_t *ls = nw_realloc(L->s, (size_t)lcap * sizeof *ls);
        if (ls) { L->s = ls; L->cap = lcap; }
    }
    dir_insert_at(ix, b + 1, R);
    fen_build(ix);
    return 0;
}

int nw_oindex_insert(nw_oindex *ix, uint32_t slot) {
    if (ix->nb == 0) {
        if (new_single_block(ix, 0, slot, block_cap(1)) < 0) return -1;
        ix->size = 1;
        return 0;
    }
    size_t b, pos;
    oblock *last = &ix->dir[ix->nb - 1];
    if (ix->cmp(ix->ctx, slot, last->s[last->n - 1]) > 0) {
        b = ix->nb - 1;         /* append: the common case */
        pos = last->n;
    } else {
        probe p = slot_probe(ix, slot);
        locate(ix, &p, &b, &pos);
    }
    oblock *B = &ix->dir[b];
    if (B->n == B->cap && B->cap < BMAX) {
        uint16_t cap = block_cap((size_t)B->n + 1);
        uint32_t *s = nw_realloc(B->s, (size_t)cap * sizeof *s);
        if (!s) return -1;
        B->s = s;
        B->cap = cap;
    }
    if (B->n < B->cap) {
        block_put(B, pos, slot);
        if (pos == 0) set_k0(ix, B);
        fen_add(ix, b, 1);
    } else if (pos == B->n) {
        /* A full block and the slot goes after it: start a new block rather
         * than split, so ascending runs (appends, or inserts at the end of
         * one key's group) fill blocks completely. The last block is sized
         * for further appends at once. */
        uint16_t cap = b + 1 == ix->nb ? BMAX : block_cap(1);
        if (new_single_block(ix, b + 1, slot, cap) < 0) return -1;
    } else if (pos == 0) {
        if (new_single_block(ix, b, slot, block_cap(1)) < 0) return -1;
    } else {
        if (split_insert(ix, b, pos, slot) < 0) return -1;
    }
    ix->size++;
    return 0;
}

/* --- remove -------------------------------------------------------------------- */

/* Merges the sparse block b into a neighbour whose capacity already holds
 * both (no allocation). True if it merged. */
static bool try_merge(nw_oindex *ix, size_t b) {
    for (int side = 0; side < 2; side++) {
        size_t l = side == 0 ? b - 1 : b;
        if ((side == 0 && b == 0) || l + 1 >= ix->nb) continue;
        oblock *L = &ix->dir[l], *R = &ix->dir[l + 1];
        size_t total = (size_t)L->n + R->n;
        if (total > MERGE_MAX) continue;
        if (L->cap >= total) {
            memcpy(L->s + L->n, R->s, R->n * sizeof *R->s);
            L->n = (uint16_t)total;
            nw_free(R->s);
            dir_delete_at(ix, l + 1);
        } else if (R->cap >= total) {
            memmove(R->s + L->n, R->s, R->n * sizeof *R->s);
            memcpy(R->s, L->s, L->n * sizeof *L->s);
            R->n = (uint16_t)total;
            R->k0 = L->k0;
            nw_free(L->s);
            dir_delete_at(ix, l);
        } else {
            continue;
        }
        fen_build(ix);
        return true;
    }
    return false;
}

int nw_oindex_remove(nw_oindex *ix, uint32_t slot) {
    size_t b, pos;
    if (!find_slot(ix, slot, &b, &pos)) return -1;
    oblock *B = &ix->dir[b];
    memmove(B->s + pos, B->s + pos + 1, (B->n - pos - 1) * sizeof *B->s);
    B->n--;
    ix->size--;
    if (pos == 0) set_k0(ix, B);
    if (B->n == 0) {
        nw_free(B->s);
        dir_delete_at(ix, b);
        fen_build(ix);
        return 0;
    }
    if (B->n < MERGE_BELOW && try_merge(ix, b)) return 0;
    fen_add(ix, b, -1);
    /* Give memory back after mass deletes; shrinking cannot need memory,
     * and if the allocator refuses the block keeps its capacity. Waiting
     * for half empty keeps remove/insert pairs from resizing back and forth. */
    uint16_t cap = block_cap(B->n);
    if (B->n <= B->cap / 2 && cap < B->cap) {
        uint32_t *s = nw_realloc(B->s, (size_t)cap * sizeof *s);
        if (s) { B->s = s; B->cap = cap; }
    }
    return 0;
}

/* --- queries ------------------------------------------------------------------- */

size_t nw_oindex_lower(const nw_oindex *ix, const void *key, nw_okeycmp kcmp) {
    probe p = { NULL, kcmp, ix->ctx, key, 0, true, false, 0 };
    return rank_of(ix, &p);
}

size_t nw_oindex_upper(const nw_oindex *ix, const void *key, nw_okeycmp kcmp) {
    probe p = { NULL, kcmp, ix->ctx, key, 0, false, false, 0 };
    return rank_of(ix, &p);
}

uint32_t nw_oindex_at(const nw_oindex *ix, size_t rank) {
    if (rank >= ix->size) return NW_OINDEX_NONE;
    size_t b, off;
    fen_find(ix, rank, &b, &off);
    return ix->dir[b].s[off];
}

size_t nw_oindex_rank(const nw_oindex *ix, uint32_t slot) {
    size_t b, pos;
    if (!find_slot(ix, slot, &b, &pos)) return (size_t)-1;
    return fen_prefix(ix, b) + pos;
}

/* --- cursor -------------------------------------------------------------------- */

/* (block, pos) always names the slot at `rank`, or (nb, 0) at the end. */
void nw_ocursor_seek(nw_ocursor *c, const nw_oindex *ix, size_t rank) {
    c->ix = ix;
    if (rank >= ix->size) {
        c->block = ix->nb;
        c->pos = 0;
        c->rank = ix->size;
        return;
    }
    fen_find(ix, rank, &c->block, &c->pos);
    c->rank = rank;
}

bool nw_ocursor_next(nw_ocursor *c, uint32_t *slot) {
    const nw_oindex *ix = c->ix;
    if (c->rank >= ix->size) return false;
    const oblock *b = &ix->dir[c->block];
    *slot = b->s[c->pos];
    if (++c->pos == b->n) { c->block++; c->pos = 0; }
    c->rank++;
    return true;
}

bool nw_ocursor_prev(nw_ocursor *c, uint32_t *slot) {
    if (c->rank == 0) return false;
    if (c->pos == 0) {
        c->block--;
        c->pos = c->ix->dir[c->block].n - 1u;
    } else {
        c->pos--;
    }
    c->rank--;
    *slot = c->ix->dir[c->block].s[c->pos];
    return true;
}

/* --- bulk load, memory, checks -------------------------------------------------- */

int nw_oindex_build(nw_oindex *ix, const uint32_t *sorted, size_t n) {
    size_t nb = (n + BMAX - 1) / BMAX;
    oblock *dir = NULL;
    size_t dircap = 0;
    if (nb > 0) {
        dircap = nb;
        dir = nw_malloc(dircap * sizeof *dir);
        if (!dir) return -1;
        for (size_t i = 0; i < nb; i++) {
            size_t cnt = i + 1 < nb ? BMAX : n - i * BMAX;
            uint16_t cap = block_cap(cnt);
            uint32_t *s = nw_malloc((size_t)cap * sizeof *s);
            if (!s) {
                free_blocks(dir, i);
                nw_free(dir);
                return -1;
            }
            memcpy(s, sorted + i * BMAX, cnt * sizeof *s);
            dir[i] = (oblock){ s, (uint16_t)cnt, cap, 0, 0 };
            set_k0(ix, &dir[i]);
        }
    }
    free_blocks(ix->dir, ix->nb);
    if (dir) {
        nw_free(ix->dir);
        ix->dir = dir;
        ix->dircap = dircap;
    }
    ix->nb = nb;
    ix->size = n;
    fen_build(ix);
    return 0;
}

size_t nw_oindex_bytes(const nw_oindex *ix) {
    size_t bytes = sizeof *ix + ix->dircap * sizeof *ix->dir;
    for (size_t i = 0; i < ix->nb; i++) bytes += (size_t)ix->dir[i].cap * sizeof(uint32_t);
    return bytes;
}

int nw_oindex_check(const nw_oindex *ix) {
    if (ix->nb > ix->dircap) return 1;
    size_t total = 0;
    for (size_t i = 0; i < ix->nb; i++) {
        const oblock *b = &ix->dir[i];
        if (b->n == 0) return 2;
        if (b->n > b->cap || b->cap > BMAX) return 3;
        if (fen_prefix(ix, i) != total) return 4;
        if (ix->key && b->k0 != ix->key(ix->ctx, b->s[0])) return 7;
        total += b->n;
    }
    if (total != ix->size) return 5;
    if (fen_prefix(ix, ix->nb) != total) return 4;
    const uint32_t *prev = NULL;
    for (size_t i = 0; i < ix->nb; i++) {
        const oblock *b = &ix->dir[i];
        for (size_t j = 0; j < b->n; j++) {
            if (prev && ix->cmp(ix->ctx, *prev, b->s[j]) >= 0) return 6;
            prev = &b->s[j];
        }
    }
    return 0;
}

void nw_oindex_sort(uint32_t *v, uint32_t *tmp, uint32_t n, nw_ocmp cmp, const void *ctx) {
    if (n < 16) {
        for (uint32_t i = 1; i < n; i++) {
            uint32_t x = v[i], j = i;
            while (j > 0 && cmp(ctx, v[j - 1], x) > 0) { v[j] = v[j - 1]; j--; }
            v[j] = x;
        }
        return;
    }
    uint32_t h = n / 2;
    nw_oindex_sort(v, tmp, h, cmp, ctx);
    nw_oindex_sort(v + h, tmp, n - h, cmp, ctx);
    if (cmp(ctx, v[h - 1], v[h]) <= 0) return;
    memcpy(tmp, v, h * sizeof *v);
    uint32_t i = 0, j = h, k = 0;
    while (i < h && j < n) v[k++] = cmp(ctx, tmp[i], v[j]) <= 0 ? tmp[i++] : v[j++];
    while (i < h) v[k++] = tmp[i++];
}
