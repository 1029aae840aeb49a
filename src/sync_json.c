/* sync_json.c - a pull response applied from its JSON text (sync_json.h). */
#include "sync_json.h"
#include "nval.h"
#include "alloc.h"
#include "record.h"
#include <math.h>
#include <string.h>
#include <stdlib.h>

typedef struct jp {
    const uint8_t *p, *e;
    nw_buf key;             /* the current object key, unescaped */
    bool oom;               /* a buffer ran out of memory (then parsing stops) */
} jp;

static void ws(jp *j) {
    while (j->p < j->e && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t')) j->p++;
}

static bool eat(jp *j, uint8_t c) {
    ws(j);
    if (j->p < j->e && *j->p == c) { j->p++; return true; }
    return false;
}

static bool word(jp *j, const char *w, size_t n) {
    if ((size_t)(j->e - j->p) < n || memcmp(j->p, w, n) != 0) return false;
    j->p += n;
    return true;
}

static int hex4(const uint8_t *p) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i], d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

static void utf8(nw_buf *b, uint32_t cp) {
    uint8_t t[4];
    size_t n;
    if (cp < 0x80) { t[0] = (uint8_t)cp; n = 1; }
    else if (cp < 0x800) { t[0] = (uint8_t)(0xC0 | cp >> 6); t[1] = (uint8_t)(0x80 | (cp & 0x3F)); n = 2; }
    else if (cp < 0x10000) { t[0] = (uint8_t)(0xE0 | cp >> 12); t[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F)); t[2] = (uint8_t)(0x80 | (cp & 0x3F)); n = 3; }
    else { t[0] = (uint8_t)(0xF0 | cp >> 18); t[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F)); t[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F)); t[3] = (uint8_t)(0x80 | (cp & 0x3F)); n = 4; }
    nw_buf_append(b, t, n);
}

/* A string at j->p (after whitespace): its unescaped UTF-8 bytes appended
 * to out (NULL: only checked). Lone surrogates become U+FFFD, as JSON.parse
 * then TextEncoder would store them. */
static bool string(jp *j, nw_buf *out) {
    ws(j);
    if (j->p >= j->e || *j->p != '"') return false;
    const uint8_t *p = ++j->p;
    for (;;) {
        const uint8_t *run = p;
        while (p < j->e && *p != '"' && *p != '\\' && *p >= 0x20) p++;
        if (out) nw_buf_append(out, run, (size_t)(p - run));
        if (p >= j->e || *p < 0x20) return false;
        if (*p == '"') {
            j->p = p + 1;
            if (out && out->oom) { j->oom = true; return false; }
            return true;
        }
        if (j->e - p < 2) return false;
        uint8_t c = p[1];
        p += 2;
        uint32_t cp;
        switch (c) {
        case '"': case '\\': case '/': cp = c; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u': {
            if (j->e - p < 4) return false;
            int h = hex4(p);
            if (h < 0) return false;
            p += 4;
            cp = (uint32_t)h;
            if (cp >= 0xD800 && cp <= 0xDBFF && j->e - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                int lo = hex4(p + 2);
                if (lo >= 0xDC00 && lo <= 0xDFFF) { cp = 0x10000 + ((cp - 0xD800) << 10) + (uint32_t)(lo - 0xDC00); p += 6; }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
            break;
        }
        default: return false;
        }
        if (out) utf8(out, cp);
    }
}

/* A number per the JSON grammar; *v its value (correctly rounded). */
static bool number(jp *j, double *v) {
    ws(j);
    const uint8_t *s = j->p, *p = s;
    if (p < j->e && *p == '-') p++;
    if (p >= j->e) return false;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') while (p < j->e && *p >= '0' && *p <= '9') p++;
    else return false;
    if (p < j->e && *p == '.') {
        p++;
        if (p >= j->e || *p < '0' || *p > '9') return false;
        while (p < j->e && *p >= '0' && *p <= '9') p++;
    }
    if (p < j->e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < j->e && (*p == '+' || *p == '-')) p++;
        if (p >= j->e || *p < '0' || *p > '9') return false;
        while (p < j->e && *p >= '0' && *p <= '9') p++;
    }
    char tmp[400];
    size_t n = (size_t)(p - s);
    if (n >= sizeof tmp) return false;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    *v = strtod(tmp, NULL);
    j->p = p;
    return true;
}

