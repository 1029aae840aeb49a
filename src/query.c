/* query.c - parsing, matching and running queries (see query.h). */
#include "query.h"
#include "alloc.h"
#include "nval.h"
#include <string.h>
#include <stdlib.h>
#include <math.h>

typedef enum { Q_AND, Q_OR, Q_NOT, Q_CMP, Q_FALSE } qkind;
typedef enum { OP_EQ, OP_NE, OP_LT, OP_LTE, OP_GT, OP_GTE, OP_IN, OP_NIN, OP_CONTAINS, OP_STARTS, OP_EXISTS } qop;

static const char *const op_names[] = { "eq", "ne", "lt", "lte", "gt", "gte", "in", "nin", "contains", "startsWith", "exists" };

typedef struct qnode {
    qkind kind;
    qop op;
    uint32_t field;
    struct qnode **kids;
    uint32_t nkids;
    uint8_t *vals;          /* stored-form values, concatenated (owned) */
    uint32_t nvals;
    bool exists;
    bool unknown_enum;      /* eq/ne against a value the enum does not have */
} qnode;

struct nw_query {
    uint32_t table;
    nw_table *t;
    qnode *where;           /* NULL = everything */
    uint32_t norder;
    uint32_t order[NW_MAX_FIELDS];
    bool desc[NW_MAX_FIELDS];
    double limit, offset;   /* limit < 0 = none */
};

#define MAX_WHERE_DEPTH 32
/* limit/offset beyond this count of records: no limit / skip everything */
#define MAX_WINDOW 4294967295.0

uint32_t nw_query_table(const nw_query *q) { return q->table; }
double nw_query_limit(const nw_query *q) { return q->limit; }
double nw_query_offset(const nw_query *q) { return q->offset; }

static void node_free(qnode *n) {
    if (!n) return;
    for (uint32_t i = 0; i < n->nkids; i++) node_free(n->kids[i]);
    nw_free(n->kids);
    nw_free(n->vals);
    nw_free(n);
}

void nw_query_free(nw_query *q) {
    if (!q) return;
    node_free(q->where);
    nw_free(q);
}

/* ---- parsing --------------------------------------------------------------- */

typedef struct pctx { nw_query *q; nw_error *err; const nw_entity_def *def; } pctx;

static nw_code qerr(pctx *c, const char *field, const char *rule, const char *msg, const uint8_t *v) {
    char got[64];
    if (v) nw_describe_value(v, got, sizeof got);
    return nw_error_set(c->err, NW_E_QUERY, c->def->name, field, rule, v ? "%s (got %s)" : "%s", msg, got);
}

/* Converts a query value to the stored form of field f for comparison (type
 * only, no value rules; the type table's qconv). */
static nw_code conv(pctx *c, const nw_field *f, qop op, const uint8_t *v, nw_buf *out, bool *unknown_enum) {
    const char *on = op_names[op];
    if (v[0] == NVAL_NULL) { nw_buf_byte(out, NVAL_NULL); return NW_OK; }
    const nw_type_ops *ops = nw_type_of(f->type);
    bool eqlike = op == OP_EQ || op == OP_NE || op == OP_IN || op == OP_NIN;
    if (op == OP_CONTAINS && (ops->flags & NW_TF_LIST)) ops = nw_type_of(f->of);
    else if ((ops->flags & NW_TF_EQONLY) && !eqlike) return qerr(c, f->name, on, "is not supported on this field type", NULL);
    switch (ops->qconv(f, v, out)) {
    case NW_QC_OK: return NW_OK;
    case NW_QC_UNKNOWN:
        /* a value the field cannot hold (an enum's): never equal to anything */
        if (eqlike) { *unknown_enum = true; return NW_OK; }
        return qerr(c, f->name, on, "is not one of the enum's values", v);
    default: return qerr(c, f->name, on, ops->expects, v);
    }
}

static nw_code parse_where(pctx *c, const uint8_t *w, qnode **out, int depth);

static qnode *new_node(qkind k) {
    qnode *n = nw_calloc(1, sizeof *n);
    if (n) n->kind = k;
    return n;
}

static nw_code add_kid(pctx *c, qnode *parent, qnode *kid) {
    qnode **k = nw_realloc(parent->kids, (parent->nkids + 1) * sizeof *k);
    if (!k) { node_free(kid); return nw_error_nomem(c->err); }
    parent->kids = k;
    parent->kids[parent->nkids++] = kid;
    return NW_OK;
}

