/* types.c - the type table: everything that differs between field types
 * (see types.h). */
#include "types.h"
#include "schema.h"
#include "record.h"
#include "alloc.h"
#include "nval.h"
#include <string.h>
#include <stdlib.h>
#include <math.h>

/* ---- shared rules ------------------------------------------------------------ */

static nw_code fail(const nw_entity_def *def, const nw_field *f, nw_error *err, const char *rule, const char *msg, const uint8_t *v) {
    char got[64];
    nw_describe_value(v, got, sizeof got);
    return nw_error_set(err, NW_E_VALIDATION, def->name, f->name, rule, "%s (got %s)", msg, got);
}

static nw_code reserved(const nw_entity_def *def, const nw_field *f, nw_error *err, const char *what, const uint8_t *k, uint32_t kl) {
    return nw_error_set(err, NW_E_VALIDATION, def->name, f->name, "reserved-key",
                        "%s \"%.*s\" is reserved (__proto__, constructor and prototype cannot be keys)", what, (int)kl, (const char *)k);
}

static bool is_int(double d) { return isfinite(d) && d == floor(d) && fabs(d) <= 9007199254740991.0; }

static nw_code check_num_range(const nw_entity_def *def, const nw_field *f, double d, const uint8_t *v, nw_error *err) {
    if (f->has_min && d < f->min) {
        char lim[NW_NUM_MAX + 1]; lim[nw_fmt_num(lim, f->min)] = 0;
        char got[64]; nw_describe_value(v, got, sizeof got);
        return nw_error_set(err, NW_E_VALIDATION, def->name, f->name, "min", "must be >= %s (got %s)", lim, got);
    }
    if (f->has_max && d > f->max) {
        char lim[NW_NUM_MAX + 1]; lim[nw_fmt_num(lim, f->max)] = 0;
        char got[64]; nw_describe_value(v, got, sizeof got);
        return nw_error_set(err, NW_E_VALIDATION, def->name, f->name, "max", "must be <= %s (got %s)", lim, got);
    }
    return NW_OK;
}

/* `unit` is singular ("character", "item"); the message says "1 character",
 * "2 characters". */
static nw_code check_len(const nw_entity_def *def, const nw_field *f, uint32_t n, const char *unit, nw_error *err) {
    if (f->has_minlen && n < f->minlen)
        return nw_error_set(err, NW_E_VALIDATION, def->name, f->name, "minLength",
                            "must have at least %u %s%s (got %u)", f->minlen, unit, f->minlen == 1 ? "" : "s", n);
    if (f->has_maxlen && n > f->maxlen)
        return nw_error_set(err, NW_E_VALIDATION, def->name, f->name, "maxLength",
                            "must have at most %u %s%s (got %u)", f->maxlen, unit, f->maxlen == 1 ? "" : "s", n);
    return NW_OK;
}

#define SCHEMA_ERR(field, ...) nw_error_set(err, NW_E_SCHEMA, def->name, field, "schema", __VA_ARGS__)


static int cmp_bytes(const uint8_t *a, uint32_t al, const uint8_t *b, uint32_t bl) {
    uint32_t n = al < bl ? al : bl;
    int c = memcmp(a, b, n);
    if (c) return c;
    return al < bl ? -1 : al > bl;
}

/* ---- spans, orders and query forms shared by several types ------------------ */

static size_t span_str(const nw_field *f, const uint8_t *p, size_t len) {
    (void)f;
    if (p[0] != NVAL_STR || len < 5 || nw_rd_u32(p + 1) > len - 5) return 0;
    return 5 + (size_t)nw_rd_u32(p + 1);
}
static size_t span_num(const nw_field *f, const uint8_t *p, size_t len) { (void)f; return p[0] == NVAL_NUM && len >= 9 ? 9 : 0; }

static int cmp_str(const nw_field *f, const uint8_t *a, const uint8_t *b) {
    (void)f;
    return cmp_bytes(a + 5, nw_rd_u32(a + 1), b + 5, nw_rd_u32(b + 1));
}
static int cmp_num(const nw_field *f, const uint8_t *a, const uint8_t *b) {
    (void)f;
    double x = nw_rd_f64(a + 1), y = nw_rd_f64(b + 1);
    return x < y ? -1 : x > y;
}
/* lists and json: numbers numerically, strings by bytes, false < true, and
 * anything else (or values of different kinds) by encoded bytes, which is
 * stable and total */
