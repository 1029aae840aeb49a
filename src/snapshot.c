/* snapshot.c - writing and reading store snapshots (format in snapshot.h). */
#include "snapshot.h"
#include "changelog.h"
#include "record.h"
#include "alloc.h"
#include <string.h>

static const uint8_t magic[8] = { 'N', 'W', 'S', 'N', 'A', 'P', 0, 1 };

uint32_t nw_crc32(const uint8_t *p, size_t n) {
    static uint32_t table[256];
    if (!table[1]) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
    }
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

nw_code nw_snapshot_write(nw_store *s, nw_buf *o, nw_error *err) {
    size_t start = o->len;
    nw_buf_append(o, magic, 8);
    nw_buf_u32(o, NW_SNAP_VERSION);
    uint32_t nt = nw_store_ntables(s);
    nw_buf_u32(o, nt);
    for (uint32_t i = 0; i < nt; i++) {
        nw_table *t = nw_store_table(s, i);
        const char *name = nw_table_def(t)->name;
        nw_buf_u32(o, (uint32_t)strlen(name));
        nw_buf_str(o, name);
        uint32_t sl;
        const uint8_t *schema = nw_table_schema(t, &sl);
        nw_buf_u32(o, nw_hash_bytes(schema, sl));
        uint32_t *slots = NULL, n = 0;
        nw_code rc = nw_table_scan(s, t, &slots, &n, err);
        if (rc) return rc;
        nw_buf_u32(o, n);
        for (uint32_t k = 0; k < n; k++) {
            const uint8_t *row = nw_table_row(t, slots[k]);
            nw_buf_f64(o, nw_table_expires(t, slots[k]));
            nw_buf_u32(o, nw_row_len(row));
            nw_buf_append(o, row + 4, nw_row_len(row));
        }
        nw_free(slots);
    }
    nw_changelog_write(nw_store_changelog(s), o);
    if (!o->oom) nw_buf_u32(o, nw_crc32(o->p + start, o->len - start));
    return o->oom ? nw_error_nomem(err) : NW_OK;
}

/* ---- reading ------------------------------------------------------------------------ */

static nw_code truncated(nw_error *err, const char *entity) {
    return nw_error_set(err, NW_E_CORRUPT, entity, NULL, NULL, "snapshot is truncated");
}

/* A record that breaks a rule: CORRUPT, keeping entity, field and rule. */
static nw_code invalid(nw_error *err, const uint8_t *fields) {
    if (!err) return NW_E_CORRUPT;
    nw_error e = *err;
    char id[64];
    nw_describe_value(fields, id, sizeof id);
    return nw_error_set(err, NW_E_CORRUPT, e.entity, e.field[0] ? e.field : NULL, e.rule[0] ? e.rule : NULL,
                        "snapshot record %s of %s: %s%s%s", id, e.entity, e.field, e.field[0] ? " " : "", e.message);
}

nw_code nw_snapshot_check_record(const nw_entity_def *def, const uint8_t *fields, uint32_t len, nw_buf *scratch, nw_error *err) {
    size_t off = 0;
    for (uint32_t i = 0; i < def->nfields; i++) {
        nw_code rc = nw_field_check_stored(def, i, fields + off, scratch, err);
        if (rc == NW_E_VALIDATION) return invalid(err, fields);
        if (rc) return rc;
        off += nw_field_span(fields + off);
    }
    (void)len;
    return NW_OK;
}

static nw_table *table_named(nw_store *s, const char *name) {
    for (uint32_t i = 0; i < nw_store_ntables(s); i++)
        if (strcmp(nw_table_def(nw_store_table(s, i))->name, name) == 0) return nw_store_table(s, i);
    return NULL;
}