static nw_code parse_cmp(pctx *c, uint32_t fi, qop op, const uint8_t *v, qnode **out) {
    const nw_field *f = &c->def->fields[fi];
    qnode *n = new_node(Q_CMP);
    if (!n) return nw_error_nomem(c->err);
    n->op = op;
    n->field = fi;
    nw_code rc = NW_OK;
    nw_buf b;
    nw_buf_init(&b);
    if (op == OP_EXISTS) {
        if (v[0] != NVAL_TRUE && v[0] != NVAL_FALSE) rc = qerr(c, f->name, "exists", "expects a boolean", v);
        n->exists = v[0] == NVAL_TRUE;
    } else if (op == OP_IN || op == OP_NIN) {
        const uint8_t *it;
        if (v[0] != NVAL_ARR) rc = qerr(c, f->name, op_names[op], "expects an array", v);
        uint32_t m = nval_arr(v, &it);
        for (uint32_t i = 0; i < m && !rc; i++, it += nval_span(it)) {
            bool ue = false;
            rc = conv(c, f, op, it, &b, &ue);
            n->nvals++;
        }
    } else if (op == OP_STARTS) {
        if (!(nw_type_of(f->type)->flags & NW_TF_PREFIX)) rc = qerr(c, f->name, "startsWith", "applies to string fields", NULL);
        else rc = conv(c, f, op, v, &b, &n->unknown_enum);
        n->nvals = 1;
    } else if (op == OP_CONTAINS) {
        if (!(nw_type_of(f->type)->flags & (NW_TF_TEXT | NW_TF_LIST))) rc = qerr(c, f->name, "contains", "applies to string and list fields", NULL);
        else rc = conv(c, f, op, v, &b, &n->unknown_enum);
        n->nvals = 1;
    } else {
        rc = conv(c, f, op, v, &b, &n->unknown_enum);
        n->nvals = 1;
    }
    if (!rc && op != OP_EQ && op != OP_NE && op != OP_EXISTS && op != OP_IN && op != OP_NIN && b.p && b.p[0] == NVAL_NULL)
        rc = qerr(c, f->name, op_names[op], "cannot compare with null", NULL);
    if (!rc && b.oom) rc = nw_error_nomem(c->err);
    if (rc) { nw_buf_free(&b); node_free(n); return rc; }
    n->vals = b.p;
    *out = n;
    return NW_OK;
}

static int op_of(const char *k, uint32_t kl) {
    for (int i = 0; i < (int)(sizeof op_names / sizeof op_names[0]); i++)
        if (strlen(op_names[i]) == kl && memcmp(op_names[i], k, kl) == 0) return i;
    return -1;
}

static nw_code parse_list(pctx *c, qkind kind, const uint8_t *arr, qnode **out, int depth, const char *name) {
    if (arr[0] != NVAL_ARR) return nw_error_set(c->err, NW_E_QUERY, c->def->name, NULL, name, "%s takes an array of where objects", name);
    qnode *n = new_node(kind);
    if (!n) return nw_error_nomem(c->err);
    const uint8_t *it;
    uint32_t m = nval_arr(arr, &it);
    for (uint32_t i = 0; i < m; i++, it += nval_span(it)) {
        qnode *k;
        nw_code rc = parse_where(c, it, &k, depth + 1);
        if (!rc) rc = add_kid(c, n, k);
        if (rc) { node_free(n); return rc; }
    }
    *out = n;
    return NW_OK;
}

static nw_code parse_where(pctx *c, const uint8_t *w, qnode **out, int depth) {
    if (depth > MAX_WHERE_DEPTH) return nw_error_set(c->err, NW_E_LIMIT, c->def->name, NULL, "depth", "where nests deeper than %d", MAX_WHERE_DEPTH);
    if (w[0] != NVAL_OBJ) return qerr(c, NULL, "type", "a where clause is an object", w);
    qnode *and = new_node(Q_AND);
    if (!and) return nw_error_nomem(c->err);
    uint32_t n = nw_rd_u32(w + 1);
    size_t off = 5;
    nw_code rc = NW_OK;
    for (uint32_t i = 0; i < n && !rc; i++) {
        uint32_t kl = nw_rd_u32(w + off);
        const char *k = (const char *)w + off + 4;
        const uint8_t *v = w + off + 4 + kl;
        off += 4 + kl + nval_span(v);
        qnode *kid = NULL;
        if (kl == 3 && !memcmp(k, "$or", 3)) rc = parse_list(c, Q_OR, v, &kid, depth, "$or");
        else if (kl == 4 && !memcmp(k, "$and", 4)) rc = parse_list(c, Q_AND, v, &kid, depth, "$and");
        else if (kl == 4 && !memcmp(k, "$not", 4)) {
            qnode *inner;
            rc = parse_where(c, v, &inner, depth + 1);
            if (!rc) {
                kid = new_node(Q_NOT);
                if (!kid) { node_free(inner); rc = nw_error_nomem(c->err); }
                else if ((rc = add_kid(c, kid, inner))) { node_free(kid); kid = NULL; }
            }
        } else {
            int fi = nw_schema_field(c->def, k, kl);
            if (fi < 0) {
                char name[NW_ERR_NAME];
                uint32_t m = kl < NW_ERR_NAME - 1 ? kl : NW_ERR_NAME - 1;
                memcpy(name, k, m); name[m] = 0;
                rc = nw_error_set(c->err, NW_E_QUERY, c->def->name, name, "unknown", "is not a field of %s", c->def->name);
            } else if (v[0] == NVAL_OBJ && !(nw_type_of(c->def->fields[fi].type)->flags & NW_TF_OBJECT)) {
                /* operator object: several operators are AND */
                uint32_t m = nw_rd_u32(v + 1);
                size_t o2 = 5;
                qnode *ops = new_node(Q_AND);
                if (!ops) rc = nw_error_nomem(c->err);
                for (uint32_t j = 0; j < m && !rc; j++) {
                    uint32_t ol = nw_rd_u32(v + o2);
                    const char *on = (const char *)v + o2 + 4;
                    const uint8_t *ov = v + o2 + 4 + ol;
                    o2 += 4 + ol + nval_span(ov);
                    int op = op_of(on, ol);
                    if (op < 0) {
                        rc = nw_error_set(c->err, NW_E_QUERY, c->def->name, c->def->fields[fi].name, "operator",
                                          "unknown operator \"%.*s\" (eq, ne, lt, lte, gt, gte, in, nin, contains, startsWith, exists)", (int)(ol > 30 ? 30 : ol), on);
                        break;
                    }
                    qnode *cmp;
                    rc = parse_cmp(c, (uint32_t)fi, (qop)op, ov, &cmp);
                    if (!rc) rc = add_kid(c, ops, cmp);
                }
                if (rc) node_free(ops); else kid = ops;
            } else {
                rc = parse_cmp(c, (uint32_t)fi, OP_EQ, v, &kid);
            }
        }
        if (!rc) rc = add_kid(c, and, kid);
    }
    if (rc) { node_free(and); return rc; }
    *out = and;
    return NW_OK;
}

