/* batch.h - a list of writes applied in one call, each in its own savepoint:
 * the sync server's push (server/authority.js) in one crossing.
 *
 * Each write is one of NW_BOP_* (wire.h):
 *   SAVE    update the record `id` with `data` when it exists, else create
 *           it from `data` (which then holds the id: ARG when it names
 *           another record)
 *   UPDATE  update the record `id` with `data`; NOT_FOUND when missing
 *   DELETE  delete the record `id` (with its onDelete effects); applied,
 *           with no effect, when missing
 *   NONE    nothing: applied unless a check below refuses it
 * Before the op, in this order:
 *   - NW_BWF_CONFLICT: the write is refused (status CONFLICT, nothing
 *     written) unless an earlier applied write of the same call touched
 *     the record (table, id): the caller decided the conflict on what it
 *     knew before the call; only writes of this call can have changed that.
 *   - `refs`: records that must exist, checked in order; the first missing
 *     one fails the write (VALIDATION, rule "ref", field = refs[i].field of
 *     the write's table).
 *   - NW_BWF_EXISTS: NOT_FOUND unless the record (table, id) exists.
 * After the op: when `scope_len` > 0, every row of a table with scoped[t]
 * != 0 that the write (with its cascades) changed must have an id starting
 * with `scope`; otherwise the write fails (CONFLICT, rule "restrict").
 *
 * A write that fails is rolled back alone (its events too) and reported
 * with its error; the writes after it still run, on the store as the
 * earlier ones left it. Writes from index `guard_from` on capture
 * beforeSave/beforeDelete events too and stay in a savepoint the caller's
 * host must approve (nw_batch_end).
 *
 * Ownership: the store's event buffer holds the events of the applied
 * writes, in order, from nw_batch_begin until the next write call; `done`
 * gets a borrowed slice of it per applied write. Nothing here allocates
 * except through the store, whose failures become the failing write's
 * LIMIT error; a sticky out-of-memory in the event buffer is reported by
 * nw_batch_events_oom so the caller can undo the whole call.
 */
#ifndef NW_BATCH_H
#define NW_BATCH_H
#include "store.h"
#include "wire.h"

typedef struct nw_batch_ref {
    uint32_t table, field;      /* target table; the write's field that refers */
    const char *id;
    uint32_t idlen;
} nw_batch_ref;

typedef struct nw_batch_write {
    uint32_t op, flags, table;  /* NW_BOP_*, NW_BWF_* */
    const char *id;             /* the record's id in the store */
    uint32_t idlen;
    const uint8_t *data;        /* SAVE/UPDATE: NVAL object or FIELDS map, nval_check'ed */
    const char *scope;          /* prefix of the ids it may change in scoped tables */
    uint32_t scope_len;         /* 0: no limit */
    const nw_batch_ref *refs;
    uint32_t nrefs;
} nw_batch_write;

/* Called once per write, in order: `st` its status; `err` the error when
 * FAILED; `events`/`len`/`count` the event records of an APPLIED write. */
typedef void (*nw_batch_fn)(void *ud, uint32_t i, nw_batch_status st, const nw_error *err,
                            const uint8_t *events, size_t len, uint32_t count);

typedef struct nw_batch {
    nw_store *s;
    size_t start;               /* undo mark before the first write */
    size_t guard;               /* mark where the guarded writes start */
    bool guarded;               /* a guard savepoint is open */
    const uint8_t *scoped;      /* scoped[t] != 0: ids of table t are scoped */
    uint32_t nscoped;
} nw_batch;

/* Opens the call: one transaction level around every write. */
void nw_batch_begin(nw_batch *b, nw_store *s, const uint8_t *scoped, uint32_t nscoped);
/* Applies w[0..n) (writes from guard_from on guarded), calling `done` for
 * each. Never fails as a whole: each write has its own status. */
void nw_batch_apply(nw_batch *b, const nw_batch_write *w, uint32_t n, uint32_t guard_from, nw_batch_fn done, void *ud);
/* True when the event buffer ran out of memory (some events are missing). */
bool nw_batch_events_oom(const nw_batch *b);
/* Ends the call. keep: the unguarded writes are committed (unless an outer
 * transaction is open) and a guard savepoint stays open, to be ended by
 * the host (nw_guard_end with *guard_mark); !keep: everything is undone.
 * *guard_mark is NW_BGUARD_NONE when no savepoint stays open. */
void nw_batch_end(nw_batch *b, bool keep, uint32_t *guard_mark);

#endif
