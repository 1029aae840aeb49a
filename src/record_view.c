/* record_view.c - records and query results as nv views for templates
 * (record_view.h). */
#include "record_view.h"
#include "record.h"
#include "nval.h"
#include <string.h>

static void field_ptrs(const nw_entity_def *def, const uint8_t *row, const uint8_t **out) {
    const uint8_t *f = row + 4;
    for (uint32_t i = 0; i < def->nfields; i++) { out[i] = f; f += nw_field_span(f); }
}

static bool rec_get(const nv *self, const char *key, size_t klen, nv *out);
static uint32_t slots_len(const nv *self);
static bool slots_next(const nv *self, nv_iter *it, nv *out);
static const nv_ops rec_ops = { rec_get, NULL, NULL };
static const nv_ops slots_ops = { NULL, slots_len, slots_next };

void nw_record_view(nv *out, const nw_table *t, const uint8_t *row) {
    memset(out, 0, sizeof *out);
    out->kind = NV_MAP;
    out->ops = &rec_ops;
    out->a = row;
    out->c = t;
}

/* A template asks one row for several fields and every row for the same
 * names, so rec_get keeps, per table (nw_table_reader_cache), the field
 * pointers of the last row it read and the field number of each name it was
 * asked (a small cache keyed by the name's address, always checked against
 * the schema, so a stale entry is only a miss). Rows may be freed and their
 * memory reused between calls: nw_record_views_reset() forgets the row at
 * every API call. */
#define NAMEC 64
typedef struct view_cache {
    const uint8_t *row;
    const uint8_t *f[NW_MAX_FIELDS];
    struct { const char *key; int fi; } names[NAMEC];
} view_cache;

void nw_record_views_reset(const nw_store *s) {
    for (uint32_t i = 0; i < nw_store_ntables(s); i++) {
        view_cache *c = nw_table_reader_cache(nw_store_table(s, i), 0);
        if (c) c->row = NULL;
    }
}

static int cached_field(view_cache *c, const nw_entity_def *def, const char *key, size_t klen) {
    if (!c) return nw_schema_field(def, key, klen);
    uint32_t h = (uint32_t)(((uintptr_t)key >> 2) ^ ((uintptr_t)def >> 4)) % NAMEC;
    int fi = c->names[h].fi;
    if (c->names[h].key == key && fi >= 0 && (uint32_t)fi < def->nfields &&
        def->fields[fi].name_len == klen && memcmp(def->fields[fi].name, key, klen) == 0) return fi;
    fi = nw_schema_field(def, key, klen);
    c->names[h].key = key;
    c->names[h].fi = fi;
    return fi;
}

/* The row's field `fi`, through the cache when there is one. */
static const uint8_t *row_field_at(view_cache *c, const nw_entity_def *def, const uint8_t *row, int fi) {
    if (!c) {
        const uint8_t *f[NW_MAX_FIELDS];
        field_ptrs(def, row, f);
        return f[fi];
    }
    if (c->row != row) {
        field_ptrs(def, row, c->f);
        c->row = row;
    }
    return c->f[fi];
}

static bool rec_get(const nv *self, const char *key, size_t klen, nv *out) {
    const nw_table *t = self->c;
    const nw_entity_def *def = nw_table_def(t);
    view_cache *c = nw_table_reader_cache(t, sizeof(view_cache));
    int fi = cached_field(c, def, key, klen);
    if (fi < 0) return false;
    const uint8_t *f = row_field_at(c, def, self->a, fi);
    const nw_field *fd = &def->fields[fi];
    memset(out, 0, sizeof *out);
    switch (f[0]) {
    case NW_ROW_ENUM:
        out->kind = NV_STR;
        out->u.str.p = fd->values[f[1]];
        out->u.str.len = fd->value_lens[f[1]];
        return true;
    case NVAL_NUM:
        out->kind = nw_type_of(fd->type)->hint == NW_HINT_DATE ? NV_DATE : NV_NUM;
        out->u.num = nw_rd_f64(f + 1);
        return true;
    default:
        nval_view(out, f, NULL);
        return true;
    }
}

void nw_slots_view(nv *out, const nw_table *t, const uint32_t *slots, uint32_t n) {
    memset(out, 0, sizeof *out);
    out->kind = NV_LIST;
    out->ops = &slots_ops;
    out->a = slots;
    out->c = t;
    out->n = n;
}

static uint32_t slots_len(const nv *self) { return self->n; }

static bool slots_next(const nv *self, nv_iter *it, nv *out) {
    if (it->i >= self->n) return false;
    const uint32_t *slots = self->a;
    const nw_table *t = self->c;
    uint32_t slot = slots[it->i++];
    nw_record_view(out, t, nw_table_row(t, slot));
    out->n = slot + 1;   /* lets live views tell which slot a record came from */
    return true;
}

bool nw_record_view_info(const nv *v, const nw_table **t, uint32_t *slot, const char **id, uint32_t *idlen) {
    if (v->kind != NV_MAP || v->ops != &rec_ops || !v->n) return false;
    *t = v->c;
    *slot = v->n - 1;
    const uint8_t *f = (const uint8_t *)v->a + 4;   /* field 0, the id: a string */
    *idlen = nw_rd_u32(f + 1);
    *id = (const char *)f + 5;
    return true;
}