nw_code nw_query_parse(nw_store *s, uint32_t table, const uint8_t *spec, nw_query **out, nw_error *err) {
    nw_table *t = nw_store_table(s, table);
    if (!t) return nw_error_set(err, NW_E_SCHEMA, NULL, NULL, "schema", "no such entity");
    nw_query *q = nw_calloc(1, sizeof *q);
    if (!q) return nw_error_nomem(err);
    q->table = table;
    q->t = t;
    q->limit = -1;
    pctx c = { q, err, nw_table_def(t) };
    nw_code rc = NW_OK;
    const uint8_t *w = nval_get(spec, "where");
    if (w && w[0] != NVAL_NULL) rc = parse_where(&c, w, &q->where, 0);
    const uint8_t *ord = nval_get(spec, "order");
    if (!rc && ord) {
        const uint8_t *it;
        uint32_t m = nval_arr(ord, &it);
        for (uint32_t i = 0; i < m && !rc; i++, it += nval_span(it)) {
            const uint8_t *pair;
            uint32_t pn = nval_arr(it, &pair);
            uint32_t nl = 0;
            const char *name = pn ? nval_str(pair, &nl) : NULL;
            int fi = name ? nw_schema_field(c.def, name, nl) : -1;
            if (fi < 0) {
                char fname[NW_ERR_NAME];
                uint32_t k = name ? (nl < NW_ERR_NAME - 1 ? nl : NW_ERR_NAME - 1) : 0;
                if (name) memcpy(fname, name, k);
                fname[k] = 0;
                rc = nw_error_set(err, NW_E_QUERY, c.def->name, fname, "unknown", "orderBy names a field %s does not have", c.def->name);
                break;
            }
            if (q->norder < NW_MAX_FIELDS) {
                q->order[q->norder] = (uint32_t)fi;
                q->desc[q->norder] = pn > 1 && nval_bool(pair + nval_span(pair), false);
                q->norder++;
            }
        }
    }
    if (!rc) {
        const uint8_t *l = nval_get(spec, "limit"), *o = nval_get(spec, "offset");
        if (l && l[0] != NVAL_NULL) {
            double d = nval_num(l, -1);
            if (!(d >= 0) || d != floor(d)) rc = nw_error_set(err, NW_E_QUERY, c.def->name, NULL, "limit", "limit must be a non-negative integer");
            /* more than a table can hold (2^32 - 1 records) is no limit */
            q->limit = d > MAX_WINDOW ? -1 : d;
        }
        if (o && o[0] != NVAL_NULL) {
            double d = nval_num(o, -1);
            if (!(d >= 0) || d != floor(d)) rc = nw_error_set(err, NW_E_QUERY, c.def->name, NULL, "offset", "offset must be a non-negative integer");
            q->offset = d > MAX_WINDOW ? MAX_WINDOW : d;
        }
    }
    if (rc) { nw_query_free(q); return rc; }
    *out = q;
    return NW_OK;
}

/* ---- matching ------------------------------------------------------------------ */

static bool bytes_eq(const uint8_t *a, const uint8_t *b) {
    size_t n = nw_field_span(a);
    return n == nw_field_span(b) && memcmp(a, b, n) == 0;
}

static bool contains_sub(const uint8_t *h, uint32_t hl, const uint8_t *n, uint32_t nl) {
    if (nl == 0) return true;
    if (nl > hl) return false;
    for (uint32_t i = 0; i + nl <= hl; i++)
        if (h[i] == n[0] && memcmp(h + i, n, nl) == 0) return true;
    return false;
}

