/* alloc.h - the one allocator every module uses.
 *
 * All heap memory in nitro goes through nw_malloc / nw_realloc / nw_free so
 * that tests can make the Nth allocation fail (SQLite-style fault injection)
 * and so that nw_alloc_bytes() can report live heap use for stats().
 *
 * Contract:
 *   nw_malloc(n)      -> pointer to n bytes, or NULL (out of memory or injected
 *                        failure). n == 0 returns a unique non-NULL pointer.
 *   nw_realloc(p, n)  -> like realloc; on failure returns NULL and p stays
 *                        valid and owned by the caller.
 *   nw_free(p)        -> p may be NULL.
 *   nw_retain(p)      -> one more owner of block p: a block retained k times
 *                        is freed by the (k+1)th nw_free, so two structures
 *                        can hold one immutable block (a stored row and the
 *                        outbox entry of its create) and each frees it when
 *                        done. Never fails. A retained block cannot be
 *                        resized (nw_realloc returns NULL).
 * Every caller checks for NULL; no module aborts on allocation failure.
 */
#ifndef NW_ALLOC_H
#define NW_ALLOC_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

void *nw_malloc(size_t n);
void *nw_calloc(size_t count, size_t size);
void *nw_realloc(void *p, size_t n);
void nw_free(void *p);
void nw_retain(void *p);
/* A NUL-terminated copy of s[0..n) (the caller frees it), or NULL. */
char *nw_strndup(const char *s, size_t n);

/* Growable arrays: makes *p (elements of `elem` bytes, capacity *cap) hold
 * at least `need`, doubling from 16. False when out of memory or the size
 * would overflow; *p and *cap are then unchanged. */
bool nw_grow(void **p, uint32_t *cap, size_t elem, uint32_t need);

/* Bytes currently allocated through this allocator (payload, not overhead). */
size_t nw_alloc_bytes(void);

/* Fault injection (tests only, harmless elsewhere): after `n` more successful
 * allocations, every allocation fails until nw_alloc_fail_reset(). n < 0
 * disables injection. */
void nw_alloc_fail_after(long n);
void nw_alloc_fail_reset(void);
/* Number of allocations that were refused by injection so far. */
long nw_alloc_failures(void);

#endif
