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
 * message as u32 length + bytes. */
nw_code nw_sync_json_apply(nw_store *s, const uint8_t *json, size_t len, const uint8_t *mask, uint32_t nmask,
                           nw_pull_result *out, nw_buf *skips, nw_error *err);

#endif