static bool match_cmp(const qnode *n, const nw_field *f, const uint8_t *fv) {
    bool isnull = fv[0] == NVAL_NULL;
    const uint8_t *v = n->vals;
    switch (n->op) {
    case OP_EXISTS: return n->exists ? !isnull : isnull;
    case OP_EQ:
        if (v[0] == NVAL_NULL) return isnull;
        return !isnull && !n->unknown_enum && bytes_eq(fv, v);
    case OP_NE:
        if (v[0] == NVAL_NULL) return !isnull;
        return isnull || n->unknown_enum || !bytes_eq(fv, v);
    case OP_LT: return !isnull && nw_field_cmp(f, fv, v) < 0;
    case OP_LTE: return !isnull && nw_field_cmp(f, fv, v) <= 0;
    case OP_GT: return !isnull && nw_field_cmp(f, fv, v) > 0;
    case OP_GTE: return !isnull && nw_field_cmp(f, fv, v) >= 0;
    case OP_IN: case OP_NIN: {
        bool found = false;
        const uint8_t *it = v;
        for (uint32_t i = 0; i < n->nvals && !found; i++, it += nw_field_span(it))
            if (it[0] == NVAL_NULL ? isnull : (!isnull && bytes_eq(fv, it))) found = true;
        if (n->op == OP_IN) return found && !isnull;
        return !found;
    }
    case OP_STARTS: {
        if (fv[0] != NVAL_STR) return false;
        uint32_t hl = nw_rd_u32(fv + 1), nl = nw_rd_u32(v + 1);
        return nl <= hl && memcmp(fv + 5, v + 5, nl) == 0;
    }
    case OP_CONTAINS: {
        if (fv[0] == NVAL_STR && v[0] == NVAL_STR)
            return contains_sub(fv + 5, nw_rd_u32(fv + 1), v + 5, nw_rd_u32(v + 1));
        if (fv[0] == NVAL_ARR) {
            uint32_t m = nw_rd_u32(fv + 1);
            const uint8_t *it = fv + 5;
            for (uint32_t i = 0; i < m; i++, it += nval_span(it))
                if (bytes_eq(it, v)) return true;
        }
        return false;
    }
    }
    return false;
}

static bool match_node(const qnode *n, const nw_entity_def *def, const uint8_t *const *fields) {
    switch (n->kind) {
    case Q_AND:
        for (uint32_t i = 0; i < n->nkids; i++) if (!match_node(n->kids[i], def, fields)) return false;
        return true;
    case Q_OR:
        for (uint32_t i = 0; i < n->nkids; i++) if (match_node(n->kids[i], def, fields)) return true;
        return false;
    case Q_NOT: return !match_node(n->kids[0], def, fields);
    case Q_CMP: return match_cmp(n, &def->fields[n->field], fields[n->field]);
    case Q_FALSE: return false;
    }
    return false;
}

static void field_ptrs(const nw_entity_def *def, const uint8_t *row, const uint8_t **out) {
    const uint8_t *f = row + 4;
    for (uint32_t i = 0; i < def->nfields; i++) { out[i] = f; f += nw_field_span(f); }
}

void nw_query_row_fields(const nw_table *t, const uint8_t *row, const uint8_t **fields) {
    field_ptrs(nw_table_def(t), row, fields);
}

bool nw_query_matches_fields(const nw_query *q, const uint8_t *const *fields) {
    return !q->where || match_node(q->where, nw_table_def(q->t), (const uint8_t **)fields);
}

bool nw_query_matches(const nw_query *q, const uint8_t *row) {
    if (!q->where) return true;
    const uint8_t *fields[NW_MAX_FIELDS];
    const nw_entity_def *def = nw_table_def(q->t);
    field_ptrs(def, row, fields);
    return match_node(q->where, def, fields);
}

/* ---- ordering and running ----------------------------------------------------------- */

typedef struct sortctx { const nw_query *q; const nw_table *t; const nw_entity_def *def; } sortctx;

static int cmp_rows(const sortctx *c, uint32_t a, uint32_t b) {
    const uint8_t *ra = nw_table_row(c->t, a), *rb = nw_table_row(c->t, b);
    for (uint32_t i = 0; i < c->q->norder; i++) {
        uint32_t fi = c->q->order[i];
        int r = nw_field_cmp(&c->def->fields[fi], nw_row_field(ra, fi), nw_row_field(rb, fi));
        if (r) return c->q->desc[i] ? -r : r;
    }
    /* ties end by primary key ascending */
    const uint8_t *ia = ra + 4, *ib = rb + 4;
    uint32_t al = nw_rd_u32(ia + 1), bl = nw_rd_u32(ib + 1);
    int r = memcmp(ia + 5, ib + 5, al < bl ? al : bl);
    return r ? r : (al < bl ? -1 : al > bl);
}

static int cmp_rows_ctx(const void *c, uint32_t a, uint32_t b) { return cmp_rows(c, a, b); }

int nw_query_cmp_slots(const nw_query *q, uint32_t a, uint32_t b) {
    if (a == b) return 0;
    sortctx c = { q, q->t, nw_table_def(q->t) };
    return cmp_rows(&c, a, b);
}

/* Max-heap of the k best slots (the root is the worst kept). */
static void heap_sift_down(const sortctx *c, uint32_t *h, uint32_t n, uint32_t i) {
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && cmp_rows(c, h[l], h[m]) > 0) m = l;
        if (r < n && cmp_rows(c, h[r], h[m]) > 0) m = r;
        if (m == i) return;
        uint32_t x = h[i]; h[i] = h[m]; h[m] = x;
        i = m;
    }
}

static void heap_sift_up(const sortctx *c, uint32_t *h, uint32_t i) {
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (cmp_rows(c, h[i], h[p]) <= 0) return;
        uint32_t x = h[i]; h[i] = h[p]; h[p] = x;
        i = p;
    }
}

