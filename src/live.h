/* live.h - live queries: query results kept current from committed write
 * batches, and the write epochs live views use to skip clean records.
 *
 * A subscription holds the ordered result slots of one query. At every
 * commit (store.h's commit hook calls nw_live_on_commit) each subscription
 * on a table the batch wrote is brought up to date without re-running its
 * query: a written record that no longer matches leaves, one that matches
 * is placed by binary search on the query's order, and a limited result
 * drops what falls past its limit. Two cases re-run the query instead, and
 * say so in nw_live_stats: a query with an offset, and a member leaving a
 * full limited result (the next match must be found in the table).
 *
 * Epochs: every commit gets the next epoch number; each written slot
 * remembers the epoch that last wrote it (nw_live_slot_epoch). When memory
 * for that bookkeeping runs out the module says "everything changed"
 * (nw_live_lost) and views render in full; nothing is ever missed.
 *
 * Reports: a subscription made with `report` appends, per commit that
 * changed its result, one record to nw_live_reports():
 *   u32 subscription id, u32 added, u32 removed, u32 moved, u32 updated,
 *   then that many ids of each kind (u32 length + UTF-8), in that order.
 * Added and moved ids are in result order; moved are the fewest members
 * whose relative order changed (outside a longest increasing subsequence).
 *
 * Ownership: nw_live owns its subscriptions; nw_sub pointers stay valid
 * until nw_live_unsubscribe. Result slots are borrowed until the next
 * write. Errors are NW_E_LIMIT (out of memory) and the query's own.
 */
#ifndef NW_LIVE_H
#define NW_LIVE_H
#include "store.h"
#include "query.h"

typedef struct nw_live nw_live;
typedef struct nw_sub nw_sub;

nw_live *nw_live_new(void);           /* NULL on OOM */
void nw_live_free(nw_live *L);

/* Installs the commit hook on `s` (call again after the store is replaced,
 * then nw_live_reset). */
void nw_live_attach(nw_live *L, nw_store *s);
/* The commit hook body: brings every subscription up to date. */
void nw_live_on_commit(nw_live *L, nw_store *s);
/* Re-parses and re-runs every subscription against store `s` (after a
 * restore replaced the store). On failure a subscription keeps an empty
 * result and the first error is returned. */
nw_code nw_live_reset(nw_live *L, nw_store *s, nw_error *err);

/* `spec` is the NVAL query of query.h. */
nw_code nw_live_subscribe(nw_live *L, nw_store *s, uint32_t table, const uint8_t *spec, bool report,
                          nw_sub **out, nw_error *err);
void nw_live_unsubscribe(nw_live *L, nw_sub *sub);
nw_sub *nw_live_find(const nw_live *L, uint32_t id);

uint32_t nw_sub_id(const nw_sub *sub);
uint32_t nw_sub_table(const nw_sub *sub);
const uint32_t *nw_sub_slots(const nw_sub *sub, uint32_t *n);
/* True when the slot is in the result. */
bool nw_sub_has_slot(const nw_sub *sub, uint32_t slot);
/* Bumped whenever the result changed (membership, order, or a member written). */
uint32_t nw_sub_version(const nw_sub *sub);

uint32_t nw_live_epoch(const nw_live *L);
/* Epoch of the last commit that wrote (table, slot); 0 = none seen. */
uint32_t nw_live_slot_epoch(const nw_live *L, uint32_t table, uint32_t slot);
/* Epoch of the last commit that wrote any record of the table. */
uint32_t nw_live_table_epoch(const nw_live *L, uint32_t table);
/* Epoch since which slot epochs cannot be trusted (0 = always trusted). */
uint32_t nw_live_lost(const nw_live *L);

nw_buf *nw_live_reports(nw_live *L);
uint32_t nw_live_report_count(const nw_live *L);
void nw_live_clear_reports(nw_live *L);

/* Counters for tests and the bench: incremental updates and re-runs. */
typedef struct nw_live_stats { uint32_t incremental, reruns, subs; } nw_live_stats;
nw_live_stats nw_live_get_stats(const nw_live *L);

#endif