static int cmp_encoded(const nw_field *f, const uint8_t *a, const uint8_t *b) {
    if ((a[0] == NVAL_NUM || a[0] == NVAL_DATE) && (b[0] == NVAL_NUM || b[0] == NVAL_DATE)) return cmp_num(f, a, b);
    if (a[0] == NVAL_STR && b[0] == NVAL_STR) return cmp_str(f, a, b);
    if ((a[0] == NVAL_TRUE || a[0] == NVAL_FALSE) && (b[0] == NVAL_TRUE || b[0] == NVAL_FALSE)) return a[0] < b[0] ? -1 : a[0] > b[0];
    return cmp_bytes(a, (uint32_t)nw_field_span(a), b, (uint32_t)nw_field_span(b));
}

static int qconv_str(const nw_field *f, const uint8_t *v, nw_buf *out) {
    (void)f;
    if (v[0] != NVAL_STR) return NW_QC_TYPE;
    nw_buf_append(out, v, 5 + (size_t)nw_rd_u32(v + 1));
    return NW_QC_OK;
}
static int qconv_num(const nw_field *f, const uint8_t *v, nw_buf *out) {
    (void)f;
    if (v[0] != NVAL_NUM || isnan(nw_rd_f64(v + 1))) return NW_QC_TYPE;
    nw_buf_append(out, v, 9);
    return NW_QC_OK;
}
static int qconv_any(const nw_field *f, const uint8_t *v, nw_buf *out) {
    (void)f;
    nw_buf_append(out, v, nval_span(v));
    return NW_QC_OK;
}

/* ---- id, string, ref ---------------------------------------------------------- */

static nw_code convert_text(const nw_entity_def *def, const nw_field *f, const uint8_t *v, nw_buf *out, nw_error *err) {
    if (v[0] != NVAL_STR) return fail(def, f, err, "type", "must be a string", v);
    uint32_t len = nw_rd_u32(v + 1);
    bool key = f->type != NW_T_STRING;   /* ids and refs name records */
    if (key && len == 0) return fail(def, f, err, "type", "must be a non-empty string", v);
    if (key && nw_reserved_key((const char *)v + 5, len))
        return reserved(def, f, err, f->type == NW_T_ID ? "the id" : "the ref", v + 5, len);
    if (f->has_minlen || f->has_maxlen) {
        nw_code rc = check_len(def, f, nw_utf8_count(v + 5, len), "character", err);
        if (rc) return rc;
    }
    nw_buf_append(out, v, 5 + (size_t)len);
    return NW_OK;
}

static bool item_str(const uint8_t *v) { return v[0] == NVAL_STR; }

static nw_code parse_ref(const nw_entity_def *def, nw_field *f, const uint8_t *spec, nw_error *err) {
    uint32_t rl;
    const char *rn = nval_str(nval_get(spec, "entity"), &rl);
    if (!rn || !rl) return SCHEMA_ERR(f->name, "a ref needs `entity` (the referenced entity name)");
    if (!(f->ref_name = nw_strndup(rn, rl))) return nw_error_nomem(err);
    uint32_t dl;
    const char *od = nval_str(nval_get(spec, "onDelete"), &dl);
    if (!od || (dl == 8 && !memcmp(od, "restrict", 8))) f->on_delete = NW_ONDEL_RESTRICT;
    else if (dl == 7 && !memcmp(od, "cascade", 7)) f->on_delete = NW_ONDEL_CASCADE;
    else if (dl == 7 && !memcmp(od, "nullify", 7)) f->on_delete = NW_ONDEL_NULLIFY;
    else return SCHEMA_ERR(f->name, "onDelete must be restrict, cascade or nullify");
    return NW_OK;
}

/* ---- int, float, datetime ---------------------------------------------------------- */

static bool item_int(const uint8_t *v) { return v[0] == NVAL_NUM && is_int(nw_rd_f64(v + 1)); }
static bool item_float(const uint8_t *v) { return v[0] == NVAL_NUM && isfinite(nw_rd_f64(v + 1)); }