static bool id_lookup(const nw_query *q, const uint8_t **id, uint32_t *len) {
    /* top-level AND with an equality on the id field */
    const qnode *w = q->where;
    if (!w || w->kind != Q_AND) return false;
    for (uint32_t i = 0; i < w->nkids; i++) {
        const qnode *k = w->kids[i];
        if (k->kind == Q_AND && k->nkids == 1) k = k->kids[0];
        if (k->kind == Q_CMP && k->op == OP_EQ && k->field == 0 && k->vals[0] == NVAL_STR) {
            *len = nw_rd_u32(k->vals + 1);
            *id = k->vals + 5;
            return true;
        }
    }
    return false;
}

/* Source of candidate slots: an index rank range, an explicit list (ids
 * looked up in the primary key), or every slot. */
typedef struct source { nw_oindex *ix; size_t lo, hi; nw_ocursor c; size_t r; uint32_t slot, nslots; const uint32_t *list; } source;

static void source_init(source *src, nw_oindex *ix, size_t lo, size_t hi, uint32_t nslots) {
    src->ix = ix; src->lo = lo; src->hi = hi; src->r = lo; src->slot = 0; src->nslots = nslots; src->list = NULL;
    if (ix) nw_ocursor_seek(&src->c, ix, lo);
}

static void source_list(source *src, const uint32_t *list, uint32_t n) {
    source_init(src, NULL, 0, 0, n);
    src->list = list;
}

static bool source_next(source *src, uint32_t *slot) {
    if (src->list) {
        if (src->slot >= src->nslots) return false;
        *slot = src->list[src->slot++];
        return true;
    }
    if (src->ix) {
        if (src->r >= src->hi) return false;
        src->r++;
        return nw_ocursor_next(&src->c, slot);
    }
    if (src->slot >= src->nslots) return false;
    *slot = src->slot++;
    return true;
}

static nw_code run_from(nw_store *s, const nw_query *q, source *src, bool ignore_window, uint32_t **slots, uint32_t *count, nw_error *err);

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* A top-level `id: { in: [...] }`: the matching slots come from primary-key
 * lookups (sorted, without duplicates) instead of a scan. Returns false
 * when the query has no such condition; *list is NULL on OOM. */
static bool id_in_list(const nw_query *q, uint32_t **list, uint32_t *n) {
    const qnode *w = q->where;
    if (!w || w->kind != Q_AND) return false;
    const qnode *in = NULL;
    for (uint32_t i = 0; i < w->nkids && !in; i++) {
        const qnode *k = w->kids[i];
        if (k->kind == Q_AND && k->nkids == 1) k = k->kids[0];
        if (k->kind == Q_CMP && k->op == OP_IN && k->field == 0) in = k;
    }
    if (!in) return false;
    *n = 0;
    *list = nw_malloc((in->nvals ? in->nvals : 1) * sizeof **list);
    if (!*list) return true;
    const uint8_t *it = in->vals;
    for (uint32_t i = 0; i < in->nvals; i++, it += nw_field_span(it)) {
        if (it[0] != NVAL_STR) continue;
        uint32_t slot = nw_table_find(q->t, (const char *)it + 5, nw_rd_u32(it + 1));
        if (slot != NW_NO_SLOT) (*list)[(*n)++] = slot;
    }
    qsort(*list, *n, sizeof **list, cmp_u32);
    uint32_t u = 0;
    for (uint32_t i = 0; i < *n; i++) if (!u || (*list)[u - 1] != (*list)[i]) (*list)[u++] = (*list)[i];
    *n = u;
    return true;
}

static nw_code run_scan(nw_store *s, const nw_query *q, bool ignore_window, uint32_t **slots, uint32_t *count, nw_error *err);
static nw_code run_candidates(nw_store *s, const nw_query *q, nw_oindex *ix, size_t lo, size_t hi, bool ignore_window, uint32_t **slots, uint32_t *count, nw_error *err);

/* ---- planning ------------------------------------------------------------------------ */

typedef struct plan {
    int index;              /* -1: walk the primary key order (or slots) */
    size_t lo, hi;          /* rank range in that index */
    uint32_t used;          /* conditions the bounds enforce */
    uint32_t nconds;        /* top-level conditions */
    bool empty;             /* provably no match */
    uint32_t eq_fields;     /* eq prefix length */
    bool range;             /* a range on the next field */
} plan;

#define MAX_CONDS 64

static uint32_t top_conds(const qnode *w, const qnode **out) {
    uint32_t n = 0;
    if (!w || w->kind != Q_AND) return 0;
    for (uint32_t i = 0; i < w->nkids && n < MAX_CONDS; i++) {
        const qnode *k = w->kids[i];
        if (k->kind == Q_CMP) out[n++] = k;
        else if (k->kind == Q_AND) {
            for (uint32_t j = 0; j < k->nkids && n < MAX_CONDS; j++) {
                if (k->kids[j]->kind == Q_CMP) out[n++] = k->kids[j];
                else { out[n++] = k->kids[j]; }
            }
        } else out[n++] = k;
    }
    return n;
}

static bool is_range(const qnode *c) {
    return c->kind == Q_CMP && (c->op == OP_GT || c->op == OP_GTE || c->op == OP_LT || c->op == OP_LTE);
}

