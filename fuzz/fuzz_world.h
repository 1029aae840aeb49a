/* fuzz_world.h - the store the query, record and sync fuzzers work on,
 * written in fuzz_text.h's notation: User, and Task with a field of every
 * type, indexes (single, compound, on a date), a unique key, search, and a
 * ref to User; fuzz_world_fill adds 48 varied tasks (nulls, ties, accents). */
#ifndef NW_FUZZ_WORLD_H
#define NW_FUZZ_WORLD_H
#include <stdio.h>
#include <stdlib.h>
#include "store.h"
#include "fuzz_text.h"

static const char fuzz_user_schema[] = "{name: User, fields: {name: {type: string, required: true}}}";
static const char fuzz_task_schema[] =
    "{name: Task, fields: {title: {type: string, maxLength: 40}, status: {type: enum, values: [open, done, later]},"
    " priority: {type: int, min: 1, max: 5, default: 3}, score: {type: float}, flag: {type: bool},"
    " due: {type: datetime}, tags: {type: list, of: string}, meta: {type: json},"
    " owner: {type: ref, entity: User, onDelete: nullify}, price: {type: decimal, precision: 8, scale: 2}},"
    " indexes: [status, [status, priority], priority, due, owner, price, [status, \"-priority\", id], [\"-due\", title]], unique: [title], search: [title, tags]}";

/* Defines or writes `text` (one value); aborts if a fixture write fails. */
static inline uint32_t fuzz_world_define(nw_store *s, const char *text) {
    nw_buf b; nw_buf_init(&b);
    size_t pos = 0;
    fuzz_text_value((const uint8_t *)text, strlen(text), &pos, &b);
    nw_error err;
    uint32_t idx = 0;
    if (nw_store_define(s, b.p, &idx, &err)) { fprintf(stderr, "fixture: %s\n", err.message); abort(); }
    nw_buf_free(&b);
    return idx;
}

static inline void fuzz_world_create(nw_store *s, uint32_t table, const char *text) {
    nw_buf b; nw_buf_init(&b);
    size_t pos = 0;
    fuzz_text_value((const uint8_t *)text, strlen(text), &pos, &b);
    nw_error err;
    uint32_t slot;
    size_t mark = nw_store_mark(s);
    if (nw_store_create(s, table, b.p, -1, false, &slot, &err)) { fprintf(stderr, "fixture %s: %s\n", text, err.message); abort(); }
    nw_store_release(s, mark);
    nw_buf_free(&b);
}

/* A store with User (table 0) and Task (table 1). */
static inline nw_store *fuzz_world_new(void) {
    nw_store *s = nw_store_new();
    if (!s) abort();
    nw_store_set_now(s, 1700000000000.0);
    fuzz_world_define(s, fuzz_user_schema);
    fuzz_world_define(s, fuzz_task_schema);
    return s;
}

static inline void fuzz_world_fill(nw_store *s) {
    static const char *const status[] = { "open", "done", "later", "null" };
    static const char *const prices[] = { "\"9.5\"", "\"10.25\"", "null", "\"-3\"", "\"0.07\"", "\"-0.5\"", "\"100\"", "\"9.50\"" };
    static const char *const words[] = { "alpha", "Beta", "gamma r\\xC3\\xA9sum\\xC3\\xA9", "delta", "epsilon x", "z" };
    char rec[512];
    for (int u = 0; u < 4; u++) {
        snprintf(rec, sizeof rec, "{id: u%d, name: \"user %d\"}", u, u);
        fuzz_world_create(s, 0, rec);
    }
    for (int i = 0; i < 48; i++) {
        int k = (i * 7) % 48;   /* ids not in insertion order */
        char owner[16];
        if (i % 5 == 4) snprintf(owner, sizeof owner, "null"); else snprintf(owner, sizeof owner, "u%d", i % 4);
        snprintf(rec, sizeof rec,
                 "{id: \"t%02d\", title: \"%s %d\", status: %s, priority: %s, score: %s, flag: %s,"
                 " due: %s, tags: [%s %s], meta: {n: %d, s: [%d]}, owner: %s, price: %s}",
                 k, words[i % 6], i, status[i % 4], i % 7 == 6 ? "null" : (char[]){ (char)('1' + i % 5), 0 },
                 i % 3 ? "1.5" : "-0.25", i % 2 ? "true" : "false",
                 i % 6 == 5 ? "null" : i % 2 ? "@1700000000000" : "\"2024-01-02T03:04:05Z\"",
                 words[(i + 1) % 6], i % 4 ? words[i % 3] : "", i % 3, i, owner, prices[i % 8]);
        fuzz_world_create(s, 1, rec);
    }
}

#endif
