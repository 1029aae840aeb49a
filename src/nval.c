/* nval.c - reading JS-encoded values in place, and the shared nv helpers. */
#include "nval.h"
#include <string.h>
#include <math.h>

/* ---- validation ---------------------------------------------------------- */

static size_t check_at(const uint8_t *p, size_t len, int depth);

static size_t check_pairs(const uint8_t *p, size_t len, uint32_t count, int depth, bool keyed) {
    size_t off = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (keyed) {
            if (len - off < 4) return 0;
            uint32_t kl = nw_rd_u32(p + off);
            off += 4;
            if (kl > len - off) return 0;
            off += kl;
        }
        size_t n = check_at(p + off, len - off, depth + 1);
        if (!n) return 0;
        off += n;
    }
    return off;
}

static size_t check_at(const uint8_t *p, size_t len, int depth) {
    if (len < 1 || depth > NVAL_MAX_DEPTH + NVAL_ENVELOPE_DEPTH) return 0;
    switch (p[0]) {
    case NVAL_NULL: case NVAL_FALSE: case NVAL_TRUE: return 1;
    case NVAL_NUM: case NVAL_DATE: return len >= 9 ? 9 : 0;
    case NVAL_QUERY: return len >= 5 ? 5 : 0;
    case NVAL_STR: {
        if (len < 5) return 0;
        uint32_t n = nw_rd_u32(p + 1);
        return n <= len - 5 ? 5 + (size_t)n : 0;
    }
    case NVAL_ARR: case NVAL_OBJ: {
        if (len < 5) return 0;
        uint32_t count = nw_rd_u32(p + 1);
        /* each element takes at least one byte: refuse absurd counts early */
        if (count > len - 5) return 0;
        size_t n = check_pairs(p + 5, len - 5, count, depth, p[0] == NVAL_OBJ);
        return n || !count ? 5 + n : 0;
    }
    case NVAL_FIELDS: {
        if (len < 5) return 0;
        uint32_t count = nw_rd_u32(p + 1);
        if (count > len - 5) return 0;
        size_t off = 5;
        for (uint32_t i = 0; i < count; i++) {
            if (len - off < 5) return 0;
            if (p[off] == NVAL_FIELD) {
                off += 5;
            } else if (p[off] == NVAL_UNKNOWN) {
                uint32_t kl = nw_rd_u32(p + off + 1);
                off += 5;
                if (kl > len - off) return 0;
                off += kl;
            } else {
                return 0;
            }
            size_t n = check_at(p + off, len - off, depth + 1);
            if (!n) return 0;
            off += n;
        }
        return off;
    }
    default: return 0;
    }
}

size_t nval_check(const uint8_t *p, size_t len) {
    if (!p) return 0;
    return check_at(p, len, 0);
}

size_t nval_span(const uint8_t *p) {
    switch (p[0]) {
    case NVAL_NULL: case NVAL_FALSE: case NVAL_TRUE: return 1;
    case NVAL_NUM: case NVAL_DATE: return 9;
    case NVAL_QUERY: return 5;
    case NVAL_STR: return 5 + (size_t)nw_rd_u32(p + 1);
    case NVAL_ARR: case NVAL_OBJ: case NVAL_FIELDS: {
        uint32_t count = nw_rd_u32(p + 1);
        size_t off = 5;
        for (uint32_t i = 0; i < count; i++) {
            if (p[0] == NVAL_OBJ) off += 4 + (size_t)nw_rd_u32(p + off);
            else if (p[0] == NVAL_FIELDS) off += p[off] == NVAL_UNKNOWN ? 5 + (size_t)nw_rd_u32(p + off + 1) : 5;
            off += nval_span(p + off);
        }
        return off;
    }
    default: return 1;
    }
}

/* ---- views ---------------------------------------------------------------- */

static bool obj_get(const nv *self, const char *key, size_t klen, nv *out);
static uint32_t arr_len(const nv *self);
static bool arr_next(const nv *self, nv_iter *it, nv *out);

static const nv_ops obj_ops = { obj_get, NULL, NULL };
static const nv_ops arr_ops = { NULL, arr_len, arr_next };