static void make_plan(nw_store *s, const nw_query *q, plan *p) {
    memset(p, 0, sizeof *p);
    p->index = -1;
    const qnode *conds[MAX_CONDS];
    uint32_t n = top_conds(q->where, conds);
    p->nconds = q->where ? (n ? n : q->where->nkids) : 0;
    nw_table *t = q->t;
    int best = -1;
    uint32_t best_score = 0;
    for (uint32_t i = 1; i < nw_table_nindexes(t); i++) {
        const nw_keydef *k = nw_table_index_key(t, i);
        uint32_t m = 0, score = 0;
        for (; m < k->nfields; m++) {
            bool found = false;
            for (uint32_t c = 0; c < n; c++)
                if (conds[c]->kind == Q_CMP && conds[c]->op == OP_EQ && conds[c]->field == k->fields[m] && conds[c]->vals[0] != NVAL_NULL) found = true;
            if (!found) break;
        }
        score = m * 4;
        if (m < k->nfields)
            for (uint32_t c = 0; c < n; c++)
                if (is_range(conds[c]) && conds[c]->field == k->fields[m]) { score += 1; break; }
        if (score > best_score) { best_score = score; best = (int)i; }
    }
    if (best < 0) {
        /* no condition picks an index: one on the first orderBy field still
         * yields the order, so a limit stops the walk early */
        if (!q->norder) return;
        for (uint32_t i = 1; i < nw_table_nindexes(t); i++) {
            const nw_keydef *k = nw_table_index_key(t, i);
            if (k->nfields == 1 && k->fields[0] == q->order[0]) {
                nw_oindex *ix = nw_table_index(t, i);
                if (!ix) return;
                p->index = (int)i;
                p->lo = 0;
                p->hi = nw_oindex_size(ix);
                return;
            }
        }
        return;
    }
    nw_oindex *ix = nw_table_index(t, (uint32_t)best);
    if (!ix) return;   /* stale and cannot be rebuilt: scan */
    const nw_keydef *k = nw_table_index_key(t, (uint32_t)best);
    nw_ikey lo = { 0, { 0 } }, hi = { 0, { 0 } };
    uint32_t used = 0;
    uint32_t m = 0;
    for (; m < k->nfields; m++) {
        const qnode *eq = NULL;
        for (uint32_t c = 0; c < n; c++)
            if (conds[c]->kind == Q_CMP && conds[c]->op == OP_EQ && conds[c]->field == k->fields[m] && conds[c]->vals[0] != NVAL_NULL) { eq = conds[c]; break; }
        if (!eq) break;
        if (eq->unknown_enum) { p->empty = true; return; }
        lo.vals[lo.n++] = eq->vals;
        hi.vals[hi.n++] = eq->vals;
        used++;
    }
    p->eq_fields = m;
    nw_okeycmp kc = nw_table_index_keycmp();
    size_t rlo = lo.n ? nw_oindex_lower(ix, &lo, kc) : 0;
    size_t rhi = hi.n ? nw_oindex_upper(ix, &hi, kc) : nw_oindex_size(ix);
    if (m < k->nfields) {
        /* at most one lower and one upper bound on the next field */
        const qnode *lower = NULL, *upper = NULL;
        for (uint32_t c = 0; c < n; c++) {
            const qnode *r = conds[c];
            if (!is_range(r) || r->field != k->fields[m]) continue;
            if ((r->op == OP_GT || r->op == OP_GTE) && !lower) lower = r;
            if ((r->op == OP_LT || r->op == OP_LTE) && !upper) upper = r;
        }
        if (lower) {
            lo.vals[lo.n++] = lower->vals;
            size_t r = lower->op == OP_GTE ? nw_oindex_lower(ix, &lo, kc) : nw_oindex_upper(ix, &lo, kc);
            if (r > rlo) rlo = r;
            used++;
            p->range = true;
        }
        if (upper && !lower) {
            /* null sorts first: an upper bound alone starts after the nulls */
            static const uint8_t null_value[1] = { NVAL_NULL };
            lo.vals[lo.n++] = null_value;
            size_t r = nw_oindex_upper(ix, &lo, kc);
            if (r > rlo) rlo = r;
        }
        if (upper) {
            hi.vals[hi.n++] = upper->vals;
            size_t r = upper->op == OP_LTE ? nw_oindex_upper(ix, &hi, kc) : nw_oindex_lower(ix, &hi, kc);
            if (r < rhi) rhi = r;
            used++;
            p->range = true;
        }
    }
    p->index = best;
    p->lo = rlo;
    p->hi = rhi > rlo ? rhi : rlo;
    p->used = used;
    (void)s;
}

/* True when the plan's index walk already yields the requested order:
 * returns +1 (forward), -1 (backward by groups of the range field), 0 no. */
static int plan_order(const nw_query *q, const plan *p) {
    if (p->index < 0) return 0;
    const nw_keydef *k = nw_table_index_key(q->t, (uint32_t)p->index);
    uint32_t nord = q->norder;
    /* a trailing id ascending is the tie-break anyway */
    if (nord && q->order[nord - 1] == 0 && !q->desc[nord - 1]) nord--;
    if (nord == 0) return k->nfields == p->eq_fields ? 1 : 0;
    if (nord == 1 && k->nfields == p->eq_fields + 1 && q->order[0] == k->fields[p->eq_fields]) return q->desc[0] ? -1 : 1;
    return 0;
}

