/* fuzz_schema.c - libFuzzer target for entity definitions (schema.c): field
 * types and rules, defaults, enums, refs, indexes, unique keys, search and
 * ttl, then writes and queries against whatever was accepted.
 *
 * Input: lines in fuzz_text.h's notation; the first is a definition given
 * to a store that already has User (so refs can resolve), each further
 * line a record created in the new entity (or, when it starts with '?', a
 * query spec run on it). A definition is accepted or refused with SCHEMA
 * (or LIMIT) naming a rule; whatever it accepted must keep the store's
 * invariants through the writes.
 *
 *   bash build.sh --fuzz && build/fuzz/fuzz_schema -max_total_time=60 fuzz/corpus/fuzz_schema build/fuzz-corpus/fuzz_schema
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "query.h"
#include "alloc.h"
#include "fuzz_world.h"

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size) {
    nw_store *s = nw_store_new();
    if (!s) abort();
    nw_store_set_now(s, 1700000000000.0);
    fuzz_world_define(s, fuzz_user_schema);
    fuzz_world_create(s, 0, "{id: u1, name: Ann}");
    nw_buf v;
    nw_buf_init(&v);
    const uint8_t *nl = memchr(in, '\n', size);
    size_t end = nl ? (size_t)(nl - in) : size, pos = 0;
    fuzz_text_value(in, end, &pos, &v);
    nw_error err;
    nw_error_clear(&err);
    uint32_t table = 0;
    nw_code rc = v.oom || nval_check(v.p, v.len) != v.len ? NW_E_ARG : nw_store_define(s, v.p, &table, &err);
    if (rc == NW_OK) {
        if (table != 1 || nw_store_ntables(s) != 2) abort();
        for (pos = end + 1; pos < size;) {
            nl = memchr(in + pos, '\n', size - pos);
            end = nl ? (size_t)(nl - in) : size;
            int query = in[pos] == '?';
            size_t p = pos + query;
            nw_buf_reset(&v);
            fuzz_text_value(in, end, &p, &v);
            pos = end + 1;
            if (v.oom) continue;
            size_t mark = nw_store_mark(s);
            nw_error_clear(&err);
            if (query) {
                nw_query *q = NULL;
                uint32_t *slots = NULL, n = 0;
                rc = nw_query_parse(s, table, v.p, &q, &err);
                if (!rc) rc = nw_query_run(s, q, false, &slots, &n, &err);
                if (rc && rc != NW_E_QUERY && rc != NW_E_LIMIT) abort();
                nw_free(slots);
                nw_query_free(q);
                continue;
            }
            uint32_t slot;
            rc = nw_store_create(s, table, v.p, -1, false, &slot, &err);
            if (rc) {
                if (rc != NW_E_VALIDATION && rc != NW_E_DUPLICATE && rc != NW_E_NOT_FOUND && rc != NW_E_ARG && rc != NW_E_LIMIT && rc != NW_E_SCHEMA) abort();   /* SCHEMA: a ref to an entity never defined */
                nw_store_rollback(s, mark);
            } else {
                nw_store_release(s, mark);
            }
            if (nw_store_check(s) != 0) abort();
        }
        /* the referenced user goes; restrict, cascade or nullify must hold */
        bool existed;
        size_t mark = nw_store_mark(s);
        rc = nw_store_delete(s, 0, "u1", 2, &existed, &err);
        if (rc) nw_store_rollback(s, mark); else nw_store_release(s, mark);
        if (nw_store_check(s) != 0) abort();
    } else if (rc != NW_E_ARG) {
        if (rc != NW_E_SCHEMA && rc != NW_E_LIMIT) abort();
        if (!err.rule[0] || !err.message[0]) abort();
    }
    nw_buf_free(&v);
    nw_store_free(s);
    return 0;
}
