/* changelog.c - the outbox and the client's sync state (see changelog.h). */
#include "changelog.h"
#include "alloc.h"
#include "record.h"
#include <string.h>

/* Entry layout in the arena (little endian, unaligned):
 *   u32 size of the whole entry, u8 op, u8 flags, u16 0, u32 table,
 *   f64 seq, f64 base, u32 mask low, u32 mask high,
 *   u32 id length, id, u32 fields length, fields
 *
 * The arena only grows (until compaction). `order` lists the arena offsets
 * of entries in seq order (the push order). An entry's bytes change only in
 * its flags byte, or at commit by a merge (coalescing), which writes the merged
 * entry over the older one when it fits there (its size then says how much
 * of the space it uses; the rest is dead) and otherwise at the end of the
 * arena, taking the older one's place in `order`. Removed entries keep
 * their bytes (F_REMOVED) until nw_changelog_compact. Entries of the write
 * in progress are the arena's last bytes and never merged into, so that
 * truncating to a mark undoes them.
 *
 * A create logged by the store shares the stored row instead of copying it
 * (F_SHARED): its fields section is the row's address, and the entry holds
 * one reference to it (alloc.h, nw_retain), released when the entry dies
 * (kill, truncate, free). Stored rows are never changed in place, so the
 * entry sees the row the create wrote. Everything that leaves the log
 * (snapshot, journal, outbox export: nw_cl_entry_put) has the fields inline;
 * entries from outside never have F_SHARED.
 *
 * Entries [0, committed) of `order` belong to committed writes; later ones
 * to the write in progress (the store's undo log truncates them). Only
 * committed entries are merged into, and `latest` maps a record (table, id)
 * to the order position of its latest committed entry; stale cells (a
 * removed entry) are checked on use and dropped at compaction. */
#define HDR 40
#define F_REMOVED 0x80u
#define F_SHARED 0x40u      /* fields: a pointer to the stored row, retained (below) */
#define ADJACENT_SCAN 8     /* removed entries skipped when looking for a direct predecessor */

/* Versions: open addressing with linear probing, deletion by backward shift
 * (no tombstones). id == NULL marks an empty cell. */
typedef struct vent { uint32_t hash, table, idlen; uint8_t *id; double v; } vent;

/* Per-table configuration: flags, and what coalescing may not move earlier. */
typedef struct tconf { uint32_t flags; uint64_t pinned; bool referenced; } tconf;

/* latest: hash and order position + 1 (0 = empty cell). */
typedef struct lcell { uint32_t hash, pos1; } lcell;

struct nw_changelog {
    nw_buf arena;
    uint32_t *order;
    uint32_t norder, ordcap;
    uint32_t committed;
    uint32_t live;          /* entries not removed */
    size_t garbage;         /* bytes of removed or replaced entries in the arena */
    double next_seq;
    double sent_upto;       /* entries up to this seq may have been sent */
    bool disabled;
    tconf *tc;
    uint32_t ntc;
    lcell *lat;
    uint32_t latcap, latcount;
    uint8_t *client, *cursor;
    uint32_t client_len, cursor_len;
    vent *v;
    uint32_t vcap, vcount;
    nw_cl_row_fn row_of;    /* the store's current row of a record (merges share it) */
    void *row_ud;
};

static uint8_t *entry_at(const nw_changelog *c, uint32_t i);
static const uint8_t *shared_row(const uint8_t *p);
static void release_row(const uint8_t *p);

static void wr_u32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }
static void wr_f64(uint8_t *p, double v) { uint64_t u; memcpy(&u, &v, 8); wr_u32(p, (uint32_t)u); wr_u32(p + 4, (uint32_t)(u >> 32)); }

nw_changelog *nw_changelog_new(void) {
    nw_changelog *c = nw_calloc(1, sizeof *c);
    if (!c) return NULL;
    nw_buf_init(&c->arena);
    c->next_seq = 1;
    return c;
}

void nw_changelog_free(nw_changelog *c) {
    if (!c) return;
    for (uint32_t i = 0; i < c->norder; i++) {
        uint8_t *p = entry_at(c, i);
        if (!(p[5] & F_REMOVED)) release_row(p);
    }
    nw_buf_free(&c->arena);
    nw_free(c->order);
    nw_free(c->lat);
    nw_free(c->tc);
    nw_free(c->client);
    nw_free(c->cursor);
    for (uint32_t i = 0; i < c->vcap; i++) nw_free(c->v[i].id);
    nw_free(c->v);
    nw_free(c);
}

void nw_changelog_enable(nw_changelog *c, bool on) { c->disabled = !on; }
void nw_changelog_set_rows(nw_changelog *c, nw_cl_row_fn fn, void *ud) { c->row_of = fn; c->row_ud = ud; }
bool nw_changelog_enabled(const nw_changelog *c) { return !c->disabled; }

static tconf *conf_of(nw_changelog *c, uint32_t table, nw_error *err) {
    if (table >= c->ntc) {
        uint32_t n = table + 8;
        tconf *f = nw_realloc(c->tc, n * sizeof *f);
        if (!f) { nw_error_nomem(err); return NULL; }
        memset(f + c->ntc, 0, (n - c->ntc) * sizeof *f);
        c->tc = f;
        c->ntc = n;
    }
    return &c->tc[table];
}

nw_code nw_changelog_set_table(nw_changelog *c, uint32_t table, uint32_t flags, nw_error *err) {
    tconf *t = conf_of(c, table, err);
    if (!t) return NW_E_LIMIT;
    t->flags = flags;
    return NW_OK;
}