/* Every ref of every record names a record that exists. */
static nw_code check_refs(nw_store *s, nw_error *err) {
    for (uint32_t ti = 0; ti < nw_store_ntables(s); ti++) {
        nw_table *t = nw_store_table(s, ti);
        const nw_entity_def *def = nw_table_def(t);
        for (uint32_t fi = 1; fi < def->nfields; fi++) {
            const nw_field *f = &def->fields[fi];
            if (f->type != NW_T_REF) continue;
            nw_table *target = table_named(s, f->ref_name);
            for (uint32_t slot = 0; slot < nw_table_nslots(t); slot++) {
                const uint8_t *row = nw_table_row(t, slot);
                if (!row) continue;
                const uint8_t *v = nw_row_field(row, fi);
                if (v[0] != NVAL_STR) continue;
                if (target && nw_table_find(target, (const char *)v + 5, nw_rd_u32(v + 1)) != NW_NO_SLOT) continue;
                char got[64];
                nw_describe_value(v, got, sizeof got);
                nw_error_set(err, NW_E_VALIDATION, def->name, f->name, "ref", "refers to no %s with id %s", f->ref_name, got);
                return invalid(err, row + 4);
            }
        }
    }
    return NW_OK;
}

typedef struct check_ctx { nw_store *s; nw_buf scratch; } check_ctx;

/* Outbox entry fields: well-formed and within the entity's rules. */
static bool check_entry_fields(void *ud, uint32_t table, uint64_t mask, const uint8_t *fields, uint32_t flen) {
    check_ctx *cx = ud;
    nw_table *t = nw_store_table(cx->s, table);
    if (!t || !nw_table_check_fields(t, mask, fields, flen)) return false;
    const nw_entity_def *def = nw_table_def(t);
    size_t off = 0;
    nw_error e;
    for (uint32_t i = 0; i < def->nfields; i++) {
        if (!(mask >> i & 1)) continue;
        if (nw_field_check_stored(def, i, fields + off, &cx->scratch, &e)) return false;
        off += nw_field_span(fields + off);
    }
    return true;
}

/* The sync state (changelog.h) of the new store: see snapshot.h. */
static nw_code read_sync(nw_store *like, nw_store *fresh, const uint8_t *p, size_t len, uint32_t version, size_t *used, nw_error *err) {
    nw_changelog *cur = nw_store_changelog(like), *cl = nw_store_changelog(fresh);
    nw_code rc = nw_changelog_copy_config(cl, cur, err);
    *used = 0;
    if (rc) return rc;
    uint32_t ml, nl;
    const uint8_t *mine = nw_changelog_client(cur, &ml);
    if (version < 2) {
        rc = nw_changelog_set_client(cl, mine, ml, err);
        if (!rc) nw_changelog_raise_seq(cl, nw_changelog_next_seq(cur));
        return rc;
    }
    check_ctx cx = { fresh, { 0 } };
    nw_buf_init(&cx.scratch);
    rc = nw_changelog_read(cl, p, len, nw_store_ntables(fresh), check_entry_fields, &cx, used, err);
    nw_buf_free(&cx.scratch);
    if (rc) return rc;
    const uint8_t *theirs = nw_changelog_client(cl, &nl);
    if (nl == ml && (ml == 0 || memcmp(mine, theirs, ml) == 0)) nw_changelog_raise_seq(cl, nw_changelog_next_seq(cur));
    return NW_OK;
}

