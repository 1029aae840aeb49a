/* sync_json.h - applies a pull response (docs/sync.md) to the store straight
 * from its JSON text, without building JavaScript objects first: the fast
 * path of a client's initial sync.
 *
 *   { "changes": [ { "entity": "Task", "id": "...", "version": 12,
 *                    "record": { ... } | "deleted": true }, ... ],
 *     "checkpoint": "12", "more": false }
 *
 * Other keys are ignored, at any level; so are record keys that are not
 * fields of the entity (a server ahead of this client) and changes of
 * entities whose mask byte is 0 or that this store does not define. Each
 * change is written with nw_store_put (no references, not logged); one the
 * store refuses is undone alone and listed in `skips`, the others stay.
 * Versions are recorded for tables with NW_CLT_VERSIONS.
 *
 * Strict JSON (RFC 8259): nesting deeper than NVAL_MAX_DEPTH, bad escapes,
 * trailing bytes and malformed numbers make the whole call fail with
 * NW_E_ARG before anything that follows is applied; the caller undoes what
 * was applied (mark/rollback) to keep the call all-or-nothing.
 */
#ifndef NW_SYNC_JSON_H
#define NW_SYNC_JSON_H
#include "store.h"

typedef struct nw_pull_result {
    uint32_t applied;       /* changes written */
    uint32_t skipped;       /* changes refused (listed in skips) */
    bool more;
    const uint8_t *checkpoint;  /* borrowed from the input (string contents, no escapes) or the number text */
    uint32_t checkpoint_len;
} nw_pull_result;

/* `mask[t]` (t < nmask) = 1 to apply changes of table t. Skipped changes
 * are appended to `skips` as: u32 index, u32 code, then entity, field, rule,
 * message and the record id as u32 length + bytes.
 *
 * Local changes still pending: a change of a record with live outbox
 * entries (conflicted ones included) is applied with those entries
 * re-applied on top, in seq order (the server's state under the local
 * edits; none of it is logged): a create sets its fields over the state (or
 * over nothing when the server deleted the record), an update sets its
 * fields, a delete deletes; an update of a record the server deleted
 * leaves the change out (not applied, not counted, version untouched: the
 * server decides when the update arrives). A record left deleted has its
 * version forgotten. */
nw_code nw_sync_json_apply(nw_store *s, const uint8_t *json, size_t len, const uint8_t *mask, uint32_t nmask,
                           nw_pull_result *out, nw_buf *skips, nw_error *err);

/* The push body (docs/sync.md) of up to `max` live entries of the tables
 * t < nwant with want[t] != 0, in seq order, appended to `body`:
 *   {"client":..., "done": lowest unconflicted seq - 1, "mutations":
 *    [{"seq", "entity", "id", "op", "fields" (not for deletes; stored
 *      values as JSON: enums by name, datetimes as ISO text), "base" (only
 *      tables with NW_CLT_VERSIONS)}, ...]}
 * byte for byte what JSON.stringify wrote for the same mutations. Entries
 * marked conflicted are left out unless flags has NW_PUSH_CONFLICTED (then
 * they carry "conflicted": true). `index` receives, per mutation, 24 bytes:
 * f64 seq, u32 table, u8 op, u8 flags, u16 0, u32 start and u32 end of the
 * mutation's object in `body`. *count = mutations written; LIMIT on OOM. */
#define NW_PUSH_CONFLICTED 1u
nw_code nw_sync_json_push(const nw_store *s, const uint8_t *want, uint32_t nwant, uint32_t max, uint32_t flags,
                          nw_buf *body, nw_buf *index, uint32_t *count, nw_error *err);

#endif