nw_code nw_changelog_set_rules(nw_changelog *c, uint32_t table, uint64_t pinned, bool referenced, nw_error *err) {
    tconf *t = conf_of(c, table, err);
    if (!t) return NW_E_LIMIT;
    t->pinned = pinned;
    t->referenced = referenced;
    return NW_OK;
}

uint32_t nw_changelog_table_flags(const nw_changelog *c, uint32_t table) {
    return table < c->ntc ? c->tc[table].flags : 0;
}

bool nw_changelog_logs(const nw_changelog *c, uint32_t table) {
    return !c->disabled && !(nw_changelog_table_flags(c, table) & NW_CLT_LOCAL);
}

/* ---- entries ------------------------------------------------------------------ */

static size_t write_entry(uint8_t *p, uint8_t op, uint8_t flags, uint32_t table, double seq, double base,
                          const uint8_t *id, uint32_t idlen, uint64_t mask, const uint8_t *fields, uint32_t flen);

static const uint8_t *shared_row(const uint8_t *p) {
    const uint8_t *row;
    memcpy(&row, p + HDR + nw_rd_u32(p + 36) + 4, sizeof row);
    return row;
}

static void read_entry(const uint8_t *p, nw_cl_entry *e) {
    e->raw = p;
    e->size = nw_rd_u32(p);
    e->op = p[4];
    e->flags = p[5] & ~(F_REMOVED | F_SHARED);
    e->table = nw_rd_u32(p + 8);
    e->seq = nw_rd_f64(p + 12);
    e->base = nw_rd_f64(p + 20);
    e->mask = nw_rd_u32(p + 28) | ((uint64_t)nw_rd_u32(p + 32) << 32);
    e->idlen = nw_rd_u32(p + 36);
    e->id = p + HDR;
    e->flen = nw_rd_u32(p + HDR + e->idlen);
    e->fields = p + HDR + e->idlen + 4;
    if (p[5] & F_SHARED) {
        const uint8_t *row = shared_row(p);
        e->fields = row + 4;
        e->flen = nw_row_len(row);
    }
}

/* Gives back the entry's reference to a shared row, if it holds one. */
static void release_row(const uint8_t *p) {
    if (p[5] & F_SHARED) nw_free((void *)shared_row(p));
}

/* An entry's end: it no longer counts, its bytes are dead, and a shared
 * row is released. */
static void kill(nw_changelog *c, uint8_t *p) {
    release_row(p);
    p[5] |= F_REMOVED;
    c->garbage += nw_rd_u32(p);
}

void nw_cl_entry_put(const nw_cl_entry *e, nw_buf *out) {
    if (!nw_buf_reserve(out, (size_t)HDR + e->idlen + 4 + e->flen)) return;
    out->len += write_entry(out->p + out->len, e->op, e->flags, e->table, e->seq, e->base, e->id, e->idlen, e->mask, e->fields, e->flen);
}

static uint8_t *entry_at(const nw_changelog *c, uint32_t i) { return c->arena.p + c->order[i]; }
static bool removed_at(const nw_changelog *c, uint32_t i) { return (entry_at(c, i)[5] & F_REMOVED) != 0; }

static bool order_reserve(nw_changelog *c, uint32_t extra) {
    if (c->norder + extra <= c->ordcap) return true;
    if ((uint64_t)c->norder + extra > 0xFFFFFFF0u) return false;
    return nw_grow((void **)&c->order, &c->ordcap, sizeof *c->order, c->norder + extra);
}

/* Writes an entry at p (room for it reserved); returns its size. `id` may
 * lie where the entry goes (a merge in place). */
static size_t write_entry(uint8_t *p, uint8_t op, uint8_t flags, uint32_t table, double seq, double base,
                          const uint8_t *id, uint32_t idlen, uint64_t mask, const uint8_t *fields, uint32_t flen) {
    size_t size = (size_t)HDR + idlen + 4 + flen;
    wr_u32(p, (uint32_t)size);
    p[4] = op;
    p[5] = flags;
    p[6] = p[7] = 0;
    wr_u32(p + 8, table);
    wr_f64(p + 12, seq);
    wr_f64(p + 20, base);
    wr_u32(p + 28, (uint32_t)mask);
    wr_u32(p + 32, (uint32_t)(mask >> 32));
    wr_u32(p + 36, idlen);
    memmove(p + HDR, id, idlen);
    wr_u32(p + HDR + idlen, flen);
    if (flen) memmove(p + HDR + idlen + 4, fields, flen);
    return size;
}

/* Writes an entry at the end of the arena (capacity reserved); returns its offset. */
static uint32_t put_entry(nw_changelog *c, uint8_t op, uint8_t flags, uint32_t table, double seq, double base,
                          const uint8_t *id, uint32_t idlen, uint64_t mask, const uint8_t *fields, uint32_t flen) {
    uint32_t at = (uint32_t)c->arena.len;
    c->arena.len += write_entry(c->arena.p + at, op, flags, table, seq, base, id, idlen, mask, fields, flen);
    return at;
}

static bool arena_room(nw_changelog *c, size_t size) {
    if (c->arena.len + size > 0xFFFFFFF0u) return false;
    if (nw_buf_reserve(&c->arena, size)) return true;
    c->arena.oom = false;
    return false;
}

