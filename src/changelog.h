/* changelog.h - the outbox: every local write as a mutation a sync server can
 * apply, recorded by the store in the same commit as the write (store.c
 * appends and its undo log truncates), plus the rest of the client's sync
 * state, so that one snapshot carries all of it.
 *
 * An entry is one write:
 *   seq    per-client sequence number, increasing from 1 and never reused
 *          (a rolled-back write gives its number back; nothing else does)
 *   op     NW_CL_CREATE (every field), NW_CL_UPDATE (the changed fields),
 *          NW_CL_DELETE (no fields)
 *   table, record id
 *   mask   bit i = field i is included; `fields` holds those fields' stored
 *          bytes (record.h) in field order
 *   base   the server version of the record the write was made on (0 =
 *          unknown or new); kept only for tables flagged NW_CLT_VERSIONS
 *   flags  NW_CL_CONFLICT: the server refused it for a version conflict; it
 *          stays until the app resolves it and is not sent again meanwhile
 * Entries leave the log when the server has answered for them
 * (nw_changelog_remove) or are re-queued under a new seq after a conflict is
 * resolved (nw_changelog_requeue).
 *
 * Coalescing (nw_changelog_commit, at each commit): the log keeps at most
 * what the server still needs per record. A committed write folds into the
 * record's latest earlier entry, at that entry's place and seq, when that
 * entry was never sent (seq above nw_changelog_mark_sent's, not conflicted):
 *   create + update = create with the new values; create + delete = nothing
 *   (both go); update + update = one update (the union of fields, later
 *   values win); update + delete = delete. A delete is never folded into.
 * Moving a write earlier must not change how the mutations in between are
 * decided, so it folds only when nothing lies in between, or when it is an
 * update of fields outside every unique key and reference ("pinned" fields,
 * nw_changelog_set_rules), or a delete of a record no entity can refer to.
 * A sent entry is never changed: the server may have applied it, and a
 * resend is answered from its memory of that seq. Restored entries count as
 * sent. Seqs of folded entries are not reused.
 *
 * The rest of the state: the client id (the name the server dedupes
 * mutations under), the next seq, the pull cursor (opaque server text) and
 * the server version of each record of NW_CLT_VERSIONS tables.
 *
 * A create appended with nw_changelog_append_row shares the stored row
 * (no copy); its view's fields point into the row.
 *
 * Memory: entries live in one byte arena plus an array of their offsets in
 * seq order. Appending may allocate and then fails with NW_E_LIMIT (the
 * write fails with it); truncating and removing never allocate, so
 * rollback stays allocation-free. Removed and merged entries are dead bytes
 * until compaction (automatic at commit when they are most of the arena,
 * and after acknowledgements), which gives memory back.
 */
#ifndef NW_CHANGELOG_H
#define NW_CHANGELOG_H
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"
#include "error.h"

#include "wire.h"

/* nw_cl_op (NW_CL_CREATE, NW_CL_UPDATE, NW_CL_DELETE), the entry flag
 * NW_CL_CONFLICT and the table flags (configuration, not saved in snapshots)
 * NW_CLT_LOCAL (writes to the table are not logged) and NW_CLT_VERSIONS (keep
 * record versions; entries carry a base) are defined in wire.h. */

typedef struct nw_changelog nw_changelog;
/* Checks an entry's stored fields (snapshot and journal reading). */
typedef bool (*nw_cl_check_fn)(void *ud, uint32_t table, uint64_t mask, const uint8_t *fields, uint32_t flen);

/* A view of one entry; pointers are borrowed from the arena and valid until
 * the log changes. */
typedef struct nw_cl_entry {
    double seq, base;
    uint8_t op, flags;
    uint32_t table;
    const uint8_t *id;
    uint32_t idlen;
    uint64_t mask;
    const uint8_t *fields;
    uint32_t flen;
    const uint8_t *raw;     /* the entry's header and id in the arena layout (changelog.c); its
                               fields may live elsewhere: nw_cl_entry_put writes the whole entry */
    uint32_t size;          /* bytes at raw */
} nw_cl_entry;

/* Appends the entry in the arena layout with its fields inline: what
 * snapshots, the journal and the outbox export carry. */
void nw_cl_entry_put(const nw_cl_entry *e, nw_buf *out);

nw_changelog *nw_changelog_new(void);     /* NULL on OOM */
void nw_changelog_free(nw_changelog *c);  /* c may be NULL */

