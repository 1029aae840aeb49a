/* journal.h - the storage journal: every committed write batch of a store
 * as one framed record, for sync storage to append to disk (js/sync.js), and
 * its replay on load. Storage is a snapshot (snapshot.h) plus the journal of
 * what was committed after it; compaction writes a new snapshot and starts
 * an empty journal.
 *
 * Frame: u32 payload length, u32 CRC-32 (snapshot.h nw_crc32) of the
 * payload, payload. A torn or damaged frame ends the journal: replay stops
 * before it and never applies part of a batch. Payload: records, each a
 * tag byte and its body:
 *   'D' u32 table, u32 id length, id        a record the batch removed or
 *                                           rewrote (its state before)
 *   'P' u32 table, f64 expiry, u32 length,  a record as the batch left it
 *       stored field bytes (record.h)
 *   'O' an outbox entry in the arena layout of changelog.c, as appended
 *   'R' an entry coalescing rewrote (arena layout; replaces the live entry
 *       with its seq), 'X' f64 seq: an entry coalescing removed
 *       (changelog.h nw_changelog_commit_ops)
 * Replay removes every 'D' record, then writes every 'P' record (the
 * batch's end state is consistent, so intermediate unique-key states do not
 * matter), appends the 'O' entries and redoes 'R' and 'X' in order, all in
 * one transaction, so the outbox comes back exactly as it was (a folded-away
 * seq must never be sent: its change is already in the entry it folded
 * into, and the server has no receipt for it). A frame
 * that passes its CRC but does not apply (CORRUPT, with what is wrong)
 * leaves the store as the frames before it left it. Replayed entries count
 * as sent (changelog.h): a resent seq is answered from the server's memory.
 *
 * What is not journaled: acknowledgements, the pull cursor, record versions
 * and conflict flags. They are in the next snapshot; until then a restart
 * sends answered mutations again (answered again, not applied again) and
 * pulls again from the older cursor.
 *
 * Ownership: a journal owns its buffer; it is attached to one store at a
 * time (the store's journal hook) and never owns the store.
 */
#ifndef NW_JOURNAL_H
#define NW_JOURNAL_H
#include "store.h"

typedef struct nw_journal nw_journal;

nw_journal *nw_journal_new(void);                 /* NULL on OOM */
void nw_journal_free(nw_journal *j);              /* j may be NULL */
/* Records the commits of `s` from now on (NULL detaches). */
void nw_journal_attach(nw_journal *j, nw_store *s);
/* Frames recorded since the last clear. */
const nw_buf *nw_journal_bytes(const nw_journal *j);
/* True when a batch could not be recorded (out of memory): the journal is
 * incomplete and storage needs a new snapshot. Cleared by nw_journal_clear. */
bool nw_journal_incomplete(const nw_journal *j);
void nw_journal_clear(nw_journal *j);
/* While paused, commits are not recorded (replay, restore). */
void nw_journal_pause(nw_journal *j, bool paused);

/* Applies the frames of p[0..len) to s in order, one transaction each,
 * until the end, a torn or damaged frame (*used stops before it) or a frame
 * that does not apply (its error is returned; *used stops before it).
 * *batches counts the frames applied. */
nw_code nw_journal_apply(nw_store *s, const uint8_t *p, size_t len, size_t *used, uint32_t *batches, nw_error *err);

#endif
