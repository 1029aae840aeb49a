/* record.c - stored field encoding, validation and comparison. */
#include "record.h"
#include "escape.h"
#include <string.h>
#include <math.h>

size_t nw_field_span(const uint8_t *f) {
    if (f[0] == NW_ROW_ENUM) return 2;
    return nval_span(f);
}

const uint8_t *nw_row_field(const uint8_t *row, uint32_t i) {
    const uint8_t *f = row + 4;
    while (i--) f += nw_field_span(f);
    return f;
}

uint32_t nw_utf8_count(const uint8_t *s, size_t len) {
    uint32_t n = 0;
    for (size_t i = 0; i < len; i++) n += (s[i] & 0xC0) != 0x80;
    return n;
}

uint32_t nw_hash_bytes(const uint8_t *p, size_t n) {
    /* FNV-1a with a final avalanche: ids are short, this is fast enough and
     * spreads sequential ids well. */
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 16777619u; }
    h ^= h >> 16; h *= 0x7feb352dU; h ^= h >> 15; h *= 0x846ca68bU; h ^= h >> 16;
    return h;
}

void nw_describe_value(const uint8_t *v, char *out, size_t cap) {
    nw_buf b;
    nw_buf_init(&b);
    char tmp[64];
    size_t n = 0;
    switch (v[0]) {
    case NVAL_NULL: memcpy(tmp, "null", n = 4); break;
    case NVAL_TRUE: memcpy(tmp, "true", n = 4); break;
    case NVAL_FALSE: memcpy(tmp, "false", n = 5); break;
    case NVAL_NUM: case NVAL_DATE: n = (size_t)nw_fmt_num(tmp, nw_rd_f64(v + 1)); break;
    case NVAL_STR: {
        uint32_t len = nw_rd_u32(v + 1);
        const uint8_t *s = v + 5;
        tmp[n++] = '"';
        uint32_t cut = len;
        if (cut > 40) { cut = 40; while (cut > 0 && (s[cut] & 0xC0) == 0x80) cut--; }
        memcpy(tmp + n, s, cut); n += cut;
        if (cut < len) { memcpy(tmp + n, "...", 3); n += 3; }
        tmp[n++] = '"';
        break;
    }
    case NVAL_ARR: memcpy(tmp, "an array", n = 8); break;
    case NVAL_OBJ: case NVAL_FIELDS: memcpy(tmp, "an object", n = 9); break;
    default: memcpy(tmp, "a value", n = 7); break;
    }
    nw_buf_free(&b);
    if (n >= cap) n = cap - 1;
    memcpy(out, tmp, n);
    out[n] = 0;
}

/* ---- ISO 8601 ------------------------------------------------------------- */

static int digits(const char *s, size_t len, size_t at, int n, int *out) {
    if (at + (size_t)n > len) return 0;
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = s[at + i];
        if (c < '0' || c > '9') return 0;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return 1;
}

static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool nw_parse_iso_date(const char *s, size_t len, double *ms) {
    size_t i = 0;
    int sign = 1, y, mo = 1, d = 1, h = 0, mi = 0, sec = 0, frac = 0;
    if (len && (s[0] == '+' || s[0] == '-')) {
        sign = s[0] == '-' ? -1 : 1;
        if (!digits(s, len, 1, 6, &y)) return false;
        i = 7;
    } else {
        if (!digits(s, len, 0, 4, &y)) return false;
        i = 4;
    }
    y *= sign;
    if (i < len && s[i] == '-') {
        if (!digits(s, len, i + 1, 2, &mo)) return false;
        i += 3;
        if (i < len && s[i] == '-') {
            if (!digits(s, len, i + 1, 2, &d)) return false;
            i += 3;
        }
    }
    int64_t offset_min = 0;
    if (i < len && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        if (!digits(s, len, i + 1, 2, &h) || i + 3 >= len || s[i + 3] != ':' || !digits(s, len, i + 4, 2, &mi)) return false;
        i += 6;
        if (i < len && s[i] == ':') {
            if (!digits(s, len, i + 1, 2, &sec)) return false;
            i += 3;
            if (i < len && (s[i] == '.' || s[i] == ',')) {
                i++;
                int nd = 0;
                while (i < len && s[i] >= '0' && s[i] <= '9') {
                    if (nd < 3) frac = frac * 10 + (s[i] - '0');
                    nd++; i++;
                }
                if (!nd) return false;
                for (; nd < 3; nd++) frac *= 10;
            }
        }
        if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
            i++;
        } else if (i < len && (s[i] == '+' || s[i] == '-')) {
            int oh, om;
            int osign = s[i] == '-' ? -1 : 1;
            if (!digits(s, len, i + 1, 2, &oh)) return false;
            i += 3;
            if (i < len && s[i] == ':') i++;
            if (!digits(s, len, i, 2, &om)) return false;
            i += 2;
            offset_min = osign * (oh * 60 + om);
        }
    }
    if (i != len) return false;
    static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 24 || mi > 59 || sec > 59) return false;
    if (h == 24 && (mi || sec || frac)) return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap) return false;
    double t = (double)days_from_civil(y, mo, d) * 86400000.0 + h * 3600000.0 + mi * 60000.0 + sec * 1000.0 + frac
               - (double)offset_min * 60000.0;
    if (fabs(t) > 8.64e15) return false;
    *ms = t;
    return true;
}

