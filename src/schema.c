/* schema.c - parsing and validating entity definitions. */
#include "schema.h"
#include "record.h"
#include "alloc.h"
#include "nval.h"
#include <string.h>
#include <math.h>


static void field_free(nw_field *f) {
    nw_free(f->name);
    nw_free(f->def);
    for (uint32_t i = 0; i < f->nvalues; i++) nw_free(f->values[i]);
    nw_free(f->values);
    nw_free(f->value_lens);
    nw_free(f->ref_name);
    memset(f, 0, sizeof *f);
}

void nw_schema_free(nw_entity_def *def) {
    if (!def) return;
    for (uint32_t i = 0; i < def->nfields; i++) field_free(&def->fields[i]);
    nw_free(def->fields);
    nw_free(def->indexes);
    nw_free(def->uniques);
    nw_free(def->name);
    memset(def, 0, sizeof *def);
}

int nw_schema_field(const nw_entity_def *def, const char *name, size_t len) {
    for (uint32_t i = 0; i < def->nfields; i++)
        if (def->fields[i].name_len == len && memcmp(def->fields[i].name, name, len) == 0) return (int)i;
    return -1;
}

#define SCHEMA_ERR(field, ...) nw_error_set(err, NW_E_SCHEMA, def->name, field, "schema", __VA_ARGS__)

static bool valid_name(const char *s, uint32_t n) {
    if (n == 0 || n > 64) return false;
    for (uint32_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' || (i && c >= '0' && c <= '9');
        if (!ok) return false;
    }
    return true;
}

static nw_code parse_field(nw_entity_def *def, nw_field *f, const char *name, uint32_t nlen, const uint8_t *spec, nw_error *err) {
    if (!valid_name(name, nlen)) {
        char tmp[80];
        uint32_t k = nlen < 60 ? nlen : 60;
        memcpy(tmp, name, k); tmp[k] = 0;
        return nw_error_set(err, NW_E_SCHEMA, def->name, tmp, "schema", "field names are identifiers of 1-64 characters");
    }
    if (nw_reserved_key(name, nlen)) {
        char tmp[16];
        memcpy(tmp, name, nlen); tmp[nlen] = 0;
        return nw_error_set(err, NW_E_SCHEMA, def->name, tmp, "reserved-key", "%s is reserved (__proto__, constructor and prototype cannot be field names)", tmp);
    }
    f->name = nw_strndup(name, nlen);
    if (!f->name) return nw_error_nomem(err);
    f->name_len = nlen;
    f->ref_entity = -1;
    if (!spec || spec[0] != NVAL_OBJ) return SCHEMA_ERR(f->name, "field definition must be an object");
    uint32_t tl;
    const char *tn = nval_str(nval_get(spec, "type"), &tl);
    if (!tn) return SCHEMA_ERR(f->name, "field needs a type");
    f->type = nw_type_lookup(tn, tl);
    if (!f->type) {
        char names[160];
        nw_type_names(names, sizeof names, 0);
        return SCHEMA_ERR(f->name, "unknown type \"%.*s\" (%s)", (int)(tl > 40 ? 40 : tl), tn, names);
    }
    f->required = nval_bool(nval_get(spec, "required"), false);
    const uint8_t *v;
    if ((v = nval_get(spec, "min"))) {
        if (v[0] != NVAL_NUM || isnan(nval_num(v, 0))) return SCHEMA_ERR(f->name, "min must be a number");
        f->has_min = true; f->min = nval_num(v, 0);
    }
    if ((v = nval_get(spec, "max"))) {
        if (v[0] != NVAL_NUM || isnan(nval_num(v, 0))) return SCHEMA_ERR(f->name, "max must be a number");
        f->has_max = true; f->max = nval_num(v, 0);
    }
    if (f->has_min && f->has_max && f->min > f->max) return SCHEMA_ERR(f->name, "min is greater than max");
    if ((v = nval_get(spec, "minLength"))) {
        double d = nval_num(v, -1);
        if (d < 0 || d != floor(d) || d > 4294967295.0) return SCHEMA_ERR(f->name, "minLength must be a non-negative integer");
        f->has_minlen = true; f->minlen = (uint32_t)d;
    }
    if ((v = nval_get(spec, "maxLength"))) {
        double d = nval_num(v, -1);
        if (d < 0 || d != floor(d) || d > 4294967295.0) return SCHEMA_ERR(f->name, "maxLength must be a non-negative integer");
        f->has_maxlen = true; f->maxlen = (uint32_t)d;
    }
    if (f->has_minlen && f->has_maxlen && f->minlen > f->maxlen) return SCHEMA_ERR(f->name, "minLength is greater than maxLength");
    const nw_type_ops *ops = nw_type_of(f->type);
    return ops->parse ? ops->parse(def, f, spec, err) : NW_OK;
}