static nw_code convert_number(const nw_entity_def *def, const nw_field *f, const uint8_t *v, nw_buf *out, nw_error *err) {
    bool whole = f->type == NW_T_INT;
    if (!(whole ? item_int(v) : item_float(v)))
        return fail(def, f, err, "type", whole ? "must be an integer" : "must be a finite number", v);
    nw_code rc = check_num_range(def, f, nw_rd_f64(v + 1), v, err);
    if (rc) return rc;
    nw_buf_append(out, v, 9);
    return NW_OK;
}

static nw_code convert_datetime(const nw_entity_def *def, const nw_field *f, const uint8_t *v, nw_buf *out, nw_error *err) {
    double ms;
    if (v[0] == NVAL_DATE || v[0] == NVAL_NUM) {
        ms = nw_rd_f64(v + 1);
        if (!isfinite(ms) || fabs(ms) > 8.64e15) return fail(def, f, err, "type", "must be a valid date", v);
    } else if (v[0] == NVAL_STR) {
        if (!nw_parse_iso_date((const char *)v + 5, nw_rd_u32(v + 1), &ms))
            return fail(def, f, err, "type", "must be an ISO 8601 date", v);
    } else {
        return fail(def, f, err, "type", "must be a date (ISO string, Date or epoch ms)", v);
    }
    ms = floor(ms);
    nw_buf_byte(out, NVAL_NUM);
    nw_buf_f64(out, ms);
    return check_num_range(def, f, ms, v, err);
}

static int qconv_datetime(const nw_field *f, const uint8_t *v, nw_buf *out) {
    (void)f;
    double ms;
    if (v[0] == NVAL_NUM || v[0] == NVAL_DATE) ms = nw_rd_f64(v + 1);
    else if (v[0] == NVAL_STR && nw_parse_iso_date((const char *)v + 5, nw_rd_u32(v + 1), &ms)) {}
    else return NW_QC_TYPE;
    if (isnan(ms)) return NW_QC_TYPE;   /* NaN would match nothing yet pass index ranges */
    nw_buf_byte(out, NVAL_NUM);
    nw_buf_f64(out, floor(ms));
    return NW_QC_OK;
}

/* ---- bool ------------------------------------------------------------------------------ */

static bool item_bool(const uint8_t *v) { return v[0] == NVAL_TRUE || v[0] == NVAL_FALSE; }

static nw_code convert_bool(const nw_entity_def *def, const nw_field *f, const uint8_t *v, nw_buf *out, nw_error *err) {
    if (!item_bool(v)) return fail(def, f, err, "type", "must be a boolean", v);
    nw_buf_byte(out, v[0]);
    return NW_OK;
}
static int qconv_bool(const nw_field *f, const uint8_t *v, nw_buf *out) {
    (void)f;
    if (!item_bool(v)) return NW_QC_TYPE;
    nw_buf_byte(out, v[0]);
    return NW_QC_OK;
}
static size_t span_bool(const nw_field *f, const uint8_t *p, size_t len) { (void)f; (void)len; return item_bool(p) ? 1 : 0; }
static int cmp_bool(const nw_field *f, const uint8_t *a, const uint8_t *b) { (void)f; return a[0] < b[0] ? -1 : a[0] > b[0]; }

/* ---- enum ---------------------------------------------------------------------------- */

static nw_code parse_enum(const nw_entity_def *def, nw_field *f, const uint8_t *spec, nw_error *err) {
    const uint8_t *it;
    uint32_t n = nval_arr(nval_get(spec, "values"), &it);
    if (!n) return SCHEMA_ERR(f->name, "an enum needs a non-empty values array");
    if (n > 255) return SCHEMA_ERR(f->name, "an enum has at most 255 values");
    f->values = nw_calloc(n, sizeof *f->values);
    f->value_lens = nw_calloc(n, sizeof *f->value_lens);
    if (!f->values || !f->value_lens) return nw_error_nomem(err);
    for (uint32_t i = 0; i < n; i++, it += nval_span(it)) {
        uint32_t sl;
        const char *s = nval_str(it, &sl);
        if (!s) return SCHEMA_ERR(f->name, "enum values must be strings");
        for (uint32_t j = 0; j < i; j++)
            if (f->value_lens[j] == sl && memcmp(f->values[j], s, sl) == 0)
                return SCHEMA_ERR(f->name, "enum value \"%.*s\" is listed twice", (int)(sl > 40 ? 40 : sl), s);
        if (!(f->values[i] = nw_strndup(s, sl))) return nw_error_nomem(err);
        f->value_lens[i] = sl;
        f->nvalues = i + 1;
    }
    return NW_OK;
}