/* ---- conversion and validation ---------------------------------------------- */

bool nw_reserved_key(const char *s, size_t n) {
    switch (n) {
    case 9: return memcmp(s, "__proto__", 9) == 0 || memcmp(s, "prototype", 9) == 0;
    case 11: return memcmp(s, "constructor", 11) == 0;
    default: return false;
    }
}

static nw_code fail(const nw_entity_def *def, const nw_field *f, nw_error *err, const char *rule, const char *msg, const uint8_t *v) {
    char got[64];
    nw_describe_value(v, got, sizeof got);
    return nw_error_set(err, NW_E_VALIDATION, def->name, f->name, rule, "%s (got %s)", msg, got);
}

/* The rules of each type live in the type table (types.c). */
nw_code nw_field_convert(const nw_entity_def *def, uint32_t fi, const uint8_t *v, nw_buf *out, nw_error *err) {
    const nw_field *f = &def->fields[fi];
    if (v[0] == NVAL_NULL) { nw_buf_byte(out, NVAL_NULL); return NW_OK; }
    return nw_type_of(f->type)->convert(def, f, v, out, err);
}

/* ---- ordering --------------------------------------------------------------- */

int nw_field_cmp(const nw_field *f, const uint8_t *a, const uint8_t *b) {
    bool an = a[0] == NVAL_NULL, bn = b[0] == NVAL_NULL;
    if (an || bn) return an == bn ? 0 : an ? -1 : 1;
    return nw_type_of(f->type)->cmp(f, a, b);
}

/* ---- stored values from outside (snapshots) --------------------------------- */

static bool utf8_ok(const uint8_t *p, size_t len) {
    for (size_t i = 0; i < len;) {
        if (p[i] < 0x80) { i++; continue; }
        size_t bad, n = nw_utf8_seq(p + i, len - i, &bad);
        if (!n) return false;
        i += n;
    }
    return true;
}

/* True when every string (and object key) inside the NVAL value is UTF-8. */
static bool value_utf8_ok(const uint8_t *v, int depth) {
    if (depth > NVAL_MAX_DEPTH) return false;
    if (v[0] == NVAL_STR) return utf8_ok(v + 5, nw_rd_u32(v + 1));
    if (v[0] != NVAL_ARR && v[0] != NVAL_OBJ) return true;
    uint32_t n = nw_rd_u32(v + 1);
    size_t off = 5;
    for (uint32_t i = 0; i < n; i++) {
        if (v[0] == NVAL_OBJ) {
            uint32_t kl = nw_rd_u32(v + off);
            if (!utf8_ok(v + off + 4, kl)) return false;
            off += 4 + kl;
        }
        if (!value_utf8_ok(v + off, depth + 1)) return false;
        off += nval_span(v + off);
    }
    return true;
}

nw_code nw_field_check_stored(const nw_entity_def *def, uint32_t fi, const uint8_t *p, nw_buf *scratch, nw_error *err) {
    const nw_field *f = &def->fields[fi];
    if (p[0] == NVAL_NULL) {
        if (f->required || fi == 0) return nw_error_set(err, NW_E_VALIDATION, def->name, f->name, "required", "is required");
        return NW_OK;
    }
    const nw_type_ops *ops = nw_type_of(f->type);
    if (ops->flags & NW_TF_OPAQUE) {   /* a stored form no write takes: its span checks it */
        if (!ops->span(f, p, nw_field_span(p)))
            return nw_error_set(err, NW_E_VALIDATION, def->name, f->name, "values", "%s", ops->unstored);
        return NW_OK;
    }
    if (!value_utf8_ok(p, 0)) return fail(def, f, err, "type", "holds text that is not valid UTF-8", p);
    /* the same rules as a write, and the value must already be in stored form */
    nw_buf_reset(scratch);
    nw_code rc = nw_field_convert(def, fi, p, scratch, err);
    if (rc) return rc;
    if (scratch->oom) return nw_error_nomem(err);
    size_t n = nw_field_span(p);
    if (scratch->len != n || memcmp(scratch->p, p, n) != 0)
        return fail(def, f, err, "type", ops->unstored ? ops->unstored : "is not in stored form", p);
    return NW_OK;
}