/* Logging is on by default; off stops appends (a server's own store). */
void nw_changelog_enable(nw_changelog *c, bool on);
bool nw_changelog_enabled(const nw_changelog *c);
nw_code nw_changelog_set_table(nw_changelog *c, uint32_t table, uint32_t flags, nw_error *err);
/* What coalescing may not move earlier for `table`: `pinned` fields (bit i
 * = field i: unique keys and references) and, when `referenced`, deletes
 * (another entity has a reference to this one). */
nw_code nw_changelog_set_rules(nw_changelog *c, uint32_t table, uint64_t pinned, bool referenced, nw_error *err);
uint32_t nw_changelog_table_flags(const nw_changelog *c, uint32_t table);
/* True when a write to `table` is to be logged. */
bool nw_changelog_logs(const nw_changelog *c, uint32_t table);

/* Appends an entry with the next seq (and, for NW_CLT_VERSIONS tables, the
 * record's known version as base). *mark receives what nw_changelog_truncate
 * needs to undo it. NW_E_LIMIT when out of memory (nothing changed). */
nw_code nw_changelog_append(nw_changelog *c, nw_cl_op op, uint32_t table, const uint8_t *id, uint32_t idlen,
                            uint64_t mask, const uint8_t *fields, uint32_t flen, size_t *mark, nw_error *err);
/* Appends the create of a stored row without copying it: the entry shares
 * `row` (the store's row layout, record.h: u32 length, then the fields, the
 * id first) and holds a reference to it (alloc.h, nw_retain) until the entry
 * goes. The caller must never change the row's bytes. `mask`: every field.
 * Otherwise as nw_changelog_append. */
nw_code nw_changelog_append_row(nw_changelog *c, uint32_t table, const uint8_t *row, uint64_t mask, size_t *mark, nw_error *err);
/* The stored row of record (table, id), or NULL: a merged create whose
 * fields equal it shares it (as nw_changelog_append_row) instead of holding
 * a copy. Rows it returns must stay unchanged while shared. */
typedef const uint8_t *(*nw_cl_row_fn)(void *ud, uint32_t table, const uint8_t *id, uint32_t idlen);
void nw_changelog_set_rows(nw_changelog *c, nw_cl_row_fn fn, void *ud);
/* Drops every entry appended after `mark` (rollback); gives their seqs back.
 * Only entries not yet committed are ever truncated. */
void nw_changelog_truncate(nw_changelog *c, size_t mark);
/* Commits the entries appended since the last commit and coalesces them
 * (see above); reclaims dead space when most of the arena is dead. Never
 * fails: when memory is short an entry simply stays as it is. */
void nw_changelog_commit(nw_changelog *c);
/* Position (for nw_changelog_next) of the first entry not yet committed. */
size_t nw_changelog_uncommitted(const nw_changelog *c);
/* Appends an entry in the arena layout as it is (journal replay, journal.h),
 * checked like a snapshot's (tables below ntables, fields per `check`) and
 * with a seq at or above the next one. Uncommitted until
 * nw_changelog_commit_replayed; CORRUPT / LIMIT otherwise (nothing changed). */
nw_code nw_changelog_append_raw(nw_changelog *c, const uint8_t *p, size_t len, uint32_t ntables,
                                nw_cl_check_fn check, void *ud, size_t *mark, nw_error *err);
/* nw_changelog_commit that also appends what coalescing did to `ops`, for
 * the storage journal (journal.h): 'R' + the merged entry (arena layout;
 * it replaces the live entry with its seq), 'X' + f64 seq (removed). */
void nw_changelog_commit_ops(nw_changelog *c, nw_buf *ops);
/* Journal replay of those: checks one 'R' / 'X' body at p (its byte count
 * in *span); reserves room so that the appends and replacements of a frame
 * cannot fail halfway; replaces the live entry with the same seq and
 * record by the entry at p (false if there is none). */
nw_code nw_changelog_check_fold(const nw_changelog *c, uint8_t tag, const uint8_t *p, size_t len, uint32_t ntables,
                                nw_cl_check_fn check, void *ud, size_t *span, nw_error *err);
bool nw_changelog_reserve(nw_changelog *c, size_t bytes, uint32_t entries);
/* The live entry `seq` (pointers valid until the log changes); false if none. */
bool nw_changelog_get(const nw_changelog *c, double seq, nw_cl_entry *e);
bool nw_changelog_replace(nw_changelog *c, const uint8_t *p);
/* Commits replayed entries without coalescing; they count as sent. */
void nw_changelog_commit_replayed(nw_changelog *c);
/* Entries with a seq up to `seq` have been (or may have been) sent: they
 * are never merged into from now on. */
void nw_changelog_mark_sent(nw_changelog *c, double seq);