/* Index of the enum value v (a string), or -1. */
static int enum_index(const nw_field *f, const uint8_t *v) {
    uint32_t len = nw_rd_u32(v + 1);
    for (uint32_t i = 0; i < f->nvalues; i++)
        if (f->value_lens[i] == len && memcmp(f->values[i], v + 5, len) == 0) return (int)i;
    return -1;
}

static nw_code enum_refusal(const nw_entity_def *def, const nw_field *f, const uint8_t *v, nw_error *err) {
    char list[200];
    size_t n = 0;
    for (uint32_t i = 0; i < f->nvalues && n + 4 < sizeof list; i++) {
        if (i) { list[n++] = ','; list[n++] = ' '; }
        size_t k = f->value_lens[i];
        if (k > sizeof list - n - 4) k = sizeof list - n - 4;
        memcpy(list + n, f->values[i], k);
        n += k;
    }
    list[n] = 0;
    char got[64];
    nw_describe_value(v, got, sizeof got);
    return nw_error_set(err, NW_E_VALIDATION, def->name, f->name, "values", "must be one of %s (got %s)", list, got);
}

static nw_code convert_enum(const nw_entity_def *def, const nw_field *f, const uint8_t *v, nw_buf *out, nw_error *err) {
    if (v[0] != NVAL_STR) return fail(def, f, err, "type", "must be a string", v);
    int i = enum_index(f, v);
    if (i < 0) return enum_refusal(def, f, v, err);
    nw_buf_byte(out, NVAL_ENUM);
    nw_buf_byte(out, (uint8_t)i);
    return NW_OK;
}

static int qconv_enum(const nw_field *f, const uint8_t *v, nw_buf *out) {
    if (v[0] != NVAL_STR) return NW_QC_TYPE;
    int i = enum_index(f, v);
    nw_buf_byte(out, NVAL_ENUM);
    nw_buf_byte(out, i < 0 ? 0xFF : (uint8_t)i);   /* 0xFF: a value the enum cannot hold */
    return i < 0 ? NW_QC_UNKNOWN : NW_QC_OK;
}

static size_t span_enum(const nw_field *f, const uint8_t *p, size_t len) {
    return p[0] == NVAL_ENUM && len >= 2 && p[1] < f->nvalues ? 2 : 0;
}
static int cmp_enum(const nw_field *f, const uint8_t *a, const uint8_t *b) { (void)f; return a[1] < b[1] ? -1 : a[1] > b[1]; }

/* ---- list -------------------------------------------------------------------------------- */

static nw_code parse_list(const nw_entity_def *def, nw_field *f, const uint8_t *spec, nw_error *err) {
    uint32_t ol;
    const char *of = nval_str(nval_get(spec, "of"), &ol);
    char names[120];
    nw_type_names(names, sizeof names, NW_TF_ITEM);
    if (!of) return SCHEMA_ERR(f->name, "a list needs `of` (%s)", names);
    nw_type t = nw_type_lookup(of, ol);
    if (!t || !(nw_type_of(t)->flags & NW_TF_ITEM)) return SCHEMA_ERR(f->name, "list `of` must be %s", names);
    f->of = t;
    return NW_OK;
}

static nw_code convert_list(const nw_entity_def *def, const nw_field *f, const uint8_t *v, nw_buf *out, nw_error *err) {
    if (v[0] != NVAL_ARR) return fail(def, f, err, "type", "must be an array", v);
    const nw_type_ops *item = nw_type_of(f->of);
    uint32_t n = nw_rd_u32(v + 1);
    size_t off = 5;
    for (uint32_t i = 0; i < n; i++) {
        if (!item->item(v + off)) {
            char got[64];
            nw_describe_value(v + off, got, sizeof got);
            return nw_error_set(err, NW_E_VALIDATION, def->name, f->name, "type",
                                "item %u must be a %s (got %s)", i, item->name, got);
        }
        off += nval_span(v + off);
    }
    nw_code rc = check_len(def, f, n, "item", err);
    if (rc) return rc;
    nw_buf_append(out, v, off);
    return NW_OK;
}