static nw_code parse_keys(nw_entity_def *def, const uint8_t *list, nw_keydef **out, uint32_t *count, bool allow_single, nw_error *err) {
    const uint8_t *it;
    uint32_t n = nval_arr(list, &it);
    if (list && list[0] != NVAL_ARR) return SCHEMA_ERR(NULL, "indexes and unique must be arrays");
    if (!n) return NW_OK;
    *out = nw_calloc(n, sizeof **out);
    if (!*out) return nw_error_nomem(err);
    for (uint32_t i = 0; i < n; i++, it += nval_span(it)) {
        nw_keydef *k = &(*out)[i];
        const uint8_t *names = it;
        uint32_t m = 1;
        if (it[0] == NVAL_ARR) {
            m = nval_arr(it, &names);
        } else if (!allow_single || it[0] != NVAL_STR) {
            return SCHEMA_ERR(NULL, "an index or unique constraint is a field name or an array of field names");
        }
        if (m == 0 || m > NW_MAX_KEY_FIELDS) return SCHEMA_ERR(NULL, "a key has 1 to %d fields", NW_MAX_KEY_FIELDS);
        for (uint32_t j = 0; j < m; j++, names += nval_span(names)) {
            uint32_t sl;
            const char *s = nval_str(names, &sl);
            if (out == &def->indexes && s && sl > 1 && s[0] == '-') { s++; sl--; k->desc |= (uint8_t)(1u << j); }   /* '-name': descending */
            int fi = s ? nw_schema_field(def, s, sl) : -1;
            if (fi < 0) return SCHEMA_ERR(NULL, "key names unknown field \"%.*s\"", s ? (int)sl : 0, s ? s : "");
            k->fields[j] = (uint8_t)fi;
        }
        k->nfields = m;
        *count = i + 1;
    }
    return NW_OK;
}

/* Field i of a `fields` object: its name and its spec; *off advances. */
static const uint8_t *next_field(const uint8_t *fields, size_t *off, const char **name, uint32_t *len) {
    uint32_t kl = nw_rd_u32(fields + *off);
    *name = (const char *)fields + *off + 4;
    *len = kl;
    const uint8_t *spec = fields + *off + 4 + kl;
    *off += 4 + kl + nval_span(spec);
    return spec;
}

/* The id field goes first (position 0): the declared one (its index in
 * *id_at) or a plain `id`. */
static nw_code parse_id_field(nw_entity_def *def, const uint8_t *fields, uint32_t n, int *id_at, nw_error *err) {
    size_t off = 5;
    *id_at = -1;
    for (uint32_t i = 0; i < n; i++) {
        const char *fname;
        uint32_t kl, tl;
        const uint8_t *spec = next_field(fields, &off, &fname, &kl);
        const char *tn = nval_str(nval_get(spec, "type"), &tl);
        if (!tn || tl != 2 || memcmp(tn, "id", 2)) continue;
        if (*id_at >= 0) return SCHEMA_ERR(NULL, "an entity has one id field");
        *id_at = (int)i;
        def->nfields = 1;
        nw_code rc = parse_field(def, &def->fields[0], fname, kl, spec, err);
        if (rc) return rc;
    }
    if (*id_at >= 0) return NW_OK;
    if (!(def->fields[0].name = nw_strndup("id", 2))) return nw_error_nomem(err);
    def->fields[0].name_len = 2;
    def->fields[0].type = NW_T_ID;
    def->fields[0].ref_entity = -1;
    def->nfields = 1;
    return NW_OK;
}

/* Every field but the id, in declaration order. */
static nw_code parse_fields(nw_entity_def *def, const uint8_t *fields, uint32_t n, int id_at, nw_error *err) {
    size_t off = 5;
    for (uint32_t i = 0; i < n; i++) {
        const char *fname;
        uint32_t kl;
        const uint8_t *spec = next_field(fields, &off, &fname, &kl);
        if ((int)i == id_at) continue;
        if (nw_schema_field(def, fname, kl) >= 0) return SCHEMA_ERR(NULL, "duplicate field \"%.*s\"", (int)kl, fname);
        nw_field *f = &def->fields[def->nfields++];
        nw_code rc = parse_field(def, f, fname, kl, spec, err);
        if (rc) return rc;
    }
    return NW_OK;
}