/* Appends an entry with the next seq (both appends below). */
static nw_code append(nw_changelog *c, uint8_t op, uint8_t flags, uint32_t table, const uint8_t *id, uint32_t idlen,
                      uint64_t mask, const uint8_t *fields, uint32_t flen, size_t *mark, nw_error *err) {
    size_t size = (size_t)HDR + idlen + 4 + flen;
    if (size > 0x7FFFFFFFu) return nw_error_set(err, NW_E_LIMIT, NULL, NULL, "size", "mutation too large for the outbox");
    if (!arena_room(c, size) || !order_reserve(c, 1)) return nw_error_nomem(err);
    double base = (nw_changelog_table_flags(c, table) & NW_CLT_VERSIONS) ? nw_changelog_version(c, table, id, idlen) : 0;
    *mark = c->arena.len;
    c->order[c->norder++] = put_entry(c, op, flags, table, c->next_seq, base, id, idlen, mask, fields, flen);
    c->next_seq += 1;
    c->live++;
    return NW_OK;
}

nw_code nw_changelog_append(nw_changelog *c, nw_cl_op op, uint32_t table, const uint8_t *id, uint32_t idlen,
                            uint64_t mask, const uint8_t *fields, uint32_t flen, size_t *mark, nw_error *err) {
    return append(c, (uint8_t)op, 0, table, id, idlen, mask, fields, flen, mark, err);
}

nw_code nw_changelog_append_row(nw_changelog *c, uint32_t table, const uint8_t *row, uint64_t mask, size_t *mark, nw_error *err) {
    const uint8_t *id = row + 4;   /* field 0: NVAL_STR, u32 length, bytes */
    uint8_t ptr[sizeof row];
    memcpy(ptr, &row, sizeof row);
    nw_code rc = append(c, NW_CL_CREATE, F_SHARED, table, id + 5, nw_rd_u32(id + 1), mask, ptr, (uint32_t)sizeof row, mark, err);
    if (!rc) nw_retain((void *)row);
    return rc;
}

void nw_changelog_truncate(nw_changelog *c, size_t mark) {
    if (mark >= c->arena.len) return;
    /* the first dropped entry holds the lowest of the dropped seqs; entries
     * of the write in progress are the last in the arena and in `order` */
    c->next_seq = nw_rd_f64(c->arena.p + mark + 12);
    while (c->norder > c->committed && c->order[c->norder - 1] >= mark) {
        uint8_t *p = entry_at(c, c->norder - 1);
        if (!(p[5] & F_REMOVED)) {
            c->live--;
            release_row(p);
        }
        c->norder--;
    }
    c->arena.len = mark;
}

size_t nw_changelog_next(const nw_changelog *c, size_t pos, nw_cl_entry *e) {
    for (size_t i = pos; i < c->norder; i++) {
        const uint8_t *p = entry_at(c, (uint32_t)i);
        if (p[5] & F_REMOVED) continue;
        read_entry(p, e);
        return i + 1;
    }
    return 0;
}

uint32_t nw_changelog_pending(const nw_changelog *c) { return c->live; }

double nw_changelog_first_unsent(const nw_changelog *c) {
    nw_cl_entry e;
    for (size_t pos = nw_changelog_next(c, 0, &e); pos; pos = nw_changelog_next(c, pos, &e))
        if (!(e.flags & NW_CL_CONFLICT)) return e.seq;
    return 0;
}

/* Order position of the live entry `seq`, or UINT32_MAX (seqs increase along `order`). */
static uint32_t find(const nw_changelog *c, double seq) {
    uint32_t lo = 0, hi = c->norder;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        double s = nw_rd_f64(entry_at(c, mid) + 12);
        if (s < seq) lo = mid + 1;
        else hi = mid;
    }
    if (lo < c->norder && nw_rd_f64(entry_at(c, lo) + 12) == seq && !removed_at(c, lo)) return lo;
    return UINT32_MAX;
}

static bool lat_set(nw_changelog *c, uint32_t i);
static bool same_record(const uint8_t *p, uint32_t table, const uint8_t *id, uint32_t idlen);

static void drop_at(nw_changelog *c, uint32_t i) {
    c->live--;
    kill(c, entry_at(c, i));
}

bool nw_changelog_remove(nw_changelog *c, double seq) {
    uint32_t i = find(c, seq);
    if (i == UINT32_MAX) return false;
    drop_at(c, i);
    return true;
}

bool nw_changelog_flag(nw_changelog *c, double seq, uint8_t flags, bool on) {
    uint32_t i = find(c, seq);
    if (i == UINT32_MAX) return false;
    flags &= (uint8_t)~(F_REMOVED | F_SHARED);
    if (on) entry_at(c, i)[5] |= flags;
    else entry_at(c, i)[5] &= (uint8_t)~flags;
    return true;
}

size_t nw_changelog_uncommitted(const nw_changelog *c) { return c->committed; }

/* One entry of p[0..len): well-formed, for an existing table, fields checked. */
static const char *bad_entry(const uint8_t *e, size_t len, uint32_t ntables, nw_cl_check_fn check, void *ud) {
    if (len < HDR + 4) return "truncated";
    uint32_t size = nw_rd_u32(e), idlen = nw_rd_u32(e + 36);
    if (size < HDR + 4 || size > len || idlen > size - HDR - 4) return "entry size";
    uint32_t flen = nw_rd_u32(e + HDR + idlen);
    if ((size_t)HDR + idlen + 4 + flen != size) return "entry size";
    if (e[5] & (F_REMOVED | F_SHARED)) return "entry";
    nw_cl_entry x;
    read_entry(e, &x);
    if (x.op < NW_CL_CREATE || x.op > NW_CL_DELETE || x.table >= ntables || !idlen) return "entry";
    if ((x.op == NW_CL_DELETE) != (x.mask == 0) || !check(ud, x.table, x.mask, x.fields, x.flen)) return "entry fields";
    return NULL;
}