/* `contains` compares one item; other operators the whole list */
static int qconv_list(const nw_field *f, const uint8_t *v, nw_buf *out) { return qconv_any(f, v, out); }

static size_t span_list(const nw_field *f, const uint8_t *p, size_t len) { (void)f; return p[0] == NVAL_ARR ? nval_check(p, len) : 0; }

/* ---- json ------------------------------------------------------------------------------ */

/* Why a json value is refused: JSON_OK, or what is wrong; *key is set to the
 * reserved key (at *key + 4 its bytes, u32 length first). */
enum { JSON_OK, JSON_TYPE, JSON_DEEP, JSON_RESERVED };

static int json_check(const uint8_t *v, int depth, const uint8_t **key) {
    if (depth > NVAL_MAX_DEPTH) return JSON_DEEP;
    switch (v[0]) {
    case NVAL_NULL: case NVAL_TRUE: case NVAL_FALSE: case NVAL_STR: return JSON_OK;
    case NVAL_NUM: case NVAL_DATE: return isfinite(nw_rd_f64(v + 1)) ? JSON_OK : JSON_TYPE;
    case NVAL_ARR: case NVAL_OBJ: {
        uint32_t n = nw_rd_u32(v + 1);
        size_t off = 5;
        for (uint32_t i = 0; i < n; i++) {
            if (v[0] == NVAL_OBJ) {
                uint32_t kl = nw_rd_u32(v + off);
                if (nw_reserved_key((const char *)v + off + 4, kl)) { *key = v + off; return JSON_RESERVED; }
                off += 4 + kl;
            }
            int rc = json_check(v + off, depth + 1, key);
            if (rc != JSON_OK) return rc;
            off += nval_span(v + off);
        }
        return JSON_OK;
    }
    default: return JSON_TYPE;
    }
}

static nw_code convert_json(const nw_entity_def *def, const nw_field *f, const uint8_t *v, nw_buf *out, nw_error *err) {
    const uint8_t *key = NULL;
    int why = json_check(v, 0, &key);
    if (why == JSON_RESERVED) return reserved(def, f, err, "the key", key + 4, nw_rd_u32(key));
    if (why == JSON_DEEP)
        return nw_error_set(err, NW_E_VALIDATION, def->name, f->name, "depth", "nests deeper than %d levels", NVAL_MAX_DEPTH);
    if (why != JSON_OK) return fail(def, f, err, "type", "must be JSON data", v);
    nw_buf_append(out, v, nval_span(v));
    return NW_OK;
}

static size_t span_json(const nw_field *f, const uint8_t *p, size_t len) {
    (void)f;
    size_t n = nval_check(p, len);
    return n && p[0] != NVAL_QUERY && p[0] != NVAL_FIELDS ? n : 0;
}

/* ---- decimal ---------------------------------------------------------------------------- */

#define DEC_MAX_PRECISION 64

bool nw_decimal_scan(const char *s, size_t n, nw_decimal *d) {
    size_t i = 0;
    memset(d, 0, sizeof *d);
    if (i < n && s[i] == '-') { d->neg = true; i++; }
    size_t a = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    if (i == a) return false;
    size_t b = i;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == b + 1) return false;
    }
    if (i != n) return false;
    while (a + 1 < b && s[a] == '0') a++;
    if (b - a == 1 && s[a] == '0') a = b;               /* a zero integer part has no digits */
    d->ip = s + a; d->il = b - a;
    if (b < n) {
        size_t e = n;
        while (e > b + 1 && s[e - 1] == '0') e--;
        d->fp = s + b + 1; d->fl = e - b - 1;
    }
    if (!d->il && !d->fl) d->neg = false;               /* no "-0" */
    return true;
}

