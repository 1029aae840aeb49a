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
    uint32_t nwhere;        /* fields a match reads: 1 + the last one `where` names */
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
    if (fi >= c->q->nwhere) c->q->nwhere = fi + 1;
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

/* Points out[0..n) at a row's first n fields. */
static void field_ptrs(uint32_t n, const uint8_t *row, const uint8_t **out) {
    const uint8_t *f = row + 4;
    for (uint32_t i = 0; i < n; i++) { out[i] = f; f += nw_field_span(f); }
}

void nw_query_row_fields(const nw_table *t, const uint8_t *row, const uint8_t **fields) {
    field_ptrs(nw_table_def(t)->nfields, row, fields);
}

bool nw_query_matches_fields(const nw_query *q, const uint8_t *const *fields) {
    return !q->where || match_node(q->where, nw_table_def(q->t), (const uint8_t **)fields);
}

bool nw_query_matches(const nw_query *q, const uint8_t *row) {
    if (!q->where) return true;
    const uint8_t *fields[NW_MAX_FIELDS];
    field_ptrs(q->nwhere, row, fields);
    return match_node(q->where, nw_table_def(q->t), fields);
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
 * looked up in the primary key), or every slot. A list source knows its
 * table, to warm the rows of its next candidates (nw_table_warm). */
typedef struct source { nw_oindex *ix; size_t lo, hi; nw_ocursor c; size_t r; uint32_t slot, nslots, tested; const uint32_t *list; const nw_table *t; } source;

static void source_init(source *src, nw_oindex *ix, size_t lo, size_t hi, uint32_t nslots) {
    src->ix = ix; src->lo = lo; src->hi = hi; src->r = lo; src->slot = 0; src->nslots = nslots; src->tested = 0; src->list = NULL; src->t = NULL;
    if (ix) nw_ocursor_seek(&src->c, ix, lo);
}

static void source_list(source *src, const nw_table *t, const uint32_t *list, uint32_t n) {
    source_init(src, NULL, 0, 0, n);
    src->list = list;
    src->t = t;
}

