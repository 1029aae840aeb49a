/* sync_api.h - what the sync exports (api_sync.c) share with the store
 * exports (api_store.c): the instance's one store and the write framing
 * (event capture, then keep-or-undo and the events appended to the output). */
#ifndef NW_SYNC_API_H
#define NW_SYNC_API_H
#include "store.h"

/* The instance's store, created on first use; NULL (err filled) on OOM. */
nw_store *nw_api_store(nw_error *err);
/* Starts a write: clears captured events and sets capture per `flags`
 * (1 = after-commit events, 2 = also before* events). */
void nw_api_begin_write(uint32_t flags);
/* Ends a write begun at `mark`: on rc != NW_OK undoes it, else keeps it and
 * appends u32 event count + event records to the output. Returns the call's
 * final status (nw_api_end). */
int nw_api_end_write(size_t mark, nw_code rc);

/* Live results (api_live.c): the store was replaced by a restore; the
 * live module re-attaches and re-runs its queries. */
void nw_api_store_replaced(nw_store *s);
/* The storage journal (api_sync.c): the store was replaced by a restore;
 * the journal follows it and drops what it held for the old one. */
void nw_api_journal_store_replaced(nw_store *s);
/* A template is being freed (api_template.c): its views go with it. */
void nw_api_template_freed(uint32_t id);
#include "template.h"
/* The compiled template with that id, or NULL. */
nw_tpl *nw_api_template(uint32_t id);

#endif