static nw_code read_tables(nw_store *like, nw_store *fresh, const uint8_t *p, size_t end, size_t *pos, nw_buf *scratch, nw_error *err) {
    size_t at = *pos;
    nw_code rc = NW_OK;
    uint32_t nt = nw_store_ntables(like);
    for (uint32_t i = 0; i < nt && !rc; i++) {
        nw_table *t = nw_store_table(like, i);
        const nw_entity_def *def = nw_table_def(t);
        const char *name = def->name;
        if (end - at < 4) return truncated(err, NULL);
        uint32_t nl = nw_rd_u32(p + at);
        at += 4;
        if (nl > end - at || end - at - nl < 8) return truncated(err, NULL);
        if (nl != strlen(name) || memcmp(p + at, name, nl) != 0)
            return nw_error_set(err, NW_E_SCHEMA, name, NULL, "schema", "snapshot entity %u is \"%.*s\", expected %s", i, (int)(nl > 40 ? 40 : nl), (const char *)p + at, name);
        at += nl;
        uint32_t sl;
        const uint8_t *schema = nw_table_schema(t, &sl);
        if (nw_rd_u32(p + at) != nw_hash_bytes(schema, sl))
            return nw_error_set(err, NW_E_SCHEMA, name, NULL, "schema", "snapshot was made with a different definition of %s", name);
        uint32_t n = nw_rd_u32(p + at + 4);
        at += 8;
        for (uint32_t k = 0; k < n && !rc; k++) {
            if (end - at < 12) return truncated(err, name);
            double exp = nw_rd_f64(p + at);
            uint32_t rl = nw_rd_u32(p + at + 8);
            at += 12;
            if (rl > end - at) return truncated(err, name);
            if (!(exp >= 0 && exp <= 8.64e15)) return nw_error_set(err, NW_E_CORRUPT, name, NULL, "ttl", "snapshot record of %s has an invalid expiry", name);
            rc = nw_store_insert_raw(fresh, i, p + at, rl, exp, err);   /* layout, ids, unique keys */
            if (rc == NW_E_CORRUPT && err->rule[0]) rc = invalid(err, p + at);
            if (!rc) rc = nw_snapshot_check_record(def, p + at, rl, scratch, err);
            at += rl;
        }
    }
    *pos = at;
    return rc;
}

nw_code nw_snapshot_read(nw_store *like, const uint8_t *p, size_t len, nw_store **out, nw_error *err) {
    *out = NULL;
    if (len < 20 || memcmp(p, magic, 8) != 0) return nw_error_set(err, NW_E_CORRUPT, NULL, NULL, NULL, "not a nitro snapshot");
    uint32_t version = nw_rd_u32(p + 8);
    if (version < 1 || version > NW_SNAP_VERSION)
        return nw_error_set(err, NW_E_CORRUPT, NULL, NULL, NULL, "unsupported snapshot version %u", version);
    if (nw_crc32(p, len - 4) != nw_rd_u32(p + len - 4))
        return nw_error_set(err, NW_E_CORRUPT, NULL, NULL, NULL, "snapshot checksum mismatch (damaged or truncated)");
    size_t end = len - 4, at = 16;
    uint32_t nt = nw_rd_u32(p + 12);
    if (nt != nw_store_ntables(like))
        return nw_error_set(err, NW_E_SCHEMA, NULL, NULL, "schema", "snapshot has %u entities, this instance %u", nt, nw_store_ntables(like));
    nw_store *fresh = nw_store_new();
    if (!fresh) return nw_error_nomem(err);
    nw_code rc = NW_OK;
    for (uint32_t i = 0; i < nt && !rc; i++) {
        uint32_t sl, idx;
        const uint8_t *schema = nw_table_schema(nw_store_table(like, i), &sl);
        rc = nw_store_define(fresh, schema, &idx, err);
    }
    nw_buf scratch;
    nw_buf_init(&scratch);
    if (!rc) rc = read_tables(like, fresh, p, end, &at, &scratch, err);
    nw_buf_free(&scratch);
    if (!rc) {
        size_t used = 0;
        rc = read_sync(like, fresh, p + at, end - at, version, &used, err);
        at += used;
    }
    /* State pulled from a sync server is not ref-checked locally (the
     * server checks; a referenced record may come in a later page or
     * belong to another user): a store that has pulled may hold such refs. */
    uint32_t cursor_len = 0;
    if (!rc) nw_changelog_cursor(nw_store_changelog(fresh), &cursor_len);
    if (!rc && cursor_len == 0) rc = check_refs(fresh, err);
    if (!rc && at != end) rc = nw_error_set(err, NW_E_CORRUPT, NULL, NULL, NULL, "snapshot has %zu unexpected trailing bytes", end - at);
    if (rc) {
        nw_store_free(fresh);
        return rc;
    }
    nw_store_release(fresh, 0);
    *out = fresh;
    return NW_OK;
}
