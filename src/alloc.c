/* alloc.c - size-tracking wrapper over the C library allocator. */
#include "alloc.h"
#include <stdlib.h>
#include <string.h>

/* Each block carries its size in a header so that free() can keep the live
 * byte count exact, and its extra owners (nw_retain). Two words keep
 * doubles aligned. */
typedef struct { size_t size; size_t owners; } hdr_t;

static size_t live_bytes;
static long fail_countdown = -1;
static long failures;

static int injected_failure(void) {
    if (fail_countdown < 0) return 0;
    if (fail_countdown == 0) { failures++; return 1; }
    fail_countdown--;
    return 0;
}

void *nw_malloc(size_t n) {
    if (injected_failure()) return NULL;
    if (n > SIZE_MAX - sizeof(hdr_t)) return NULL;
    hdr_t *h = malloc(sizeof(hdr_t) + n);
    if (!h) return NULL;
    h->size = n;
    h->owners = 0;
    live_bytes += n;
    return h + 1;
}

char *nw_strndup(const char *s, size_t n) {
    if (n == SIZE_MAX) return NULL;
    char *p = nw_malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

void *nw_calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    void *p = nw_malloc(count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

void *nw_realloc(void *p, size_t n) {
    if (!p) return nw_malloc(n);
    if (injected_failure()) return NULL;
    if (n > SIZE_MAX - sizeof(hdr_t)) return NULL;
    hdr_t *old = (hdr_t *)p - 1;
    if (old->owners) return NULL;
    size_t old_size = old->size;
    hdr_t *h = realloc(old, sizeof(hdr_t) + n);
    if (!h) return NULL;
    live_bytes = live_bytes - old_size + n;
    h->size = n;
    return h + 1;
}

void nw_retain(void *p) { ((hdr_t *)p - 1)->owners++; }

void nw_free(void *p) {
    if (!p) return;
    hdr_t *h = (hdr_t *)p - 1;
    if (h->owners) { h->owners--; return; }
    live_bytes -= h->size;
    free(h);
}

size_t nw_alloc_bytes(void) { return live_bytes; }

#if defined(__wasm__) && !defined(__EMSCRIPTEN__)
/* wasi-libc's malloc (dlmalloc) asks sbrk for memory 64 KiB at a time, and
 * its own sbrk grows the WebAssembly memory by exactly that. V8 runs a full
 * garbage collection every few grows of a large memory: inserting 100,000
 * records beside a big JS heap spent three full collections, 600 ms, inside
 * each batch (docs/bench.md). This sbrk, which the linker takes instead of
 * libc's, grows by what is asked plus a quarter of the memory (at most
 * 8 MiB) and hands the extra out on later calls, so a memory of n bytes
 * takes O(log n) grows up to 32 MiB and one grow per 8 MiB beyond. Pages
 * grown but not yet handed out are never touched, so they cost address
 * space, not resident memory. brk_end: the end of
 * what was handed out (0 before the first call); the process's one heap,
 * like malloc's own state. */
#define WASM_PAGE 65536u
static uintptr_t brk_end;

void *sbrk(intptr_t increment) {
    uintptr_t size = (uintptr_t)__builtin_wasm_memory_size(0) * WASM_PAGE;
    if (!brk_end || brk_end > size) brk_end = size;
    if (increment < 0) return (void *)-1;      /* dlmalloc never shrinks (MORECORE_CANNOT_TRIM) */
    uintptr_t old = brk_end, want = (uintptr_t)increment;
    if (want > size - old) {
        uintptr_t pages = (want - (size - old) + WASM_PAGE - 1) / WASM_PAGE;
        uintptr_t ahead = size / 4 / WASM_PAGE, cap = (8u << 20) / WASM_PAGE;
        if (ahead > cap) ahead = cap;
        if (__builtin_wasm_memory_grow(0, pages + ahead) == SIZE_MAX &&
            __builtin_wasm_memory_grow(0, pages) == SIZE_MAX)
            return (void *)-1;                  /* malloc returns NULL */
    }
    brk_end = old + want;
    return (void *)old;
}
#endif
void nw_alloc_fail_after(long n) { fail_countdown = n; }
void nw_alloc_fail_reset(void) { fail_countdown = -1; }
long nw_alloc_failures(void) { return failures; }

bool nw_grow(void **p, uint32_t *cap, size_t elem, uint32_t need) {
    if (need <= *cap) return true;
    uint32_t c = *cap ? *cap : 16;
    while (c < need) {
        if (c > 0x7FFFFFFFu) return false;
        c *= 2;
    }
    if ((size_t)c > SIZE_MAX / elem) return false;
    void *q = nw_realloc(*p, (size_t)c * elem);
    if (!q) return false;
    *p = q;
    *cap = c;
    return true;
}
