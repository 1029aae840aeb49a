/* store.h - the memory repository: typed records of every entity, their
 * primary keys, TTLs, the undo log that makes each call (and each
 * transaction) all-or-nothing, and the event records writes produce.
 *
 * Records are identified inside a table by a slot number. A table owns its
 * rows (row layout in record.h); views and pointers handed out are borrowed
 * and valid until the next write.
 *
 * Every write goes through nw_store_write_* and is undone as a unit on
 * failure: the caller marks the undo log (nw_store_mark), performs writes
 * and then either nw_store_release(mark) (keep; commits when no transaction
 * is open) or nw_store_rollback(mark). Rollback never allocates.
 */
#ifndef NW_STORE_H
#define NW_STORE_H
#include "schema.h"
#include "record.h"
#include "buf.h"
#include "error.h"
#include "oindex.h"
#include "fts.h"

#define NW_NO_SLOT 0xFFFFFFFFu

/* Event types written to the event buffer: nw_event_type, NW_EV_* (wire.h). */

typedef struct nw_table nw_table;
typedef struct nw_store nw_store;

nw_store *nw_store_new(void);             /* NULL on OOM */
void nw_store_free(nw_store *s);

/* Defines an entity from an NVAL schema (schema.h). Returns the table index
 * in *index. SCHEMA if the name exists already. */
nw_code nw_store_define(nw_store *s, const uint8_t *schema, uint32_t *index, nw_error *err);
uint32_t nw_store_ntables(const nw_store *s);
nw_table *nw_store_table(const nw_store *s, uint32_t index);   /* NULL if out of range */
const nw_entity_def *nw_table_def(const nw_table *t);
uint32_t nw_table_number(const nw_table *t);   /* its index in the store */
uint32_t nw_table_live(const nw_table *t);
/* Number of slots (upper bound for slot numbers). */
uint32_t nw_table_nslots(const nw_table *t);
/* True once any record of the table has had an expiry. */
bool nw_table_has_ttl(const nw_table *t);
/* Visible (not expired) records. */
uint32_t nw_table_count_visible(const nw_store *s, const nw_table *t);                   /* stored records (incl. expired not yet reclaimed) */

/* The clock used for TTLs and generated ids, set by the host before calls. */
void nw_store_set_now(nw_store *s, double now_ms);
/* Seeds the random part of generated ids (distinct per client). */
void nw_store_set_client(nw_store *s, const char *tag, size_t len);

/* Event capture: while on, writes append event records to the buffer
 * returned by nw_store_events (layout documented in store.c). */
void nw_store_capture_events(nw_store *s, bool on, bool before);
nw_buf *nw_store_events(nw_store *s);
uint32_t nw_store_event_count(const nw_store *s);
void nw_store_clear_events(nw_store *s);
/* Drops the events recorded after the buffer had `len` bytes and `count`
 * events (a write undone on its own). */
void nw_store_truncate_events(nw_store *s, size_t len, uint32_t count);

/* Undo log: see the file comment. Transactions nest by marks. */
size_t nw_store_mark(nw_store *s);
void nw_store_rollback(nw_store *s, size_t mark);
void nw_store_release(nw_store *s, size_t mark);
void nw_store_tx_begin(nw_store *s);
void nw_store_tx_end(nw_store *s);         /* outermost end commits */
bool nw_store_in_tx(const nw_store *s);

/* Lookups. Expired records are invisible. */
uint32_t nw_table_find(const nw_table *t, const char *id, size_t len);   /* slot or NW_NO_SLOT */
const uint8_t *nw_table_row(const nw_table *t, uint32_t slot);           /* NULL if free */
bool nw_table_visible(const nw_store *s, const nw_table *t, uint32_t slot);
/* Reads a byte or two of the rows of slots[0..n) and throws them away, so
 * that a loop over the same rows right after finds them in cache. The
 * loads do not depend on each other, so the CPU keeps many cache misses in
 * flight at once, where a loop that branches on a row's bytes (a match, a
 * copy of its length) waits for one row at a time. Worth it for slots
 * scattered in memory (a substring's candidates, an index range); n should
 * stay small enough for the rows to fit a first-level cache (NW_WARM_ROWS).
 * Free slots are skipped. */
