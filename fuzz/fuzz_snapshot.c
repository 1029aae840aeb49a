/* fuzz_snapshot.c - libFuzzer target for snapshot restore (snapshot.h) with
 * a valid checksum: the CRC is recomputed after each change, so inputs reach
 * the parser and the record checks instead of stopping at the checksum.
 * The first byte picks the mode:
 *   0  the rest is a whole snapshot without its CRC (appended here)
 *   1  a base snapshot with bytes changed: (u16 position, byte) triples
 *   2  a base snapshot with a range replaced: u16 position, u8 length, bytes
 * The target calls snapshot.h directly (no export in between): after a
 * successful nw_snapshot_read the new store must pass nw_store_check and its
 * own snapshot must read again (what restore accepts, it can hold).
 * Longer run:
 *   bash build.sh --fuzz && build/fuzz/fuzz_snapshot -max_total_time=600 -max_len=4096 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "store.h"
#include "alloc.h"
#include "nval.h"
#include "snapshot.h"

static nw_store *base;

static int ready;
static uint8_t snap[1 << 14];
static uint32_t snap_len;
static uint8_t work[1 << 16];

static void define(const uint8_t *schema) {
    nw_error e;
    uint32_t index;
    if (nw_store_define(base, schema, &index, &e) != NW_OK) abort();
}

static void create(uint32_t table, const uint8_t *rec, double ttl) {
    nw_error e;
    uint32_t slot;
    if (nw_store_create(base, table, rec, ttl, false, &slot, &e) != NW_OK) abort();
    nw_store_release(base, 0);
}

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
    define(b);
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
    define(b);
    for (int i = 0; i < 2; i++) {
        n = 0;
        OBJ(2); KEY("id"); b[n++] = NVAL_STR; U32(2); b[n++] = 'p'; b[n++] = (uint8_t)('0' + i);
        KEY("name"); b[n++] = NVAL_STR; U32(1); b[n++] = (uint8_t)('a' + i);
        create(0, b, -1);
    }
    for (int i = 0; i < 3; i++) {
        n = 0;
        OBJ(6); KEY("title"); b[n++] = NVAL_STR; U32(1); b[n++] = (uint8_t)('a' + i);
        KEY("priority"); F64(1 + i);
        KEY("due"); F64(1.7e12 + i);
        KEY("project"); STR("p0");
        KEY("tags"); ARR(1); STR("x");
        KEY("meta"); OBJ(1); KEY("k"); F64(i);
        create(1, b, i == 2 ? 60000 : -1);
    }
}

static void setup(void) {
    base = nw_store_new();
    if (!base) abort();
    define_and_fill();
    nw_buf out;
    nw_buf_init(&out);
    nw_error e;
    if (nw_snapshot_write(base, &out, &e) != NW_OK || out.oom) abort();
    snap_len = out.len < sizeof snap ? (uint32_t)out.len : 0;
    memcpy(snap, out.p, snap_len);
    nw_buf_free(&out);
}

/* Reads work[0..len) with its CRC recomputed into the last 4 bytes. */
static void restore_with_crc(size_t len) {
    if (len < 4) return;
    uint32_t crc = nw_crc32(work, len - 4);
    memcpy(work + len - 4, &crc, 4);
    nw_error e;
    nw_store *s = NULL;
    if (nw_snapshot_read(base, work, len, &s, &e) != NW_OK) return;
    if (!s || nw_store_check(s) != 0) abort();
    for (uint32_t t = 0; t < nw_store_ntables(s); t++) {
        uint32_t *slots = NULL, n = 0;
        if (nw_table_scan(s, nw_store_table(s, t), &slots, &n, &e) != NW_OK) abort();
        for (uint32_t i = 0; i < n; i++) if (!nw_table_row(nw_store_table(s, t), slots[i])) abort();
        nw_free(slots);
    }
    nw_buf out;
    nw_buf_init(&out);
    if (nw_snapshot_write(s, &out, &e) != NW_OK || out.oom) abort();
    nw_store *again = NULL;
    if (nw_snapshot_read(base, out.p, out.len, &again, &e) != NW_OK) abort();   /* must round-trip */
    nw_store_free(again);
    nw_buf_free(&out);
    nw_store_free(s);
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
    return 0;
}