static bool source_step(source *src, uint32_t *slot) {
    if (src->list) {
        if (src->slot >= src->nslots) return false;
        nw_table_warm_ahead(src->t, src->list, src->nslots, src->slot);
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

static bool source_next(source *src, uint32_t *slot) {
    bool ok = source_step(src, slot);
    src->tested += ok;
    return ok;
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

/* ---- planning ------------------------------------------------------------------------ */

/* How a query runs (make_plan), and what explain() reports of it. */
typedef enum { P_SCAN, P_LIST, P_RANGE, P_WALK } pkind;

typedef struct plan {
    pkind kind;
    int index;              /* ordered index ranged or walked (0 = primary key order), -1 none */
    size_t lo, hi;          /* rank range in it */
    uint32_t used;          /* conditions the bounds enforce */
    uint32_t nconds;        /* top-level conditions (UINT32_MAX: too many to list) */
    bool empty;             /* provably no match */
    uint32_t eq_fields;     /* eq prefix length */
    int dir;                /* P_WALK: +1 forward, -1 backward, -2 backward by groups of group_field */
    uint32_t group_field;
    uint32_t *list;         /* P_LIST: candidate slots, ascending, no duplicates (owned) */
    uint32_t nlist;
    bool nomem;             /* building the list ran out of memory */
    uint64_t trigram;       /* P_LIST from trigram indexes: their fields (bits) */
    bool by_id;             /* P_LIST from primary-key lookups */
    uint32_t scanned;       /* records tested, filled in by the run */
} plan;

#define MAX_CONDS 64

/* The conjunction's leaves: nested ANDs (operator objects, $and, chained
 * where() calls) flattened. Returns the count, or UINT32_MAX past MAX_CONDS
 * (then out holds the first MAX_CONDS). */
static uint32_t flatten(const qnode *w, const qnode **out, uint32_t n) {
    for (uint32_t i = 0; i < w->nkids && n != UINT32_MAX; i++) {
        const qnode *k = w->kids[i];
        if (k->kind == Q_AND) n = flatten(k, out, n);
        else if (n < MAX_CONDS) out[n++] = k;
        else n = UINT32_MAX;
    }
    return n;
}

static uint32_t top_conds(const qnode *w, const qnode **out, uint32_t *nconds) {
    *nconds = 0;
    if (!w || w->kind != Q_AND) return 0;
    uint32_t n = flatten(w, out, 0);
    *nconds = n;
    return n == UINT32_MAX ? MAX_CONDS : n;
}

static bool is_range(const qnode *c) {
    return c->kind == Q_CMP && (c->op == OP_GT || c->op == OP_GTE || c->op == OP_LT || c->op == OP_LTE);
}

/* A non-null equality on field f (usable as an index key), or NULL. */
static const qnode *eq_cond(const qnode *const *conds, uint32_t n, uint32_t f) {
    for (uint32_t c = 0; c < n; c++)
        if (conds[c]->kind == Q_CMP && conds[c]->op == OP_EQ && conds[c]->field == f && conds[c]->vals[0] != NVAL_NULL) return conds[c];
    return NULL;
}

/* True if every match has the same value of f (an equality, null included). */
static bool constant_field(const qnode *const *conds, uint32_t n, uint32_t f) {
    for (uint32_t c = 0; c < n; c++)
        if (conds[c]->kind == Q_CMP && conds[c]->op == OP_EQ && conds[c]->field == f) return true;
    return false;
}

/* An order as (field, descending) pairs, cut after the id (unique: later
 * keys never decide) and ending with the id ascending when no key names it
 * (the tie-break); fields every match holds constant are left out. */
typedef struct oseq { uint32_t n; uint8_t f[NW_MAX_FIELDS + 1]; bool d[NW_MAX_FIELDS + 1]; } oseq;

static bool seq_has(const oseq *s, uint32_t f) {
    for (uint32_t i = 0; i < s->n; i++) if (s->f[i] == f) return true;
    return false;
}

/* Adds a key; true once the sequence is complete (it reached the id). */
static bool seq_push(oseq *s, const qnode *const *conds, uint32_t nc, uint32_t f, bool d) {
    if (f != 0 && (constant_field(conds, nc, f) || seq_has(s, f))) return false;
    s->f[s->n] = (uint8_t)f;
    s->d[s->n++] = d;
    return f == 0;
}

static void seq_query(oseq *s, const nw_query *q, const qnode *const *conds, uint32_t nc) {
    s->n = 0;
    for (uint32_t i = 0; i < q->norder; i++) if (seq_push(s, conds, nc, q->order[i], q->desc[i])) return;
    seq_push(s, conds, nc, 0, false);
}

static void seq_index(oseq *s, const nw_keydef *k, uint32_t from, const qnode *const *conds, uint32_t nc) {
    s->n = 0;
    for (uint32_t i = from; i < k->nfields; i++) if (seq_push(s, conds, nc, k->fields[i], (k->desc >> i) & 1)) return;
    seq_push(s, conds, nc, 0, false);
}

/* How walking index key k from its field `from` on yields the query's
 * order: +1 forward, -1 backward, -2 backward by groups of one field
 * (each group in id order; *group names it), 0 not at all. */
static int order_dir(const nw_query *q, const qnode *const *conds, uint32_t nc, const nw_keydef *k, uint32_t from, uint32_t *group) {
    oseq a, b;
    seq_query(&a, q, conds, nc);
    seq_index(&b, k, from, conds, nc);
    if (a.n != b.n) return 0;
    bool fwd = true, back = true;
    for (uint32_t i = 0; i < a.n; i++) {
        if (a.f[i] != b.f[i]) return 0;
        if (a.d[i] != b.d[i]) fwd = false; else back = false;
    }
    if (fwd) return 1;
    if (back) return -1;
    if (a.n == 2 && a.f[1] == 0 && a.d[0] != b.d[0] && !a.d[1] && !b.d[1]) { *group = a.f[0]; return -2; }
    return 0;
}

/* Length of the non-null equality prefix of index key k over conds. */
static uint32_t eq_prefix(const nw_keydef *k, const qnode *const *conds, uint32_t n) {
    uint32_t m = 0;
    while (m < k->nfields && eq_cond(conds, n, k->fields[m])) m++;
    return m;
}

static size_t bound(const nw_oindex *ix, nw_ikey *key, const uint8_t *v, bool upper) {
    key->vals[key->n] = v;
    key->n++;
    size_t r = upper ? nw_oindex_upper(ix, key, nw_table_index_keycmp()) : nw_oindex_lower(ix, key, nw_table_index_keycmp());
    key->n--;
    return r;
}

/* Rank range of index `i` for its equality prefix and at most one lower
 * and one upper bound on the next key field (in either direction). */
static void index_range(const nw_query *q, const qnode *const *conds, uint32_t n, uint32_t i, nw_oindex *ix, plan *p) {
    const nw_keydef *k = nw_table_index_key(q->t, i);
    nw_ikey key = { 0, { 0 } };
    uint32_t m = 0;
    for (const qnode *eq; m < k->nfields && (eq = eq_cond(conds, n, k->fields[m])); m++) {
        if (eq->unknown_enum) { p->empty = true; return; }
        key.vals[key.n++] = eq->vals;
    }
    p->eq_fields = p->used = m;
    size_t lo = m ? nw_oindex_lower(ix, &key, nw_table_index_keycmp()) : 0;
    size_t hi = m ? nw_oindex_upper(ix, &key, nw_table_index_keycmp()) : nw_oindex_size(ix);
    if (m < k->nfields) {
        const qnode *lower = NULL, *upper = NULL;
        for (uint32_t c = 0; c < n; c++) {
            const qnode *r = conds[c];
            if (!is_range(r) || r->field != k->fields[m]) continue;
            if ((r->op == OP_GT || r->op == OP_GTE) && !lower) lower = r;
            if ((r->op == OP_LT || r->op == OP_LTE) && !upper) upper = r;
        }
        static const uint8_t null_value[1] = { NVAL_NULL };
        bool desc = (k->desc >> m) & 1;
        size_t r;
        /* ascending: nulls, then small to large; descending: large to small, then nulls */
        if (lower) {
            if (!desc) { r = bound(ix, &key, lower->vals, lower->op == OP_GT); if (r > lo) lo = r; }
            else { r = bound(ix, &key, lower->vals, lower->op == OP_GTE); if (r < hi) hi = r; }
            p->used++;
        }
        if (upper) {
            if (!desc) { r = bound(ix, &key, upper->vals, upper->op == OP_LTE); if (r < hi) hi = r; }
            else { r = bound(ix, &key, upper->vals, upper->op == OP_LT); if (r > lo) lo = r; }
            if (!lower && !desc) { r = bound(ix, &key, null_value, true); if (r > lo) lo = r; }
            if (!lower && desc) { r = bound(ix, &key, null_value, false); if (r < hi) hi = r; }
            p->used++;
        }
    }
    p->lo = lo;
    p->hi = hi > lo ? hi : lo;
}

static const qnode *leaf_of(const qnode *c) {
    while (c->kind == Q_AND && c->nkids == 1) c = c->kids[0];
    return c;
}

/* The trigram index of a `contains` (string field) or `startsWith` leaf
 * whose pattern has 3 bytes or more (*pat, *len: the pattern), or NULL. */
static nw_trigram *leaf_trigram(const nw_query *q, const qnode *c, const uint8_t **pat, uint32_t *len) {
    c = leaf_of(c);
    if (c->kind != Q_CMP || (c->op != OP_CONTAINS && c->op != OP_STARTS) || c->vals[0] != NVAL_STR) return NULL;
    if (nw_table_def(q->t)->fields[c->field].type != NW_T_STRING) return NULL;
    *len = nw_rd_u32(c->vals + 1);
    *pat = c->vals + 5;
    return *len >= 3 ? nw_table_trigram(q->t, c->field) : NULL;
}

/* A trigram leaf's candidates' count (the rarest trigram's postings: an
 * upper bound on its matches), or -1. */
static int64_t trigram_leaf(const nw_query *q, const qnode *c, uint64_t *fields) {
    const uint8_t *pat;
    uint32_t len;
    nw_trigram *g = leaf_trigram(q, c, &pat, &len);
    if (!g) return -1;
    const uint32_t *list;
    size_t n = nw_trigram_candidates(g, pat, len, &list);
    if (n == (size_t)-1) return -1;
    *fields |= (uint64_t)1 << leaf_of(c)->field;
    return (int64_t)n;
}

/* Candidates of a condition from trigram indexes: a leaf, or an $or whose
 * every branch is one (the union). -1 when the condition has none. */
static int64_t trigram_cond(const nw_query *q, const qnode *c, uint64_t *fields) {
    int64_t n = trigram_leaf(q, c, fields);
    if (n >= 0) return n;
    c = leaf_of(c);
    if (c->kind != Q_OR || !c->nkids) return -1;
    int64_t sum = 0;
    for (uint32_t i = 0; i < c->nkids; i++) {
        int64_t m = trigram_cond(q, c->kids[i], fields);
        if (m < 0) return -1;
        sum += m;
    }
    return sum;
}

/* Sets (on) or clears the bits of a posting list's slots below nslots. */
static void mark_list(uint32_t *bits, const nw_tlist *l, uint32_t nslots, bool on) {
    for (size_t i = 0; i < l->n; i++) {
        uint32_t x = l->v[i];
        if (x >= nslots) continue;
        if (on) bits[x >> 5] |= 1u << (x & 31);
        else bits[x >> 5] &= ~(1u << (x & 31));
    }
}

/* Intersecting stops when this few candidates are left, or at a list more
 * than this many times longer than the candidates left: a list is read
 * twice, sequentially (about 1 ns an entry), while checking a candidate
 * reads its record (40 ns warm, 250 ns when the store is out of cache,
 * measured on the 100k-task bench). */
#ifndef NW_TRIGRAM_FEW      /* the fuzz build lowers it to reach the intersection with few records */
#define NW_TRIGRAM_FEW 16
#endif
#define TRIGRAM_SPREAD 16
#define TRIGRAM_LISTS 8

/* Appends a trigram leaf's candidates to p->list: the rarest trigram's
 * postings that the next rarest lists also hold. Reading a posting list is
 * sequential; checking a candidate reads its record, a cache miss in a big
 * store. `tmp` is a zeroed bitmap of nslots bits, zeroed again on return. */
static void collect_leaf(nw_trigram *g, const uint8_t *pat, uint32_t len, plan *p, uint32_t *tmp, uint32_t nslots) {
    size_t words = (nslots + 31) / 32;
    nw_tlist l[TRIGRAM_LISTS];
    size_t k = nw_trigram_lists(g, pat, len, l, TRIGRAM_LISTS);
    if (k == 0 || k == (size_t)-1) return;
    uint32_t *c = p->list + p->nlist;
    size_t n = l[0].n;
    memcpy(c, l[0].v, n * sizeof *c);
    for (size_t j = 1; j < k && n > NW_TRIGRAM_FEW && l[j].n <= TRIGRAM_SPREAD * n; j++) {
        mark_list(tmp, &l[j], nslots, true);
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (c[i] < nslots && (tmp[c[i] >> 5] >> (c[i] & 31) & 1)) c[m++] = c[i];
        n = m;
        if (l[j].n > 2 * words) memset(tmp, 0, words * sizeof *tmp);
        else mark_list(tmp, &l[j], nslots, false);
    }
    p->nlist += (uint32_t)n;
}

/* Appends the candidates of a condition trigram_cond accepted. */
static void trigram_collect(const nw_query *q, const qnode *c, plan *p, uint32_t *tmp, uint32_t nslots) {
    const uint8_t *pat;
    uint32_t len;
    nw_trigram *g = leaf_trigram(q, c, &pat, &len);
    if (g) { collect_leaf(g, pat, len, p, tmp, nslots); return; }
    c = leaf_of(c);
    for (uint32_t i = 0; i < c->nkids; i++) trigram_collect(q, c->kids[i], p, tmp, nslots);
}

/* The condition with the fewest trigram candidates: its position in conds
 * (-1: none), their count and the fields. */
static int trigram_best(const nw_query *q, const qnode *const *conds, uint32_t n, int64_t *count, uint64_t *fields) {
    int best = -1;
    for (uint32_t c = 0; c < n; c++) {
        uint64_t f = 0;
        int64_t m = trigram_cond(q, conds[c], &f);
        if (m >= 0 && (best < 0 || m < *count)) { best = (int)c; *count = m; *fields = f; }
    }
    return best;
}

/* p becomes the P_LIST of condition c's candidates: gathered in a bitmap
 * of the table's slots (which sorts them and drops duplicates). */
static void trigram_list(const nw_query *q, const qnode *c, int64_t count, uint64_t fields, plan *p) {
    uint32_t nslots = nw_table_nslots(q->t);
    uint32_t words = (nslots + 31) / 32;
    p->kind = P_LIST;
    p->index = -1;
    p->trigram = fields;
    p->list = nw_malloc(((size_t)count + 1) * sizeof *p->list);
    uint32_t *bits = nw_calloc(words ? words : 1, sizeof *bits);
    uint32_t *tmp = nw_calloc(words ? words : 1, sizeof *tmp);
    if (!p->list || !bits || !tmp) { nw_free(bits); nw_free(tmp); p->nomem = true; return; }
    p->nlist = 0;
    trigram_collect(q, c, p, tmp, nslots);
    nw_free(tmp);
    mark_list(bits, &(nw_tlist){ p->list, p->nlist }, nslots, true);
    uint32_t u = 0;
    for (uint32_t w = 0; w < words; w++)
        for (uint32_t x = bits[w]; x; x &= x - 1) p->list[u++] = w * 32 + (uint32_t)__builtin_ctz(x);
    p->nlist = u;
    nw_free(bits);
}

/* An ordered index (0 = primary key order) that a limited query can walk,
 * filtering, to get its order without sorting: the first one whose keys
 * yield it. */
static int walk_index(const nw_query *q, const qnode *const *conds, uint32_t n, int *dir, uint32_t *group) {
    for (uint32_t i = 0; i < nw_table_nindexes(q->t); i++) {
        int d = order_dir(q, conds, n, nw_table_index_key(q->t, i), 0, group);
        if (d) { *dir = d; return (int)i; }
    }
    return -1;
}

/* A query by id (`where: { id }` or `id in [...]`): a list of slots.
 * Returns false when the query is not one. */
static bool plan_by_id(const nw_query *q, plan *p) {
    const uint8_t *idp;
    uint32_t idl;
    if (id_lookup(q, &idp, &idl)) {
        p->kind = P_LIST;
        p->by_id = true;
        p->list = nw_malloc(sizeof *p->list);
        if (!p->list) { p->nomem = true; return true; }
        uint32_t slot = nw_table_find(q->t, (const char *)idp, idl);
        if (slot != NW_NO_SLOT) p->list[p->nlist++] = slot;
        return true;
    }
    if (!id_in_list(q, &p->list, &p->nlist)) return false;
    p->kind = P_LIST;
    p->by_id = true;
    p->nomem = !p->list;
    return true;
}

typedef struct { int index; int dir; uint32_t group; } index_choice;

/* The best index range: equality prefix (4 each), a range (1), yields the
 * order (2); index -1 when no index helps. */
static index_choice best_index(const nw_query *q, const qnode **conds, uint32_t n) {
    index_choice best = { -1, 0, 0 };
    uint32_t best_score = 0;
    for (uint32_t i = 0; i < nw_table_nindexes(q->t); i++) {
        const nw_keydef *k = nw_table_index_key(q->t, i);
        uint32_t m = eq_prefix(k, conds, n), score = m * 4, group = 0;
        if (m < k->nfields)
            for (uint32_t c = 0; c < n; c++)
                if (is_range(conds[c]) && conds[c]->field == k->fields[m]) { score += 1; break; }
        int d = score ? order_dir(q, conds, n, k, m, &group) : 0;
        if (d) score += 2;
        if (score > best_score) { best_score = score; best = (index_choice){ (int)i, d, group }; }
    }
    return best;
}

static void make_plan(nw_store *s, const nw_query *q, bool ignore_window, plan *p) {
    memset(p, 0, sizeof *p);
    p->index = -1;
    nw_table *t = q->t;
    const qnode *conds[MAX_CONDS];
    uint32_t n = top_conds(q->where, conds, &p->nconds);
    if (plan_by_id(q, p)) return;
    double lim = ignore_window ? -1 : q->limit;
    double want = lim >= 0 ? lim + (ignore_window ? 0 : q->offset) : -1;
    uint32_t total = nw_table_live(t);
    index_choice best = best_index(q, conds, n);
    size_t cand = total;
    nw_oindex *ix = best.index >= 0 ? nw_table_index(t, (uint32_t)best.index) : NULL;
    if (ix) {
        index_range(q, conds, n, (uint32_t)best.index, ix, p);
        if (p->empty) return;
        p->index = best.index;
        cand = p->hi - p->lo;
        p->kind = P_RANGE;
        if (best.dir) { p->kind = P_WALK; p->dir = best.dir; p->group_field = best.group; return; }
    }
    /* substring conditions with fewer candidates than the index range */
    int64_t tcount = 0;
    uint64_t tfields = 0;
    int tc = trigram_best(q, conds, n, &tcount, &tfields);
    if (tc >= 0 && (size_t)tcount < cand) cand = (size_t)tcount;
    else tc = -1;
    /* walking an index in the query's order, filtering: instead of a scan
     * and a sort, or under a limit when it expects to find `want` matches
     * (after about want * total / candidates records) before the plan has
     * tested its candidates */
    int dir = 0;
    uint32_t group = 0;
    int w = walk_index(q, conds, n, &dir, &group);
    nw_oindex *wix = w >= 0 ? nw_table_index(t, (uint32_t)w) : NULL;
    bool scan = !ix && tc < 0;
    if (wix && (scan || (want >= 0 && want * (double)total / (double)(cand ? cand : 1) < (double)cand))) {
        p->kind = P_WALK;
        p->index = w;
        p->dir = dir;
        p->group_field = group;
        p->eq_fields = 0;
        p->used = 0;
        p->lo = 0;
        p->hi = nw_oindex_size(wix);
        return;
    }
    if (tc >= 0) trigram_list(q, conds[tc], tcount, tfields, p);
    (void)s;
}

/* Tests one slot against the query (and counts it as scanned). */
static bool test_slot(nw_store *s, const nw_query *q, plan *p, uint32_t slot) {
    p->scanned++;
    return nw_table_visible(s, q->t, slot) && nw_query_matches(q, nw_table_row(q->t, slot));
}

/* The first rank of the group of equal `gf` values that ends at rank end. */
static size_t group_start(const nw_query *q, nw_oindex *ix, size_t lo, size_t end, uint32_t gf) {
    const nw_table *t = q->t;
    const nw_field *fd = &nw_table_def(t)->fields[gf];
    size_t start = end - 1;
    const uint8_t *gv = nw_row_field(nw_table_row(t, nw_oindex_at(ix, start)), gf);
    nw_ocursor c;
    nw_ocursor_seek(&c, ix, start);
    uint32_t prev;
    while (start > lo && nw_ocursor_prev(&c, &prev) && nw_field_cmp(fd, nw_row_field(nw_table_row(t, prev), gf), gv) == 0) start--;
    return start;
}

/* Walks an index range in the order it yields (plan.dir), filtering, and
 * stops once offset + limit matches are found. */
static nw_code run_walk(nw_store *s, const nw_query *q, plan *p, nw_oindex *ix, bool ignore_window,
                        uint32_t **slots, uint32_t *count, nw_error *err) {
    double lim = ignore_window ? -1 : q->limit;
    double off = ignore_window ? 0 : q->offset;
    size_t lo = p->lo, hi = p->hi;
    size_t want = lim >= 0 && lim + off < (double)(hi - lo) ? (size_t)(lim + off) : hi - lo;
    uint32_t *v = nw_malloc((want ? want : 1) * sizeof *v);
    if (!v) return nw_error_nomem(err);
    uint32_t n = 0, slot;
    nw_ocursor c;
    if (p->dir == 1) {
        nw_ocursor_seek(&c, ix, lo);
        for (size_t r = lo; r < hi && n < want && nw_ocursor_next(&c, &slot); r++)
            if (test_slot(s, q, p, slot)) v[n++] = slot;
    } else if (p->dir == -1) {
        nw_ocursor_seek(&c, ix, hi);
        for (size_t r = hi; r > lo && n < want && nw_ocursor_prev(&c, &slot); r--)
            if (test_slot(s, q, p, slot)) v[n++] = slot;
    } else {
        /* groups of equal values, last group first, each in id order */
        for (size_t end = hi; end > lo && n < want;) {
            size_t start = group_start(q, ix, lo, end, p->group_field);
            nw_ocursor_seek(&c, ix, start);
            for (size_t r = start; r < end && n < want && nw_ocursor_next(&c, &slot); r++)
                if (test_slot(s, q, p, slot)) v[n++] = slot;
            end = start;
        }
    }
    uint32_t skip = off < n ? (uint32_t)off : n;
    memmove(v, v + skip, (n - skip) * sizeof *v);
    *slots = v;
    *count = n - skip;
    return NW_OK;
}

static nw_code run_plan(nw_store *s, const nw_query *q, plan *p, bool ignore_window, uint32_t **slots, uint32_t *count, nw_error *err) {
    if (p->nomem) return nw_error_nomem(err);
    if (p->empty) {
        *slots = nw_malloc(sizeof(uint32_t));
        if (!*slots) return nw_error_nomem(err);
        *count = 0;
        return NW_OK;
    }
    nw_oindex *ix = p->index >= 0 ? nw_table_index(q->t, (uint32_t)p->index) : NULL;
    source src;
    if (p->kind == P_LIST) source_list(&src, q->t, p->list, p->nlist);
    else if (ix && p->kind == P_WALK) return run_walk(s, q, p, ix, ignore_window, slots, count, err);
    else if (ix && p->kind == P_RANGE) source_init(&src, ix, p->lo, p->hi, 0);
    else { p->kind = P_SCAN; p->index = -1; source_init(&src, NULL, 0, 0, nw_table_nslots(q->t)); }
    nw_code rc = run_from(s, q, &src, ignore_window, slots, count, err);
    p->scanned += src.tested;
    return rc;
}

nw_code nw_query_run(nw_store *s, const nw_query *q, bool ignore_window, uint32_t **slots, uint32_t *count, nw_error *err) {
    plan p;
    make_plan(s, q, ignore_window, &p);
    nw_code rc = run_plan(s, q, &p, ignore_window, slots, count, err);
    nw_free(p.list);
    return rc;
}

static void put_index_name(nw_buf *o, const nw_table *t, const plan *p) {
    const nw_entity_def *def = nw_table_def(t);
    nw_buf name;
    nw_buf_init(&name);
    if (p->kind == P_LIST && p->by_id) nw_buf_append(&name, "id", 2);
    else if (p->kind == P_LIST) {
        nw_buf_append(&name, "trigram:", 8);
        for (uint32_t f = 0, first = 1; f < def->nfields; f++) {
            if (!((p->trigram >> f) & 1)) continue;
            if (!first) nw_buf_byte(&name, '|');
            nw_buf_append(&name, def->fields[f].name, def->fields[f].name_len);
            first = 0;
        }
    } else if (p->index >= 0) {
        const nw_keydef *k = nw_table_index_key(t, (uint32_t)p->index);
        for (uint32_t i = 0; i < k->nfields; i++) {
            if (i) nw_buf_byte(&name, ',');
            if ((k->desc >> i) & 1) nw_buf_byte(&name, '-');
            nw_buf_append(&name, def->fields[k->fields[i]].name, def->fields[k->fields[i]].name_len);
        }
    }
    nw_buf_u32(o, (uint32_t)name.len);
    if (name.len) nw_buf_append(o, name.p, name.len);
    if (name.oom) o->oom = true;
    nw_buf_free(&name);
}

nw_code nw_query_explain(nw_store *s, const nw_query *q, nw_buf *o, nw_error *err) {
    plan p;
    make_plan(s, q, false, &p);
    uint32_t *slots = NULL, n = 0;
    nw_code rc = run_plan(s, q, &p, false, &slots, &n, err);
    nw_free(slots);
    if (!rc) {
        uint32_t flags = (p.kind == P_WALK ? NW_EXPLAIN_ORDERED : 0) | (p.kind == P_WALK && q->limit >= 0 ? NW_EXPLAIN_STOPS : 0);
        nw_buf_u32(o, flags);
        nw_buf_u32(o, p.scanned);
        nw_buf_u32(o, n);
        put_index_name(o, q->t, &p);
        if (o->oom) rc = nw_error_nomem(err);
    }
    nw_free(p.list);
    return rc;
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
            if (q->where) { field_ptrs(q->nwhere, row, fields); if (!match_node(q->where, def, fields)) continue; }
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
        if (q->where) { field_ptrs(q->nwhere, row, fields); if (!match_node(q->where, def, fields)) continue; }
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
    if (!q->where) { *count = nw_table_count_visible(s, t); return NW_OK; }
    plan p;
    make_plan(s, q, true, &p);
    if (p.nomem) { nw_free(p.list); return nw_error_nomem(err); }
    if (p.empty) { *count = 0; return NW_OK; }
    nw_oindex *ix = p.index >= 0 ? nw_table_index(q->t, (uint32_t)p.index) : NULL;
    if (ix && p.kind != P_LIST && p.used == p.nconds && !nw_table_has_ttl(t)) { *count = (uint32_t)(p.hi - p.lo); return NW_OK; }
    if (p.kind == P_WALK && !p.used) ix = NULL;   /* a whole-index walk only buys order: scan the slots */
    source src;
    if (p.kind == P_LIST) source_list(&src, t, p.list, p.nlist);
    else if (ix) source_init(&src, ix, p.lo, p.hi, 0);
    else source_init(&src, NULL, 0, 0, nw_table_nslots(t));
    uint32_t slot, n = 0;
    while (source_next(&src, &slot))
        if (nw_table_visible(s, t, slot) && nw_query_matches(q, nw_table_row(t, slot))) n++;
    nw_free(p.list);
    *count = n;
    return NW_OK;
}
