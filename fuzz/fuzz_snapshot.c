/* fuzz_snapshot.c - libFuzzer target for snapshot restore (snapshot.h) with
 * a valid checksum: the CRC is recomputed after each change, so inputs reach
 * the parser and the record checks instead of stopping at the checksum.
 * The first byte picks the mode:
 *   0  the rest is a whole snapshot without its CRC (appended here)
 *   1  a base snapshot with bytes changed: (u16 position, byte) triples
 *   2  a base snapshot with a range replaced: u16 position, u8 length, bytes
 * After a successful restore the store must pass nw_store_check and its own
 * snapshot must restore again (what restore accepts, it can hold).
 * Longer run:
 *   bash build.sh --fuzz && build/fuzz/fuzz_snapshot -max_total_time=600 -max_len=4096 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "nval.h"
#include "snapshot.h"

nw_instance *nw_instance_new(void);
static nw_instance *I;
int nw_entity_define(nw_instance *I, uint32_t len);
int nw_create(nw_instance *I, uint32_t table, uint32_t len, double ttl, uint32_t flags, uint32_t upsert);
int nw_snapshot(nw_instance *I);
int nw_restore(nw_instance *I, uint32_t len);
int nw_all(nw_instance *I, uint32_t table);
uint8_t *nw_input(nw_instance *I, uint32_t len);
uint8_t *nw_out_ptr(nw_instance *I);
uint32_t nw_out_len(nw_instance *I);

static int ready;
static uint8_t snap[1 << 14];
static uint32_t snap_len;
static uint8_t work[1 << 16];

static void put(const uint8_t *p, size_t n) { memcpy(nw_input(I, (uint32_t)n), p, n); }

static void define_and_fill(void) {
    uint8_t b[1024];
    size_t n = 0;
#define U32(v) do { uint32_t _v = (v); memcpy(b + n, &_v, 4); n += 4; } while (0)
#define F64(v) do { double _d = (v); b[n++] = NVAL_NUM; memcpy(b + n, &_d, 8); n += 8; } while (0)
#define STR(s) do { b[n++] = NVAL_STR; U32((uint32_t)strlen(s)); memcpy(b + n, s, strlen(s)); n += strlen(s); } while (0)
#define KEY(s) do { U32((uint32_t)strlen(s)); memcpy(b + n, s, strlen(s)); n += strlen(s); } while (0)
#define OBJ(c) do { b[n++] = NVAL_OBJ; U32(c); } while (0)
#define ARR(c) do { b[n++] = NVAL_ARR; U32(c); } while (0)
    /* Project { name string required }, unique name */
    OBJ(3);
    KEY("name"); STR("Project");
    KEY("fields"); OBJ(1);
      KEY("name"); OBJ(2); KEY("type"); STR("string"); KEY("required"); b[n++] = NVAL_TRUE;
    KEY("unique"); ARR(1); STR("name");
    put(b, n);
    nw_entity_define(I, (uint32_t)n);
    /* Task { title string 1..20, status enum, priority int 1..5, due datetime,
     * project ref Project, tags list of string, meta json }, index on status */
    n = 0;
    OBJ(3);
    KEY("name"); STR("Task");
    KEY("fields"); OBJ(7);
      KEY("title"); OBJ(3); KEY("type"); STR("string"); KEY("minLength"); F64(1); KEY("maxLength"); F64(20);
      KEY("status"); OBJ(2); KEY("type"); STR("enum"); KEY("values"); ARR(2); STR("open"); STR("done");
      KEY("priority"); OBJ(3); KEY("type"); STR("int"); KEY("min"); F64(1); KEY("max"); F64(5);
      KEY("due"); OBJ(1); KEY("type"); STR("datetime");
      KEY("project"); OBJ(2); KEY("type"); STR("ref"); KEY("entity"); STR("Project");
      KEY("tags"); OBJ(2); KEY("type"); STR("list"); KEY("of"); STR("string");
      KEY("meta"); OBJ(1); KEY("type"); STR("json");
    KEY("indexes"); ARR(1); STR("status");
    put(b, n);
    nw_entity_define(I, (uint32_t)n);
    for (int i = 0; i < 2; i++) {
        n = 0;
        OBJ(2); KEY("id"); b[n++] = NVAL_STR; U32(2); b[n++] = 'p'; b[n++] = (uint8_t)('0' + i);
        KEY("name"); b[n++] = NVAL_STR; U32(1); b[n++] = (uint8_t)('a' + i);
        put(b, n);
        nw_create(I, 0, (uint32_t)n, -1, 0, 0);
    }
    for (int i = 0; i < 3; i++) {
        n = 0;
        OBJ(6); KEY("title"); b[n++] = NVAL_STR; U32(1); b[n++] = (uint8_t)('a' + i);
        KEY("priority"); F64(1 + i);
        KEY("due"); F64(1.7e12 + i);
        KEY("project"); STR("p0");
        KEY("tags"); ARR(1); STR("x");
        KEY("meta"); OBJ(1); KEY("k"); F64(i);
        put(b, n);
        nw_create(I, 1, (uint32_t)n, i == 2 ? 60000 : -1, 0, 0);
    }
}

static void setup(void) {
    I = nw_instance_new();
    if (!I) abort();
    define_and_fill();
    nw_snapshot(I);
    snap_len = nw_out_len(I) < sizeof snap ? nw_out_len(I) : 0;
    memcpy(snap, nw_out_ptr(I), snap_len);
}

/* Restores work[0..len) with its CRC recomputed into the last 4 bytes. */
static void restore_with_crc(size_t len) {
    if (len < 4) return;
    uint32_t crc = nw_crc32(work, len - 4);
    memcpy(work + len - 4, &crc, 4);
    put(work, len);
    if (nw_restore(I, (uint32_t)len) != 0) return;
    nw_error e;
    nw_store *s = nw_api_store(I, &e);
    if (!s || nw_store_check(s) != 0) abort();
    nw_all(I, 0);
    nw_all(I, 1);
    nw_snapshot(I);
    uint32_t n = nw_out_len(I);
    if (n > sizeof work) return;
    memcpy(work, nw_out_ptr(I), n);
    put(work, n);
    if (nw_restore(I, n) != 0) abort();   /* a store restore accepted must round-trip */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ready) { setup(); ready = 1; }
    if (size < 1 || !snap_len) return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 3) {
    case 0:
        if (n + 4 > sizeof work) return 0;
        memcpy(work, p, n);
        restore_with_crc(n + 4);
        break;
    case 1:
        memcpy(work, snap, snap_len);
        for (size_t i = 0; i + 2 < n; i += 3) work[(p[i] | p[i + 1] << 8) % (snap_len - 4)] = p[i + 2];
        restore_with_crc(snap_len);
        break;
    case 2: {
        if (n < 3) return 0;
        size_t at = (p[0] | p[1] << 8) % (snap_len - 4), cut = p[2], add = n - 3;
        if (at + cut > snap_len - 4) cut = snap_len - 4 - at;
        size_t len = snap_len - cut + add;
        if (len > sizeof work) return 0;
        memcpy(work, snap, at);
        memcpy(work + at, p + 3, add);
        memcpy(work + at + add, snap + at + cut, snap_len - at - cut);
        restore_with_crc(len);
        break;
    }
    }
    /* back to the base state for the next input */
    put(snap, snap_len);
    nw_restore(I, snap_len);
    return 0;
}