nw_code nw_changelog_append_raw(nw_changelog *c, const uint8_t *p, size_t len, uint32_t ntables,
                                nw_cl_check_fn check, void *ud, size_t *mark, nw_error *err) {
    const char *bad = bad_entry(p, len, ntables, check, ud);
    if (bad) return nw_error_set(err, NW_E_CORRUPT, NULL, NULL, NULL, "stored outbox entry is malformed (%s)", bad);
    double seq = nw_rd_f64(p + 12);
    if (!(seq >= c->next_seq && seq <= 9007199254740991.0)) return nw_error_set(err, NW_E_CORRUPT, NULL, NULL, NULL, "stored outbox entry is out of order");
    uint32_t size = nw_rd_u32(p);
    if (!arena_room(c, size) || !order_reserve(c, 1)) return nw_error_nomem(err);
    *mark = c->arena.len;
    c->order[c->norder++] = (uint32_t)c->arena.len;
    nw_buf_append(&c->arena, p, size);
    c->next_seq = seq + 1;
    c->live++;
    return NW_OK;
}

nw_code nw_changelog_check_fold(const nw_changelog *c, uint8_t tag, const uint8_t *p, size_t len, uint32_t ntables,
                                nw_cl_check_fn check, void *ud, size_t *span, nw_error *err) {
    if (tag == 'X') {
        if (len < 8) return nw_error_set(err, NW_E_CORRUPT, NULL, NULL, NULL, "stored outbox change is truncated");
        *span = 8;
        return NW_OK;
    }
    const char *bad = bad_entry(p, len, ntables, check, ud);
    if (bad) return nw_error_set(err, NW_E_CORRUPT, NULL, NULL, NULL, "stored outbox entry is malformed (%s)", bad);
    *span = nw_rd_u32(p);
    (void)c;
    return NW_OK;
}

bool nw_changelog_get(const nw_changelog *c, double seq, nw_cl_entry *e) {
    uint32_t i = find(c, seq);
    if (i == UINT32_MAX) return false;
    read_entry(entry_at(c, i), e);
    return true;
}

bool nw_changelog_reserve(nw_changelog *c, size_t bytes, uint32_t entries) {
    return arena_room(c, bytes) && order_reserve(c, entries);
}

bool nw_changelog_replace(nw_changelog *c, const uint8_t *p) {
    nw_cl_entry e;
    read_entry(p, &e);
    uint32_t i = find(c, e.seq);
    if (i == UINT32_MAX) return false;
    const uint8_t *old = entry_at(c, i);
    if (!same_record(old, e.table, e.id, e.idlen) || !arena_room(c, e.size)) return false;
    uint32_t at = (uint32_t)c->arena.len;
    nw_buf_append(&c->arena, p, e.size);
    kill(c, entry_at(c, i));
    c->order[i] = at;
    return true;
}

void nw_changelog_commit_replayed(nw_changelog *c) {
    for (uint32_t i = c->committed; i < c->norder; i++) if (!removed_at(c, i)) lat_set(c, i);
    c->committed = c->norder;
    if (c->next_seq - 1 > c->sent_upto) c->sent_upto = c->next_seq - 1;
}

void nw_changelog_mark_sent(nw_changelog *c, double seq) { if (seq > c->sent_upto) c->sent_upto = seq; }

nw_code nw_changelog_requeue(nw_changelog *c, double seq, double base, nw_error *err) {
    uint32_t i = find(c, seq);
    if (i == UINT32_MAX) return nw_error_set(err, NW_E_NOT_FOUND, NULL, NULL, NULL, "no pending mutation %g", seq);
    if (c->committed != c->norder) return nw_error_set(err, NW_E_CONFLICT, NULL, NULL, "transaction", "cannot requeue during a write");
    uint32_t size = nw_rd_u32(entry_at(c, i));
    if (!arena_room(c, size) || !order_reserve(c, 1)) return nw_error_nomem(err);
    nw_cl_entry e;
    read_entry(entry_at(c, i), &e);   /* the arena did not move since reserving */
    uint32_t at = put_entry(c, e.op, 0, e.table, c->next_seq, base, e.id, e.idlen, e.mask, e.fields, e.flen);
    drop_at(c, i);
    c->live++;
    c->order[c->norder++] = at;
    c->committed = c->norder;
    c->next_seq += 1;
    return NW_OK;
}

/* ---- coalescing (at commit) ------------------------------------------------------ */

static uint32_t key_hash(uint32_t table, const uint8_t *id, uint32_t idlen) {
    return nw_hash_bytes(id, idlen) ^ (table * 0x9e3779b9u);
}

static bool same_record(const uint8_t *p, uint32_t table, const uint8_t *id, uint32_t idlen) {
    return nw_rd_u32(p + 8) == table && nw_rd_u32(p + 36) == idlen && memcmp(p + HDR, id, idlen) == 0;
}

/* The cell for (table, id): its position, *found whether it holds that record. */
static uint32_t lat_find(const nw_changelog *c, uint32_t h, uint32_t table, const uint8_t *id, uint32_t idlen, bool *found) {
    uint32_t mask = c->latcap - 1, i = h & mask;
    for (;;) {
        const lcell *l = &c->lat[i];
        if (!l->pos1) { *found = false; return i; }
        if (l->hash == h && same_record(entry_at(c, l->pos1 - 1), table, id, idlen)) { *found = true; return i; }
        i = (i + 1) & mask;
    }
}

static bool lat_grow(nw_changelog *c) {
    uint32_t cap = c->latcap ? c->latcap * 2 : 256;
    lcell *l = nw_calloc(cap, sizeof *l);
    if (!l) return false;
    for (uint32_t i = 0; i < c->latcap; i++) {
        if (!c->lat[i].pos1) continue;
        uint32_t k = c->lat[i].hash & (cap - 1);
        while (l[k].pos1) k = (k + 1) & (cap - 1);
        l[k] = c->lat[i];
    }
    nw_free(c->lat);
    c->lat = l;
    c->latcap = cap;
    return true;
}