/* Walks an index range in the order it yields (forward, or backward by
 * groups of the range field: plan_order), filtering, and stops once
 * offset + limit matches are found. */
static nw_code run_walk(nw_store *s, const nw_query *q, const plan *p, nw_oindex *ix, int dir, bool pk_walk,
                        bool ignore_window, uint32_t **slots, uint32_t *count, nw_error *err) {
    const nw_table *pt = q->t;
    double lim = ignore_window ? -1 : q->limit;
    double off = ignore_window ? 0 : q->offset;
    size_t lo = pk_walk ? 0 : p->lo, hi = pk_walk ? nw_oindex_size(ix) : p->hi;
    size_t want = lim >= 0 && lim + off < (double)(hi - lo) ? (size_t)(lim + off) : hi - lo;
    uint32_t *v = nw_malloc((want ? want : 1) * sizeof *v);
    if (!v) return nw_error_nomem(err);
    uint32_t n = 0;
    nw_ocursor c;
    uint32_t slot;
    if (dir >= 0) {
        nw_ocursor_seek(&c, ix, lo);
        for (size_t r = lo; r < hi && n < want && nw_ocursor_next(&c, &slot); r++)
            if (nw_table_visible(s, pt, slot) && nw_query_matches(q, nw_table_row(pt, slot))) v[n++] = slot;
    } else {
        /* groups of equal range-field values, last group first, each in pk order */
        const nw_keydef *k = nw_table_index_key(pt, (uint32_t)p->index);
        uint32_t gf = k->fields[p->eq_fields];
        const nw_field *fd = &nw_table_def(pt)->fields[gf];
        size_t end = hi;
        while (end > lo && n < want) {
            /* find the start of the group ending at end */
            size_t start = end - 1;
            const uint8_t *gv = nw_row_field(nw_table_row(pt, nw_oindex_at(ix, start)), gf);
            nw_ocursor_seek(&c, ix, start);
            while (start > lo) {
                uint32_t prev;
                if (!nw_ocursor_prev(&c, &prev)) break;
                if (nw_field_cmp(fd, nw_row_field(nw_table_row(pt, prev), gf), gv) != 0) break;
                start--;
            }
            nw_ocursor_seek(&c, ix, start);
            for (size_t r = start; r < end && n < want && nw_ocursor_next(&c, &slot); r++)
                if (nw_table_visible(s, pt, slot) && nw_query_matches(q, nw_table_row(pt, slot))) v[n++] = slot;
            end = start;
        }
    }
    uint32_t skip = off < n ? (uint32_t)off : n;
    memmove(v, v + skip, (n - skip) * sizeof *v);
    *slots = v;
    *count = n - skip;
    return NW_OK;
}

/* `id: value`: one primary-key lookup. */
static nw_code run_id(nw_store *s, const nw_query *q, const uint8_t *id, uint32_t idlen, bool ignore_window,
                      uint32_t **slots, uint32_t *count, nw_error *err) {
    const nw_table *t = q->t;
    double lim = ignore_window ? -1 : q->limit;
    double off = ignore_window ? 0 : q->offset;
    uint32_t *v = nw_malloc(sizeof *v);
    if (!v) return nw_error_nomem(err);
    uint32_t slot = nw_table_find(t, (const char *)id, idlen);
    *count = 0;
    if (slot != NW_NO_SLOT && nw_table_visible(s, t, slot) && nw_query_matches(q, nw_table_row(t, slot)) && off < 1 && lim != 0)
        v[(*count)++] = slot;
    *slots = v;
    return NW_OK;
}

nw_code nw_query_run(nw_store *s, const nw_query *q, bool ignore_window, uint32_t **slots, uint32_t *count, nw_error *err) {
    const uint8_t *idp;
    uint32_t idl, *ids, nids;
    if (id_lookup(q, &idp, &idl)) return run_id(s, q, idp, idl, ignore_window, slots, count, err);
    if (id_in_list(q, &ids, &nids)) {
        if (!ids) return nw_error_nomem(err);
        source src;
        source_list(&src, ids, nids);
        nw_code rc = run_from(s, q, &src, ignore_window, slots, count, err);
        nw_free(ids);
        return rc;
    }
    plan p;
    make_plan(s, q, &p);
    if (p.empty) {
        *slots = nw_malloc(sizeof(uint32_t));
        if (!*slots) return nw_error_nomem(err);
        *count = 0;
        return NW_OK;
    }
    int dir = plan_order(q, &p);
    bool pk_walk = p.index < 0 && q->norder == 0;
    nw_oindex *ix = p.index >= 0 ? nw_table_index(q->t, (uint32_t)p.index) : pk_walk ? nw_table_index(q->t, 0) : NULL;
    if (ix && (dir != 0 || pk_walk)) return run_walk(s, q, &p, ix, dir, pk_walk, ignore_window, slots, count, err);
    if (p.index >= 0 && ix) return run_candidates(s, q, ix, p.lo, p.hi, ignore_window, slots, count, err);
    return run_scan(s, q, ignore_window, slots, count, err);
}

static nw_code run_candidates(nw_store *s, const nw_query *q, nw_oindex *ix, size_t lo, size_t hi, bool ignore_window, uint32_t **slots, uint32_t *count, nw_error *err) {
    source src;
    source_init(&src, ix, lo, hi, 0);
    return run_from(s, q, &src, ignore_window, slots, count, err);
}

