/* record_view.h - stored records as nv values (nv.h) for the template
 * renderer: a record is an NV_MAP (field names -> values: enums as their
 * names, datetimes as dates), a list of slots of a table an NV_LIST of such
 * maps. The views borrow the rows and the slot array: they are valid while
 * the store is unchanged (one API call).
 *
 * Lookups are cached per table (nw_table_reader_cache): the field pointers
 * of the last row read and the field number of each key address asked for,
 * checked against the schema so a stale entry is only a miss. */
#ifndef NW_RECORD_VIEW_H
#define NW_RECORD_VIEW_H
#include "store.h"
#include "nv.h"

void nw_record_view(nv *out, const nw_table *t, const uint8_t *row);
void nw_slots_view(nv *out, const nw_table *t, const uint32_t *slots, uint32_t n);
/* Forgets what record views cached about the rows they read; the API calls
 * it on entry to every export (rows may be freed between calls). */
void nw_record_views_reset(const nw_store *s);
/* For a record view made by nw_slots_view: its table, slot and id bytes.
 * False for any other value. */
bool nw_record_view_info(const nv *v, const nw_table **t, uint32_t *slot, const char **id, uint32_t *idlen);

#endif