/* Points the record's cell at order position i; false on OOM (then merging
 * into this record is missed, which is safe). */
static bool lat_set(nw_changelog *c, uint32_t i) {
    const uint8_t *p = entry_at(c, i);
    uint32_t table = nw_rd_u32(p + 8), idlen = nw_rd_u32(p + 36);
    uint32_t h = key_hash(table, p + HDR, idlen);
    bool found = false;
    uint32_t k = c->latcap ? lat_find(c, h, table, p + HDR, idlen, &found) : 0;
    if (!found) {
        if ((uint64_t)(c->latcount + 1) * 4 >= (uint64_t)c->latcap * 3) {
            if (!lat_grow(c)) return false;
            k = lat_find(c, h, table, p + HDR, idlen, &found);
        }
        c->latcount++;
    }
    c->lat[k] = (lcell){ h, i + 1 };
    return true;
}

/* Combined fields of two masks' field bytes (b's win) into out. */
static void merge_fields(nw_buf *out, uint64_t ma, const uint8_t *fa, uint64_t mb, const uint8_t *fb) {
    for (uint32_t i = 0; i < 64; i++) {
        uint64_t bit = (uint64_t)1 << i;
        if (!((ma | mb) & bit)) continue;
        size_t na = (ma & bit) ? nw_field_span(fa) : 0, nb = (mb & bit) ? nw_field_span(fb) : 0;
        if (mb & bit) nw_buf_append(out, fb, nb);
        else nw_buf_append(out, fa, na);
        fa += na;
        fb += nb;
    }
}

/* True when nothing but removed entries lies between positions j < i. */
static bool adjacent(const nw_changelog *c, uint32_t j, uint32_t i) {
    if (i - j - 1 > ADJACENT_SCAN) return false;
    for (uint32_t k = j + 1; k < i; k++) if (!removed_at(c, k)) return false;
    return true;
}

/* Folds entry i into the record's earlier entry j, at j's place. The
 * server then sees the record's later state earlier: allowed when nothing
 * lies between them, or when moving it cannot change how the mutations in
 * between are decided: an update of fields no unique key or reference
 * involves, or a delete of a record no entity can refer to. */
static void op_remove(nw_buf *ops, double seq) {
    if (!ops) return;
    nw_buf_byte(ops, 'X');
    nw_buf_f64(ops, seq);
}

/* Writes the merge of entry j (view *p) with a later one: op, mask and the
 * fields in tmp. A create whose fields are the record's stored row shares
 * that row again; an entry that fits where j is goes there; others go to
 * the arena's end. False when memory is short (nothing changed). */
static bool put_merged(nw_changelog *c, uint32_t j, nw_cl_entry *p, uint8_t op, uint64_t mask, const nw_buf *tmp) {
    const uint8_t *row = op == NW_CL_CREATE && c->row_of ? c->row_of(c->row_ud, p->table, p->id, p->idlen) : NULL;
    if (row && (nw_row_len(row) != tmp->len || memcmp(row + 4, tmp->p, tmp->len) != 0)) row = NULL;
    uint8_t ptr[sizeof row];
    memcpy(ptr, &row, sizeof row);
    const uint8_t *fields = row ? ptr : tmp->p;
    uint32_t flen = row ? (uint32_t)sizeof row : (uint32_t)tmp->len;
    uint8_t flags = (uint8_t)(p->flags | (row ? F_SHARED : 0));
    size_t size = (size_t)HDR + p->idlen + 4 + flen;
    uint8_t *old = entry_at(c, j);
    if (row) nw_retain((void *)row);
    if (size <= p->size) {                              /* fits where j is: no arena growth */
        release_row(old);
        write_entry(old, op, flags, p->table, p->seq, p->base, p->id, p->idlen, mask, fields, flen);
        c->garbage += p->size - size;
        return true;
    }
    if (!arena_room(c, size)) { if (row) nw_free((void *)row); return false; }
    read_entry(entry_at(c, j), p);                      /* the arena may have moved */
    uint32_t at = put_entry(c, op, flags, p->table, p->seq, p->base, p->id, p->idlen, mask, fields, flen);
    kill(c, entry_at(c, j));
    c->order[j] = at;
    return true;
}

static void coalesce(nw_changelog *c, uint32_t j, uint32_t i, nw_buf *tmp, nw_buf *ops) {
    nw_cl_entry p, e;
    read_entry(entry_at(c, j), &p);
    read_entry(entry_at(c, i), &e);
    if (p.op == NW_CL_DELETE || e.op == NW_CL_CREATE || (p.flags & NW_CL_CONFLICT) || p.seq <= c->sent_upto) return;
    const tconf *t = e.table < c->ntc ? &c->tc[e.table] : NULL;
    bool ok = adjacent(c, j, i) ||
              (e.op == NW_CL_UPDATE && t && !(e.mask & (t->pinned | 1))) ||
              (e.op == NW_CL_DELETE && t && !t->referenced);
    if (!ok) return;
    if (p.op == NW_CL_CREATE && e.op == NW_CL_DELETE) {   /* never existed for the server */
        drop_at(c, j);
        drop_at(c, i);
        op_remove(ops, p.seq);
        op_remove(ops, e.seq);
        return;
    }
    uint8_t op = p.op;
    uint64_t mask = 0;
    nw_buf_reset(tmp);
    if (e.op == NW_CL_UPDATE) {                         /* create or update + update */
        mask = p.mask | e.mask;
        merge_fields(tmp, p.mask, p.fields, e.mask, e.fields);
    } else {
        op = NW_CL_DELETE;                              /* update + delete */
    }
    if (tmp->oom || !put_merged(c, j, &p, op, mask, tmp)) return;   /* not merged: still correct */
    drop_at(c, i);
    if (ops) {
        nw_cl_entry m;
        read_entry(entry_at(c, j), &m);
        nw_buf_byte(ops, 'R');
        nw_cl_entry_put(&m, ops);
    }
    op_remove(ops, e.seq);
}