/* Walks live entries in seq order: pos 0 starts; returns the position to
 * continue from, or 0 when there is no further entry (then *e is unset).
 * Positions are valid until the log changes. */
size_t nw_changelog_next(const nw_changelog *c, size_t pos, nw_cl_entry *e);
/* Live entries (including conflicted ones). */
uint32_t nw_changelog_pending(const nw_changelog *c);
/* Lowest seq of a live entry without NW_CL_CONFLICT, or 0 if none. */
double nw_changelog_first_unsent(const nw_changelog *c);
/* Removes the entry `seq`; false if there is none. Never allocates. */
bool nw_changelog_remove(nw_changelog *c, double seq);
/* Sets or clears flags of entry `seq`; false if there is none. */
bool nw_changelog_flag(nw_changelog *c, double seq, uint8_t flags, bool on);
/* Moves entry `seq` to the end under a new seq, with base `base` and its
 * flags cleared (after the app resolved a conflict in favour of the local
 * change). NOT_FOUND if there is no such entry, LIMIT on OOM. */
nw_code nw_changelog_requeue(nw_changelog *c, double seq, double base, nw_error *err);
/* Reclaims the space of removed entries (may allocate the new arena; keeps
 * the old one when that fails). Only call when no undo record refers to
 * arena positions (no write or transaction in progress). */
void nw_changelog_compact(nw_changelog *c);

/* Record versions (tables with NW_CLT_VERSIONS): 0 when unknown. Setting
 * version 0 forgets the record. */
double nw_changelog_version(const nw_changelog *c, uint32_t table, const uint8_t *id, uint32_t idlen);
nw_code nw_changelog_set_version(nw_changelog *c, uint32_t table, const uint8_t *id, uint32_t idlen, double v, nw_error *err);

/* Client id, cursor (copied; LIMIT on OOM) and counters. */
nw_code nw_changelog_set_client(nw_changelog *c, const uint8_t *id, uint32_t len, nw_error *err);
const uint8_t *nw_changelog_client(const nw_changelog *c, uint32_t *len);
nw_code nw_changelog_set_cursor(nw_changelog *c, const uint8_t *cur, uint32_t len, nw_error *err);
const uint8_t *nw_changelog_cursor(const nw_changelog *c, uint32_t *len);
double nw_changelog_next_seq(const nw_changelog *c);
/* Makes the next seq at least `at_least` (restores never reuse numbers). */
void nw_changelog_raise_seq(nw_changelog *c, double at_least);

/* Snapshot section: client id, next seq, cursor, live entries, versions.
 * nw_changelog_read fills an empty log from p[0..len), checking every entry
 * (tables below ntables, stored fields well-formed per `check`); *used is
 * the byte count read. CORRUPT for malformed input, LIMIT on OOM. Table
 * flags are configuration and are not part of the section. */
void nw_changelog_write(const nw_changelog *c, nw_buf *out);
nw_code nw_changelog_read(nw_changelog *c, const uint8_t *p, size_t len, uint32_t ntables,
                          nw_cl_check_fn check, void *ud, size_t *used, nw_error *err);
/* Copies the configuration (enabled, table flags) of `from` into `to`. */
nw_code nw_changelog_copy_config(nw_changelog *to, const nw_changelog *from, nw_error *err);

/* A read-only index of the live entries by record, for applying server
 * state under the local changes still pending (sync_json.c). It covers the
 * entries of tables t with t < nwant and want[t] != 0, conflicted ones
 * included, and borrows the log: valid until the log changes. *out is NULL
 * when no entry qualifies (the lookups below accept NULL); LIMIT on OOM.
 * The caller owns *out (nw_cl_index_free). */
typedef struct nw_cl_index nw_cl_index;
nw_code nw_changelog_index(const nw_changelog *c, const uint8_t *want, uint32_t nwant, nw_cl_index **out, nw_error *err);
void nw_cl_index_free(nw_cl_index *ix);   /* ix may be NULL */
/* The first entry (seq order) of record (table, id) as an iterator, 0 if
 * none; nw_cl_index_entry fills *e with the entry of `it` (non-zero) and
 * returns the iterator of the record's next entry (0 after the last). */
uint32_t nw_cl_index_find(const nw_cl_index *ix, uint32_t table, const uint8_t *id, uint32_t idlen);
uint32_t nw_cl_index_entry(const nw_cl_index *ix, uint32_t it, nw_cl_entry *e);

/* Bytes held (arena and version map). */
size_t nw_changelog_bytes(const nw_changelog *c);

#endif