void nw_decimal_write(nw_buf *out, const nw_decimal *d, uint32_t scale) {
    if (d->neg) nw_buf_byte(out, '-');
    if (d->il) nw_buf_append(out, d->ip, d->il); else nw_buf_byte(out, '0');
    size_t fl = d->fl > scale ? d->fl : scale;
    if (!fl) return;
    nw_buf_byte(out, '.');
    nw_buf_append(out, d->fp, d->fl);
    for (size_t i = d->fl; i < fl; i++) nw_buf_byte(out, '0');
}

static int dec_mag(const nw_decimal *a, const nw_decimal *b) {
    if (a->il != b->il) return a->il < b->il ? -1 : 1;
    int c = memcmp(a->ip, b->ip, a->il);
    if (c) return c < 0 ? -1 : 1;
    size_t n = a->fl > b->fl ? a->fl : b->fl;
    for (size_t i = 0; i < n; i++) {
        char x = i < a->fl ? a->fp[i] : '0', y = i < b->fl ? b->fp[i] : '0';
        if (x != y) return x < y ? -1 : 1;
    }
    return 0;
}

int nw_decimal_cmp(const nw_decimal *a, const nw_decimal *b) {
    if (a->neg != b->neg) return a->neg ? -1 : 1;
    int m = dec_mag(a, b);
    return a->neg ? -m : m;
}

static nw_code parse_decimal(const nw_entity_def *def, nw_field *f, const uint8_t *spec, nw_error *err) {
    const uint8_t *p = nval_get(spec, "precision"), *s = nval_get(spec, "scale");
    double pr = p ? nval_num(p, -1) : 38, sc = s ? nval_num(s, -1) : 0;
    if (!(pr >= 1 && pr <= DEC_MAX_PRECISION) || pr != floor(pr))
        return SCHEMA_ERR(f->name, "a decimal's precision is an integer from 1 to %d (total digits)", DEC_MAX_PRECISION);
    if (!(sc >= 0 && sc <= pr) || sc != floor(sc))
        return SCHEMA_ERR(f->name, "a decimal's scale is an integer from 0 to its precision (digits after the point)");
    f->tparam[0] = (uint32_t)pr;
    f->tparam[1] = (uint32_t)sc;
    return NW_OK;
}

/* Sets the u32 length of the string value that starts at out->p + at. */
static void patch_len(nw_buf *out, size_t at) {
    if (out->oom) return;
    uint32_t n = (uint32_t)(out->len - at - 5);
    for (int i = 0; i < 4; i++) out->p[at + 1 + i] = (uint8_t)(n >> (8 * i));
}

/* The text of a written or queried decimal: a string, or a finite number in
 * its shortest round-trip form (JS String(n); exponent forms are refused). */
static bool dec_text(const uint8_t *v, char *tmp, const char **s, size_t *n) {
    if (v[0] == NVAL_STR) { *s = (const char *)v + 5; *n = nw_rd_u32(v + 1); return true; }
    if (v[0] != NVAL_NUM || !isfinite(nw_rd_f64(v + 1))) return false;
    *n = (size_t)nw_fmt_num(tmp, nw_rd_f64(v + 1));
    *s = tmp;
    return true;
}

static nw_code convert_decimal(const nw_entity_def *def, const nw_field *f, const uint8_t *v, nw_buf *out, nw_error *err) {
    char tmp[NW_NUM_MAX + 1];
    const char *s;
    size_t n;
    nw_decimal d;
    if (!dec_text(v, tmp, &s, &n) || !nw_decimal_scan(s, n, &d))
        return fail(def, f, err, "type", "must be a decimal number as a string, like \"-12.34\"", v);
    uint32_t prec = f->tparam[0], scale = f->tparam[1];
    if (d.fl > scale)
        return fail(def, f, err, "scale", scale ? "has more digits after the decimal point than its scale allows" : "must be a whole number (scale 0)", v);
    if (d.il > prec - scale) {
        char got[64];
        nw_describe_value(v, got, sizeof got);
        return nw_error_set(err, NW_E_VALIDATION, def->name, f->name, "precision",
                            "has more than %u digits before the decimal point (precision %u, scale %u) (got %s)",
                            prec - scale, prec, scale, got);
    }
    if (f->has_min || f->has_max) {
        nw_buf t;
        nw_buf_init(&t);
        nw_decimal_write(&t, &d, 0);
        nw_buf_byte(&t, 0);
        double x = t.oom ? 0 : strtod((const char *)t.p, NULL);
        bool oom = t.oom;
        nw_buf_free(&t);
        if (oom) return nw_error_nomem(err);
        nw_code rc = check_num_range(def, f, x, v, err);
        if (rc) return rc;
    }
    size_t at = out->len;
    nw_buf_byte(out, NVAL_STR);
    nw_buf_u32(out, 0);
    nw_decimal_write(out, &d, scale);
    patch_len(out, at);
    return NW_OK;
}

