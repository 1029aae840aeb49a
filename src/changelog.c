/* changelog.c - the outbox and the client's sync state (see changelog.h). */
#include "changelog.h"
#include "alloc.h"
#include "record.h"
#include <string.h>

/* Arena entry layout (little endian, unaligned):
 *   u32 size of the whole entry, u8 op, u8 flags, u16 0, u32 table,
 *   f64 seq, f64 base, u32 mask low, u32 mask high,
 *   u32 id length, id, u32 fields length, fields */
#define HDR 40
#define F_REMOVED 0x80u

/* Versions: open addressing with linear probing, deletion by backward shift
 * (no tombstones). id == NULL marks an empty cell. */
typedef struct vent { uint32_t hash, table, idlen; uint8_t *id; double v; } vent;

struct nw_changelog {
    nw_buf arena;
    uint32_t live;          /* entries not removed */
    uint32_t removed;       /* removed entries still in the arena */
    double next_seq;
    bool disabled;
    uint32_t *tflags;
    uint32_t ntflags;
    uint8_t *client, *cursor;
    uint32_t client_len, cursor_len;
    vent *v;
    uint32_t vcap, vcount;
};

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
    nw_buf_free(&c->arena);
    nw_free(c->tflags);
    nw_free(c->client);
    nw_free(c->cursor);
    for (uint32_t i = 0; i < c->vcap; i++) nw_free(c->v[i].id);
    nw_free(c->v);
    nw_free(c);
}

void nw_changelog_enable(nw_changelog *c, bool on) { c->disabled = !on; }
bool nw_changelog_enabled(const nw_changelog *c) { return !c->disabled; }

nw_code nw_changelog_set_table(nw_changelog *c, uint32_t table, uint32_t flags, nw_error *err) {
    if (table >= c->ntflags) {
        uint32_t n = table + 8;
        uint32_t *f = nw_realloc(c->tflags, n * sizeof *f);
        if (!f) return nw_error_nomem(err);
        memset(f + c->ntflags, 0, (n - c->ntflags) * sizeof *f);
        c->tflags = f;
        c->ntflags = n;
    }
    c->tflags[table] = flags;
    return NW_OK;
}

uint32_t nw_changelog_table_flags(const nw_changelog *c, uint32_t table) {
    return table < c->ntflags ? c->tflags[table] : 0;
}

bool nw_changelog_logs(const nw_changelog *c, uint32_t table) {
    return !c->disabled && !(nw_changelog_table_flags(c, table) & NW_CLT_LOCAL);
}

/* ---- entries ------------------------------------------------------------------ */

static void read_entry(const uint8_t *p, nw_cl_entry *e) {
    e->raw = p;
    e->size = nw_rd_u32(p);
    e->op = p[4];
    e->flags = p[5] & ~F_REMOVED;
    e->table = nw_rd_u32(p + 8);
    e->seq = nw_rd_f64(p + 12);
    e->base = nw_rd_f64(p + 20);
    e->mask = nw_rd_u32(p + 28) | ((uint64_t)nw_rd_u32(p + 32) << 32);
    e->idlen = nw_rd_u32(p + 36);
    e->id = p + HDR;
    e->flen = nw_rd_u32(p + HDR + e->idlen);
    e->fields = p + HDR + e->idlen + 4;
}

nw_code nw_changelog_append(nw_changelog *c, nw_cl_op op, uint32_t table, const uint8_t *id, uint32_t idlen,
                            uint64_t mask, const uint8_t *fields, uint32_t flen, size_t *mark, nw_error *err) {
    size_t size = (size_t)HDR + idlen + 4 + flen;
    if (size > 0xFFFFFFFFu) return nw_error_set(err, NW_E_LIMIT, NULL, NULL, "size", "mutation too large for the outbox");
    if (!nw_buf_reserve(&c->arena, size)) { c->arena.oom = false; return nw_error_nomem(err); }
    double base = (nw_changelog_table_flags(c, table) & NW_CLT_VERSIONS) ? nw_changelog_version(c, table, id, idlen) : 0;
    *mark = c->arena.len;
    uint8_t *p = c->arena.p + c->arena.len;
    wr_u32(p, (uint32_t)size);
    p[4] = (uint8_t)op;
    p[5] = 0;
    p[6] = p[7] = 0;
    wr_u32(p + 8, table);
    wr_f64(p + 12, c->next_seq);
    wr_f64(p + 20, base);
    wr_u32(p + 28, (uint32_t)mask);
    wr_u32(p + 32, (uint32_t)(mask >> 32));
    wr_u32(p + 36, idlen);
    memcpy(p + HDR, id, idlen);
    wr_u32(p + HDR + idlen, flen);
    if (flen) memcpy(p + HDR + idlen + 4, fields, flen);
    c->arena.len += size;
    c->next_seq += 1;
    c->live++;
    return NW_OK;
}

void nw_changelog_truncate(nw_changelog *c, size_t mark) {
    if (mark >= c->arena.len) return;
    /* the first dropped entry holds the lowest of the dropped seqs */
    c->next_seq = nw_rd_f64(c->arena.p + mark + 12);
    for (size_t at = mark; at < c->arena.len; at += nw_rd_u32(c->arena.p + at)) {
        if (c->arena.p[at + 5] & F_REMOVED) c->removed--;
        else c->live--;
    }
    c->arena.len = mark;
}