/* Gives the space of the last entry, folded away, back to the arena when
 * it is the arena's end (a write committed on its own, merged into an
 * earlier entry, leaves nothing behind). */
static void pop_last(nw_changelog *c) {
    const uint8_t *p = entry_at(c, c->norder - 1);
    uint32_t size = nw_rd_u32(p);
    if (c->order[c->norder - 1] + size != c->arena.len) return;
    c->arena.len -= size;
    c->garbage -= size;
    c->norder--;
}

void nw_changelog_commit(nw_changelog *c) { nw_changelog_commit_ops(c, NULL); }

void nw_changelog_commit_ops(nw_changelog *c, nw_buf *ops) {
    if (c->committed == c->norder) return;
    nw_buf tmp;
    nw_buf_init(&tmp);
    for (uint32_t i = c->committed; i < c->norder; i++) {
        const uint8_t *p = entry_at(c, i);
        if (p[5] & F_REMOVED) continue;
        uint32_t table = nw_rd_u32(p + 8), idlen = nw_rd_u32(p + 36);
        bool found = false;
        uint32_t k = c->latcap ? lat_find(c, key_hash(table, p + HDR, idlen), table, p + HDR, idlen, &found) : 0;
        if (found) {
            uint32_t j = c->lat[k].pos1 - 1;
            if (j < i && !removed_at(c, j)) coalesce(c, j, i, &tmp, ops);
        }
        if (!removed_at(c, i)) lat_set(c, i);
        else if (i == c->norder - 1) pop_last(c);
    }
    nw_buf_free(&tmp);
    c->committed = c->norder;
    /* reclaim when most of the arena is dead */
    if (c->garbage > (1u << 16) && c->garbage * 2 > c->arena.len) nw_changelog_compact(c);
}

void nw_changelog_compact(nw_changelog *c) {
    if (!c->garbage || c->committed != c->norder) return;
    size_t keep = c->arena.len - c->garbage;
    nw_buf fresh;
    nw_buf_init(&fresh);
    if (keep && !nw_buf_reserve(&fresh, keep)) { nw_buf_free(&fresh); return; }
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->norder; i++) {
        const uint8_t *p = entry_at(c, i);
        if (p[5] & F_REMOVED) continue;
        uint32_t size = nw_rd_u32(p);
        c->order[n++] = (uint32_t)fresh.len;
        nw_buf_append(&fresh, p, size);
    }
    nw_buf_free(&c->arena);
    c->arena = fresh;
    c->norder = c->committed = n;
    c->garbage = 0;
    if (c->ordcap > 1024 && n < c->ordcap / 4) {
        uint32_t cap = n < 1024 ? 1024 : n;
        uint32_t *o = nw_realloc(c->order, cap * sizeof *o);
        if (o) { c->order = o; c->ordcap = cap; }
    }
    /* the latest-entry map is rebuilt for the new positions */
    nw_free(c->lat);
    c->lat = NULL;
    c->latcap = c->latcount = 0;
    for (uint32_t i = 0; i < n; i++) lat_set(c, i);
}

/* ---- versions ------------------------------------------------------------------- */

static uint32_t vhash(uint32_t table, const uint8_t *id, uint32_t idlen) {
    return nw_hash_bytes(id, idlen) ^ (table * 0x9e3779b9u);
}

static uint32_t vfind(const nw_changelog *c, uint32_t h, uint32_t table, const uint8_t *id, uint32_t idlen, bool *found) {
    uint32_t mask = c->vcap - 1, i = h & mask;
    for (;;) {
        const vent *e = &c->v[i];
        if (!e->id) { *found = false; return i; }
        if (e->hash == h && e->table == table && e->idlen == idlen && memcmp(e->id, id, idlen) == 0) { *found = true; return i; }
        i = (i + 1) & mask;
    }
}

double nw_changelog_version(const nw_changelog *c, uint32_t table, const uint8_t *id, uint32_t idlen) {
    if (!c->vcount) return 0;
    bool found;
    uint32_t i = vfind(c, vhash(table, id, idlen), table, id, idlen, &found);
    return found ? c->v[i].v : 0;
}

static bool vgrow(nw_changelog *c) {
    uint32_t cap = c->vcap ? c->vcap * 2 : 64;
    vent *v = nw_calloc(cap, sizeof *v);
    if (!v) return false;
    for (uint32_t i = 0; i < c->vcap; i++) {
        if (!c->v[i].id) continue;
        uint32_t k = c->v[i].hash & (cap - 1);
        while (v[k].id) k = (k + 1) & (cap - 1);
        v[k] = c->v[i];
    }
    nw_free(c->v);
    c->v = v;
    c->vcap = cap;
    return true;
}

static void vdelete(nw_changelog *c, uint32_t i) {
    uint32_t mask = c->vcap - 1;
    nw_free(c->v[i].id);
    c->v[i].id = NULL;
    c->vcount--;
    /* backward shift: move later members of the probe run into the hole */
    for (uint32_t j = (i + 1) & mask; c->v[j].id; j = (j + 1) & mask) {
        uint32_t home = c->v[j].hash & mask;
        bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
        if (movable) { c->v[i] = c->v[j]; c->v[j].id = NULL; i = j; }
    }
}