/* Any value, as NVAL appended to out (NULL: only checked). */
static bool value(jp *j, nw_buf *out, int depth) {
    if (depth > NVAL_MAX_DEPTH) return false;
    ws(j);
    if (j->p >= j->e) return false;
    switch (*j->p) {
    case '"':
        if (!out) return string(j, NULL);
        nw_buf_byte(out, NVAL_STR);
        size_t at = out->len;
        nw_buf_u32(out, 0);
        if (!string(j, out)) return false;
        nw_buf_patch_u32(out, at, (uint32_t)(out->len - at - 4));
        return true;
    case '{': case '[': {
        bool obj = *j->p == '{';
        j->p++;
        size_t at = 0;
        if (out) { nw_buf_byte(out, obj ? NVAL_OBJ : NVAL_ARR); at = out->len; nw_buf_u32(out, 0); }
        uint32_t n = 0;
        if (eat(j, obj ? '}' : ']')) { if (out) nw_buf_patch_u32(out, at, 0); return true; }
        do {
            if (obj) {
                size_t kat = 0;
                if (out) { kat = out->len; nw_buf_u32(out, 0); }
                if (!string(j, out) || !eat(j, ':')) return false;
                if (out) nw_buf_patch_u32(out, kat, (uint32_t)(out->len - kat - 4));
            }
            if (!value(j, out, depth + 1)) return false;
            n++;
        } while (eat(j, ','));
        if (!eat(j, obj ? '}' : ']')) return false;
        if (out) nw_buf_patch_u32(out, at, n);
        if (out && out->oom) { j->oom = true; return false; }
        return true;
    }
    case 't': if (!word(j, "true", 4)) return false; if (out) nw_buf_byte(out, NVAL_TRUE); return true;
    case 'f': if (!word(j, "false", 5)) return false; if (out) nw_buf_byte(out, NVAL_FALSE); return true;
    case 'n': if (!word(j, "null", 4)) return false; if (out) nw_buf_byte(out, NVAL_NULL); return true;
    default: {
        double v;
        if (!number(j, &v)) return false;
        if (out) { nw_buf_byte(out, NVAL_NUM); nw_buf_f64(out, v); }
        return true;
    }
    }
}

/* The next key of an object into j->key: false at the end or on error
 * (*bad set). Call with the '{' consumed; `first` on the first key. */
static bool next_key(jp *j, bool *first, bool *bad) {
    if (*first) {
        *first = false;
        if (eat(j, '}')) return false;
    } else if (!eat(j, ',')) {
        if (!eat(j, '}')) *bad = true;
        return false;
    }
    nw_buf_reset(&j->key);
    if (!string(j, &j->key) || !eat(j, ':') || j->key.oom) { *bad = true; return false; }
    return true;
}

static bool key_is(const jp *j, const char *k) {
    size_t n = strlen(k);
    return j->key.len == n && memcmp(j->key.p, k, n) == 0;
}

/* A record object as a FIELDS map of table t (unknown keys dropped). */
static bool record(jp *j, const nw_table *t, nw_buf *out) {
    const nw_entity_def *def = nw_table_def(t);
    nw_buf_reset(out);
    nw_buf_byte(out, NVAL_FIELDS);
    nw_buf_u32(out, 0);
    if (!eat(j, '{')) return false;
    bool first = true, bad = false;
    uint32_t n = 0;
    while (next_key(j, &first, &bad)) {
        int fi = nw_schema_field(def, (const char *)j->key.p, j->key.len);
        if (fi < 0) { if (!value(j, NULL, 1)) return false; continue; }
        nw_buf_byte(out, NVAL_FIELD);
        nw_buf_u32(out, (uint32_t)fi);
        if (!value(j, out, 1)) return false;
        n++;
    }
    nw_buf_patch_u32(out, 1, n);
    if (out->oom) j->oom = true;
    return !bad && !out->oom;
}