static nw_code run_scan(nw_store *s, const nw_query *q, bool ignore_window, uint32_t **slots, uint32_t *count, nw_error *err) {
    source src;
    source_init(&src, NULL, 0, 0, nw_table_nslots(q->t));
    return run_from(s, q, &src, ignore_window, slots, count, err);
}

static nw_code run_from(nw_store *s, const nw_query *q, source *src, bool ignore_window, uint32_t **slots, uint32_t *count, nw_error *err) {
    const nw_table *t = q->t;
    const nw_entity_def *def = nw_table_def(t);
    sortctx c = { q, t, def };
    double lim = ignore_window ? -1 : q->limit;
    double off = ignore_window ? 0 : q->offset;
    const uint8_t *fields[NW_MAX_FIELDS];
    uint32_t slot;
    if (lim >= 0 && lim + off < 4096) {
        /* bounded heap of offset+limit */
        uint32_t k = (uint32_t)(lim + off);
        uint32_t *h = nw_malloc((k ? k : 1) * sizeof *h);
        if (!h) return nw_error_nomem(err);
        uint32_t n = 0;
        while (k && source_next(src, &slot)) {
            if (!nw_table_visible(s, t, slot)) continue;
            const uint8_t *row = nw_table_row(t, slot);
            if (q->where) { field_ptrs(def, row, fields); if (!match_node(q->where, def, fields)) continue; }
            if (n < k) { h[n] = slot; heap_sift_up(&c, h, n); n++; }
            else if (cmp_rows(&c, slot, h[0]) < 0) { h[0] = slot; heap_sift_down(&c, h, n, 0); }
        }
        for (uint32_t e = n; e > 1; e--) {
            uint32_t x = h[0]; h[0] = h[e - 1]; h[e - 1] = x;
            heap_sift_down(&c, h, e - 1, 0);
        }
        uint32_t skip = (uint32_t)off < n ? (uint32_t)off : n;
        memmove(h, h + skip, (n - skip) * sizeof *h);
        *slots = h;
        *count = n - skip;
        return NW_OK;
    }
    uint32_t cap = nw_table_live(t) ? nw_table_live(t) : 1;
    uint32_t *v = nw_malloc((size_t)cap * 2 * sizeof *v);
    if (!v) return nw_error_nomem(err);
    uint32_t n = 0;
    while (n < cap && source_next(src, &slot)) {
        if (!nw_table_visible(s, t, slot)) continue;
        const uint8_t *row = nw_table_row(t, slot);
        if (q->where) { field_ptrs(def, row, fields); if (!match_node(q->where, def, fields)) continue; }
        v[n++] = slot;
    }
    nw_oindex_sort(v, v + cap, n, cmp_rows_ctx, &c);
    uint32_t skip = off < n ? (uint32_t)off : n;
    uint32_t keep = n - skip;
    if (lim >= 0 && lim < keep) keep = (uint32_t)lim;
    memmove(v, v + skip, keep * sizeof *v);
    *slots = v;
    *count = keep;
    return NW_OK;
}

nw_code nw_query_count(nw_store *s, const nw_query *q, uint32_t *count, nw_error *err) {
    const nw_table *t = q->t;
    const nw_entity_def *def = nw_table_def(t);
    uint32_t nslots = nw_table_nslots(t), n = 0;
    const uint8_t *fields[NW_MAX_FIELDS];
    if (!q->where) { *count = nw_table_count_visible(s, t); return NW_OK; }
    const uint8_t *idp;
    uint32_t idl, *ids, nids;
    if (id_lookup(q, &idp, &idl)) {
        uint32_t slot = nw_table_find(t, (const char *)idp, idl);
        *count = slot != NW_NO_SLOT && nw_table_visible(s, t, slot) && nw_query_matches(q, nw_table_row(t, slot));
        return NW_OK;
    }
    if (id_in_list(q, &ids, &nids)) {
        if (!ids) return nw_error_nomem(err);
        for (uint32_t i = 0; i < nids; i++)
            if (nw_table_visible(s, t, ids[i]) && nw_query_matches(q, nw_table_row(t, ids[i]))) n++;
        nw_free(ids);
        *count = n;
        return NW_OK;
    }
    plan p;
    make_plan(s, q, &p);
    if (p.empty) { *count = 0; return NW_OK; }
    if (p.index >= 0) {
        nw_oindex *ix = nw_table_index(q->t, (uint32_t)p.index);
        if (ix && p.used == p.nconds && !nw_table_has_ttl(t)) { *count = (uint32_t)(p.hi - p.lo); return NW_OK; }
        if (ix) {
            source src;
            source_init(&src, ix, p.lo, p.hi, 0);
            uint32_t slot;
            while (source_next(&src, &slot))
                if (nw_table_visible(s, t, slot) && nw_query_matches(q, nw_table_row(t, slot))) n++;
            *count = n;
            return NW_OK;
        }
    }
    for (uint32_t slot = 0; slot < nslots; slot++) {
        if (!nw_table_visible(s, t, slot)) continue;
        if (q->where) { field_ptrs(def, nw_table_row(t, slot), fields); if (!match_node(q->where, def, fields)) continue; }
        n++;
    }
    *count = n;
    return NW_OK;
}