nw_code nw_changelog_set_version(nw_changelog *c, uint32_t table, const uint8_t *id, uint32_t idlen, double v, nw_error *err) {
    uint32_t h = vhash(table, id, idlen);
    bool found = false;
    uint32_t i = c->vcap ? vfind(c, h, table, id, idlen, &found) : 0;
    if (found) {
        if (v == 0) vdelete(c, i);
        else c->v[i].v = v;
        return NW_OK;
    }
    if (v == 0) return NW_OK;
    if ((uint64_t)(c->vcount + 1) * 4 >= (uint64_t)c->vcap * 3) {
        if (!vgrow(c)) return nw_error_nomem(err);
        i = vfind(c, h, table, id, idlen, &found);
    }
    uint8_t *copy = nw_malloc(idlen ? idlen : 1);
    if (!copy) return nw_error_nomem(err);
    memcpy(copy, id, idlen);
    c->v[i] = (vent){ h, table, idlen, copy, v };
    c->vcount++;
    return NW_OK;
}

/* ---- client id, cursor --------------------------------------------------------------- */

static nw_code set_bytes(uint8_t **dst, uint32_t *dlen, const uint8_t *src, uint32_t len, nw_error *err) {
    uint8_t *copy = nw_malloc(len ? len : 1);
    if (!copy) return nw_error_nomem(err);
    if (len) memcpy(copy, src, len);
    nw_free(*dst);
    *dst = copy;
    *dlen = len;
    return NW_OK;
}

nw_code nw_changelog_set_client(nw_changelog *c, const uint8_t *id, uint32_t len, nw_error *err) {
    return set_bytes(&c->client, &c->client_len, id, len, err);
}
const uint8_t *nw_changelog_client(const nw_changelog *c, uint32_t *len) { *len = c->client_len; return c->client; }
nw_code nw_changelog_set_cursor(nw_changelog *c, const uint8_t *cur, uint32_t len, nw_error *err) {
    return set_bytes(&c->cursor, &c->cursor_len, cur, len, err);
}
const uint8_t *nw_changelog_cursor(const nw_changelog *c, uint32_t *len) { *len = c->cursor_len; return c->cursor; }
double nw_changelog_next_seq(const nw_changelog *c) { return c->next_seq; }
void nw_changelog_raise_seq(nw_changelog *c, double at_least) { if (at_least > c->next_seq) c->next_seq = at_least; }

nw_code nw_changelog_copy_config(nw_changelog *to, const nw_changelog *from, nw_error *err) {
    to->disabled = from->disabled;
    for (uint32_t t = 0; t < from->ntc; t++) {
        const tconf *f = &from->tc[t];
        if (!f->flags && !f->pinned && !f->referenced) continue;
        nw_code rc = nw_changelog_set_table(to, t, f->flags, err);
        if (!rc) rc = nw_changelog_set_rules(to, t, f->pinned, f->referenced, err);
        if (rc) return rc;
    }
    return NW_OK;
}

size_t nw_changelog_bytes(const nw_changelog *c) {
    size_t b = c->arena.cap + (size_t)c->ordcap * sizeof *c->order + (size_t)c->latcap * sizeof(lcell) + (size_t)c->vcap * sizeof(vent);
    for (uint32_t i = 0; i < c->vcap; i++) b += c->v[i].id ? c->v[i].idlen : 0;
    return b;
}

/* ---- snapshot section ------------------------------------------------------------------
 * u32 client length, client, f64 next seq, u32 cursor length, cursor,
 * u32 entry count, entries (arena layout, flags without F_REMOVED),
 * u32 version count, per version: u32 table, u32 id length, id, f64 version. */

void nw_changelog_write(const nw_changelog *c, nw_buf *out) {
    nw_buf_u32(out, c->client_len);
    nw_buf_append(out, c->client, c->client_len);
    nw_buf_f64(out, c->next_seq);
    nw_buf_u32(out, c->cursor_len);
    nw_buf_append(out, c->cursor, c->cursor_len);
    nw_buf_u32(out, c->live);
    nw_cl_entry e;
    for (size_t pos = nw_changelog_next(c, 0, &e); pos; pos = nw_changelog_next(c, pos, &e)) nw_cl_entry_put(&e, out);
    nw_buf_u32(out, c->vcount);
    for (uint32_t i = 0; i < c->vcap; i++) {
        const vent *e = &c->v[i];
        if (!e->id) continue;
        nw_buf_u32(out, e->table);
        nw_buf_u32(out, e->idlen);
        nw_buf_append(out, e->id, e->idlen);
        nw_buf_f64(out, e->v);
    }
}

static nw_code corrupt(nw_error *err, const char *what) {
    return nw_error_set(err, NW_E_CORRUPT, NULL, NULL, NULL, "snapshot sync state is malformed (%s)", what);
}