static void put_str(nw_buf *b, const char *s) {
    size_t n = strlen(s);
    nw_buf_u32(b, (uint32_t)n);
    nw_buf_append(b, s, n);
}

static nw_code malformed(nw_error *err, const jp *j, const uint8_t *start) {
    return nw_error_set(err, NW_E_ARG, NULL, NULL, "json", "malformed pull response (at byte %zu)", (size_t)(j->p - start));
}

typedef struct change {
    int table;              /* -1: unknown or not wanted */
    bool has_entity, deleted, has_record, has_id;
    double version;
    const uint8_t *rec_start, *rec_end;   /* the record's JSON, when read before the entity */
} change;

/* One pull call: the parser, its buffers and what the changes go into. */
typedef struct pull {
    jp j;
    nw_store *s;
    nw_changelog *cl;
    const uint8_t *mask;
    uint32_t nmask;
    nw_cl_index *ix;        /* the pending local entries by record (NULL: none) */
    nw_buf id, rec, merged;
    nw_pull_result *out;
    nw_buf *skips;
    nw_error *err;
    uint32_t index;
} pull;

enum { OV_PUT, OV_DELETE, OV_KEEP };

/* The server's state of a record (rec: its FIELDS map, NULL = deleted) with
 * the record's pending local entries (from iterator `it`) re-applied in seq
 * order, as a FIELDS map in out (field 0 = the id). A create sets its fields
 * over the state (over nothing when there is none), an update sets its
 * fields, but an update of a record the server deleted leaves the change to
 * the server (OV_KEEP: it is not applied); a delete leaves nothing
 * (OV_DELETE). Local enum fields are written back as their names. */
static int overlay(const nw_entity_def *def, const nw_cl_index *ix, uint32_t it, const uint8_t *rec,
                   const uint8_t *id, uint32_t idlen, nw_buf *out) {
    const uint8_t *src[NW_MAX_FIELDS] = { 0 };
    bool present = rec != NULL;
    uint32_t nf = def->nfields < NW_MAX_FIELDS ? def->nfields : NW_MAX_FIELDS;
    if (rec) {
        uint32_t n = nw_rd_u32(rec + 1);
        const uint8_t *p = rec + 5;
        for (uint32_t k = 0; k < n; k++, p += 5 + nval_span(p + 5)) {
            uint32_t fi = nw_rd_u32(p + 1);
            if (fi < nf) src[fi] = p + 5;
        }
    }
    while (it) {
        nw_cl_entry e;
        it = nw_cl_index_entry(ix, it, &e);
        if (e.op == NW_CL_DELETE) { present = false; memset(src, 0, sizeof src); continue; }
        if (e.op == NW_CL_UPDATE && !present) return OV_KEEP;
        if (!present) memset(src, 0, sizeof src);
        present = true;
        const uint8_t *f = e.fields;
        for (uint32_t fi = 0; fi < nf; fi++) {
            if (!(e.mask >> fi & 1)) continue;
            src[fi] = f;
            f += nw_field_span(f);
        }
    }
    if (!present) return OV_DELETE;
    nw_buf_reset(out);
    nw_buf_byte(out, NVAL_FIELDS);
    nw_buf_u32(out, 0);
    uint32_t n = 0;
    for (uint32_t fi = 0; fi < nf; fi++) {
        const uint8_t *v = src[fi];
        if (!v && fi) continue;
        nw_buf_byte(out, NVAL_FIELD);
        nw_buf_u32(out, fi);
        n++;
        if (!fi || v[0] == NW_ROW_ENUM) {
            const nw_field *f = &def->fields[fi];
            const char *str = fi ? f->values[v[1]] : (const char *)id;
            uint32_t len = fi ? f->value_lens[v[1]] : idlen;
            nw_buf_byte(out, NVAL_STR);
            nw_buf_u32(out, len);
            nw_buf_append(out, str, len);
        } else {
            nw_buf_append(out, v, nval_span(v));
        }
    }
    nw_buf_patch_u32(out, 1, n);
    return OV_PUT;
}