size_t nw_changelog_next(const nw_changelog *c, size_t pos, nw_cl_entry *e) {
    while (pos < c->arena.len) {
        const uint8_t *p = c->arena.p + pos;
        pos += nw_rd_u32(p);
        if (p[5] & F_REMOVED) continue;
        read_entry(p, e);
        return pos;
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

/* Arena offset of the live entry `seq`, or SIZE_MAX. Entries are in seq
 * order, so a binary search would do; removals make offsets irregular, and
 * the outbox is scanned in order anyway, so a linear walk is kept. */
static size_t find(const nw_changelog *c, double seq) {
    for (size_t at = 0; at < c->arena.len; at += nw_rd_u32(c->arena.p + at)) {
        const uint8_t *p = c->arena.p + at;
        double s = nw_rd_f64(p + 12);
        if (s == seq) return (p[5] & F_REMOVED) ? SIZE_MAX : at;
        if (s > seq) break;
    }
    return SIZE_MAX;
}

bool nw_changelog_remove(nw_changelog *c, double seq) {
    size_t at = find(c, seq);
    if (at == SIZE_MAX) return false;
    c->arena.p[at + 5] |= F_REMOVED;
    c->live--;
    c->removed++;
    return true;
}

bool nw_changelog_flag(nw_changelog *c, double seq, uint8_t flags, bool on) {
    size_t at = find(c, seq);
    if (at == SIZE_MAX) return false;
    flags &= (uint8_t)~F_REMOVED;
    if (on) c->arena.p[at + 5] |= flags;
    else c->arena.p[at + 5] &= (uint8_t)~flags;
    return true;
}

nw_code nw_changelog_requeue(nw_changelog *c, double seq, double base, nw_error *err) {
    size_t at = find(c, seq);
    if (at == SIZE_MAX) return nw_error_set(err, NW_E_NOT_FOUND, NULL, NULL, NULL, "no pending mutation %g", seq);
    uint32_t size = nw_rd_u32(c->arena.p + at);
    if (!nw_buf_reserve(&c->arena, size)) { c->arena.oom = false; return nw_error_nomem(err); }
    uint8_t *src = c->arena.p + at, *dst = c->arena.p + c->arena.len;
    memcpy(dst, src, size);
    dst[5] = 0;
    wr_f64(dst + 12, c->next_seq);
    wr_f64(dst + 20, base);
    src[5] |= F_REMOVED;
    c->removed++;
    c->arena.len += size;
    c->next_seq += 1;
    return NW_OK;
}

void nw_changelog_compact(nw_changelog *c) {
    if (!c->removed) return;
    size_t out = 0;
    for (size_t at = 0; at < c->arena.len;) {
        uint32_t size = nw_rd_u32(c->arena.p + at);
        if (!(c->arena.p[at + 5] & F_REMOVED)) {
            if (out != at) memmove(c->arena.p + out, c->arena.p + at, size);
            out += size;
        }
        at += size;
    }
    c->arena.len = out;
    c->removed = 0;
    /* give memory back after a big push drained the outbox */
    if (out == 0 && c->arena.cap > (1u << 20)) nw_buf_free(&c->arena);
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
    for (uint32_t t = 0; t < from->ntflags; t++) {
        if (!from->tflags[t]) continue;
        nw_code rc = nw_changelog_set_table(to, t, from->tflags[t], err);
        if (rc) return rc;
    }
    return NW_OK;
}

size_t nw_changelog_bytes(const nw_changelog *c) {
    size_t b = c->arena.cap + (size_t)c->vcap * sizeof(vent);
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
    for (size_t at = 0; at < c->arena.len;) {
        const uint8_t *p = c->arena.p + at;
        uint32_t size = nw_rd_u32(p);
        if (!(p[5] & F_REMOVED)) nw_buf_append(out, p, size);
        at += size;
    }
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
        NEED(HDR + 4);
        const uint8_t *e = p + at;
        uint32_t size = nw_rd_u32(e), idlen = nw_rd_u32(e + 36);
        if (size < HDR + 4 || size > len - at || idlen > size - HDR - 4) return corrupt(err, "entry size");
        uint32_t flen = nw_rd_u32(e + HDR + idlen);
        if ((size_t)HDR + idlen + 4 + flen != size) return corrupt(err, "entry size");
        nw_cl_entry x;
        read_entry(e, &x);
        if (x.op < NW_CL_CREATE || x.op > NW_CL_DELETE || (e[5] & F_REMOVED) || x.table >= ntables || !idlen)
            return corrupt(err, "entry");
        if (!(x.seq > last && x.seq < next)) return corrupt(err, "entry order");
        if ((x.op == NW_CL_DELETE) != (x.mask == 0) || !check(ud, x.table, x.mask, x.fields, x.flen)) return corrupt(err, "entry fields");
        if (!nw_buf_reserve(&c->arena, size)) { c->arena.oom = false; return nw_error_nomem(err); }
        nw_buf_append(&c->arena, e, size);
        c->live++;
        last = x.seq;
        at += size;
    }
    c->next_seq = next;
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
