/* sync_json.c - a pull response applied from its JSON text (sync_json.h). */
#include "sync_json.h"
#include "nval.h"
#include "alloc.h"
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
    bool has_entity, deleted, has_record;
    double version;
    const uint8_t *rec_start, *rec_end;   /* the record's JSON, when read before the entity */
} change;

nw_code nw_sync_json_apply(nw_store *s, const uint8_t *json, size_t len, const uint8_t *mask, uint32_t nmask,
                           nw_pull_result *out, nw_buf *skips, nw_error *err) {
    jp j = { json, json + len, { 0 }, false };
    nw_buf_init(&j.key);
    nw_buf id, rec;
    nw_buf_init(&id);
    nw_buf_init(&rec);
    nw_changelog *cl = nw_store_changelog(s);
    memset(out, 0, sizeof *out);
    nw_code rc = NW_OK;
    bool first = true, bad = false;
    uint32_t index = 0;
    if (!eat(&j, '{')) { rc = malformed(err, &j, json); goto done; }
    while (!rc && !bad && next_key(&j, &first, &bad)) {
        if (key_is(&j, "more")) {
            ws(&j);
            if (word(&j, "true", 4)) out->more = true;
            else if (word(&j, "false", 5)) out->more = false;
            else bad = true;
        } else if (key_is(&j, "checkpoint")) {
            ws(&j);
            const uint8_t *at = j.p;
            double v;
            if (j.p < j.e && *j.p == '"') {
                if (!string(&j, NULL)) { bad = true; break; }
                out->checkpoint = at + 1;
                out->checkpoint_len = (uint32_t)(j.p - at - 2);
                if (memchr(at + 1, '\\', out->checkpoint_len)) bad = true;
            } else if (number(&j, &v)) {
                out->checkpoint = at;
                out->checkpoint_len = (uint32_t)(j.p - at);
            } else bad = true;
        } else if (key_is(&j, "changes")) {
            if (!eat(&j, '[')) { bad = true; break; }
            if (eat(&j, ']')) continue;
            do {
                change c = { -1, false, false, false, 0, NULL, NULL };
                bool cfirst = true;
                nw_buf_reset(&id);
                bool has_id = false;
                if (!eat(&j, '{')) { bad = true; break; }
                while (next_key(&j, &cfirst, &bad)) {
                    if (key_is(&j, "entity")) {
                        nw_buf_reset(&j.key);
                        if (!string(&j, &j.key)) { bad = true; break; }
                        c.has_entity = true;
                        for (uint32_t t = 0; t < nw_store_ntables(s) && t < nmask; t++) {
                            const char *name = nw_table_def(nw_store_table(s, t))->name;
                            if (mask[t] && strlen(name) == j.key.len && memcmp(name, j.key.p, j.key.len) == 0) c.table = (int)t;
                        }
                    } else if (key_is(&j, "id")) {
                        if (!string(&j, &id)) { bad = true; break; }
                        has_id = true;
                    } else if (key_is(&j, "version")) {
                        if (!number(&j, &c.version)) { bad = true; break; }
                    } else if (key_is(&j, "deleted")) {
                        ws(&j);
                        if (word(&j, "true", 4)) c.deleted = true;
                        else if (!value(&j, NULL, 1)) { bad = true; break; }
                    } else if (key_is(&j, "record")) {
                        ws(&j);
                        if (j.p < j.e && *j.p == 'n') { if (!word(&j, "null", 4)) { bad = true; break; } continue; }
                        c.has_record = true;
                        if (c.has_entity && c.table >= 0) {
                            if (!record(&j, nw_store_table(s, (uint32_t)c.table), &rec)) { bad = true; break; }
                            c.rec_start = NULL;
                        } else {
                            c.rec_start = j.p;   /* entity not known yet: read it once it is */
                            if (!value(&j, NULL, 1)) { bad = true; break; }
                            c.rec_end = j.p;
                        }
                    } else if (!value(&j, NULL, 1)) { bad = true; break; }
                }
                if (bad) break;
                if (!has_id || !c.has_entity) { bad = true; break; }
                if (rec.oom || id.oom) { rc = nw_error_nomem(err); break; }
                if (c.table >= 0 && c.rec_start) {
                    jp r = { c.rec_start, c.rec_end, j.key, false };
                    bool ok = record(&r, nw_store_table(s, (uint32_t)c.table), &rec);
                    j.key = r.key;      /* the key buffer may have moved */
                    j.oom |= r.oom;
                    if (!ok) { bad = true; break; }
                }
                if (c.table >= 0 && (c.deleted || c.has_record)) {
                    /* one change at a time: a refused one is undone alone */
                    size_t mark = nw_store_mark(s);
                    nw_buf *ev = nw_store_events(s);
                    size_t evlen = ev->len;
                    uint32_t evn = nw_store_event_count(s);
                    nw_error e;
                    nw_error_clear(&e);
                    nw_code prc = rec.oom ? nw_error_nomem(&e)
                        : nw_store_put(s, (uint32_t)c.table, (const char *)id.p, id.len, c.deleted ? NULL : rec.p, &e);
                    if (!prc && (nw_changelog_table_flags(cl, (uint32_t)c.table) & NW_CLT_VERSIONS))
                        prc = nw_changelog_set_version(cl, (uint32_t)c.table, id.p, (uint32_t)id.len, c.deleted || !(c.version > 0) ? 0 : c.version, &e);
                    if (prc == NW_E_LIMIT && !strcmp(e.rule, "memory")) { nw_store_rollback(s, mark); nw_store_truncate_events(s, evlen, evn); rc = prc; *err = e; break; }
                    if (prc) {
                        nw_store_rollback(s, mark);
                        nw_store_truncate_events(s, evlen, evn);
                        nw_buf_u32(skips, index);
                        nw_buf_u32(skips, (uint32_t)prc);
                        put_str(skips, e.entity);
                        put_str(skips, e.field);
                        put_str(skips, e.rule);
                        put_str(skips, e.message);
                        out->skipped++;
                    } else {
                        out->applied++;
                    }
                }
                index++;
            } while (eat(&j, ','));
            if (!rc && !bad && !eat(&j, ']')) bad = true;
        } else if (!value(&j, NULL, 1)) {
            bad = true;
        }
    }
    ws(&j);
    if (!rc && (j.oom || j.key.oom || id.oom || rec.oom)) rc = nw_error_nomem(err);
    if (!rc && (bad || j.p != j.e || !out->checkpoint)) rc = malformed(err, &j, json);
    if (!rc && (j.key.oom || skips->oom)) rc = nw_error_nomem(err);
done:
    nw_buf_free(&j.key);
    nw_buf_free(&id);
    nw_buf_free(&rec);
    return rc;
}