static int qconv_decimal(const nw_field *f, const uint8_t *v, nw_buf *out) {
    char tmp[NW_NUM_MAX + 1];
    const char *s;
    size_t n;
    nw_decimal d;
    if (!dec_text(v, tmp, &s, &n) || !nw_decimal_scan(s, n, &d)) return NW_QC_TYPE;
    /* the stored form when the field can hold it, so equality is bytewise */
    size_t at = out->len;
    nw_buf_byte(out, NVAL_STR);
    nw_buf_u32(out, 0);
    nw_decimal_write(out, &d, f->tparam[1]);
    patch_len(out, at);
    return NW_QC_OK;
}

static int cmp_decimal(const nw_field *f, const uint8_t *a, const uint8_t *b) {
    nw_decimal x, y;
    bool okx = nw_decimal_scan((const char *)a + 5, nw_rd_u32(a + 1), &x);
    bool oky = nw_decimal_scan((const char *)b + 5, nw_rd_u32(b + 1), &y);
    if (!okx || !oky) return okx == oky ? cmp_str(f, a, b) : okx ? 1 : -1;   /* only ill-formed input gets here */
    return nw_decimal_cmp(&x, &y);
}

/* ---- order-preserving keys (nw_type_ops.key) -------------------------------------------- */

static size_t put_bytes(uint8_t *out, size_t room, const uint8_t *b, size_t n) {
    if (n > room) n = room;
    memcpy(out, b, n);
    return n;
}

/* Text by bytes, as cmp_bytes orders it; not prefix-free. */
static size_t key_str(const nw_field *f, const uint8_t *v, uint8_t *out, size_t room, bool *closed) {
    (void)f;
    *closed = false;
    return put_bytes(out, room, v + 5, nw_rd_u32(v + 1));
}

/* A double as 8 bytes that memcmp orders as numbers (-0 as 0). */
static size_t key_float(const nw_field *f, const uint8_t *v, uint8_t *out, size_t room, bool *closed) {
    (void)f;
    double d = nw_rd_f64(v + 1);
    if (d == 0) d = 0;
    uint64_t u;
    memcpy(&u, &d, 8);
    u = (u >> 63) ? ~u : u | ((uint64_t)1 << 63);
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(u >> (56 - 8 * i));
    *closed = true;
    return put_bytes(out, room, b, 8);
}

/* A whole number (int, datetime: stored values are whole, |v| <= 2^53):
 * a length byte, then the magnitude's bytes, so that small numbers take 2
 * bytes. 0x80 + n for n bytes of v >= 0; 0x7F - n and the complement of n
 * bytes of -v for v < 0. */
static size_t key_int(const nw_field *f, const uint8_t *v, uint8_t *out, size_t room, bool *closed) {
    (void)f;
    double d = nw_rd_f64(v + 1);
    bool neg = d < 0;
    uint64_t m = (uint64_t)(neg ? -d : d);
    uint8_t b[9];
    size_t n = 0;
    for (uint64_t x = m; x; x >>= 8) n++;
    b[0] = neg ? (uint8_t)(0x7F - n) : (uint8_t)(0x80 + n);
    for (size_t i = 0; i < n; i++) {
        uint8_t byte = (uint8_t)(m >> (8 * (n - 1 - i)));
        b[1 + i] = neg ? (uint8_t)~byte : byte;
    }
    *closed = true;
    return put_bytes(out, room, b, 1 + n);
}

static size_t key_tag(const nw_field *f, const uint8_t *v, uint8_t *out, size_t room, bool *closed) {
    (void)f;
    *closed = true;
    return put_bytes(out, room, v, 1);
}

