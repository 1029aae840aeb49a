/* lis.c - longest increasing subsequence (patience sorting with
 * predecessor links). */
#include "lis.h"
#include "alloc.h"
#include <string.h>

nw_code nw_lis(const uint32_t *seq, uint32_t n, bool *keep) {
    if (n) memset(keep, 0, n * sizeof *keep);
    if (!n) return NW_OK;
    /* tails[k]: index of the smallest tail of an increasing run of length k+1 */
    uint32_t *tails = nw_malloc((size_t)n * 2 * sizeof *tails);
    if (!tails) return NW_E_LIMIT;
    uint32_t *prev = tails + n, len = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t lo = 0, hi = len;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (seq[tails[mid]] < seq[i]) lo = mid + 1; else hi = mid;
        }
        prev[i] = lo ? tails[lo - 1] : UINT32_MAX;
        tails[lo] = i;
        if (lo == len) len++;
    }
    for (uint32_t i = tails[len - 1]; i != UINT32_MAX; i = prev[i]) keep[i] = true;
    nw_free(tails);
    return NW_OK;
}