nw_code nw_changelog_read(nw_changelog *c, const uint8_t *p, size_t len, uint32_t ntables,
                          nw_cl_check_fn check, void *ud, size_t *used, nw_error *err) {
    size_t at = 0;
    nw_code rc;
#define NEED(n) do { if (len - at < (size_t)(n)) return corrupt(err, "truncated"); } while (0)
    NEED(4);
    uint32_t cl = nw_rd_u32(p + at); at += 4;
    NEED(cl);
    if ((rc = nw_changelog_set_client(c, p + at, cl, err))) return rc;
    at += cl;
    NEED(12);
    double next = nw_rd_f64(p + at); at += 8;
    if (!(next >= 1 && next <= 9007199254740992.0)) return corrupt(err, "sequence");
    uint32_t kl = nw_rd_u32(p + at); at += 4;
    NEED(kl);
    if ((rc = nw_changelog_set_cursor(c, p + at, kl, err))) return rc;
    at += kl;
    NEED(4);
    uint32_t n = nw_rd_u32(p + at); at += 4;
    double last = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = p + at;
        const char *bad = bad_entry(e, len - at, ntables, check, ud);
        if (bad) return corrupt(err, bad);
        uint32_t size = nw_rd_u32(e);
        double seq = nw_rd_f64(e + 12);
        if (!(seq > last && seq < next)) return corrupt(err, "entry order");
        if (!arena_room(c, size) || !order_reserve(c, 1)) return nw_error_nomem(err);
        c->order[c->norder++] = (uint32_t)c->arena.len;
        nw_buf_append(&c->arena, e, size);
        c->live++;
        last = seq;
        at += size;
    }
    c->next_seq = next;
    /* restored entries may have been sent before: never merged into */
    c->sent_upto = next - 1;
    c->committed = c->norder;
    NEED(4);
    uint32_t nv = nw_rd_u32(p + at); at += 4;
    for (uint32_t i = 0; i < nv; i++) {
        NEED(8);
        uint32_t table = nw_rd_u32(p + at), il = nw_rd_u32(p + at + 4);
        at += 8;
        NEED((size_t)il + 8);
        double v = nw_rd_f64(p + at + il);
        if (table >= ntables || !(v > 0)) return corrupt(err, "version");
        if ((rc = nw_changelog_set_version(c, table, p + at, il, v, err))) return rc;
        at += (size_t)il + 8;
    }
#undef NEED
    *used = at;
    return NW_OK;
}

/* ---- the pending index (applying server state under local changes) -------------- */

/* cells: open addressing, hash and first entry + 1 (0 = empty); chains in
 * `next` link a record's entries in seq order. */
typedef struct icell { uint32_t hash, head1, tail; } icell;

struct nw_cl_index {
    const nw_changelog *c;
    uint32_t *pos;          /* order positions of the indexed entries, in seq order */
    uint32_t *next;         /* next entry of the same record + 1, 0 = last */
    icell *cells;
    uint32_t n, cap;
};

void nw_cl_index_free(nw_cl_index *ix) {
    if (!ix) return;
    nw_free(ix->pos);
    nw_free(ix->next);
    nw_free(ix->cells);
    nw_free(ix);
}

static uint32_t ix_cell(const nw_cl_index *ix, uint32_t h, uint32_t table, const uint8_t *id, uint32_t idlen) {
    uint32_t m = ix->cap - 1, k = h & m;
    while (ix->cells[k].head1) {
        const icell *cl = &ix->cells[k];
        if (cl->hash == h && same_record(entry_at(ix->c, ix->pos[cl->head1 - 1]), table, id, idlen)) return k;
        k = (k + 1) & m;
    }
    return k;
}

static void ix_add(nw_cl_index *ix, uint32_t order_pos) {
    const uint8_t *p = entry_at(ix->c, order_pos);
    uint32_t table = nw_rd_u32(p + 8), idlen = nw_rd_u32(p + 36);
    uint32_t h = key_hash(table, p + HDR, idlen), i = ix->n++;
    ix->pos[i] = order_pos;
    ix->next[i] = 0;
    icell *cl = &ix->cells[ix_cell(ix, h, table, p + HDR, idlen)];
    if (!cl->head1) *cl = (icell){ h, i + 1, i };
    else { ix->next[cl->tail] = i + 1; cl->tail = i; }
}

nw_code nw_changelog_index(const nw_changelog *c, const uint8_t *want, uint32_t nwant, nw_cl_index **out, nw_error *err) {
    *out = NULL;
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->norder; i++) {
        const uint8_t *p = entry_at(c, i);
        uint32_t t = nw_rd_u32(p + 8);
        if (!(p[5] & F_REMOVED) && t < nwant && want[t]) n++;
    }
    if (!n) return NW_OK;
    if (n > (1u << 29)) return nw_error_nomem(err);
    nw_cl_index *ix = nw_calloc(1, sizeof *ix);
    uint32_t cap = 16;
    while (cap < n * 2) cap *= 2;
    if (ix) {
        ix->c = c;
        ix->cap = cap;
        ix->pos = nw_malloc((size_t)n * sizeof *ix->pos);
        ix->next = nw_malloc((size_t)n * sizeof *ix->next);
        ix->cells = nw_calloc(cap, sizeof *ix->cells);
    }
    if (!ix || !ix->pos || !ix->next || !ix->cells) { nw_cl_index_free(ix); return nw_error_nomem(err); }
    for (uint32_t i = 0; i < c->norder; i++) {
        const uint8_t *p = entry_at(c, i);
        uint32_t t = nw_rd_u32(p + 8);
        if (!(p[5] & F_REMOVED) && t < nwant && want[t]) ix_add(ix, i);
    }
    *out = ix;
    return NW_OK;
}

uint32_t nw_cl_index_find(const nw_cl_index *ix, uint32_t table, const uint8_t *id, uint32_t idlen) {
    if (!ix) return 0;
    const icell *cl = &ix->cells[ix_cell(ix, key_hash(table, id, idlen), table, id, idlen)];
    return cl->head1;
}

uint32_t nw_cl_index_entry(const nw_cl_index *ix, uint32_t it, nw_cl_entry *e) {
    read_entry(entry_at(ix->c, ix->pos[it - 1]), e);
    return ix->next[it - 1];
}
