/* query.h - where trees, ordering and query execution over one table.
 *
 * A query arrives as NVAL:
 *   { where: {...where object, docs/contract.md Queries...}, order: [["priority", true], ...]
 *     (name, descending), limit: n, offset: n }
 * nw_query_parse resolves field names and converts values to stored form
 * (QUERY errors name the entity, field and operator). nw_query_run returns
 * the matching visible slots in order (orderBy keys, then primary key
 * ascending), after offset and limit.
 *
 * Planning (make_plan in query.c): an equality or `in` on the id uses the
 * primary key table. Otherwise each ordered index (0 = the primary key
 * order, then the entity's `indexes`, whose '-name' keys sort descending)
 * scores 4 per field of its non-null equality prefix, 1 for a range on the
 * next field and 2 when walking its range yields the query's order (the
 * orderBy keys, then the id; fields held constant by an equality do not
 * count). The best range is walked when it yields the order (stopping after
 * offset + limit matches), else its records are filtered and sorted (a
 * bounded heap of offset + limit when a limit is given). A `contains` or
 * `startsWith` of 3+ bytes on a string field listed in `search`, or an $or
 * of such conditions, takes the trigram index's candidates instead when
 * they are fewer than the range's. A limited query whose best plan sorts
 * walks an index that yields its order instead, filtering, when it expects
 * to find offset + limit matches after fewer records (want * records /
 * candidates) than the plan would test. Neither: a scan.
 */
#ifndef NW_QUERY_H
#define NW_QUERY_H
#include "store.h"
#include "nv.h"

typedef struct nw_query nw_query;

nw_code nw_query_parse(nw_store *s, uint32_t table, const uint8_t *spec, nw_query **out, nw_error *err);
void nw_query_free(nw_query *q);

/* Ordered result slots (after offset/limit unless ignore_window); *slots is
 * nw_malloc'd, caller frees. */
nw_code nw_query_run(nw_store *s, const nw_query *q, bool ignore_window, uint32_t **slots, uint32_t *n, nw_error *err);

/* query.explain(): runs the query and writes to o, as u32 little-endian:
 * flags (NW_EXPLAIN_*), records tested, results, then the index name's
 * length and UTF-8 bytes ("" for a scan; "status,-priority,id" for an
 * index, "id" for primary-key lookups, "trigram:title|notes" for trigram
 * candidates of those fields). */
/* NW_EXPLAIN_ORDERED (wire.h): the index walk yields the order, no sort;
 * NW_EXPLAIN_STOPS: the walk stops after offset + limit matches. */
#include "wire.h"
nw_code nw_query_explain(nw_store *s, const nw_query *q, nw_buf *o, nw_error *err);

/* Number of matches (ignores limit/offset). */
nw_code nw_query_count(nw_store *s, const nw_query *q, uint32_t *n, nw_error *err);

/* True if the visible row in slot matches the where tree. */
bool nw_query_matches(const nw_query *q, const uint8_t *row);
/* The same over field pointers made once by nw_query_row_fields (callers
 * that test one row against many queries of its table). */
void nw_query_row_fields(const nw_table *t, const uint8_t *row, const uint8_t **fields /* NW_MAX_FIELDS */);
bool nw_query_matches_fields(const nw_query *q, const uint8_t *const *fields);

uint32_t nw_query_table(const nw_query *q);
/* The query's window: limit (< 0 = none) and offset. */
double nw_query_limit(const nw_query *q);
double nw_query_offset(const nw_query *q);
/* Orders two visible slots of the query's table as nw_query_run does
 * (orderBy keys, then primary key): < 0, 0 (same slot) or > 0. */
int nw_query_cmp_slots(const nw_query *q, uint32_t a, uint32_t b);

#endif