/* Lists a change the store refused (sync_json.h). */
static void skip(pull *P, nw_code code, const nw_error *e) {
    nw_buf *b = P->skips;
    nw_buf_u32(b, P->index);
    nw_buf_u32(b, (uint32_t)code);
    put_str(b, e->entity);
    put_str(b, e->field);
    put_str(b, e->rule);
    put_str(b, e->message);
    nw_buf_u32(b, (uint32_t)P->id.len);
    nw_buf_append(b, P->id.p, P->id.len);
    P->out->skipped++;
}

/* Writes one parsed change (under the record's pending local entries); a
 * change the store refuses is undone alone and listed. Fails only on OOM. */
static nw_code apply_change(pull *P, const change *c) {
    nw_store *s = P->s;
    uint32_t t = (uint32_t)c->table;
    const uint8_t *data = c->deleted ? NULL : P->rec.p;
    double version = c->deleted || !(c->version > 0) ? 0 : c->version;
    uint32_t it = nw_cl_index_find(P->ix, t, P->id.p, (uint32_t)P->id.len);
    if (it) {
        int r = overlay(nw_table_def(nw_store_table(s, t)), P->ix, it, data, P->id.p, (uint32_t)P->id.len, &P->merged);
        if (r == OV_KEEP) return NW_OK;
        if (r == OV_DELETE) { data = NULL; version = 0; }
        else data = P->merged.p;
    }
    size_t mark = nw_store_mark(s);
    nw_buf *ev = nw_store_events(s);
    size_t evlen = ev->len;
    uint32_t evn = nw_store_event_count(s);
    nw_error e;
    nw_error_clear(&e);
    nw_code rc = P->rec.oom || P->merged.oom ? nw_error_nomem(&e)
        : nw_store_put(s, t, (const char *)P->id.p, P->id.len, data, &e);
    if (!rc && (nw_changelog_table_flags(P->cl, t) & NW_CLT_VERSIONS))
        rc = nw_changelog_set_version(P->cl, t, P->id.p, (uint32_t)P->id.len, version, &e);
    if (!rc) { P->out->applied++; return NW_OK; }
    nw_store_rollback(s, mark);
    nw_store_truncate_events(s, evlen, evn);
    if (rc == NW_E_LIMIT && !strcmp(e.rule, "memory")) { *P->err = e; return rc; }
    skip(P, rc, &e);
    return NW_OK;
}

/* The table of the entity named j->key, or -1 (unknown or not wanted). */
static int table_named(const pull *P) {
    const jp *j = &P->j;
    for (uint32_t t = 0; t < nw_store_ntables(P->s) && t < P->nmask; t++) {
        const char *name = nw_table_def(nw_store_table(P->s, t))->name;
        if (P->mask[t] && strlen(name) == j->key.len && memcmp(name, j->key.p, j->key.len) == 0) return (int)t;
    }
    return -1;
}

/* One key of a change object; false when malformed. */
static bool change_key(pull *P, change *c) {
    jp *j = &P->j;
    if (key_is(j, "entity")) {
        nw_buf_reset(&j->key);
        if (!string(j, &j->key)) return false;
        c->has_entity = true;
        c->table = table_named(P);
    } else if (key_is(j, "id")) {
        if (!string(j, &P->id)) return false;
        c->has_id = true;
    } else if (key_is(j, "version")) {
        return number(j, &c->version);
    } else if (key_is(j, "deleted")) {
        ws(j);
        if (word(j, "true", 4)) c->deleted = true;
        else return value(j, NULL, 1);
    } else if (key_is(j, "record")) {
        ws(j);
        if (j->p < j->e && *j->p == 'n') return word(j, "null", 4);
        c->has_record = true;
        if (c->has_entity && c->table >= 0) {
            c->rec_start = NULL;
            return record(j, nw_store_table(P->s, (uint32_t)c->table), &P->rec);
        }
        c->rec_start = j->p;   /* entity not known yet: read it once it is */
        if (!value(j, NULL, 1)) return false;
        c->rec_end = j->p;
    } else {
        return value(j, NULL, 1);
    }
    return true;
}

