/* oindex.h - an ordered set of record slots (the store's secondary and
 * primary-key orders).
 *
 * What it holds: uint32_t slot numbers, kept sorted by a caller-supplied
 * total order. The index never reads records itself: every comparison goes
 * through the callbacks the store passes, so comparisons (which read record
 * bytes) are the expensive part and the searches below make as few as
 * possible: about log2(n) + 1 per search, and one per append.
 *
 * Layout: a directory of sorted blocks of at most NW_OINDEX_BLOCK slots,
 * with a Fenwick tree over the block sizes for rank lookups. Block
 * capacities grow in steps of 64 slots (16 for a fresh block), so memory is
 * about 4 bytes per slot for appended data and about 4.5 for data inserted
 * in random order, plus 12 bytes (wasm32) per block of directory.
 *
 * Ownership: nw_oindex_new returns an index the caller owns and releases
 * with nw_oindex_free. The comparator context `ctx` is borrowed and must
 * outlive the index. Allocation goes through alloc.h; a function that
 * fails for lack of memory returns -1 and leaves the index exactly as it
 * was (contents; spare capacity may differ).
 *
 * Order: `cmp(ctx, a, b)` must be a strict total order over the slots in
 * the index (the store breaks ties by primary key, so two different slots
 * never compare equal). A slot's position is found with `cmp`, so the
 * caller removes a slot BEFORE changing the bytes it is compared by, and
 * inserts it again afterwards.
 *
 * Not thread-safe; a cursor or rank is invalidated by any insert, remove
 * or build.
 */
#ifndef NW_OINDEX_H
#define NW_OINDEX_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Largest number of slots in one block. */
#define NW_OINDEX_BLOCK 512
/* Returned by nw_oindex_at for a rank out of range. */
#define NW_OINDEX_NONE 0xFFFFFFFFu

/* Order of two slots: < 0 if a sorts before b, > 0 after, 0 only if a == b. */
typedef int (*nw_ocmp)(const void *ctx, uint32_t a, uint32_t b);
/* Order of a search key against a slot: < 0 if the key sorts before the
 * slot, 0 if equal, > 0 after. It must agree with nw_ocmp: the slots that
 * compare equal to a key form one contiguous run. */
typedef int (*nw_okeycmp)(const void *ctx, const void *key, uint32_t slot);

/* Optional 64-bit key of a slot (nw_oindex_set_key): its unsigned order
 * must agree with cmp wherever two keys differ (key(a) < key(b) implies
 * cmp(a, b) < 0); equal keys say nothing. */
typedef uint64_t (*nw_okey)(const void *ctx, uint32_t slot);

typedef struct nw_oindex nw_oindex;

/* A new empty index ordered by cmp over ctx. NULL on OOM. Allocates only
 * the header (the first insert allocates the rest). */
nw_oindex *nw_oindex_new(nw_ocmp cmp, const void *ctx);
/* Releases the index and all its blocks. NULL is allowed. */
void nw_oindex_free(nw_oindex *ix);

/* Gives the index a key function (or none: NULL). The directory then keeps
 * the key of each block's first slot, so that the block search of inserts
 * and removals compares keys in the directory's own memory and calls cmp
 * only on ties: about log2(blocks) fewer comparisons, which read records
 * in random memory. The caller must set it again (or clear it) whenever
 * keys stop agreeing with cmp. O(blocks) key calls; never fails. */
void nw_oindex_set_key(nw_oindex *ix, nw_okey key);

/* Inserts slot, which must not be present. O(log n) comparisons plus a move
 * of at most NW_OINDEX_BLOCK slots; a slot that sorts after every other
 * (an append) costs one comparison and amortised O(1) work.
 * Returns 0, or -1 on OOM with the index unchanged. */
int nw_oindex_insert(nw_oindex *ix, uint32_t slot);

/* Removes slot, located with cmp (so its record must still compare as it
 * did when inserted). Returns 0, or -1 if it is not found (the index is
 * then unchanged). Never needs memory and so never fails for lack of it
 * (safe in rollback paths): it frees emptied blocks, merges sparse
 * neighbours, and shrinks a block that fell to half its capacity with
 * nw_realloc to a smaller size (if refused, the block keeps its capacity).
 * O(log n). */
int nw_oindex_remove(nw_oindex *ix, uint32_t slot);

/* Sorts v[0..n) by cmp (stable merge sort; qsort has no context). tmp
 * holds at least n / 2 slots. Never allocates. */
void nw_oindex_sort(uint32_t *v, uint32_t *tmp, uint32_t n, nw_ocmp cmp, const void *ctx);

/* Number of slots. O(1). */
size_t nw_oindex_size(const nw_oindex *ix);

/* Rank (0-based position) of the first slot that is >= key (lower) or
 * > key (upper); nw_oindex_size() if there is none. The slots equal to a
 * key are the ranks [lower, upper). About log2(n) + 1 key comparisons. */
size_t nw_oindex_lower(const nw_oindex *ix, const void *key, nw_okeycmp kcmp);
size_t nw_oindex_upper(const nw_oindex *ix, const void *key, nw_okeycmp kcmp);

/* Slot at a rank, or NW_OINDEX_NONE if rank >= size. O(log blocks), no
 * comparisons. */
uint32_t nw_oindex_at(const nw_oindex *ix, size_t rank);

/* Rank of a present slot (located with cmp), or (size_t)-1 if it is not in
 * the index. */
size_t nw_oindex_rank(const nw_oindex *ix, uint32_t slot);

/* Cursor for walks from a rank: O(1) per step, no comparisons. The fields
 * are internal; a cursor is a plain value the caller owns (no free). */
typedef struct nw_ocursor {
    const nw_oindex *ix;
    size_t block, pos, rank;
} nw_ocursor;

/* Positions the cursor before rank (clamped to size): next() then yields
 * the slot at rank, prev() the slot at rank - 1. O(log blocks). */
void nw_ocursor_seek(nw_ocursor *c, const nw_oindex *ix, size_t rank);
/* Stores the slot at the cursor's rank in *slot and advances; false (and
 * *slot untouched) at the end. */
bool nw_ocursor_next(nw_ocursor *c, uint32_t *slot);
/* Steps back one rank and stores the slot there in *slot; false (and *slot
 * untouched) at the start. */
bool nw_ocursor_prev(nw_ocursor *c, uint32_t *slot);

/* Replaces the contents with sorted[0..n), which the caller guarantees is
 * strictly increasing under cmp (nw_oindex_check detects otherwise). Fills
 * blocks completely. O(n), no comparisons. Returns 0, or -1 on OOM with
 * the index unchanged. sorted is borrowed (copied). */
int nw_oindex_build(nw_oindex *ix, const uint32_t *sorted, size_t n);

/* Bytes of heap the index holds (header, directory, block capacity),
 * not counting allocator overhead. O(blocks). */
size_t nw_oindex_bytes(const nw_oindex *ix);

/* Debug check of every invariant (block sizes and capacities, the Fenwick
 * tree, the total, strict order of all neighbours under cmp). Returns 0 if
 * sound, else a positive code naming the first broken invariant. O(n)
 * comparisons: for tests. */
int nw_oindex_check(const nw_oindex *ix);

#endif
