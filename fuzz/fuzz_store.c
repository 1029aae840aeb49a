/* fuzz_store.c - libFuzzer target for everything that decodes bytes from
 * outside: NVAL input (records, queries, schemas) and snapshots.
 * The first byte picks the entry point; the rest is its input (mode 8:
 * a pull response's JSON text for the sync fast path). */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "nval.h"

nw_instance *nw_instance_new(void);
static nw_instance *I;
int nw_entity_define(nw_instance *I, uint32_t len);
int nw_create(nw_instance *I, uint32_t table, uint32_t len, double ttl, uint32_t flags, uint32_t upsert);
int nw_insert_many(nw_instance *I, uint32_t table, uint32_t len, double ttl, uint32_t flags, uint32_t upsert);
int nw_update(nw_instance *I, uint32_t table, uint32_t len, double ttl, uint32_t flags);
int nw_query_exec(nw_instance *I, uint32_t table, uint32_t len, uint32_t op, uint32_t flags);
int nw_query_prepare(nw_instance *I, uint32_t len);
int nw_snapshot(nw_instance *I);
int nw_restore(nw_instance *I, uint32_t len);
int nw_all(nw_instance *I, uint32_t table);
int nw_search(nw_instance *I, uint32_t table, uint32_t len);
int nw_sync_apply_json(nw_instance *I, uint32_t len, uint32_t flags);
uint8_t *nw_input(nw_instance *I, uint32_t len);
uint8_t *nw_out_ptr(nw_instance *I);
uint32_t nw_out_len(nw_instance *I);

static int ready;
static uint8_t snap[1 << 16];
static uint32_t snap_len;

static void put(const uint8_t *p, size_t n) { memcpy(nw_input(I, (uint32_t)n), p, n); }

/* Task { title string, status enum, priority int 1..5, tags list, meta json },
 * unique title, indexes on status and (status, priority), search on title */
static const char schema_json[] = "";
static void setup(void) {
    I = nw_instance_new();
    if (!I) abort();
    uint8_t b[512];
    size_t n = 0;
#define U32(v) do { uint32_t _v = (v); memcpy(b + n, &_v, 4); n += 4; } while (0)
#define STR(s) do { b[n++] = NVAL_STR; U32((uint32_t)strlen(s)); memcpy(b + n, s, strlen(s)); n += strlen(s); } while (0)
#define KEY(s) do { U32((uint32_t)strlen(s)); memcpy(b + n, s, strlen(s)); n += strlen(s); } while (0)
#define OBJ(c) do { b[n++] = NVAL_OBJ; U32(c); } while (0)
#define ARR(c) do { b[n++] = NVAL_ARR; U32(c); } while (0)
    OBJ(5);
    KEY("name"); STR("Task");
    KEY("fields"); OBJ(5);
      KEY("title"); OBJ(1); KEY("type"); STR("string");
      KEY("status"); OBJ(2); KEY("type"); STR("enum"); KEY("values"); ARR(2); STR("open"); STR("done");
      KEY("priority"); OBJ(1); KEY("type"); STR("int");
      KEY("tags"); OBJ(2); KEY("type"); STR("list"); KEY("of"); STR("string");
      KEY("meta"); OBJ(1); KEY("type"); STR("json");
    KEY("unique"); ARR(1); STR("title");
    KEY("indexes"); ARR(2); STR("status"); ARR(2); STR("status"); STR("priority");
    KEY("search"); ARR(1); STR("title");
    (void)schema_json;
    put(b, n);
    nw_entity_define(I, (uint32_t)n);
    /* a few records, then a snapshot to mutate from */
    for (int i = 0; i < 3; i++) {
        n = 0;
        OBJ(2); KEY("title"); b[n++] = NVAL_STR; U32(1); b[n++] = (uint8_t)('a' + i);
        KEY("tags"); ARR(1); STR("x");
        put(b, n);
        nw_create(I, 0, (uint32_t)n, -1, 1, 0);
    }
    nw_snapshot(I);
    snap_len = nw_out_len(I) < sizeof snap ? nw_out_len(I) : 0;
    memcpy(snap, nw_out_ptr(I), snap_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ready) { setup(); ready = 1; }
    if (size < 1) return 0;
    uint8_t mode = data[0] % 9;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (mode) {
    case 0: put(p, n); nw_create(I, 0, (uint32_t)n, -1, 3, n ? p[0] & 1 : 0); break;
    case 1: put(p, n); nw_insert_many(I, 0, (uint32_t)n, -1, 1, 0); break;
    case 2: put(p, n); nw_update(I, 0, (uint32_t)n, -1, 1); break;
    case 3: put(p, n); nw_query_exec(I, 0, (uint32_t)n, n ? p[0] % 6 : 0, 1); break;
    case 4: put(p, n); nw_entity_define(I, (uint32_t)n); break;
    case 5: put(p, n); nw_restore(I, (uint32_t)n); break;
    case 6: {
        /* a snapshot with a few bytes changed */
        uint8_t copy[sizeof snap];
        memcpy(copy, snap, snap_len);
        for (size_t i = 0; i + 2 < n; i += 3) copy[(p[i] | p[i + 1] << 8) % (snap_len ? snap_len : 1)] = p[i + 2];
        put(copy, snap_len);
        nw_restore(I, snap_len);
        break;
    }
    case 7: put(p, n); nw_search(I, 0, (uint32_t)n); break;
    case 8: {
        /* a pull response as JSON text, applied to table 0 (the sync fast path) */
        uint8_t *in = nw_input(I, (uint32_t)n + 5);
        uint32_t one = 1;
        memcpy(in, &one, 4);
        in[4] = 1;
        memcpy(in + 5, p, n);
        nw_sync_apply_json(I, (uint32_t)n + 5, 1);
        break;
    }
    }
    nw_all(I, 0);
    return 0;
}