/* One change object at j->p: parsed, then applied. *bad when malformed. */
static nw_code one_change(pull *P, bool *bad) {
    jp *j = &P->j;
    change c = { -1, false, false, false, false, 0, NULL, NULL };
    bool first = true;
    nw_buf_reset(&P->id);
    if (!eat(j, '{')) { *bad = true; return NW_OK; }
    while (next_key(j, &first, bad))
        if (!change_key(P, &c)) { *bad = true; return NW_OK; }
    if (*bad || !c.has_id || !c.has_entity) { *bad = true; return NW_OK; }
    if (P->rec.oom || P->id.oom) return nw_error_nomem(P->err);
    if (c.table >= 0 && c.rec_start) {
        jp r = { c.rec_start, c.rec_end, j->key, false };
        bool ok = record(&r, nw_store_table(P->s, (uint32_t)c.table), &P->rec);
        j->key = r.key;      /* the key buffer may have moved */
        j->oom |= r.oom;
        if (!ok) { *bad = true; return NW_OK; }
    }
    nw_code rc = NW_OK;
    if (c.table >= 0 && (c.deleted || c.has_record)) rc = apply_change(P, &c);
    P->index++;
    return rc;
}

/* The value of a top-level key other than "changes"; false when malformed. */
static bool top_key(pull *P) {
    jp *j = &P->j;
    nw_pull_result *out = P->out;
    if (key_is(j, "more")) {
        ws(j);
        if (word(j, "true", 4)) out->more = true;
        else if (word(j, "false", 5)) out->more = false;
        else return false;
        return true;
    }
    if (!key_is(j, "checkpoint")) return value(j, NULL, 1);
    ws(j);
    const uint8_t *at = j->p;
    double v;
    if (j->p < j->e && *j->p == '"') {
        if (!string(j, NULL)) return false;
        out->checkpoint = at + 1;
        out->checkpoint_len = (uint32_t)(j->p - at - 2);
        return !memchr(at + 1, '\\', out->checkpoint_len);
    }
    if (!number(j, &v)) return false;
    out->checkpoint = at;
    out->checkpoint_len = (uint32_t)(j->p - at);
    return true;
}

static nw_code parse_pull(pull *P, const uint8_t *json) {
    jp *j = &P->j;
    nw_code rc = NW_OK;
    bool first = true, bad = false;
    if (!eat(j, '{')) return malformed(P->err, j, json);
    while (!rc && !bad && next_key(j, &first, &bad)) {
        if (!key_is(j, "changes")) { bad = !top_key(P); continue; }
        if (!eat(j, '[')) { bad = true; break; }
        if (eat(j, ']')) continue;
        do rc = one_change(P, &bad);
        while (!rc && !bad && eat(j, ','));
        if (!rc && !bad && !eat(j, ']')) bad = true;
    }
    if (rc) return rc;
    ws(j);
    if (j->oom || j->key.oom || P->id.oom || P->rec.oom || P->merged.oom) return nw_error_nomem(P->err);
    if (bad || j->p != j->e || !P->out->checkpoint) return malformed(P->err, j, json);
    if (P->skips->oom) return nw_error_nomem(P->err);
    return NW_OK;
}

nw_code nw_sync_json_apply(nw_store *s, const uint8_t *json, size_t len, const uint8_t *mask, uint32_t nmask,
                           nw_pull_result *out, nw_buf *skips, nw_error *err) {
    pull P = { { json, json + len, { 0 }, false }, s, nw_store_changelog(s), mask, nmask, NULL,
               { 0 }, { 0 }, { 0 }, out, skips, err, 0 };
    nw_buf_init(&P.j.key);
    nw_buf_init(&P.id);
    nw_buf_init(&P.rec);
    nw_buf_init(&P.merged);
    memset(out, 0, sizeof *out);
    nw_code rc = nw_changelog_pending(P.cl) ? nw_changelog_index(P.cl, mask, nmask, &P.ix, err) : NW_OK;
    if (!rc) rc = parse_pull(&P, json);
    nw_cl_index_free(P.ix);
    nw_buf_free(&P.j.key);
    nw_buf_free(&P.id);
    nw_buf_free(&P.rec);
    nw_buf_free(&P.merged);
    return rc;
}

/* ---- the push body ---------------------------------------------------------------- */

