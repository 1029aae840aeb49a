/* lis.h - the longest increasing subsequence, for keyed moves.
 *
 * A keyed list that changed order keeps in place the items whose old
 * positions, read in new order, form a longest increasing subsequence;
 * only the others move. That is the fewest moves (n - LIS length).
 */
#ifndef NW_LIS_H
#define NW_LIS_H
#include <stdbool.h>
#include <stdint.h>
#include "error.h"

/* Sets keep[i] for the members of one longest strictly increasing
 * subsequence of seq[0..n). O(n log n); NW_E_LIMIT when out of memory
 * (keep is then all false). */
nw_code nw_lis(const uint32_t *seq, uint32_t n, bool *keep);

#endif