#define NW_WARM_ROWS 64
void nw_table_warm(const nw_table *t, const uint32_t *slots, uint32_t n);
/* For a loop over slots[0..n) at index i: warms the next NW_WARM_ROWS rows
 * at every NW_WARM_ROWS-th index, so the loop finds each row warmed. */
static inline void nw_table_warm_ahead(const nw_table *t, const uint32_t *slots, uint32_t n, uint32_t i) {
    if (i % NW_WARM_ROWS == 0) nw_table_warm(t, slots + i, n - i < NW_WARM_ROWS ? n - i : NW_WARM_ROWS);
}

/* Writes. `data` is NVAL (an object or a FIELDS map) already validated by
 * nval_check. ttl_ms < 0 keeps the entity default (create) or the current
 * lifetime (update); 0 = no expiry. On success *slot is the written slot. */
nw_code nw_store_create(nw_store *s, uint32_t table, const uint8_t *data, double ttl_ms, bool upsert, uint32_t *slot, nw_error *err);
nw_code nw_store_update(nw_store *s, uint32_t table, const char *id, size_t idlen, const uint8_t *patch, double ttl_ms, uint32_t *slot, nw_error *err);
/* *existed is false (and NW_OK returned) when no such record exists. */
nw_code nw_store_delete(nw_store *s, uint32_t table, const char *id, size_t idlen, bool *existed, nw_error *err);
/* Removes expired records of a table (all tables when table < 0); returns
 * the number removed in *count. */
nw_code nw_store_expire(nw_store *s, int table, double now_ms, uint32_t *count, nw_error *err);

/* Bulk writes; each stops at the first record that fails, with err->index
 * naming it (the caller rolls back to its mark, as for any write).
 * nw_store_insert_many creates (or upserts) every record of the NVAL array
 * `arr` in order and calls `each` (when not NULL) with the slot written
 * after each one. nw_store_write_slots updates with `patch` (deletes when
 * patch is NULL) the records in `slots` (visible slots of the table, such as
 * a query's result); *affected counts the records updated or deleted. */
typedef void (*nw_slot_fn)(void *ud, const nw_table *t, uint32_t slot);
nw_code nw_store_insert_many(nw_store *s, uint32_t table, const uint8_t *arr, double ttl_ms, bool upsert,
                             nw_slot_fn each, void *ud, nw_error *err);
nw_code nw_store_write_slots(nw_store *s, uint32_t table, const uint32_t *slots, uint32_t n, const uint8_t *patch,
                             uint32_t *affected, nw_error *err);

/* Slots of visible records in primary key order; *out is nw_malloc'd
 * (caller frees). */
nw_code nw_table_scan(const nw_store *s, const nw_table *t, uint32_t **out, uint32_t *n, nw_error *err);

/* The NVAL schema a table was defined from (owned by the table). */
const uint8_t *nw_table_schema(const nw_table *t, uint32_t *len);
/* Expiry of a slot in epoch ms (0 = never). */
double nw_table_expires(const nw_table *t, uint32_t slot);

/* Inserts stored field bytes as they are (snapshot restore): checks that
 * they are well-formed for the schema, that the id is new and unique keys
 * are free; no events, no ref checks. CORRUPT for malformed bytes. */
nw_code nw_store_insert_raw(nw_store *s, uint32_t table, const uint8_t *fields, uint32_t len, double expires, nw_error *err);

/* Ordered indexes: 0 is the primary key order, 1.. the entity's indexes.
 * A search key for nw_oindex_lower/upper with nw_table_index_keycmp():
 * the first n key fields' values in stored form. */
typedef struct nw_ikey { uint32_t n; const uint8_t *vals[NW_MAX_KEY_FIELDS]; } nw_ikey;
uint32_t nw_table_nindexes(const nw_table *t);
const nw_keydef *nw_table_index_key(const nw_table *t, uint32_t i);
/* The index, rebuilt first if it went stale; NULL if that is impossible
 * (out of memory): the caller then scans the table. */