/* A JSON string as JSON.stringify writes it (text is valid UTF-8). */
static void json_str(nw_buf *b, const uint8_t *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    nw_buf_byte(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        nw_buf_append(b, s + run, i - run);
        run = i + 1;
        char esc[6] = { '\\', 0 };
        size_t k = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default: memcpy(esc + 1, "u00", 3); esc[4] = hex[c >> 4]; esc[5] = hex[c & 15]; k = 6;
        }
        nw_buf_append(b, esc, k);
    }
    nw_buf_append(b, s + run, n - run);
    nw_buf_byte(b, '"');
}

static void json_num(nw_buf *b, double v) {
    if (!isfinite(v)) nw_buf_str(b, "null");
    else if (v == 0) nw_buf_byte(b, '0');
    else nw_buf_num(b, v);
}

static void json_iso(nw_buf *b, double ms) {
    char t[NW_ISO_MAX];
    size_t n = nw_fmt_iso(t, ms);
    if (!isfinite(ms) || fabs(ms) > 8.64e15) { nw_buf_str(b, "null"); return; }
    json_str(b, (const uint8_t *)t, n);
}

/* An array index as JS orders object keys (canonical, below 2^32 - 1); -1 if not. */
static int64_t index_key(const uint8_t *k, uint32_t n) {
    if (!n || n > 10 || (n > 1 && k[0] == '0')) return -1;
    int64_t v = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (k[i] < '0' || k[i] > '9') return -1;
        v = v * 10 + (k[i] - '0');
    }
    return v < 4294967295LL ? v : -1;
}

static void json_value(nw_buf *b, const uint8_t *v);

/* The members of an NVAL object whose keys are (want_index) or are not
 * array indexes, the former in ascending order, as a JS object lists them. */
static void json_members(nw_buf *b, const uint8_t *v, bool want_index, bool *comma) {
    uint32_t n = nw_rd_u32(v + 1);
    int64_t last = -1;
    for (;;) {
        const uint8_t *p = v + 5, *pick = NULL;
        int64_t best = INT64_MAX;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t kl = nw_rd_u32(p);
            int64_t ix = index_key(p + 4, kl);
            const uint8_t *val = p + 4 + kl;
            if (!want_index && ix < 0) {
                if (*comma) nw_buf_byte(b, ',');
                *comma = true;
                json_str(b, p + 4, kl);
                nw_buf_byte(b, ':');
                json_value(b, val);
            } else if (want_index && ix > last && ix < best) { best = ix; pick = p; }
            p = val + nval_span(val);
        }
        if (!want_index || !pick) return;
        uint32_t kl = nw_rd_u32(pick);
        if (*comma) nw_buf_byte(b, ',');
        *comma = true;
        json_str(b, pick + 4, kl);
        nw_buf_byte(b, ':');
        json_value(b, pick + 4 + kl);
        last = best;
    }
}

/* An NVAL value as JSON.stringify writes the JS value Reader.value gives. */
static void json_value(nw_buf *b, const uint8_t *v) {
    switch (v[0]) {
    case NVAL_NULL: nw_buf_str(b, "null"); return;
    case NVAL_FALSE: nw_buf_str(b, "false"); return;
    case NVAL_TRUE: nw_buf_str(b, "true"); return;
    case NVAL_NUM: json_num(b, nw_rd_f64(v + 1)); return;
    case NVAL_DATE: json_iso(b, nw_rd_f64(v + 1)); return;
    case NVAL_STR: json_str(b, v + 5, nw_rd_u32(v + 1)); return;
    case NVAL_ARR: {
        uint32_t n = nw_rd_u32(v + 1);
        const uint8_t *p = v + 5;
        nw_buf_byte(b, '[');
        for (uint32_t i = 0; i < n; i++, p += nval_span(p)) {
            if (i) nw_buf_byte(b, ',');
            json_value(b, p);
        }
        nw_buf_byte(b, ']');
        return;
    }
    case NVAL_OBJ: {
        bool comma = false;
        nw_buf_byte(b, '{');
        json_members(b, v, true, &comma);
        json_members(b, v, false, &comma);
        nw_buf_byte(b, '}');
        return;
    }
    default: nw_buf_str(b, "null"); return;
    }
}