void nval_view(nv *out, const uint8_t *p, const nval_env *env) {
    memset(out, 0, sizeof *out);
    out->a = p;
    out->c = env;
    switch (p[0]) {
    case NVAL_NULL: out->kind = NV_NULL; break;
    case NVAL_FALSE: out->kind = NV_BOOL; out->u.b = false; break;
    case NVAL_TRUE: out->kind = NV_BOOL; out->u.b = true; break;
    case NVAL_NUM: out->kind = NV_NUM; out->u.num = nw_rd_f64(p + 1); break;
    case NVAL_DATE: out->kind = NV_DATE; out->u.num = nw_rd_f64(p + 1); break;
    case NVAL_STR:
        out->kind = NV_STR;
        out->u.str.len = nw_rd_u32(p + 1);
        out->u.str.p = (const char *)p + 5;
        break;
    case NVAL_ARR:
        out->kind = NV_LIST; out->ops = &arr_ops; out->n = nw_rd_u32(p + 1);
        break;
    case NVAL_OBJ:
        out->kind = NV_MAP; out->ops = &obj_ops; out->n = nw_rd_u32(p + 1);
        break;
    case NVAL_QUERY:
        out->kind = NV_NULL;
        if (env && env->query && !env->query(env->ud, nw_rd_u32(p + 1), out)) {
            memset(out, 0, sizeof *out);
            out->kind = NV_NULL;
        }
        break;
    default: out->kind = NV_NULL; break;
    }
}

static bool obj_get(const nv *self, const char *key, size_t klen, nv *out) {
    const uint8_t *p = self->a;
    size_t off = 5;
    for (uint32_t i = 0; i < self->n; i++) {
        uint32_t kl = nw_rd_u32(p + off);
        const uint8_t *k = p + off + 4;
        off += 4 + kl;
        if (kl == klen && memcmp(k, key, klen) == 0) {
            nval_view(out, p + off, self->c);
            return true;
        }
        off += nval_span(p + off);
    }
    return false;
}

static uint32_t arr_len(const nv *self) { return self->n; }

static bool arr_next(const nv *self, nv_iter *it, nv *out) {
    if (it->i >= self->n) return false;
    const uint8_t *p = self->a;
    if (it->i == 0) it->off = 5;
    nval_view(out, p + it->off, self->c);
    it->off += nval_span(p + it->off);
    it->i++;
    return true;
}

/* ---- shared helpers ------------------------------------------------------- */

bool nv_truthy(const nv *v) {
    switch (v->kind) {
    case NV_MISSING: case NV_NULL: return false;
    case NV_BOOL: return v->u.b;
    case NV_NUM: return v->u.num != 0 && !isnan(v->u.num);
    case NV_DATE: return !isnan(v->u.num);
    case NV_STR: return v->u.str.len > 0;
    case NV_LIST: return v->ops->len(v) > 0;
    case NV_MAP: return true;
    }
    return false;
}


void nv_write_iso_date(nw_buf *b, double ms) {
    char t[NW_ISO_MAX];
    nw_buf_append(b, t, nw_fmt_iso(t, ms));
}

void nv_write_text(nw_buf *b, const nv *v) {
    switch (v->kind) {
    case NV_MISSING: case NV_NULL: break;
    case NV_BOOL: nw_buf_str(b, v->u.b ? "true" : "false"); break;
    case NV_NUM: nw_buf_num(b, v->u.num); break;
    case NV_DATE: nv_write_iso_date(b, v->u.num); break;
    case NV_STR: nw_buf_append(b, v->u.str.p, v->u.str.len); break;
    case NV_LIST: {
        uint32_t n = v->ops->len(v);
        nv_iter it = {0, 0};
        nv e;
        for (uint32_t i = 0; i < n && v->ops->next(v, &it, &e); i++) {
            if (i) nw_buf_byte(b, ',');
            if (e.kind != NV_LIST && e.kind != NV_MAP) nv_write_text(b, &e);
        }
        break;
    }
    case NV_MAP: nw_buf_str(b, "[object Object]"); break;
    }
}

/* ---- raw accessors -------------------------------------------------------- */

const uint8_t *nval_get(const uint8_t *p, const char *key) {
    if (!p || p[0] != NVAL_OBJ) return NULL;
    size_t klen = strlen(key);
    uint32_t n = nw_rd_u32(p + 1);
    size_t off = 5;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t kl = nw_rd_u32(p + off);
        const uint8_t *k = p + off + 4;
        off += 4 + kl;
        if (kl == klen && memcmp(k, key, klen) == 0) return p + off;
        off += nval_span(p + off);
    }
    return NULL;
}

double nval_num(const uint8_t *v, double dflt) {
    return v && (v[0] == NVAL_NUM || v[0] == NVAL_DATE) ? nw_rd_f64(v + 1) : dflt;
}

bool nval_bool(const uint8_t *v, bool dflt) {
    if (!v) return dflt;
    if (v[0] == NVAL_TRUE) return true;
    if (v[0] == NVAL_FALSE) return false;
    return dflt;
}

const char *nval_str(const uint8_t *v, uint32_t *len) {
    if (!v || v[0] != NVAL_STR) return NULL;
    *len = nw_rd_u32(v + 1);
    return (const char *)v + 5;
}

uint32_t nval_arr(const uint8_t *v, const uint8_t **first) {
    if (!v || v[0] != NVAL_ARR) return 0;
    *first = v + 5;
    return nw_rd_u32(v + 1);
}
