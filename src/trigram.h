/* trigram.h - a substring index over one string field: for every 3-byte
 * sequence of the field's UTF-8 bytes, the record slots whose value holds
 * it. It answers `contains` and `startsWith` (API.md: case-sensitive
 * substring and prefix on the stored bytes) with candidate slots: a value
 * that holds a pattern of 3 or more bytes holds every trigram of it, so the
 * slots of the pattern's rarest trigram are a superset of the matches. The
 * caller checks each candidate against the record (the index keeps no copy
 * of the values).
 *
 * Postings are append-only: removing a value only counts its entries as
 * stale (they stay in the lists until a rebuild), so an update or delete
 * never moves memory and never fails. A posting list may therefore hold a
 * slot twice (a slot removed and added again) or a slot that no longer
 * matches (callers deduplicate and verify). nw_trigram_worn() says when the
 * stale entries outnumber the live ones and the owner should rebuild.
 *
 * Memory: 4 bytes per posting (a u32 slot, lists grown by half), about 20
 * bytes per distinct trigram, and a hash table of 4 bytes per slot of it.
 *
 * Ownership: nw_trigram_new returns an index the caller frees with
 * nw_trigram_free. Allocation goes through alloc.h. Value and pattern bytes
 * are borrowed for the call. Not thread-safe.
 */
#ifndef NW_TRIGRAM_H
#define NW_TRIGRAM_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef struct nw_trigram nw_trigram;

/* A new empty index; NULL on OOM. */
nw_trigram *nw_trigram_new(void);
/* Releases the index; NULL is allowed. */
void nw_trigram_free(nw_trigram *g);

/* Indexes `slot` under every trigram of s[0..len) (nothing for len < 3).
 * Returns 0, or -1 on OOM: the index then lacks some of this value's
 * trigrams and must be rebuilt before it answers again (the store drops
 * it). */
int nw_trigram_add(nw_trigram *g, uint32_t slot, const uint8_t *s, size_t len);

/* Forgets the value s[0..len) of `slot` (added before with these bytes):
 * counts its entries as stale. Never allocates, never fails. */
void nw_trigram_remove(nw_trigram *g, uint32_t slot, const uint8_t *s, size_t len);

/* True once stale entries outnumber live ones (and there are at least a few
 * thousand): a rebuild would halve the memory and the candidates. */
bool nw_trigram_worn(const nw_trigram *g);

/* Candidates for a pattern of at least 3 bytes: *list (borrowed, valid
 * until the next add) receives the posting list of the pattern's rarest
 * trigram and the return value its length (0 and *list NULL when some
 * trigram of the pattern occurs nowhere: no value holds the pattern). The
 * list is in no particular order and may hold duplicates and stale slots.
 * Returns (size_t)-1 for a pattern shorter than 3 bytes (no answer). */
size_t nw_trigram_candidates(const nw_trigram *g, const uint8_t *pat, size_t len, const uint32_t **list);

/* One posting list of a pattern's trigram (borrowed, valid until the next
 * add). */
typedef struct nw_tlist { const uint32_t *v; size_t n; } nw_tlist;

/* The posting lists of a pattern's distinct trigrams, rarest first: at most
 * `cap` of them (the rarest) go to out[]. Returns how many were written,
 * 0 when some trigram occurs nowhere (no value holds the pattern), or
 * (size_t)-1 for a pattern shorter than 3 bytes. A value that holds the
 * pattern is in every list, so their intersection is a closer superset of
 * the matches than the rarest list alone. */
size_t nw_trigram_lists(const nw_trigram *g, const uint8_t *pat, size_t len, nw_tlist *out, size_t cap);

/* Bytes of heap the index holds, not counting allocator overhead. O(1). */
size_t nw_trigram_bytes(const nw_trigram *g);
/* Posting entries held (live and stale), and distinct trigrams. */
size_t nw_trigram_entries(const nw_trigram *g);
size_t nw_trigram_terms(const nw_trigram *g);

/* Debug check (hash table, counts). 0 if sound, else a positive code. */
int nw_trigram_check(const nw_trigram *g);

#endif