/* A stored field as JSON: enums by name, datetimes as ISO text. */
static void json_field(nw_buf *b, const nw_field *f, const uint8_t *v) {
    if (v[0] == NW_ROW_ENUM) json_str(b, (const uint8_t *)f->values[v[1]], f->value_lens[v[1]]);
    else if (f->type == NW_T_DATETIME && v[0] == NVAL_NUM) json_iso(b, nw_rd_f64(v + 1));
    else json_value(b, v);
}

static const char *const op_names[] = { "", "create", "update", "delete" };

/* One entry as a push mutation (docs/sync.md). */
static void json_mutation(nw_buf *b, const nw_store *s, const nw_changelog *cl, const nw_cl_entry *e, bool mark_conflicts) {
    const nw_entity_def *def = nw_table_def(nw_store_table((nw_store *)s, e->table));
    nw_buf_str(b, "{\"seq\":");
    json_num(b, e->seq);
    nw_buf_str(b, ",\"entity\":");
    json_str(b, (const uint8_t *)def->name, strlen(def->name));
    nw_buf_str(b, ",\"id\":");
    json_str(b, e->id, e->idlen);
    nw_buf_str(b, ",\"op\":\"");
    nw_buf_str(b, op_names[e->op <= NW_CL_DELETE ? e->op : 0]);
    nw_buf_byte(b, '"');
    if (e->op != NW_CL_DELETE) {
        nw_buf_str(b, ",\"fields\":{");
        const uint8_t *f = e->fields;
        bool comma = false;
        for (uint32_t fi = 0; fi < def->nfields && fi < NW_MAX_FIELDS; fi++) {
            if (!(e->mask >> fi & 1)) continue;
            if (comma) nw_buf_byte(b, ',');
            comma = true;
            json_str(b, (const uint8_t *)def->fields[fi].name, def->fields[fi].name_len);
            nw_buf_byte(b, ':');
            json_field(b, &def->fields[fi], f);
            f += nw_field_span(f);
        }
        nw_buf_byte(b, '}');
    }
    if (nw_changelog_table_flags(cl, e->table) & NW_CLT_VERSIONS) {
        nw_buf_str(b, ",\"base\":");
        json_num(b, e->base);
    }
    if (mark_conflicts && (e->flags & NW_CL_CONFLICT)) nw_buf_str(b, ",\"conflicted\":true");
    nw_buf_byte(b, '}');
}

nw_code nw_sync_json_push(const nw_store *s, const uint8_t *want, uint32_t nwant, uint32_t max, uint32_t flags,
                          nw_buf *body, nw_buf *index, uint32_t *count, nw_error *err) {
    const nw_changelog *cl = nw_store_changelog((nw_store *)s);
    uint32_t n;
    const uint8_t *client = nw_changelog_client(cl, &n);
    nw_buf_str(body, "{\"client\":");
    json_str(body, client, n);
    nw_buf_str(body, ",\"done\":");
    json_num(body, nw_changelog_first_unsent(cl) - 1);
    nw_buf_str(body, ",\"mutations\":[");
    uint32_t k = 0;
    nw_cl_entry e;
    for (size_t pos = nw_changelog_next(cl, 0, &e); pos && k < max; pos = nw_changelog_next(cl, pos, &e)) {
        if (e.table >= nwant || !want[e.table] || e.table >= nw_store_ntables((nw_store *)s)) continue;
        if ((e.flags & NW_CL_CONFLICT) && !(flags & NW_PUSH_CONFLICTED)) continue;
        if (k) nw_buf_byte(body, ',');
        size_t start = body->len;
        json_mutation(body, s, cl, &e, (flags & NW_PUSH_CONFLICTED) != 0);
        nw_buf_f64(index, e.seq);
        nw_buf_u32(index, e.table);
        nw_buf_byte(index, e.op);
        nw_buf_byte(index, e.flags);
        nw_buf_byte(index, 0);
        nw_buf_byte(index, 0);
        nw_buf_u32(index, (uint32_t)start);
        nw_buf_u32(index, (uint32_t)body->len);
        k++;
    }
    nw_buf_str(body, "]}");
    *count = k;
    return body->oom || index->oom ? nw_error_nomem(err) : NW_OK;
}
