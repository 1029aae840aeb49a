/* snapshot.h - the whole store as bytes (nitro.snapshot / restore), and
 * the CRC-32 that guards it.
 *
 * Format (little endian):
 *   "NWSNAP\0\1", u32 version (1 or 2), u32 table count,
 *   per table: u32 name length, name, u32 schema hash (nw_hash_bytes of the
 *     NVAL schema it was defined from), u32 record count,
 *     per record: f64 expiry (epoch ms, 0 = none), u32 length, stored field
 *     bytes (record.h);
 *   version 2: the sync state section of changelog.h (client id, next seq,
 *     cursor, outbox entries, record versions);
 *   u32 CRC-32 (IEEE, as zlib) of every byte before it.
 * Version 1 snapshots restore with an empty outbox.
 *
 * A snapshot is input like any other: reading checks the checksum, the
 * layout, every record against its entity's rules (nw_field_check_stored),
 * that ids and unique keys are unique, that every ref resolves (unless the
 * store has pulled from a sync server, whose state is not ref-checked
 * locally: docs/sync.md), and the outbox entries' fields; it builds a new
 * store and hands it over only when all of that held.
 *
 * Ownership: nw_snapshot_read returns a new store owned by the caller; the
 * input bytes are only read. Nothing here keeps state between calls.
 */
#ifndef NW_SNAPSHOT_H
#define NW_SNAPSHOT_H
#include <stddef.h>
#include <stdint.h>
#include "store.h"

#define NW_SNAP_VERSION 2

uint32_t nw_crc32(const uint8_t *p, size_t n);

/* Appends the snapshot of s (version NW_SNAP_VERSION) to out; out->oom
 * reports running out of memory. */
nw_code nw_snapshot_write(nw_store *s, nw_buf *out, nw_error *err);

/* Reads p[0..len) made with the same entity definitions as `like` into a
 * new store (*out), taking `like`'s outbox configuration; a client never
 * reuses a sequence number, so when the snapshot is `like`'s own client,
 * numbering continues from the higher of the two. CORRUPT for damaged or
 * invalid content (entity, field and rule name the offending value),
 * SCHEMA for other definitions, LIMIT on OOM; *out is then NULL. */
/* Checks one record's stored fields (well-formed) against its entity's
 * rules: CORRUPT naming entity, field and rule (journal.h uses it too). */
nw_code nw_snapshot_check_record(const nw_entity_def *def, const uint8_t *fields, uint32_t len, nw_buf *scratch, nw_error *err);

nw_code nw_snapshot_read(nw_store *like, const uint8_t *p, size_t len, nw_store **out, nw_error *err);

#endif