/* Defaults, converted by the field rules (so after every field is parsed). */
static nw_code parse_defaults(nw_entity_def *def, const uint8_t *fields, uint32_t n, nw_error *err) {
    size_t off = 5;
    for (uint32_t i = 0; i < n; i++) {
        const char *fname;
        uint32_t kl;
        const uint8_t *dv = nval_get(next_field(fields, &off, &fname, &kl), "default");
        if (!dv) continue;
        int fi = nw_schema_field(def, fname, kl);
        nw_field *f = &def->fields[fi];
        if (f->type == NW_T_ID) return SCHEMA_ERR(f->name, "an id field has no default (ids are generated)");
        nw_buf b;
        nw_buf_init(&b);
        nw_error sub;
        nw_error_clear(&sub);
        nw_code crc = nw_field_convert(def, (uint32_t)fi, dv, &b, &sub);
        if (crc == NW_OK && b.oom) crc = nw_error_nomem(&sub);
        if (crc) {
            nw_buf_free(&b);
            return crc == NW_E_LIMIT ? nw_error_nomem(err) : SCHEMA_ERR(f->name, "invalid default: %s", sub.message);
        }
        f->def = b.p;
        f->def_len = (uint32_t)b.len;
    }
    return NW_OK;
}

/* `search`: field names of strings or lists of strings. */
static nw_code parse_search(nw_entity_def *def, const uint8_t *search, nw_error *err) {
    if (!search) return NW_OK;
    if (search[0] != NVAL_ARR) return SCHEMA_ERR(NULL, "search must be an array of field names");
    const uint8_t *it;
    uint32_t m = nval_arr(search, &it);
    for (uint32_t i = 0; i < m; i++, it += nval_span(it)) {
        uint32_t sl;
        const char *s = nval_str(it, &sl);
        int fi = s ? nw_schema_field(def, s, sl) : -1;
        if (fi < 0) return SCHEMA_ERR(NULL, "search names unknown field \"%.*s\"", s ? (int)sl : 0, s ? s : "");
        const nw_field *sf = &def->fields[fi];
        bool text = (nw_type_of(sf->type)->flags & NW_TF_TEXT) ||
                    ((nw_type_of(sf->type)->flags & NW_TF_LIST) && (nw_type_of(sf->of)->flags & NW_TF_TEXT));
        if (!text) return SCHEMA_ERR(sf->name, "search fields are strings or lists of strings");
        def->search[def->nsearch++] = (uint8_t)fi;
    }
    return NW_OK;
}

/* Everything after the fields: indexes, unique keys, search, ttl, shared. */
static nw_code parse_options(nw_entity_def *def, const uint8_t *p, nw_error *err) {
    nw_code rc;
    if ((rc = parse_keys(def, nval_get(p, "indexes"), &def->indexes, &def->nindexes, true, err))) return rc;
    if ((rc = parse_keys(def, nval_get(p, "unique"), &def->uniques, &def->nuniques, true, err))) return rc;
    if ((rc = parse_search(def, nval_get(p, "search"), err))) return rc;
    const uint8_t *ttl = nval_get(p, "ttl");
    if (ttl && ttl[0] != NVAL_NULL) {
        double t = nval_num(ttl, -1);
        if (!(t > 0) || !isfinite(t)) return SCHEMA_ERR(NULL, "ttl must be a positive number of milliseconds");
        def->ttl = t;
    }
    def->shared = nval_bool(nval_get(p, "shared"), false);
    return NW_OK;
}

nw_code nw_schema_parse(const uint8_t *p, nw_entity_def *out, nw_error *err) {
    nw_entity_def d;
    memset(&d, 0, sizeof d);
    nw_entity_def *def = &d;
    nw_code rc = NW_OK;
    uint32_t nl;
    const char *name = nval_str(nval_get(p, "name"), &nl);
    if (!name || !valid_name(name, nl)) return nw_error_set(err, NW_E_SCHEMA, name ? "?" : NULL, NULL, "schema", "entity names are identifiers of 1-64 characters");
    if (nw_reserved_key(name, nl)) return nw_error_set(err, NW_E_SCHEMA, NULL, NULL, "reserved-key", "__proto__, constructor and prototype cannot be entity names");
    if (!(d.name = nw_strndup(name, nl))) return nw_error_nomem(err);
    const uint8_t *fields = nval_get(p, "fields");
    if (!fields || fields[0] != NVAL_OBJ) { rc = SCHEMA_ERR(NULL, "an entity needs a fields object"); goto fail; }
    uint32_t n = nw_rd_u32(fields + 1);
    if (n + 1 > NW_MAX_FIELDS) { rc = SCHEMA_ERR(NULL, "an entity has at most %d fields", NW_MAX_FIELDS - 1); goto fail; }
    d.fields = nw_calloc(n + 1, sizeof *d.fields);
    if (!d.fields) { rc = nw_error_nomem(err); goto fail; }
    int id_at;
    if ((rc = parse_id_field(def, fields, n, &id_at, err))) goto fail;
    if ((rc = parse_fields(def, fields, n, id_at, err))) goto fail;
    if ((rc = parse_defaults(def, fields, n, err))) goto fail;
    if ((rc = parse_options(def, p, err))) goto fail;
    *out = d;
    return NW_OK;
fail:
    nw_schema_free(&d);
    return rc;
}
