/* instance.h - one nitro instance: all the state the exports keep between
 * calls, in one struct passed explicitly.
 *
 * JS makes one instance per createNitro() (nw_instance_new) and passes its
 * address as the first argument of every other export, so several instances
 * in one WebAssembly module (or one native process) never share a store, a
 * template, a view, a journal or an error: nothing the exports keep lives
 * in file scope. What the instance owns is freed by nw_instance_free.
 *
 * Not instance state, on purpose:
 *   - alloc.c's byte count and its fault-injection countdown: they count the
 *     one allocator of the process (nw_heap_bytes reports it) and the
 *     countdown is test-only fault injection (alloc.h);
 *   - template.c's render scratch: reused by the next render, never read
 *     across calls.
 *
 * Each part below belongs to one API module; only that module touches it
 * (instance.c creates and frees them). */
#ifndef NW_INSTANCE_H
#define NW_INSTANCE_H
#include <stdint.h>
#include <stdbool.h>
#include "buf.h"
#include "error.h"
#include "nval.h"
#include "store.h"
#include "template.h"

#include "live.h"
#include "view.h"
#include "tpl_dom.h"
#include "journal.h"

/* A query result handed to a template render (api_store.c). */
typedef struct nw_prepared { nw_table *t; uint32_t *slots; uint32_t n; } nw_prepared;
/* A template's DOM program, built once (api_live.c). */
typedef struct nw_tdom { uint32_t tpl; nw_tpl_dom *dom; } nw_tdom;

typedef struct nw_instance {
    /* api.c: the call's input, output and error */
    nw_buf in, out, errb;
    nw_error err;
    nval_env env;            /* resolves query handles of render data */
    /* api_store.c: the store (created on first use) and render queries */
    nw_store *store;
    nw_prepared *prep;
    /* scratch of one write call: a write JS must approve (NW_WF_BEFORE)
     * opens a savepoint at guard_mark and hands the mark to JS, which ends
     * it with nw_guard_end (so guarded writes nest, e.g. from a handler) */
    size_t guard_mark;
    bool guard_open;
    uint32_t nprep;
    /* api_live.c: live results, DOM programs, views, the edit buffer */
    nw_live *live;
    nw_tdom *doms;
    uint32_t ndoms, cdoms;
    nw_view **views;
    uint32_t nviews, cviews, next_view;
    nw_edits edits;
    /* api_sync.c: the storage journal (NULL while off) */
    nw_journal *journal;
    /* api_template.c: slot i holds template id i + 1 (NULL when free);
     * free slots are reused last-in first-out */
    nw_tpl **tpls;
    uint32_t ntpls, ctpls;
    uint32_t *free_ids;
    uint32_t nfree, cfree;
    uint32_t live_tpls;
    int last_ascii;
    nw_buf u16;              /* UTF-16 copy of the last output */
} nw_instance;

/* Teardown of each module's part (called by nw_instance_free). */
void nw_api_store_free(nw_instance *I);
void nw_api_live_free(nw_instance *I);
void nw_api_journal_free(nw_instance *I);
void nw_api_templates_free(nw_instance *I);

#endif