static size_t key_enum(const nw_field *f, const uint8_t *v, uint8_t *out, size_t room, bool *closed) {
    (void)f;
    *closed = true;
    return put_bytes(out, room, v + 1, 1);
}

/* ---- the table ------------------------------------------------------------------------- */

static const nw_type_ops table[NW_T_COUNT] = {
    [NW_T_ID] = { "id", NW_HINT_STR, NW_TF_PREFIX, NULL, convert_text, qconv_str, "expects a string", span_str, cmp_str, NULL, NULL, key_str },
    [NW_T_STRING] = { "string", NW_HINT_STR, NW_TF_ITEM | NW_TF_TEXT | NW_TF_PREFIX, NULL, convert_text, qconv_str, "expects a string",
                      span_str, cmp_str, item_str, NULL, key_str },
    [NW_T_INT] = { "int", NW_HINT_NUM, NW_TF_ITEM, NULL, convert_number, qconv_num, "expects a number", span_num, cmp_num, item_int, NULL, key_int },
    [NW_T_FLOAT] = { "float", NW_HINT_NUM, NW_TF_ITEM, NULL, convert_number, qconv_num, "expects a number", span_num, cmp_num, item_float, NULL, key_float },
    [NW_T_BOOL] = { "bool", NW_HINT_BOOL, NW_TF_ITEM, NULL, convert_bool, qconv_bool, "expects a boolean", span_bool, cmp_bool, item_bool, NULL, key_tag },
    [NW_T_ENUM] = { "enum", NW_HINT_ENUM, NW_TF_OPAQUE, parse_enum, convert_enum, qconv_enum, "expects a string", span_enum, cmp_enum, NULL,
                    "holds no value of the enum", key_enum },
    [NW_T_DATETIME] = { "datetime", NW_HINT_DATE, 0, NULL, convert_datetime, qconv_datetime, "expects a date", span_num, cmp_num, NULL,
                        "must be a whole number of ms", key_int },
    [NW_T_LIST] = { "list", NW_HINT_VALUE, NW_TF_LIST | NW_TF_EQONLY, parse_list, convert_list, qconv_list, "expects an array",
                    span_list, cmp_encoded, NULL, NULL, NULL },
    [NW_T_JSON] = { "json", NW_HINT_JSON, NW_TF_EQONLY | NW_TF_OBJECT, NULL, convert_json, qconv_any, "expects JSON data", span_json,
                    cmp_encoded, NULL, NULL, NULL },
    [NW_T_REF] = { "ref", NW_HINT_TOKEN, NW_TF_PREFIX, parse_ref, convert_text, qconv_str, "expects a string", span_str, cmp_str, NULL, NULL, key_str },
    [NW_T_DECIMAL] = { "decimal", NW_HINT_TOKEN, 0, parse_decimal, convert_decimal, qconv_decimal, "expects a decimal string", span_str,
                       cmp_decimal, NULL, "must be in canonical form (no leading zeros, `scale` digits after the point)", NULL },
};

const nw_type_ops *nw_type_of(nw_type t) { return &table[t > NW_T_NONE && t < NW_T_COUNT ? t : NW_T_JSON]; }

uint8_t nw_field_hint(const nw_field *f) {
    if (f->type == NW_T_LIST && f->of == NW_T_STRING) return NW_HINT_STRLIST;
    return nw_type_of(f->type)->hint;
}

nw_type nw_type_lookup(const char *s, size_t n) {
    for (int t = 1; t < NW_T_COUNT; t++)
        if (strlen(table[t].name) == n && memcmp(table[t].name, s, n) == 0) return (nw_type)t;
    return NW_T_NONE;
}

void nw_type_names(char *out, size_t cap, unsigned flags) {
    size_t n = 0;
    for (int t = 1; t < NW_T_COUNT; t++) {
        if ((table[t].flags & flags) != flags) continue;
        size_t k = strlen(table[t].name);
        if (n + k + 3 > cap) break;
        if (n) { out[n++] = ','; out[n++] = ' '; }
        memcpy(out + n, table[t].name, k);
        n += k;
    }
    out[n] = 0;
}

const char *nw_type_name(nw_type t) { return t > NW_T_NONE && t < NW_T_COUNT ? table[t].name : "?"; }