nw_oindex *nw_table_index(nw_table *t, uint32_t i);
nw_okeycmp nw_table_index_keycmp(void);
/* The full-text index (rebuilt if stale), or NULL (no search fields, or out
 * of memory). */
nw_fts *nw_table_fts(nw_table *t);

/* Entity.search(): the visible slots matching `text` in the full-text
 * index (fts.h), best first (score, then slot), that `keep` (when not NULL)
 * accepts, at most `limit` of them (< 0: all). *out is nw_malloc'd (caller
 * frees). LIMIT when out of memory. */
typedef bool (*nw_row_filter)(void *ud, const uint8_t *row);
nw_code nw_table_search(const nw_store *s, nw_table *t, const char *text, size_t len, double limit,
                        nw_row_filter keep, void *ud, uint32_t **out, uint32_t *count, nw_error *err);

/* The substring index of a string field listed in `search` (trigram.h),
 * built from the rows on first use and kept up by every write and undo
 * from then on; NULL for other fields or out of memory (the caller then
 * scans). */
#include "trigram.h"
nw_trigram *nw_table_trigram(nw_table *t, uint32_t field);

/* Memory used by the table (rows and indexes), in bytes. */
size_t nw_table_bytes(const nw_table *t);
/* Memory a reader of the table's rows may keep with it (the record views of
 * record_view.c cache field lookups there): `size` zeroed bytes allocated on the
 * first call with size > 0 (always the same size), freed with the table.
 * With size 0 only returns what exists. NULL when there is none or out of
 * memory; readers then work uncached. */
void *nw_table_reader_cache(const nw_table *t, size_t size);

/* ---- sync ------------------------------------------------------------------
 * Every write (create, update, delete, including cascades; not expiry) is
 * appended to the store's change log (changelog.h) in the same commit: the
 * undo log truncates it on rollback. */
#include "changelog.h"
nw_changelog *nw_store_changelog(nw_store *s);
/* Compacts the change log when no write is in progress (no-op otherwise). */
void nw_store_compact_log(nw_store *s);

/* Sets record `id` of a table to exactly `data` (a full record, NVAL object
 * or FIELDS map, validated by nval_check) or deletes it (data == NULL), as
 * state received from a sync server: field rules are checked, but not
 * references, onDelete rules don't run (the server's own effects arrive as
 * changes of their own), and nothing is logged. A local record holding a
 * unique key the new state needs is removed. Events are captured as for
 * any write; undo with the usual mark/rollback. */
nw_code nw_store_put(nw_store *s, uint32_t table, const char *id, size_t idlen, const uint8_t *data, nw_error *err);

/* True when `fields` holds well-formed stored bytes of exactly the fields
 * in `mask` (bit i = field i), in field order. */
bool nw_table_check_fields(const nw_table *t, uint64_t mask, const uint8_t *fields, uint32_t len);

/* ---- committed write batches (live queries and views, live.h) -------------
 * The commit hook runs at every outermost commit (a write call, a
 * transaction, a sync batch), before the batch's undo entries are dropped.
 * While it runs, nw_store_batch_len/_entry describe the batch: one entry
 * per written slot and write, in write order (a slot may appear several
 * times). The current row of a slot is nw_table_row (NULL once deleted);
 * `old_row` is the row before that write (NULL for an insert). Deleted
 * slots are not reused before the hook returns. The hook must not write. */
typedef void (*nw_commit_hook)(void *ud, nw_store *s);
void nw_store_set_commit_hook(nw_store *s, nw_commit_hook fn, void *ud);
/* A second hook of the same kind for the storage journal (journal.h); it
 * runs after the commit hook, while the batch's outbox entries are still as
 * appended (nw_changelog_uncommitted). */
void nw_store_set_journal_hook(nw_store *s, nw_commit_hook fn, void *ud);
uint32_t nw_store_batch_len(const nw_store *s);
/* False for entries that are not record writes (outbox bookkeeping). */
bool nw_store_batch_entry(const nw_store *s, uint32_t i, uint32_t *table, uint32_t *slot, const uint8_t **old_row);

/* Checks internal invariants (tests): 0 = ok. */
int nw_store_check(const nw_store *s);

#endif
